/** The Mesh engine's reads (the cached topology fold) and checked writes. */
import type { MeshDraft } from '../../core/mesh/plan.js';
import { meshFold } from '../../core/mesh/fold.js';
import type { MeshState } from '../../core/mesh/state.js';
import type { Receipt } from '../../core/receipt.js';
import type { EngineContext } from '../framework/engine.js';
import { currentState, recordFolded } from '../framework/folded.js';

/** The state now and the time to judge it at. The state is shared: do not change it. */
export function currentMesh(context: EngineContext): { state: MeshState; at: string } {
  return currentState(context, meshFold);
}

/** Appends the receipt `decide` drafts (or nothing, when it throws) and publishes a checkpoint. */
export async function recordMeshChange(
  context: EngineContext,
  decide: (state: MeshState, at: string) => MeshDraft,
): Promise<{ receipt: Receipt; state: MeshState }> {
  const { receipts, state } = await recordFolded(context, meshFold, (current, at) => [decide(current, at)]);
  return { receipt: receipts[0]!, state };
}

export function receiptSummary(receipt: Receipt): string {
  return `mesh seq ${receipt.seq} (${receipt.type}) ${receipt.root_hash}`;
}
