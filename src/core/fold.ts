/**
 * Derived state (DESIGN §6): what an engine knows — balances, DID documents, the topology — is a
 * fold of its scroll's receipts in order, never a second truth. A fold is pure; the ledger caches
 * its result and takes in only the receipts appended since.
 */
import type { JsonValue } from './canonical.js';
import type { Receipt } from './receipt.js';

export interface ScrollFold<S> {
  /** Names the cache file: `index/<scroll>/fold-<id>.json`. */
  readonly id: string;
  readonly scroll: string;
  /** Raised whenever the state's shape or the rules change, so that older caches are folded anew. */
  readonly version: number;
  initial(): S;
  /** Takes in the next receipt (mutating `state`). Receipts that break the rules are noted, not thrown. */
  apply(state: S, receipt: Receipt): void;
  encode(state: S): JsonValue;
  decode(value: JsonValue): S;
}

/** Folds receipts from scratch: what the cached state must always equal. */
export function foldAll<S>(fold: ScrollFold<S>, receipts: Iterable<Receipt>): S {
  const state = fold.initial();
  for (const receipt of receipts) fold.apply(state, receipt);
  return state;
}
