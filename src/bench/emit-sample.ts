/**
 * One append sample: a fresh data directory, then `calls` awaited emit() calls of `perCall` drafts.
 * Only the emit() calls are timed. Each batch of drafts is made just before its call and nothing is
 * kept afterwards, so the ledger's garbage collection cost is its own; the baseline's bytes are read
 * back from the scroll file the ledger wrote.
 */
import { join } from 'node:path';
import { getScroll } from '../core/scrolls/index.js';
import { initDataDir } from '../ledger/init.js';
import { Ledger } from '../ledger/ledger.js';
import { BENCH_SCROLL, DraftFactory } from './drafts.js';
import { loadLines, NODE_NAME } from './fixtures.js';
import { nowMs } from './stats.js';

export interface EmitPlan {
  /** emit() calls made before timing starts (opening the writer, warming up the JIT). */
  warmUpCalls: number;
  calls: number;
  perCall: number;
}

export interface EmitSample {
  ms: number;
  receipts: number;
  /** The bytes each call wrote (lines and newlines), so the baseline can write exactly the same. */
  warmUpBatches: Buffer[];
  batches: Buffer[];
}

export async function timeEmits(dir: string, plan: EmitPlan): Promise<EmitSample> {
  const dataDir = join(dir, 'data');
  await initDataDir(dataDir, NODE_NAME);
  const ledger = Ledger.open(dataDir);
  let ms = 0;
  try {
    const factory = new DraftFactory(ledger.identity.did);
    for (let call = 0; call < plan.warmUpCalls + plan.calls; call++) {
      const drafts = factory.batch(call * plan.perCall, plan.perCall);
      const start = nowMs();
      await ledger.emit(drafts);
      if (call >= plan.warmUpCalls) ms += nowMs() - start;
    }
  } finally {
    await ledger.close();
  }
  const { data, lines } = loadLines(join(dataDir, getScroll(BENCH_SCROLL).file));
  const batches: Buffer[] = [];
  for (let first = 0; first < lines.length; first += plan.perCall) {
    const last = lines[first + plan.perCall - 1]!;
    const start = lines[first]!.byteOffset - data.byteOffset;
    batches.push(data.subarray(start, last.byteOffset - data.byteOffset + last.length + 1));
  }
  return {
    ms,
    receipts: plan.calls * plan.perCall,
    warmUpBatches: batches.slice(0, plan.warmUpCalls),
    batches: batches.slice(plan.warmUpCalls),
  };
}
