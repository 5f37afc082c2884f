/** The Treasury engine's reads (the cached books) and checked writes. */
import type { Receipt } from '../../core/receipt.js';
import { treasuryFold } from '../../core/treasury/fold.js';
import type { TreasuryDraft } from '../../core/treasury/plan.js';
import type { TreasuryState } from '../../core/treasury/state.js';
import type { EngineContext } from '../framework/engine.js';
import { currentState, recordFolded } from '../framework/folded.js';

/** The books now and the time to judge them at. The state is shared: do not change it. */
export function currentBooks(context: EngineContext): { state: TreasuryState; at: string } {
  return currentState(context, treasuryFold);
}

/**
 * Appends what `decide` drafts on the books as every writer left them: two debits racing for the
 * same balance are judged one after the other, never both against the balance before either.
 */
export async function recordBooks(
  context: EngineContext,
  decide: (state: TreasuryState, at: string) => TreasuryDraft[],
): Promise<{ receipts: Receipt[]; state: TreasuryState }> {
  return recordFolded(context, treasuryFold, decide);
}

/** The Treasury receipt at `seq`, through the query index. */
export function receiptAt(context: EngineContext, seq: number): Receipt {
  return context.ledger.query('treasury', { afterSeq: seq - 1, limit: 1 })[0]!;
}

export function receiptSummary(receipt: Receipt): string {
  return `treasury seq ${receipt.seq} (${receipt.type}) ${receipt.root_hash}`;
}
