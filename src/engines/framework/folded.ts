/**
 * The two ways a fold-state engine reaches the ledger: the current state (the cached fold of its
 * scroll) for reads, and a checked append for writes, which decides on the state as every writer
 * left it while holding the scroll's lock, so two processes can never both pass a rule (both
 * spend the same balance, both join the same node) and both append.
 */
import type { JsonObject } from '../../core/canonical.js';
import type { FoldAnomaly, ScrollFold } from '../../core/fold.js';
import type { Receipt } from '../../core/receipt.js';
import type { TableRows } from '../../core/table.js';
import { foldedState } from '../../ledger/fold-cache.js';
import type { EngineContext } from './engine.js';

export interface FoldedDraft {
  type: string;
  body: JsonObject;
  tags: string[];
}

/** The state now and the time to judge it at. The state is shared: do not change it. */
export function currentState<S>(context: EngineContext, fold: ScrollFold<S>): { state: S; at: string } {
  return { state: foldedState(context.ledger, fold).state, at: context.clock().toISOString() };
}

/**
 * Appends the receipts `decide` drafts (none when it throws or returns none) and publishes a
 * checkpoint when it wrote any.
 */
export async function recordFolded<S>(
  context: EngineContext,
  fold: ScrollFold<S>,
  decide: (state: S, at: string) => FoldedDraft[],
): Promise<{ receipts: Receipt[]; state: S }> {
  const appended = await context.ledger.emitChecked(fold.scroll, (log) => {
    const { state } = foldedState(context.ledger, fold, log);
    return decide(state, context.clock().toISOString()).map((d) => ({ scroll: fold.scroll, ...d }));
  });
  if (appended.length > 0) await context.ledger.publish(fold.scroll);
  return { receipts: appended.map((a) => a.receipt), state: currentState(context, fold).state };
}

/** The receipts a fold left out, one row each, for `audit` listings and CSV. */
export function anomalyRows(anomalies: readonly FoldAnomaly[]): TableRows {
  return {
    columns: ['seq', 'type', 'code', 'message'],
    rows: anomalies.map((a) => [String(a.seq), a.type, a.code, a.message]),
  };
}
