/**
 * The Mesh engine's two ways to the ledger: the current state (the cached fold of the scroll) for
 * reads, and a checked append for writes, which decides on the state as every writer left it while
 * holding the scroll's lock, so two processes can never both pass a rule and both append.
 */
import type { MeshDraft } from '../../core/mesh/plan.js';
import { meshFold } from '../../core/mesh/fold.js';
import type { MeshState } from '../../core/mesh/state.js';
import type { Receipt } from '../../core/receipt.js';
import { mesh } from '../../core/scrolls/mesh.js';
import { foldedState } from '../../ledger/fold-cache.js';
import type { EngineContext } from '../framework/engine.js';

/** The state now and the time to judge it at. The state is shared: do not change it. */
export function currentMesh(context: EngineContext): { state: MeshState; at: string } {
  return { state: foldedState(context.ledger, meshFold).state, at: context.clock().toISOString() };
}

/** Appends the receipt `decide` drafts (or nothing, when it throws) and publishes a checkpoint. */
export async function recordMeshChange(
  context: EngineContext,
  decide: (state: MeshState, at: string) => MeshDraft,
): Promise<{ receipt: Receipt; state: MeshState }> {
  const [appended] = await context.ledger.emitChecked(mesh.name, (log) => {
    const { state } = foldedState(context.ledger, meshFold, log);
    return [{ scroll: mesh.name, ...decide(state, context.clock().toISOString()) }];
  });
  await context.ledger.publish(mesh.name);
  return { receipt: appended!.receipt, state: currentMesh(context).state };
}

export function receiptSummary(receipt: Receipt): string {
  return `mesh seq ${receipt.seq} (${receipt.type}) ${receipt.root_hash}`;
}
