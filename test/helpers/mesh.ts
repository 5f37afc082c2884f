/**
 * A Mesh scroll in memory for the fold's unit and property tests: `record` does what the engine
 * does (plan on the current state, validate the draft as the ledger would, seal it at the next seq
 * and fold it in), `append` writes any receipt, as the trusted Ledger API could.
 */
import { canonicalJson, type JsonObject } from '../../src/core/canonical.js';
import { blake3Tagged } from '../../src/core/hash.js';
import { meshFold } from '../../src/core/mesh/fold.js';
import type { MeshDraft, NodeSpec } from '../../src/core/mesh/plan.js';
import { initialMeshState, type MeshState } from '../../src/core/mesh/state.js';
import { sealDraft, validateDraft, type Receipt } from '../../src/core/receipt.js';

export const ISSUER = 'did:vm:node:vault-01';

export class MeshScroll {
  readonly receipts: Receipt[] = [];
  readonly state: MeshState = initialMeshState();
  private clock = Date.UTC(2026, 10, 23, 9, 0, 0);

  now(): string {
    return new Date(this.clock).toISOString();
  }

  /** Moves the clock on; every receipt is one second after the last. */
  advance(ms: number): void {
    this.clock += ms;
  }

  record(plan: (state: MeshState, at: string) => MeshDraft): Receipt {
    const at = this.now();
    const draft = plan(this.state, at);
    const validated = validateDraft({ scroll: 'mesh', ...draft });
    return this.fold(sealDraft(validated, this.receipts.length, at, ISSUER).receipt);
  }

  append(type: string, body: Record<string, unknown>): Receipt {
    return this.fold({
      body: body as JsonObject,
      issuer: ISSUER,
      root_hash: blake3Tagged(canonicalJson(body as JsonObject)),
      scroll: 'mesh',
      seq: this.receipts.length,
      tags: ['mesh'],
      ts: this.now(),
      type,
      v: 1,
    });
  }

  private fold(receipt: Receipt): Receipt {
    this.receipts.push(receipt);
    meshFold.apply(this.state, receipt);
    this.advance(1000);
    return receipt;
  }
}

export const did = (id: string) => `did:vm:node:${id}`;

export function nodeSpec(id: string, extra: Partial<NodeSpec> = {}): NodeSpec {
  return {
    node_id: did(id),
    display_name: `Node ${id}`,
    node_type: 'infrastructure',
    endpoints: [{ name: 'api', url: `https://${id}.example:9110/` }],
    tags: [],
    ...extra,
  };
}
