/** Inclusion proofs on the shared data directory: generated from the sidecar on disk, then verified. */
import { BENCH_SCROLL } from '../drafts.js';
import { inclusionProof, verifyInclusion } from '../../core/merkle.js';
import { Ledger } from '../../ledger/ledger.js';
import { nodeTreeHasher } from '../../ledger/node-hasher.js';
import type { Benchmark } from '../context.js';
import { makeRow } from '../report.js';
import { median, nowMs, seededRandom } from '../stats.js';

const SAMPLES = 5;
const PROOFS = 1000;
const BAR_GENERATE_MS = 1;
const BAR_VERIFY_MS = 0.1;

export const inclusionProofs: Benchmark = {
  name: 'inclusion-proof',
  description: 'inclusion proof from disk (sidecar reads) and its verification',
  async run(ctx) {
    const fixture = await ctx.fixture();
    const ledger = Ledger.open(fixture.dir);
    const log = ledger.reader(BENCH_SCROLL);
    const generate: number[] = [];
    const verify: number[] = [];
    try {
      const published = ledger.checkpoint(log);
      if (published === undefined) throw new Error('inclusion-proof: the fixture has no checkpoint');
      const { size, rootHash } = published.checkpoint;
      const random = seededRandom(42);
      for (let s = 0; s < SAMPLES; s++) {
        const generateMs: number[] = [];
        const verifyMs: number[] = [];
        for (let p = 0; p < PROOFS; p++) {
          const seq = Math.floor(random() * size);
          const t0 = nowMs();
          const proof = inclusionProof(log.tree.readNode, seq, size, nodeTreeHasher);
          const t1 = nowMs();
          const line = Buffer.from(log.readLine(seq), 'utf8');
          const t2 = nowMs();
          verifyInclusion(seq, size, nodeTreeHasher.hashLeaf(line), proof, rootHash, nodeTreeHasher);
          const t3 = nowMs();
          generateMs.push(t1 - t0);
          verifyMs.push(t3 - t2);
        }
        generate.push(median(generateMs));
        verify.push(median(verifyMs));
      }
    } finally {
      log.close();
      await ledger.close();
    }
    const notes = [
      `median per proof over ${PROOFS} seeded-random seqs, per sample; ${SAMPLES} samples; size ${fixture.receipts.toLocaleString('en-US')}, warm page cache`,
    ];
    return [
      makeRow({
        benchmark: this.name,
        title: 'inclusion proof: generate (from disk)',
        unit: 'ms',
        vaultmesh: { label: 'inclusionProof(tree.readNode)', median: median(generate), samples: generate },
        bar: ({ vaultmesh }) => ({ text: `< ${BAR_GENERATE_MS} ms`, pass: vaultmesh < BAR_GENERATE_MS }),
        notes,
      }),
      makeRow({
        benchmark: this.name,
        title: 'inclusion proof: verify',
        unit: 'ms',
        vaultmesh: { label: 'hashLeaf + verifyInclusion', median: median(verify), samples: verify },
        bar: ({ vaultmesh }) => ({ text: `< ${BAR_VERIFY_MS} ms`, pass: vaultmesh < BAR_VERIFY_MS }),
        notes: [...notes, 'verify time includes hashing the receipt line into its leaf hash'],
      }),
    ];
  },
};
