/**
 * The Mesh engine's rules, in one place: the engine refuses a change that breaks one (nothing is
 * written), and the fold notes a recorded receipt that breaks one as an anomaly and leaves it out.
 * `at` is the time the change is judged at: the engine's clock, or the receipt's `ts`.
 */
import { ruleBroken, type Violation } from '../fold.js';
import { SCROLLS } from '../scrolls/index.js';
import type { GrantBody, JoinBody, LeaveBody, RevokeBody, RouteBody, SnapshotBody } from '../scrolls/mesh.js';
import { nodeIdOf } from './fields.js';
import type { MeshGrant, MeshRoute, MeshState } from './state.js';
import { grantStatus } from './topology.js';

export type MeshChange =
  | { type: 'mesh_node_join'; body: JoinBody }
  | { type: 'mesh_node_leave'; body: LeaveBody }
  | { type: 'mesh_route_change'; body: RouteBody }
  | { type: 'mesh_capability_grant'; body: GrantBody }
  | { type: 'mesh_capability_revoke'; body: RevokeBody }
  | { type: 'mesh_topology_snapshot'; body: SnapshotBody };

const broken = ruleBroken;

/** The node must be a current member; `field` names the body field that refers to it. */
export function memberViolation(state: MeshState, did: string, field: string): Violation | undefined {
  const node = state.nodes.get(did);
  if (node === undefined)
    return broken(
      'UNKNOWN_NODE',
      `${field}: node ${did} has never joined the mesh`,
      'list the members with: vm mesh node list',
    );
  if (node.status !== 'member')
    return broken(
      'NODE_NOT_MEMBER',
      `${field}: node ${did} is not a member: it left at seq ${node.left_seq}`,
      `join it again first: vm mesh node join --id ${nodeIdOf(did)} ...`,
    );
  return undefined;
}

/** The route must exist and be active. */
export function routeViolation(state: MeshState, routeId: string): Violation | undefined {
  const route = state.routes.get(routeId);
  const hint = 'list the current routes with: vm mesh route list';
  if (route === undefined) return broken('UNKNOWN_ROUTE', `there is no route ${routeId}`, hint);
  if (route.status !== 'active')
    return broken(
      'UNKNOWN_ROUTE',
      `route ${routeId} is no longer current: ${route.end_reason} (seq ${route.ended_seq})`,
      hint,
    );
  return undefined;
}

/** The grant must exist and be neither revoked nor ended; an expired grant may still be revoked. */
export function grantViolation(state: MeshState, grantId: string): Violation | undefined {
  const grant = state.grants.get(grantId);
  if (grant === undefined)
    return broken(
      'UNKNOWN_GRANT',
      `there is no capability grant ${grantId}`,
      'list the grants with: vm mesh capability list --status all',
    );
  if (grant.status !== 'granted')
    return broken(
      'GRANT_NOT_ACTIVE',
      `grant ${grantId} was ${grant.status === 'revoked' ? 'revoked' : 'ended'} at seq ${grant.ended_seq}: ${grant.end_reason}`,
      'nothing to revoke; grant the capability anew if it is needed',
    );
  return undefined;
}

/** The routes and grants a node's leave ends, in id order. */
export function endedBy(state: MeshState, did: string): { routes: MeshRoute[]; grants: MeshGrant[] } {
  const ids = <T>(list: T[], id: (t: T) => string) =>
    list.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  return {
    routes: ids(
      [...state.routes.values()].filter(
        (r) => r.status === 'active' && (r.from_node === did || r.to_node === did),
      ),
      (r) => r.route_id,
    ),
    grants: ids(
      [...state.grants.values()].filter((g) => g.status === 'granted' && g.node_id === did),
      (g) => g.grant_id,
    ),
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function joinViolation(state: MeshState, body: JoinBody): Violation | undefined {
  const node = state.nodes.get(body.node_id);
  if (body.update) return memberViolation(state, body.node_id, 'node_id');
  if (node?.status === 'member')
    return broken(
      'NODE_EXISTS',
      `node ${body.node_id} is already a member (joined at seq ${node.joined_seq})`,
      'to change its record join again with --update; to start over, leave first',
    );
  return undefined;
}

function leaveViolation(state: MeshState, body: LeaveBody): Violation | undefined {
  const member = memberViolation(state, body.node_id, 'node_id');
  if (member !== undefined) return member;
  const ended = endedBy(state, body.node_id);
  const routes = ended.routes.map((r) => r.route_id);
  const grants = ended.grants.map((g) => g.grant_id);
  if (!sameList(body.routes_removed, routes))
    return broken(
      'INVALID_BODY',
      `routes_removed lists [${body.routes_removed.join(', ')}] but the leave ends [${routes.join(', ')}]`,
      'a leave lists every route of the node, in id order',
    );
  if (!sameList(body.capabilities_ended, grants))
    return broken(
      'INVALID_BODY',
      `capabilities_ended lists [${body.capabilities_ended.join(', ')}] but the leave ends [${grants.join(', ')}]`,
      'a leave lists every grant of the node, in id order',
    );
  return undefined;
}

function duplicateRoute(state: MeshState, body: RouteBody): Violation | undefined {
  for (const r of state.routes.values()) {
    if (r.status !== 'active' || r.route_id === body.route_id) continue;
    if (r.from_node === body.from_node && r.to_node === body.to_node && r.transport === body.transport)
      return broken(
        'ROUTE_EXISTS',
        `route ${r.route_id} already joins ${body.from_node} to ${body.to_node} over ${body.transport}`,
        `change it with: vm mesh route update ${r.route_id}, or use another transport`,
      );
  }
  return undefined;
}

function routeChangeViolation(state: MeshState, body: RouteBody): Violation | undefined {
  if (body.action === 'add') {
    const ends =
      memberViolation(state, body.from_node, 'from_node') ?? memberViolation(state, body.to_node, 'to_node');
    if (ends !== undefined) return ends;
    if (state.routes.get(body.route_id)?.status === 'active')
      return broken(
        'ROUTE_EXISTS',
        `route ${body.route_id} already exists`,
        'pick another --id, or change it with: vm mesh route update',
      );
    return duplicateRoute(state, body);
  }
  const current = routeViolation(state, body.route_id);
  if (current !== undefined) return current;
  const route = state.routes.get(body.route_id)!;
  if (route.from_node !== body.from_node || route.to_node !== body.to_node)
    return broken(
      'INVALID_BODY',
      `route ${body.route_id} joins ${route.from_node} to ${route.to_node}, not ${body.from_node} to ${body.to_node}`,
      'a route keeps its ends: remove it and add another',
    );
  return body.action === 'update' ? duplicateRoute(state, body) : undefined;
}

function grantBodyViolation(state: MeshState, body: GrantBody, at: string): Violation | undefined {
  const member = memberViolation(state, body.node_id, 'node_id');
  if (member !== undefined) return member;
  const used = state.grants.get(body.grant_id);
  if (used !== undefined)
    return broken(
      'GRANT_EXISTS',
      `grant id ${body.grant_id} is already used (seq ${used.granted_seq})`,
      'leave out --id to get a fresh one',
    );
  if (body.scope !== '*' && !SCROLLS.some((s) => s.name === body.scope))
    return broken(
      'UNKNOWN_SCROLL',
      `scope: there is no scroll "${body.scope}"`,
      `use * or one of: ${SCROLLS.map((s) => s.name).join(', ')}`,
    );
  for (const g of state.grants.values()) {
    if (
      g.node_id === body.node_id &&
      g.capability === body.capability &&
      g.scope === body.scope &&
      grantStatus(g, at) === 'active'
    )
      return broken(
        'GRANT_EXISTS',
        `node ${body.node_id} already holds ${body.capability} on ${body.scope}: grant ${g.grant_id}`,
        `revoke it first (vm mesh capability revoke ${g.grant_id}) or let it expire`,
      );
  }
  return undefined;
}

function revokeViolation(state: MeshState, body: RevokeBody): Violation | undefined {
  const current = grantViolation(state, body.grant_id);
  if (current !== undefined) return current;
  const grant = state.grants.get(body.grant_id)!;
  if (grant.node_id !== body.node_id || grant.capability !== body.capability)
    return broken(
      'INVALID_BODY',
      `grant ${body.grant_id} is ${grant.capability} for ${grant.node_id}, not ${body.capability} for ${body.node_id}`,
      'a revoke names the grant as it was recorded',
    );
  return undefined;
}

/** Why `change` may not be recorded on `state` at time `at`; undefined when it may. Snapshots are checked by the fold. */
export function violation(state: MeshState, change: MeshChange, at: string): Violation | undefined {
  switch (change.type) {
    case 'mesh_node_join':
      return joinViolation(state, change.body);
    case 'mesh_node_leave':
      return leaveViolation(state, change.body);
    case 'mesh_route_change':
      return routeChangeViolation(state, change.body);
    case 'mesh_capability_grant':
      return grantBodyViolation(state, change.body, at);
    case 'mesh_capability_revoke':
      return revokeViolation(state, change.body);
    case 'mesh_topology_snapshot':
      return undefined;
  }
}
