/** `vm mesh capability grant|revoke|list`: what each member may do, and until when. */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { expiryTime } from '../../core/duration.js';
import { planGrant, planRevoke } from '../../core/mesh/plan.js';
import { grantStatus, type GrantStatus } from '../../core/mesh/topology.js';
import type { Receipt } from '../../core/receipt.js';
import { did } from '../../core/scrolls/define.js';
import { meshCapability, reason, recordId, scope } from '../../core/scrolls/mesh.js';
import { textTable, type TableRows } from '../../core/table.js';
import { defineOperation } from '../framework/engine.js';
import { nodeRef } from './inputs.js';
import { currentMesh, receiptSummary, recordMeshChange } from './ledger.js';

const STATUSES = ['active', 'expired', 'revoked', 'ended', 'all'] as const;
export interface GrantListing {
  grant_id: string;
  node_id: string;
  capability: string;
  scope: string;
  status: GrantStatus;
  granted_by: string;
  granted_seq: number;
  granted_at: string;
  expires_at: string | null;
  ended_seq: number | null;
}

function grantRows(grants: readonly GrantListing[]): TableRows {
  return {
    columns: [
      'grant_id',
      'node_id',
      'capability',
      'scope',
      'status',
      'expires_at',
      'granted_by',
      'granted_seq',
    ],
    rows: grants.map((g) => [
      g.grant_id,
      g.node_id,
      g.capability,
      g.scope,
      g.status,
      g.expires_at ?? '',
      g.granted_by,
      String(g.granted_seq),
    ]),
  };
}

export const capabilityGrant = defineOperation({
  name: 'capability grant',
  summary: 'grant a capability to a member, on every scroll or one, until an optional expiry',
  access: 'write',
  capability: 'admin',
  input: z.object({
    node: nodeRef,
    capability: meshCapability,
    scope: scope.default('*'),
    grantedBy: did.optional(),
    expires: z.string().min(1).optional(),
    id: recordId.optional(),
  }),
  cli: {
    arguments: [
      { field: 'node', name: 'node', description: 'node id (vault-02) or DID' },
      { field: 'capability', name: 'capability', description: meshCapability.options.join(' | ') },
    ],
    options: [
      {
        field: 'scope',
        flags: '--scope <scroll>',
        description: 'a scroll name, or * for every scroll (default: *)',
      },
      {
        field: 'grantedBy',
        flags: '--granted-by <did>',
        description: "who grants it (default: this node's DID)",
      },
      {
        field: 'expires',
        flags: '--expires <when>',
        description: 'an ISO time or a duration such as 30d (default: never)',
      },
      { field: 'id', flags: '--id <grant-id>', description: 'grant id (default: a random one)' },
    ],
  },
  async run(context, input) {
    const now = context.clock();
    const grant = {
      grant_id: input.id ?? `grant-${randomBytes(8).toString('hex')}`,
      node_id: input.node,
      capability: input.capability,
      scope: input.scope,
      granted_by: input.grantedBy ?? context.ledger.identity.did,
      ...(input.expires === undefined ? {} : { expires_at: expiryTime(input.expires, now) }),
    };
    const { receipt } = await recordMeshChange(context, (state, at) => planGrant(state, grant, at));
    return { receipt };
  },
  human: ({ receipt }: { receipt: Receipt }) =>
    [
      `granted ${String(receipt.body.capability)} on ${String(receipt.body.scope)} to ${String(receipt.body.node_id)}: grant ${String(receipt.body.grant_id)}${receipt.body.expires_at === undefined ? '' : `, expires ${String(receipt.body.expires_at)}`}`,
      receiptSummary(receipt),
    ].join('\n'),
});

export const capabilityRevoke = defineOperation({
  name: 'capability revoke',
  summary: 'revoke a capability grant',
  access: 'write',
  capability: 'admin',
  input: z.object({ grant: recordId, reason }),
  cli: {
    arguments: [{ field: 'grant', name: 'grant-id', description: 'the grant (vm mesh capability list)' }],
    options: [{ field: 'reason', flags: '--reason <text>', description: 'why (goes into the receipt)' }],
  },
  async run(context, input) {
    const { receipt } = await recordMeshChange(context, (state, at) =>
      planRevoke(state, input.grant, input.reason, at),
    );
    return { receipt };
  },
  human: ({ receipt }: { receipt: Receipt }) =>
    [
      `revoked grant ${String(receipt.body.grant_id)} (${String(receipt.body.capability)} for ${String(receipt.body.node_id)})`,
      receiptSummary(receipt),
    ].join('\n'),
});

export const capabilityList = defineOperation({
  name: 'capability list',
  summary: 'list capability grants: active (default), expired, revoked, ended or all',
  access: 'read',
  input: z.object({ node: nodeRef.optional(), status: z.enum(STATUSES).default('active') }),
  cli: {
    options: [
      { field: 'node', flags: '--node <node>', description: 'only grants to this node' },
      {
        field: 'status',
        flags: '--status <status>',
        description: `${STATUSES.join(', ')} (default: active)`,
      },
    ],
  },
  async run(context, input) {
    const { state, at } = currentMesh(context);
    const grants: GrantListing[] = [...state.grants.values()]
      .map((g) => ({
        grant_id: g.grant_id,
        node_id: g.node_id,
        capability: g.capability,
        scope: g.scope,
        status: grantStatus(g, at),
        granted_by: g.granted_by,
        granted_seq: g.granted_seq,
        granted_at: g.granted_at,
        expires_at: g.expires_at ?? null,
        ended_seq: g.ended_seq ?? null,
      }))
      .filter(
        (g) =>
          (input.status === 'all' || g.status === input.status) &&
          (input.node === undefined || g.node_id === input.node),
      )
      .sort((a, b) => (a.grant_id < b.grant_id ? -1 : 1));
    return { size: state.size, as_of: at, grants };
  },
  human: (r) => (r.grants.length === 0 ? 'no capability grants' : textTable(grantRows(r.grants))),
  rows: (r) => grantRows(r.grants),
});
