/** Tree root over the shared data directory's lines, leaf hashing included on every side. */
import { StreamingTreeBuilder } from '../../core/merkle.js';
import { leafHashInPlace, nodeTreeHasher } from '../../ledger/node-hasher.js';
import { bareRfc6962Root } from '../bare-tree.js';
import type { Benchmark } from '../context.js';
import { loadLines } from '../fixtures.js';
import { merkletreejsRoot, prefixedLeaves } from '../merkletreejs-tree.js';
import { measureOpensslSha256, sha256Blocks } from '../openssl.js';
import { makeRow, type BenchRow, type Measurement } from '../report.js';
import { median, nowMs } from '../stats.js';

const SAMPLES = 5;

/** The API under test: StreamingTreeBuilder(nodeTreeHasher).addLeaf(line). */
function vaultMeshRoot(lines: readonly Buffer[]): Uint8Array {
  const builder = new StreamingTreeBuilder(nodeTreeHasher);
  for (const line of lines) builder.addLeaf(line);
  return builder.root();
}

/** The same builder fed by leafHashInPlace, as `vm verify` and the append path do. */
function vaultMeshInPlaceRoot(data: Buffer, lines: readonly Buffer[]): Uint8Array {
  const builder = new StreamingTreeBuilder(nodeTreeHasher);
  for (const line of lines) {
    const start = line.byteOffset - data.byteOffset;
    builder.addLeafHash(leafHashInPlace(data, start, start + line.length));
  }
  return builder.root();
}

interface Contender {
  key: 'vaultmesh' | 'inPlace' | 'bare' | 'merkletreejs';
  build: () => Uint8Array;
  rates: number[];
  root?: string;
}

export const treeRoot: Benchmark = {
  name: 'tree-root',
  description: 'RFC 6962 tree root over the receipts, leaf hashing included',
  async run(ctx) {
    const fixture = await ctx.fixture();
    const { data, lines } = loadLines(fixture.jsonlPath);
    const n = lines.length;
    const contenders: Contender[] = [
      { key: 'vaultmesh', build: () => vaultMeshRoot(lines), rates: [] },
      { key: 'bare', build: () => bareRfc6962Root(lines), rates: [] },
      { key: 'merkletreejs', build: () => merkletreejsRoot(prefixedLeaves(data, lines)), rates: [] },
      { key: 'inPlace', build: () => vaultMeshInPlaceRoot(data, lines), rates: [] },
    ];
    for (let s = 0; s < SAMPLES; s++) {
      // Rotate the order so that none of them always runs first, or always right after another.
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[(s + i) % contenders.length]!;
        const start = nowMs();
        const root = c.build();
        c.rates.push((n / (nowMs() - start)) * 1000);
        c.root = Buffer.from(root).toString('hex');
      }
      ctx.log(`  sample ${s + 1}/${SAMPLES}`);
    }
    const [vaultmesh, bare, mtj, inPlace] = contenders as [Contender, Contender, Contender, Contender];
    if (vaultmesh.root !== bare.root || inPlace.root !== bare.root) {
      throw new Error(`tree-root: roots differ: VaultMesh ${vaultmesh.root}, bare ${bare.root}`);
    }
    const measure = (c: Contender, label: string): Measurement => ({
      label,
      median: median(c.rates),
      samples: c.rates,
    });
    const vm = measure(vaultmesh, 'StreamingTreeBuilder.addLeaf');
    const count = n.toLocaleString('en-US');
    const rows: BenchRow[] = [
      makeRow({
        benchmark: this.name,
        title: `tree root, ${count} leaves, vs bare loop`,
        unit: 'receipts/s',
        vaultmesh: vm,
        baseline: measure(bare, 'bare node:crypto loop'),
        bar: ({ ratio }) => ({ text: '≥ 0.8× bare loop', pass: (ratio ?? 0) >= 0.8 }),
        notes: [
          'both start from the same in-memory lines (the data dir JSONL) and compute leaf = SHA-256(0x00‖line), node = SHA-256(0x01‖l‖r) on node:crypto; roots checked equal',
          'the bare loop copies each line behind a 0x00 in one reused scratch buffer; nodeTreeHasher.hashLeaf allocates a fresh Uint8Array per leaf',
        ],
      }),
      makeRow({
        benchmark: this.name,
        title: `tree root, ${count} leaves, vs merkletreejs`,
        unit: 'receipts/s',
        vaultmesh: vm,
        baseline: measure(mtj, 'merkletreejs 0.6.0'),
        bar: ({ ratio }) => ({ text: '≥ 2× merkletreejs', pass: (ratio ?? 0) >= 2 }),
        notes: [
          'merkletreejs gets RFC 6962 prefixing: leaves passed as 0x00‖line (views into one prefixed copy of the file, made inside the timed part) with hashLeaves: true, a concatenator that prepends 0x01, and node:crypto SHA-256 as hashFn',
          'merkletreejs promotes a lone last node of a level unhashed (duplicateOdd: false) instead of splitting at the largest power of two like RFC 6962; for this tree that gives ' +
            (mtj.root === bare.root
              ? 'the same root as RFC 6962 (checked)'
              : `a different root (${mtj.root})`),
          `bare loop vs merkletreejs for reference: ${(median(bare.rates) / median(mtj.rates)).toFixed(2)}×`,
        ],
      }),
      makeRow({
        benchmark: this.name,
        title: `tree root via leafHashInPlace (verify path) vs bare`,
        unit: 'receipts/s',
        vaultmesh: measure(inPlace, 'addLeafHash(leafHashInPlace)'),
        baseline: measure(bare, 'bare node:crypto loop'),
        notes: ['diagnostic: the same StreamingTreeBuilder, with leaves hashed without a per-leaf copy'],
      }),
    ];
    const native = nativeRow(this.name, lines, vm);
    if (native !== undefined) rows.push(native);
    else ctx.log('  openssl not found or unreadable: native SHA-256 row skipped');
    return rows;
  },
};

/** VaultMesh against what OpenSSL's SHA-256 needs for the same compression blocks (a model). */
function nativeRow(benchmark: string, lines: readonly Buffer[], vm: Measurement): BenchRow | undefined {
  const speed = measureOpensslSha256();
  if (speed === undefined) return undefined;
  let blocks = (lines.length - 1) * sha256Blocks(65);
  for (const line of lines) blocks += sha256Blocks(1 + line.length);
  // A 64-byte message costs two compressions (data + padding) at openssl's rate.
  const nativeMs = (blocks / (2 * speed.hashesPerSecond)) * 1000;
  const nativeRate = (lines.length / nativeMs) * 1000;
  return makeRow({
    benchmark,
    title: 'tree root vs native SHA-256 (openssl speed)',
    unit: 'receipts/s',
    vaultmesh: vm,
    baseline: { label: 'openssl speed model', median: nativeRate, samples: [nativeRate] },
    notes: [
      `${speed.command} (${speed.version}): ${(speed.bytesPerSecond / 1e6).toFixed(1)} MB/s in 64-byte messages = ${Math.round(speed.hashesPerSecond).toLocaleString('en-US')} hashes/s`,
      `native time modelled as the tree's ${blocks.toLocaleString('en-US')} SHA-256 blocks (leaves: ceil((len+1+9)/64), nodes: 2) at half the 64-byte message time each`,
    ],
  });
}
