/**
 * The receipt each Mesh operation records, decided on the current state: the body is complete
 * (a leave lists what it ends, a route change carries the route's ends), and a change that breaks
 * a rule is refused with the rule's code before anything is written.
 */
import type { JsonObject } from '../canonical.js';
import { VaultMeshError } from '../errors.js';
import { refusal } from '../fold.js';
import type { GrantBody, JoinBody, LeaveBody, RevokeBody, RouteBody, SnapshotBody } from '../scrolls/mesh.js';
import { endpointsHash, type Endpoint, type NodeType, type Transport } from './fields.js';
import { endedBy, grantViolation, routeViolation, violation, type MeshChange } from './rules.js';
import type { MeshState } from './state.js';
import { topologyDocument } from './topology.js';

export interface MeshDraft {
  type: MeshChange['type'];
  body: JsonObject;
  tags: string[];
}

function decided(state: MeshState, change: MeshChange, at: string, tags: string[]): MeshDraft {
  const broken = violation(state, change, at);
  if (broken !== undefined) throw refusal(broken);
  return { type: change.type, body: change.body as unknown as JsonObject, tags: ['mesh', ...tags] };
}

export interface NodeSpec {
  node_id: string;
  display_name: string;
  node_type: NodeType;
  endpoints: Endpoint[];
  region?: string;
  tags: string[];
}

export function planJoin(state: MeshState, spec: NodeSpec, update: boolean, at: string): MeshDraft {
  const body: JoinBody = {
    node_id: spec.node_id,
    display_name: spec.display_name,
    node_type: spec.node_type,
    endpoints: spec.endpoints,
    endpoints_hash: endpointsHash(spec.endpoints),
    ...(spec.region === undefined ? {} : { region: spec.region }),
    tags: spec.tags,
    update,
  };
  return decided(state, { type: 'mesh_node_join', body }, at, ['node', update ? 'update' : 'join']);
}

export function planLeave(state: MeshState, nodeId: string, reason: string, at: string): MeshDraft {
  const ended = endedBy(state, nodeId);
  const body: LeaveBody = {
    node_id: nodeId,
    reason,
    routes_removed: ended.routes.map((r) => r.route_id),
    capabilities_ended: ended.grants.map((g) => g.grant_id),
  };
  return decided(state, { type: 'mesh_node_leave', body }, at, ['node', 'leave']);
}

export interface RouteSettings {
  transport: Transport;
  weight: number;
  latency_ms?: number;
}

export function planRouteAdd(
  state: MeshState,
  route: { route_id: string; from_node: string; to_node: string } & RouteSettings,
  at: string,
): MeshDraft {
  const body: RouteBody = { ...route, action: 'add' };
  return decided(state, { type: 'mesh_route_change', body }, at, ['route', 'add']);
}

function currentRoute(state: MeshState, routeId: string) {
  const broken = routeViolation(state, routeId);
  if (broken !== undefined) throw refusal(broken);
  return state.routes.get(routeId)!;
}

/** `latency_ms: null` clears the latency; an absent field keeps what the route has. */
export function planRouteUpdate(
  state: MeshState,
  routeId: string,
  changes: { transport?: Transport; weight?: number; latency_ms?: number | null },
  at: string,
): MeshDraft {
  const route = currentRoute(state, routeId);
  const latency = changes.latency_ms === undefined ? route.latency_ms : (changes.latency_ms ?? undefined);
  const body: RouteBody = {
    route_id: routeId,
    action: 'update',
    from_node: route.from_node,
    to_node: route.to_node,
    transport: changes.transport ?? route.transport,
    weight: changes.weight ?? route.weight,
    ...(latency === undefined ? {} : { latency_ms: latency }),
  };
  return decided(state, { type: 'mesh_route_change', body }, at, ['route', 'update']);
}

export function planRouteRemove(
  state: MeshState,
  routeId: string,
  reason: string | undefined,
  at: string,
): MeshDraft {
  const route = currentRoute(state, routeId);
  const body: RouteBody = {
    route_id: routeId,
    action: 'remove',
    from_node: route.from_node,
    to_node: route.to_node,
    transport: route.transport,
    weight: route.weight,
    ...(route.latency_ms === undefined ? {} : { latency_ms: route.latency_ms }),
    ...(reason === undefined ? {} : { reason }),
  };
  return decided(state, { type: 'mesh_route_change', body }, at, ['route', 'remove']);
}

export function planGrant(state: MeshState, grant: GrantBody, at: string): MeshDraft {
  if (grant.expires_at !== undefined && Date.parse(grant.expires_at) <= Date.parse(at)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `--expires ${grant.expires_at} is not in the future`, {
      hint: 'give a later time, or a duration such as --expires 30d',
    });
  }
  return decided(state, { type: 'mesh_capability_grant', body: grant }, at, [
    'capability',
    'grant',
    grant.capability,
  ]);
}

export function planRevoke(state: MeshState, grantId: string, reason: string, at: string): MeshDraft {
  const broken = grantViolation(state, grantId);
  if (broken !== undefined) throw refusal(broken);
  const grant = state.grants.get(grantId)!;
  const body: RevokeBody = {
    grant_id: grantId,
    node_id: grant.node_id,
    capability: grant.capability,
    reason,
  };
  return decided(state, { type: 'mesh_capability_revoke', body }, at, [
    'capability',
    'revoke',
    body.capability,
  ]);
}

/** A snapshot of the topology the state derives now; recorded as the next receipt, it pins `at_size`. */
export function planSnapshot(state: MeshState, snapshotId: string, at: string): MeshDraft {
  const { nodes, routes, capabilities, topology_hash, node_count, route_count, capability_count } =
    topologyDocument(state, at);
  const body: SnapshotBody = {
    snapshot_id: snapshotId,
    at_size: state.size,
    as_of: at,
    node_count,
    route_count,
    capability_count,
    topology_hash,
    topology: { nodes, routes, capabilities },
  };
  return decided(state, { type: 'mesh_topology_snapshot', body }, at, ['topology', 'snapshot']);
}
