/**
 * The current topology: the members, their active routes and the capability grants in force at a
 * given time, each list in code-unit order of its ids so that the same receipts always give the
 * same document and the same `topology_hash`.
 */
import type { Topology, TopologyCapability, TopologyNode, TopologyRoute } from '../scrolls/mesh.js';
import { topologyHash } from './fields.js';
import type { MeshGrant, MeshNode, MeshRoute, MeshState } from './state.js';

export type GrantStatus = 'active' | 'expired' | 'revoked' | 'ended';

export function grantStatus(grant: MeshGrant, at: string): GrantStatus {
  if (grant.status !== 'granted') return grant.status;
  return grant.expires_at !== undefined && Date.parse(grant.expires_at) <= Date.parse(at)
    ? 'expired'
    : 'active';
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function topologyNode(n: MeshNode): TopologyNode {
  return {
    node_id: n.node_id,
    display_name: n.display_name,
    node_type: n.node_type,
    endpoints: n.endpoints.map((e) => ({ name: e.name, url: e.url })),
    endpoints_hash: n.endpoints_hash,
    ...(n.region === undefined ? {} : { region: n.region }),
    tags: [...n.tags],
    joined_seq: n.joined_seq,
    joined_at: n.joined_at,
    ...(n.updated_seq === undefined ? {} : { updated_seq: n.updated_seq, updated_at: n.updated_at! }),
  };
}

function topologyRoute(r: MeshRoute): TopologyRoute {
  return {
    route_id: r.route_id,
    from_node: r.from_node,
    to_node: r.to_node,
    transport: r.transport,
    weight: r.weight,
    ...(r.latency_ms === undefined ? {} : { latency_ms: r.latency_ms }),
    added_seq: r.added_seq,
    added_at: r.added_at,
    ...(r.updated_seq === undefined ? {} : { updated_seq: r.updated_seq, updated_at: r.updated_at! }),
  };
}

function topologyCapability(g: MeshGrant): TopologyCapability {
  return {
    grant_id: g.grant_id,
    node_id: g.node_id,
    capability: g.capability,
    scope: g.scope,
    granted_by: g.granted_by,
    granted_seq: g.granted_seq,
    granted_at: g.granted_at,
    ...(g.expires_at === undefined ? {} : { expires_at: g.expires_at }),
  };
}

/** The topology the state derives, with grants judged current at `at`. */
export function topologyOf(state: MeshState, at: string): Topology {
  const nodes = [...state.nodes.values()].filter((n) => n.status === 'member');
  const routes = [...state.routes.values()].filter((r) => r.status === 'active');
  const grants = [...state.grants.values()].filter((g) => grantStatus(g, at) === 'active');
  return {
    nodes: nodes.sort((a, b) => byCodeUnits(a.node_id, b.node_id)).map(topologyNode),
    routes: routes.sort((a, b) => byCodeUnits(a.route_id, b.route_id)).map(topologyRoute),
    capabilities: grants.sort((a, b) => byCodeUnits(a.grant_id, b.grant_id)).map(topologyCapability),
  };
}

export const TOPOLOGY_FORMAT = 'vaultmesh-mesh-topology/v1';

/** The topology with what pins it: the scroll size it was derived at, the time, the hash and counts. */
export interface TopologyDocument extends Topology {
  format: typeof TOPOLOGY_FORMAT;
  size: number;
  as_of: string;
  topology_hash: string;
  node_count: number;
  route_count: number;
  capability_count: number;
}

export function topologyDocument(state: MeshState, at: string): TopologyDocument {
  const topology = topologyOf(state, at);
  return {
    format: TOPOLOGY_FORMAT,
    size: state.size,
    as_of: at,
    topology_hash: topologyHash(topology),
    node_count: topology.nodes.length,
    route_count: topology.routes.length,
    capability_count: topology.capabilities.length,
    ...topology,
  };
}
