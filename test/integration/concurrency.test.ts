/**
 * Several processes appending to the same scroll at once — through the Ledger API (batches of
 * many sizes, several emits in flight per process) and through repeated `vm emit` — must produce
 * one scroll: every receipt exactly once, seq contiguous in file order, every line a valid receipt,
 * `vm verify` clean, and a final checkpoint covering all of it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import {
  OBSERVABILITY_FILE,
  assertBuilt,
  entryBody,
  initNode,
  makeTempDir,
  readReceipts,
  runWorker,
  vm,
  vmAsync,
  writeWorker,
  type Ack,
  type WorkerConfig,
} from '../helpers/vm.js';

assertBuilt();

let tmp: ReturnType<typeof makeTempDir>;
let script: string;
let runs = 0;

beforeAll(() => {
  tmp = makeTempDir('concurrency');
  script = writeWorker(tmp.dir);
});
afterAll(() => tmp.remove());

const BATCH_PATTERNS = [
  [1, 4, 17, 50],
  [3, 9, 32, 1],
  [25, 2, 7, 64],
  [5, 11, 1, 40],
];

/** `emits` sequential `vm emit` calls, ids `<prefix>-<i>`; resolves with the seqs they printed. */
async function cliEmitter(
  data: string,
  prefix: string,
  emits: number,
): Promise<{ seq: number; id: string }[]> {
  const out: { seq: number; id: string }[] = [];
  for (let i = 0; i < emits; i++) {
    const id = `${prefix}-${i}`;
    const body = JSON.stringify(entryBody(id, { account: prefix }));
    const result = await vmAsync(
      ['--format', 'json', 'emit', 'observability', 'obs_metric_snapshot', '--body', body, '--tags', prefix],
      {
        data,
      },
    );
    if (result.status !== 0) throw new Error(`vm emit ${id} exited ${result.status}: ${result.stderr}`);
    const receipt = JSON.parse(result.stdout) as { seq: number; body: { entry_id: string } };
    expect(receipt.body.entry_id).toBe(id);
    out.push({ seq: receipt.seq, id });
  }
  return out;
}

/** Checks the scroll after the writers are done; returns its receipts. */
function expectOneConsistentScroll(data: string, acks: { seq: number; id: string }[], total: number): void {
  const receipts = readReceipts(join(data, OBSERVABILITY_FILE)); // throws on a line that is not JSON
  expect(receipts).toHaveLength(total);
  receipts.forEach((r, i) => {
    expect(r.seq, `line ${i + 1}`).toBe(i);
    expect(r.scroll).toBe('observability');
  });
  // Every acknowledged receipt is where its writer was told it is, and nothing is there twice.
  const ids = receipts.map((r) => (r.body as { entry_id: string }).entry_id);
  expect(new Set(ids).size).toBe(total);
  for (const ack of acks) expect(ids[ack.seq], `seq ${ack.seq}`).toBe(ack.id);
  expect(new Set(acks.map((a) => a.seq)).size).toBe(acks.length);

  const verify = vm(['verify', 'observability', '--deep'], { data });
  expect(verify.status, verify.stdout).toBe(0);
  expect(verify.stdout).toContain(`ok   observability: ${total} receipts`);
  const checkpoint = vm(['--format', 'json', 'checkpoint', 'observability'], { data });
  expect(checkpoint.status, checkpoint.stderr).toBe(0);
  expect((JSON.parse(checkpoint.stdout) as { size: number }).size).toBe(total);
  const root = JSON.parse(vm(['--format', 'json', 'root', 'observability'], { data }).stdout) as {
    size: number;
    checkpointSize: number;
  }[];
  expect(root[0]).toMatchObject({ size: total, checkpointSize: total });
}

function freshDataDir(): string {
  const data = join(tmp.dir, `data-${++runs}`);
  initNode(data);
  return data;
}

function workers(data: string, count: number, perWorker: number): WorkerConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    dataDir: data,
    count: perWorker,
    batchSizes: BATCH_PATTERNS[i % BATCH_PATTERNS.length]!,
    parallel: 1 + (i % 3),
    prefix: `w${i}`,
    publishEvery: i === 0 ? 100 : undefined,
  }));
}

describe('concurrent writers on one scroll', () => {
  it('two Ledger API processes, 300 receipts each', async () => {
    const data = freshDataDir();
    const results = await Promise.all(workers(data, 2, 300).map((w) => runWorker(script, w)));
    const acks: Ack[] = results.flat();
    for (const r of results) expect(r).toHaveLength(300);
    expectOneConsistentScroll(data, acks, 600);
  });

  it('four Ledger API processes, 300 receipts each', async () => {
    const data = freshDataDir();
    const results = await Promise.all(workers(data, 4, 300).map((w) => runWorker(script, w)));
    for (const r of results) expect(r).toHaveLength(300);
    expectOneConsistentScroll(data, results.flat(), 1200);
  });

  it('two Ledger API processes and two loops of vm emit at the same time', async () => {
    const data = freshDataDir();
    const emits = 4;
    const [api, cli] = await Promise.all([
      Promise.all(workers(data, 2, 300).map((w) => runWorker(script, w))),
      Promise.all([cliEmitter(data, 'cli-a', emits), cliEmitter(data, 'cli-b', emits)]),
    ]);
    for (const r of api) expect(r).toHaveLength(300);
    const cliAcks = cli.flat();
    expect(cliAcks).toHaveLength(2 * emits);
    expectOneConsistentScroll(data, [...api.flat(), ...cliAcks], 600 + 2 * emits);
    // Each vm emit published a checkpoint covering at least its own receipt; none was lost.
    const query = vm(['--format', 'json', 'receipts', 'observability', '--tag', 'cli-a', '--limit', '1000'], {
      data,
    });
    expect((JSON.parse(query.stdout) as unknown[]).length).toBe(emits);
  });

  it('a long-lived writer that others appended behind publishes the right root (deterministic)', async () => {
    // Two Ledger objects on one data directory behave as two processes: each keeps its own writer
    // (file descriptors and sidecar state). A writes first, B appends 20 receipts, A writes again.
    const data = freshDataDir();
    const draft = (id: string) => ({
      scroll: 'observability',
      type: 'obs_metric_snapshot',
      body: entryBody(id),
    });
    const a = Ledger.open(data);
    const b = Ledger.open(data);
    try {
      await a.emit([draft('a-0')]);
      await b.emit(Array.from({ length: 20 }, (_, i) => draft(`b-${i}`)));
      await a.emit([draft('a-1')]);
      await a.publish('observability');
    } finally {
      await a.close();
      await b.close();
    }
    const verify = vm(['--format', 'json', 'verify', 'observability'], { data });
    const report = JSON.parse(verify.stdout) as { scrolls: { root: string; findings: unknown[] }[] };
    const root = JSON.parse(vm(['--format', 'json', 'root', 'observability'], { data }).stdout) as {
      root: string;
    }[];
    // The root the sidecar (and so the signed checkpoint) gives must be the root of the file.
    expect(root[0]!.root).toBe(report.scrolls[0]!.root);
    expect(report.scrolls[0]!.findings).toEqual([]);
    expect(verify.status).toBe(0);
  });
});
