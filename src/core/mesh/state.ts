/**
 * What the Mesh scroll says, folded: every node that ever joined, every route and capability grant
 * ever recorded (with what ended them), the snapshots and whether each matched, and the receipts
 * that broke a rule. The current topology is a view of this (topology.ts).
 */
import type { JsonValue } from '../canonical.js';
import type { FoldAnomaly } from '../fold.js';
import type { TopologyCapability, TopologyNode, TopologyRoute } from '../scrolls/mesh.js';

export type NodeStatus = 'member' | 'left';

export interface MeshNode extends TopologyNode {
  status: NodeStatus;
  left_seq?: number;
  left_at?: string;
  leave_reason?: string;
  /** Seqs of the receipts about this node (its joins, leaves, routes, grants), oldest first. */
  receipts: number[];
}

/** `ended`: one of its nodes left. */
export type RouteStatus = 'active' | 'removed' | 'ended';

export interface MeshRoute extends TopologyRoute {
  status: RouteStatus;
  ended_seq?: number;
  ended_at?: string;
  end_reason?: string;
}

/** As recorded; whether a `granted` grant has expired depends on when one asks (topology.ts). */
export type GrantRecordStatus = 'granted' | 'revoked' | 'ended';

export interface MeshGrant extends TopologyCapability {
  status: GrantRecordStatus;
  ended_seq?: number;
  ended_at?: string;
  end_reason?: string;
}

export interface MeshSnapshot {
  snapshot_id: string;
  seq: number;
  at_size: number;
  as_of: string;
  topology_hash: string;
  /** Whether the recorded topology is the one the receipts before it derive. */
  matches: boolean;
}

/** A receipt that breaks the engine's rules: kept in the scroll, left out of the state. */
export type MeshAnomaly = FoldAnomaly;

export interface MeshState {
  /** Receipts folded. */
  size: number;
  nodes: Map<string, MeshNode>;
  routes: Map<string, MeshRoute>;
  grants: Map<string, MeshGrant>;
  snapshots: MeshSnapshot[];
  anomalies: MeshAnomaly[];
}

export function initialMeshState(): MeshState {
  return { size: 0, nodes: new Map(), routes: new Map(), grants: new Map(), snapshots: [], anomalies: [] };
}

interface EncodedMeshState {
  size: number;
  nodes: MeshNode[];
  routes: MeshRoute[];
  grants: MeshGrant[];
  snapshots: MeshSnapshot[];
  anomalies: MeshAnomaly[];
}

/** Records in the order they were first seen, so a decoded state is the state that was encoded. */
export function encodeMeshState(state: MeshState): JsonValue {
  const encoded: EncodedMeshState = {
    size: state.size,
    nodes: [...state.nodes.values()],
    routes: [...state.routes.values()],
    grants: [...state.grants.values()],
    snapshots: state.snapshots,
    anomalies: state.anomalies,
  };
  return JSON.parse(JSON.stringify(encoded)) as JsonValue;
}

export function decodeMeshState(value: JsonValue): MeshState {
  const encoded = value as unknown as EncodedMeshState;
  return {
    size: encoded.size,
    nodes: new Map(encoded.nodes.map((n) => [n.node_id, n])),
    routes: new Map(encoded.routes.map((r) => [r.route_id, r])),
    grants: new Map(encoded.grants.map((g) => [g.grant_id, g])),
    snapshots: encoded.snapshots,
    anomalies: encoded.anomalies,
  };
}
