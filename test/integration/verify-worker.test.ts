/**
 * `vm verify` rebuilds the tree of large scrolls on a worker thread. The worker path is exercised
 * here on a small scroll by lowering the threshold, and must agree with the in-thread path on a
 * clean scroll, an altered line and a damaged sidecar node.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScrollVerification, VerifyOptions } from '../../src/ledger/verify.js';
import { OBSERVABILITY_FILE, REPO, assertBuilt, entryBody, makeTempDir } from '../helpers/vm.js';

assertBuilt();

// The built modules, as the CLI runs them (the worker is loaded from dist/ as a .js file).
type Dist = {
  init: { initDataDir(dir: string, name: string): Promise<unknown> };
  ledger: { Ledger: { open(dir: string): LedgerLike } };
  verify: { verifyScroll(l: LedgerLike, s: unknown, o?: VerifyOptions): Promise<ScrollVerification> };
  scrolls: { getScroll(name: string): unknown };
};
type LedgerLike = {
  emit(d: unknown[]): Promise<unknown>;
  publish(s: string): Promise<unknown>;
  close(): Promise<void>;
};
const dist = {
  init: (await import(join(REPO, 'dist/ledger/init.js'))) as Dist['init'],
  ledger: (await import(join(REPO, 'dist/ledger/ledger.js'))) as Dist['ledger'],
  verify: (await import(join(REPO, 'dist/ledger/verify.js'))) as Dist['verify'],
  scrolls: (await import(join(REPO, 'dist/core/scrolls/index.js'))) as Dist['scrolls'],
};

const temp = makeTempDir('verify-worker');
const data = join(temp.dir, 'data');

async function verify(workerThresholdBytes: number): Promise<ScrollVerification> {
  const ledger = dist.ledger.Ledger.open(data);
  try {
    return await dist.verify.verifyScroll(ledger, dist.scrolls.getScroll('observability'), {
      workerThresholdBytes,
    });
  } finally {
    await ledger.close();
  }
}

beforeAll(async () => {
  await dist.init.initDataDir(data, 'vault-01');
  const ledger = dist.ledger.Ledger.open(data);
  const drafts = Array.from({ length: 777 }, (_, i) => ({
    scroll: 'observability',
    type: 'obs_metric_snapshot',
    body: entryBody(`w${i}`),
  }));
  await ledger.emit(drafts);
  await ledger.publish('observability');
  await ledger.close();
});

afterAll(() => temp.remove());

describe('verify on a worker thread', () => {
  it('agrees with the in-thread rebuild on a clean scroll', async () => {
    const [inThread, onWorker] = [await verify(Number.MAX_SAFE_INTEGER), await verify(0)];
    expect(onWorker).toEqual(inThread);
    expect(onWorker).toMatchObject({ ok: true, lines: 777, checkpointSize: 777, findings: [] });
  });

  it('names a damaged sidecar node', async () => {
    const level2 = join(data, 'index/observability/level-2.bin');
    const original = readFileSync(level2);
    const damaged = Buffer.from(original);
    damaged[5 * 32 + 7]! ^= 0x01;
    writeFileSync(level2, damaged);
    try {
      const report = await verify(0);
      expect(report.ok).toBe(false);
      expect(report.findings[0]).toMatchObject({
        code: 'SIDECAR_MISMATCH',
        evidence: { level: 2, index: 5 },
      });
      expect(await verify(Number.MAX_SAFE_INTEGER)).toEqual(report);
    } finally {
      writeFileSync(level2, original);
    }
  });

  it('names an altered line', async () => {
    const file = join(data, OBSERVABILITY_FILE);
    const original = readFileSync(file, 'utf8');
    const lines = original.split('\n');
    lines[300] = lines[300]!.replace('"ts":"2', '"ts":"3');
    writeFileSync(file, lines.join('\n'));
    try {
      const report = await verify(0);
      expect(report.ok).toBe(false);
      expect(report.findings[0]).toMatchObject({ code: 'LINE_CORRUPT', evidence: { line: 301, seq: 300 } });
      expect(await verify(Number.MAX_SAFE_INTEGER)).toEqual(report);
    } finally {
      writeFileSync(file, original);
    }
  });
});
