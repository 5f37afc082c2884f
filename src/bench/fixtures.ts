/**
 * The shared data directory: N ≈400-byte ledger-entry receipts appended through the Ledger API in
 * batches of FIXTURE_BATCH, stamped by a fake clock that advances one tick per batch (so time
 * ranges select whole batches), and covered by a signed checkpoint at the end.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getScroll } from '../core/scrolls/index.js';
import { initDataDir } from '../ledger/init.js';
import { Ledger } from '../ledger/ledger.js';
import { BENCH_SCROLL, DraftFactory } from './drafts.js';
import { nowMs } from './stats.js';

export const FIXTURE_BATCH = 1000;
export const FIXTURE_START_MS = Date.parse('2026-01-01T00:00:00.000Z');
export const FIXTURE_TICK_MS = 1000;
export const NODE_NAME = 'bench';

export interface DataDirFixture {
  dir: string;
  receipts: number;
  batches: number;
  jsonlPath: string;
  jsonlBytes: number;
  /** Batch k was stamped FIXTURE_START_MS + k · FIXTURE_TICK_MS. */
  startMs: number;
  tickMs: number;
  generateMs: number;
}

/** A clock that returns start, start + tick, start + 2·tick, … on successive calls. */
export function steppingClock(startMs: number, tickMs: number): () => Date {
  let calls = 0;
  return () => new Date(startMs + tickMs * calls++);
}

export async function generateDataDir(
  dir: string,
  receipts: number,
  log: (message: string) => void,
): Promise<DataDirFixture> {
  const started = nowMs();
  await initDataDir(dir, NODE_NAME);
  const ledger = Ledger.open(dir, { clock: steppingClock(FIXTURE_START_MS, FIXTURE_TICK_MS) });
  try {
    const drafts = new DraftFactory(ledger.identity.did);
    for (let first = 0; first < receipts; first += FIXTURE_BATCH) {
      await ledger.emit(drafts.batch(first, Math.min(FIXTURE_BATCH, receipts - first)));
      if ((first / FIXTURE_BATCH) % 100 === 99) log(`  fixture: ${first + FIXTURE_BATCH} receipts`);
    }
    await ledger.publish(BENCH_SCROLL);
  } finally {
    await ledger.close();
  }
  const jsonlPath = join(dir, getScroll(BENCH_SCROLL).file);
  return {
    dir,
    receipts,
    batches: Math.ceil(receipts / FIXTURE_BATCH),
    jsonlPath,
    jsonlBytes: statSync(jsonlPath).size,
    startMs: FIXTURE_START_MS,
    tickMs: FIXTURE_TICK_MS,
    generateMs: nowMs() - started,
  };
}

/** The whole JSONL in memory, and a view of each line without its newline. */
export function loadLines(jsonlPath: string): { data: Buffer; lines: Buffer[] } {
  const data = readFileSync(jsonlPath);
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
    lines.push(data.subarray(start, nl));
    start = nl + 1;
  }
  return { data, lines };
}
