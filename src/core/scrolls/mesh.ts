import { z } from 'zod';
import { CAPABILITIES } from '../capability-token.js';
import {
  ENDPOINT_NAME_RE,
  LABEL_RE,
  NODE_DID_RE,
  NODE_TYPES,
  RECORD_ID_RE,
  TRANSPORTS,
  endpointsHash,
  normalizeEndpointUrl,
  topologyHash,
} from '../mesh/fields.js';
import { bodyWith, count, defineScroll, did, hashRef, timestamp } from './define.js';

const RESERVED = 'written by the Mesh engine: vm mesh node|route|capability|topology';

export const nodeDid = z.string().regex(NODE_DID_RE, 'expected a node DID such as did:vm:node:vault-02');
export const recordId = z
  .string()
  .regex(RECORD_ID_RE, 'expected 1-160 letters, digits and . _ - (starting with a letter or digit)');
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'must not hold control characters');
export const displayName = text(128);
export const reason = text(1024);
export const region = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a region such as eu-west-1');
export const label = z
  .string()
  .regex(LABEL_RE, 'expected 1-64 letters, digits and . _ : / - (starting with a letter or digit)');
export const labels = z
  .array(label)
  .max(16)
  .refine((l) => new Set(l).size === l.length, 'lists a tag twice');
export const nodeType = z.enum(NODE_TYPES);
export const transport = z.enum(TRANSPORTS);
export const meshCapability = z.enum(CAPABILITIES).exclude(['read']);
export type MeshCapability = z.infer<typeof meshCapability>;
/** What a grant covers: every scroll (`*`) or one scroll by name. */
export const scope = z.union([
  z.literal('*'),
  z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'expected * or a scroll name such as guardian'),
]);
export const weight = z.number().int().min(1).max(1_000_000);
export const latencyMs = z.number().int().min(0).max(3_600_000);

const endpointUrl = z.string().superRefine((url, ctx) => {
  const normal = normalizeEndpointUrl(url);
  if ('problem' in normal) ctx.addIssue({ code: 'custom', message: normal.problem });
  else if (normal.url !== url)
    ctx.addIssue({ code: 'custom', message: `is not in normal form: write ${normal.url}` });
});
export const endpoint = z.strictObject({
  name: z.string().regex(ENDPOINT_NAME_RE, 'expected a name such as api or gossip (a-z, 0-9, -)'),
  url: endpointUrl,
});
export const endpointList = z
  .array(endpoint)
  .min(1, 'a node needs at least one endpoint')
  .max(16)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((e, i) => {
      if (seen.has(e.name))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `endpoint name "${e.name}" is used twice`,
        });
      seen.add(e.name);
    });
  });

/** What a node is, in its join receipt and in the topology. */
const nodeRecord = {
  node_id: nodeDid,
  display_name: displayName,
  node_type: nodeType,
  endpoints: endpointList,
  endpoints_hash: hashRef,
  region: region.optional(),
  tags: labels,
};

/** A current member as the topology lists it. */
export const topologyNode = z.strictObject({
  ...nodeRecord,
  joined_seq: count,
  joined_at: timestamp,
  updated_seq: count.optional(),
  updated_at: timestamp.optional(),
});
export const topologyRoute = z.strictObject({
  route_id: recordId,
  from_node: nodeDid,
  to_node: nodeDid,
  transport,
  weight,
  latency_ms: latencyMs.optional(),
  added_seq: count,
  added_at: timestamp,
  updated_seq: count.optional(),
  updated_at: timestamp.optional(),
});
export const topologyCapability = z.strictObject({
  grant_id: recordId,
  node_id: nodeDid,
  capability: meshCapability,
  scope,
  granted_by: did,
  granted_seq: count,
  granted_at: timestamp,
  expires_at: timestamp.optional(),
});
export const topologySchema = z.strictObject({
  nodes: z.array(topologyNode),
  routes: z.array(topologyRoute),
  capabilities: z.array(topologyCapability),
});
export type TopologyNode = z.infer<typeof topologyNode>;
export type TopologyRoute = z.infer<typeof topologyRoute>;
export type TopologyCapability = z.infer<typeof topologyCapability>;
export type Topology = z.infer<typeof topologySchema>;

export const joinBody = bodyWith({
  ...nodeRecord,
  /** True when the receipt changes the record of a current member rather than adding one. */
  update: z.boolean(),
}).superRefine((body, ctx) => {
  const expected = endpointsHash(body.endpoints);
  if (body.endpoints_hash !== expected) {
    ctx.addIssue({
      code: 'custom',
      path: ['endpoints_hash'],
      message: `does not match the endpoints (their hash is ${expected})`,
    });
  }
});

export const leaveBody = bodyWith({
  node_id: nodeDid,
  reason,
  /** The node's routes the leave ends, and its capability grants. */
  routes_removed: z.array(recordId),
  capabilities_ended: z.array(recordId),
});

export const ROUTE_ACTIONS = ['add', 'update', 'remove'] as const;
export const routeBody = bodyWith({
  route_id: recordId,
  action: z.enum(ROUTE_ACTIONS),
  from_node: nodeDid,
  to_node: nodeDid,
  transport,
  weight,
  latency_ms: latencyMs.optional(),
  reason: reason.optional(),
}).refine((body) => body.from_node !== body.to_node, {
  path: ['to_node'],
  message: 'a route joins two different nodes',
});

export const grantBody = bodyWith({
  grant_id: recordId,
  node_id: nodeDid,
  capability: meshCapability,
  scope,
  granted_by: did,
  expires_at: timestamp.optional(),
});

export const revokeBody = bodyWith({
  grant_id: recordId,
  node_id: nodeDid,
  capability: meshCapability,
  reason,
});

export const snapshotBody = bodyWith({
  snapshot_id: recordId,
  /** The receipts the topology is derived from: the first `at_size` of the scroll. */
  at_size: count,
  /** The time capability expiry was judged at. */
  as_of: timestamp,
  node_count: count,
  route_count: count,
  capability_count: count,
  topology_hash: hashRef,
  topology: topologySchema,
}).superRefine((body, ctx) => {
  const counts = [
    ['node_count', body.topology.nodes.length],
    ['route_count', body.topology.routes.length],
    ['capability_count', body.topology.capabilities.length],
  ] as const;
  for (const [field, actual] of counts) {
    if (body[field] !== actual)
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `is ${body[field]} but the topology lists ${actual}`,
      });
  }
  const expected = topologyHash(body.topology);
  if (body.topology_hash !== expected)
    ctx.addIssue({
      code: 'custom',
      path: ['topology_hash'],
      message: `does not match the topology (its hash is ${expected})`,
    });
});

export type JoinBody = z.infer<typeof joinBody>;
export type LeaveBody = z.infer<typeof leaveBody>;
export type RouteBody = z.infer<typeof routeBody>;
export type GrantBody = z.infer<typeof grantBody>;
export type RevokeBody = z.infer<typeof revokeBody>;
export type SnapshotBody = z.infer<typeof snapshotBody>;

export const mesh = defineScroll({
  name: 'mesh',
  title: 'Mesh',
  engineId: 'engine:mesh',
  description: 'Federation topology: nodes, routes and capabilities.',
  file: 'receipts/mesh/mesh_events.jsonl',
  rootFile: 'ROOT.mesh.txt',
  types: [
    {
      type: 'mesh_node_join',
      description: 'A node joined the mesh, or a member changed its record (update).',
      body: joinBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_node_leave',
      description: 'A node left the mesh; its routes and capability grants end with it.',
      body: leaveBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_route_change',
      description: 'A route between two members was added, updated or removed.',
      body: routeBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_capability_grant',
      description: 'A capability was granted to a member.',
      body: grantBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_capability_revoke',
      description: 'A capability grant was revoked.',
      body: revokeBody,
      reserved: RESERVED,
    },
    {
      type: 'mesh_topology_snapshot',
      description: 'The derived topology pinned at a scroll size, with its hash.',
      body: snapshotBody,
      reserved: RESERVED,
    },
  ],
});
