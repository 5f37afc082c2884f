/**
 * The current state of a scroll's fold, cheaply: kept in memory per ledger and in
 * `index/<scroll>/fold-<id>.json` between processes, each covering the first `size` receipts and
 * naming the leaf hash of the last, so a cache that no longer describes the scroll's prefix (a
 * rewritten file, a rebuilt index) is dropped and the fold is run again from the first receipt.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toHex } from '../core/bytes.js';
import type { JsonValue } from '../core/canonical.js';
import type { ScrollFold } from '../core/fold.js';
import type { Receipt } from '../core/receipt.js';
import { getScroll } from '../core/scrolls/index.js';
import { writeFileDurably } from './durable.js';
import type { Ledger } from './ledger.js';
import type { ScrollLog } from './scroll-log.js';

/** Folding this many receipts makes it worth writing the cache out for the next process. */
const PERSIST_AFTER = 256;

interface Cached {
  size: number;
  lastLeaf: string;
  state: unknown;
}

const memory = new WeakMap<Ledger, Map<string, Cached>>();

export interface Folded<S> {
  state: S;
  /** How many receipts the state covers. */
  size: number;
}

function lastLeaf(log: ScrollLog, size: number): string {
  return size === 0 ? '' : toHex(log.tree.readNode(0, size - 1));
}

function cacheFile(ledger: Ledger, fold: ScrollFold<unknown>): string {
  return join(ledger.dataDir.sidecarDir(getScroll(fold.scroll)), `fold-${fold.id}.json`);
}

function fromDisk<S>(ledger: Ledger, fold: ScrollFold<S>): Cached | undefined {
  const file = cacheFile(ledger, fold as ScrollFold<unknown>);
  if (!existsSync(file)) return undefined;
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      version: number;
      size: number;
      last_leaf: string;
      state: JsonValue;
    };
    if (saved.version !== fold.version || !Number.isSafeInteger(saved.size)) return undefined;
    return { size: saved.size, lastLeaf: saved.last_leaf, state: fold.decode(saved.state) };
  } catch {
    // A damaged cache is only a slower start: the scroll is the truth.
    return undefined;
  }
}

/**
 * The fold over every receipt of the scroll as `log` shows it (a writer holding the lock, inside a
 * checked append), or as a fresh reader does. The returned state is shared: do not change it.
 */
export function foldedState<S>(ledger: Ledger, fold: ScrollFold<S>, log?: ScrollLog): Folded<S> {
  const own = log === undefined;
  const view = log ?? ledger.reader(fold.scroll);
  try {
    const key = `${fold.scroll}/${fold.id}`;
    let byFold = memory.get(ledger);
    if (byFold === undefined) memory.set(ledger, (byFold = new Map()));
    let cached = byFold.get(key) ?? fromDisk(ledger, fold);
    if (
      cached !== undefined &&
      (cached.size > view.size || lastLeaf(view, cached.size) !== cached.lastLeaf)
    ) {
      cached = undefined;
    }
    const state = (cached?.state as S | undefined) ?? fold.initial();
    const from = cached?.size ?? 0;
    for (const { line } of view.readLines(from, view.size)) fold.apply(state, JSON.parse(line) as Receipt);
    const now: Cached = { size: view.size, lastLeaf: lastLeaf(view, view.size), state };
    byFold.set(key, now);
    if (view.size - from >= PERSIST_AFTER) persist(ledger, fold, now);
    return { state, size: view.size };
  } finally {
    if (own) view.close();
  }
}

function persist<S>(ledger: Ledger, fold: ScrollFold<S>, cached: Cached): void {
  const file = cacheFile(ledger, fold as ScrollFold<unknown>);
  mkdirSync(dirname(file), { recursive: true });
  const saved = {
    version: fold.version,
    size: cached.size,
    last_leaf: cached.lastLeaf,
    state: fold.encode(cached.state as S),
  };
  writeFileDurably(file, JSON.stringify(saved));
}
