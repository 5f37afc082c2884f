/**
 * The Mesh scroll folded into its state (state.ts). Each receipt is read against its type's schema
 * and the engine's rules (rules.ts); one that fails either is an anomaly and changes nothing, so
 * the state is always one the engine could have produced. A snapshot is checked against the
 * topology the receipts before it derive.
 */
import { applyRuled, type ScrollFold } from '../fold.js';
import type { Receipt } from '../receipt.js';
import { mesh, type SnapshotBody } from '../scrolls/mesh.js';
import { topologyHash } from './fields.js';
import { endedBy, violation, type MeshChange } from './rules.js';
import { decodeMeshState, encodeMeshState, initialMeshState, type MeshState } from './state.js';
import { topologyOf } from './topology.js';

interface At {
  seq: number;
  ts: string;
}

function touch(state: MeshState, did: string, seq: number): void {
  state.nodes.get(did)?.receipts.push(seq);
}

function applyChange(state: MeshState, change: MeshChange, at: At): void {
  switch (change.type) {
    case 'mesh_node_join': {
      const { body } = change;
      const previous = state.nodes.get(body.node_id);
      const record = {
        display_name: body.display_name,
        node_type: body.node_type,
        endpoints: body.endpoints,
        endpoints_hash: body.endpoints_hash,
        tags: body.tags,
        ...(body.region === undefined ? {} : { region: body.region }),
      };
      if (body.update && previous !== undefined) {
        delete previous.region;
        Object.assign(previous, record, { updated_seq: at.seq, updated_at: at.ts });
        previous.receipts.push(at.seq);
      } else {
        state.nodes.set(body.node_id, {
          node_id: body.node_id,
          ...record,
          joined_seq: at.seq,
          joined_at: at.ts,
          status: 'member',
          receipts: [...(previous?.receipts ?? []), at.seq],
        });
      }
      return;
    }
    case 'mesh_node_leave': {
      const { body } = change;
      const ended = endedBy(state, body.node_id);
      const node = state.nodes.get(body.node_id)!;
      Object.assign(node, { status: 'left', left_seq: at.seq, left_at: at.ts, leave_reason: body.reason });
      node.receipts.push(at.seq);
      const end = { ended_seq: at.seq, ended_at: at.ts, end_reason: `node ${body.node_id} left` };
      for (const route of ended.routes) Object.assign(route, { status: 'ended' }, end);
      for (const grant of ended.grants) Object.assign(grant, { status: 'ended' }, end);
      return;
    }
    case 'mesh_route_change': {
      const { body } = change;
      const settings = {
        transport: body.transport,
        weight: body.weight,
        ...(body.latency_ms === undefined ? {} : { latency_ms: body.latency_ms }),
      };
      if (body.action === 'add') {
        state.routes.set(body.route_id, {
          route_id: body.route_id,
          from_node: body.from_node,
          to_node: body.to_node,
          ...settings,
          added_seq: at.seq,
          added_at: at.ts,
          status: 'active',
        });
      } else {
        const route = state.routes.get(body.route_id)!;
        if (body.action === 'update') {
          delete route.latency_ms;
          Object.assign(route, settings, { updated_seq: at.seq, updated_at: at.ts });
        } else {
          Object.assign(route, {
            status: 'removed',
            ended_seq: at.seq,
            ended_at: at.ts,
            end_reason: body.reason ?? 'removed',
          });
        }
      }
      touch(state, body.from_node, at.seq);
      touch(state, body.to_node, at.seq);
      return;
    }
    case 'mesh_capability_grant': {
      const { body } = change;
      state.grants.set(body.grant_id, {
        grant_id: body.grant_id,
        node_id: body.node_id,
        capability: body.capability,
        scope: body.scope,
        granted_by: body.granted_by,
        granted_seq: at.seq,
        granted_at: at.ts,
        ...(body.expires_at === undefined ? {} : { expires_at: body.expires_at }),
        status: 'granted',
      });
      touch(state, body.node_id, at.seq);
      return;
    }
    case 'mesh_capability_revoke': {
      const { body } = change;
      Object.assign(state.grants.get(body.grant_id)!, {
        status: 'revoked',
        ended_seq: at.seq,
        ended_at: at.ts,
        end_reason: body.reason,
      });
      touch(state, body.node_id, at.seq);
      return;
    }
    case 'mesh_topology_snapshot':
      recordSnapshot(state, change.body, at);
      return;
  }
}

/** Why a recorded snapshot is not the topology its receipts derive, or undefined when it is. */
function snapshotMismatch(state: MeshState, body: SnapshotBody, at: At): string | undefined {
  if (body.at_size !== at.seq) return `at_size is ${body.at_size} but the snapshot is receipt ${at.seq}`;
  const derived = topologyHash(topologyOf(state, body.as_of));
  if (derived !== body.topology_hash)
    return `topology_hash ${body.topology_hash} is not the derived topology's ${derived}`;
  return undefined;
}

function recordSnapshot(state: MeshState, body: SnapshotBody, at: At): void {
  const mismatch = snapshotMismatch(state, body, at);
  state.snapshots.push({
    snapshot_id: body.snapshot_id,
    seq: at.seq,
    at_size: body.at_size,
    as_of: body.as_of,
    topology_hash: body.topology_hash,
    matches: mismatch === undefined,
  });
  if (mismatch !== undefined)
    state.anomalies.push({
      seq: at.seq,
      type: 'mesh_topology_snapshot',
      code: 'TOPOLOGY_MISMATCH',
      message: mismatch,
    });
}

export function applyMeshReceipt(state: MeshState, receipt: Receipt): void {
  applyRuled({ scroll: mesh, violation, apply: applyChange }, state, receipt);
}

export const meshFold: ScrollFold<MeshState> = {
  id: 'topology',
  scroll: 'mesh',
  version: 1,
  initial: initialMeshState,
  apply: applyMeshReceipt,
  encode: encodeMeshState,
  decode: decodeMeshState,
};
