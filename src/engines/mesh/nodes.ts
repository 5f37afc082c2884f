/** `vm mesh node list|show|join|leave`: the members of the mesh. */
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import { NODE_TYPES } from '../../core/mesh/fields.js';
import { planJoin, planLeave } from '../../core/mesh/plan.js';
import { memberViolation } from '../../core/mesh/rules.js';
import type { MeshGrant, MeshNode, MeshRoute } from '../../core/mesh/state.js';
import { grantStatus, type GrantStatus } from '../../core/mesh/topology.js';
import { displayName, labels, nodeType, reason, region } from '../../core/scrolls/mesh.js';
import { textTable, type TableRows } from '../../core/table.js';
import { defineOperation } from '../framework/engine.js';
import { currentMesh, receiptSummary, recordMeshChange } from './ledger.js';
import { endpointFlag, nodeRef } from './inputs.js';
import { nodeFields, nodeSpec } from './node-config.js';

export interface NodeListing {
  node_id: string;
  display_name: string;
  node_type: string;
  status: string;
  endpoints: string[];
  region: string;
  tags: string[];
  joined_seq: number;
  joined_at: string;
  left_seq: number | null;
  routes: number;
  capabilities: number;
}

function listing(
  node: MeshNode,
  routes: readonly MeshRoute[],
  grants: readonly MeshGrant[],
  at: string,
): NodeListing {
  return {
    node_id: node.node_id,
    display_name: node.display_name,
    node_type: node.node_type,
    status: node.status,
    endpoints: node.endpoints.map((e) => `${e.name}=${e.url}`),
    region: node.region ?? '',
    tags: node.tags,
    joined_seq: node.joined_seq,
    joined_at: node.joined_at,
    left_seq: node.left_seq ?? null,
    routes: routes.filter(
      (r) => r.status === 'active' && (r.from_node === node.node_id || r.to_node === node.node_id),
    ).length,
    capabilities: grants.filter((g) => g.node_id === node.node_id && grantStatus(g, at) === 'active').length,
  };
}

function nodeRows(nodes: readonly NodeListing[]): TableRows {
  return {
    columns: [
      'node_id',
      'display_name',
      'node_type',
      'status',
      'endpoints',
      'region',
      'tags',
      'routes',
      'capabilities',
      'joined_seq',
      'joined_at',
    ],
    rows: nodes.map((n) => [
      n.node_id,
      n.display_name,
      n.node_type,
      n.status,
      n.endpoints.join(' '),
      n.region,
      n.tags.join(' '),
      String(n.routes),
      String(n.capabilities),
      String(n.joined_seq),
      n.joined_at,
    ]),
  };
}

export const nodeList = defineOperation({
  name: 'node list',
  summary: 'list the members of the mesh (--all: also the nodes that left)',
  access: 'read',
  input: z.object({ all: z.boolean().default(false), type: nodeType.optional() }),
  cli: {
    options: [
      { field: 'all', flags: '--all', description: 'also list the nodes that left' },
      {
        field: 'type',
        flags: '--type <type>',
        description: `only nodes of this type: ${NODE_TYPES.join(', ')}`,
      },
    ],
  },
  async run(context, input) {
    const { state, at } = currentMesh(context);
    const routes = [...state.routes.values()];
    const grants = [...state.grants.values()];
    const nodes = [...state.nodes.values()]
      .filter(
        (n) =>
          (input.all || n.status === 'member') && (input.type === undefined || n.node_type === input.type),
      )
      .sort((a, b) => (a.node_id < b.node_id ? -1 : 1))
      .map((n) => listing(n, routes, grants, at));
    return { size: state.size, nodes };
  },
  human: (r) => (r.nodes.length === 0 ? 'no nodes' : textTable(nodeRows(r.nodes))),
  rows: (r) => nodeRows(r.nodes),
});

export interface NodeDetail {
  node: MeshNode;
  routes: MeshRoute[];
  capabilities: Array<MeshGrant & { current: GrantStatus }>;
}

export const nodeShow = defineOperation({
  name: 'node show',
  summary: 'show a node: its record, routes, capability grants and receipts',
  access: 'read',
  input: z.object({ node: nodeRef }),
  cli: { arguments: [{ field: 'node', name: 'node', description: 'node id (vault-02) or DID' }] },
  async run(context, input): Promise<NodeDetail> {
    const { state, at } = currentMesh(context);
    const node = state.nodes.get(input.node);
    if (node === undefined) {
      throw new VaultMeshError('UNKNOWN_NODE', `node ${input.node} has never joined the mesh`, {
        hint: 'list the nodes with: vm mesh node list --all',
      });
    }
    return {
      node,
      routes: [...state.routes.values()].filter(
        (r) => r.from_node === node.node_id || r.to_node === node.node_id,
      ),
      capabilities: [...state.grants.values()]
        .filter((g) => g.node_id === node.node_id)
        .map((g) => ({ ...g, current: grantStatus(g, at) })),
    };
  },
  human: ({ node, routes, capabilities }) =>
    [
      `${node.node_id} (${node.display_name}): ${node.node_type}, ${node.status}`,
      `joined:    seq ${node.joined_seq} at ${node.joined_at}`,
      ...(node.updated_seq === undefined ? [] : [`updated:   seq ${node.updated_seq} at ${node.updated_at}`]),
      ...(node.left_seq === undefined
        ? []
        : [`left:      seq ${node.left_seq} at ${node.left_at}: ${node.leave_reason}`]),
      ...(node.region === undefined ? [] : [`region:    ${node.region}`]),
      ...(node.tags.length === 0 ? [] : [`tags:      ${node.tags.join(', ')}`]),
      `endpoints: ${node.endpoints_hash}`,
      ...node.endpoints.map((e) => `  ${e.name.padEnd(10)} ${e.url}`),
      `routes:`,
      ...(routes.length === 0
        ? ['  none']
        : routes.map(
            (r) =>
              `  ${r.status.padEnd(8)} ${r.route_id}: ${r.from_node} -> ${r.to_node} over ${r.transport}`,
          )),
      `capabilities:`,
      ...(capabilities.length === 0
        ? ['  none']
        : capabilities.map(
            (g) =>
              `  ${g.current.padEnd(8)} ${g.grant_id}: ${g.capability} on ${g.scope}${g.expires_at === undefined ? '' : `, expires ${g.expires_at}`}`,
          )),
      `receipts:  seq ${node.receipts.join(', ')}`,
    ].join('\n'),
});

export const nodeJoin = defineOperation({
  name: 'node join',
  summary: 'add a node to the mesh from a config file and/or flags (--update: change a member)',
  access: 'write',
  capability: 'federate',
  local: true,
  input: z.object({
    config: z.string().min(1).optional(),
    id: nodeRef.optional(),
    name: displayName.optional(),
    type: nodeType.optional(),
    endpoint: z.array(endpointFlag).min(1).optional(),
    region: region.optional(),
    tag: labels.optional(),
    update: z.boolean().default(false),
  }),
  cli: {
    options: [
      {
        field: 'config',
        flags: '--config <file>',
        description: 'node config JSON (node_id, display_name, node_type, endpoints, region, tags)',
      },
      {
        field: 'id',
        flags: '--id <node>',
        description: 'node id, e.g. vault-02 (the DID is did:vm:node:vault-02)',
      },
      { field: 'name', flags: '--name <name>', description: 'display name (default: the id)' },
      {
        field: 'type',
        flags: '--type <type>',
        description: `${NODE_TYPES.join(', ')} (default: infrastructure)`,
      },
      {
        field: 'endpoint',
        flags: '--endpoint <name=url...>',
        description: 'endpoints, e.g. api=https://vault-02.example:9110',
      },
      { field: 'region', flags: '--region <region>', description: 'where the node runs, e.g. eu-west-1' },
      { field: 'tag', flags: '--tag <tags...>', description: 'labels of the node' },
      { field: 'update', flags: '--update', description: 'change the record of a current member' },
    ],
  },
  async run(context, input) {
    const fields = nodeFields(context, input);
    const { receipt, state } = await recordMeshChange(context, (current, at) => {
      const member = current.nodes.get(fields.node_id);
      if (input.update) {
        const broken = memberViolation(current, fields.node_id, '--id');
        if (broken !== undefined)
          throw new VaultMeshError(broken.code, broken.message, { hint: broken.hint });
      }
      return planJoin(current, nodeSpec(fields, input.update ? member : undefined), input.update, at);
    });
    return { receipt, node: state.nodes.get(fields.node_id)! };
  },
  human: ({ receipt, node }) =>
    [
      `${receipt.body.update === true ? 'updated' : 'joined'} ${node.node_id} (${node.node_type}, ${node.endpoints.length} endpoint${node.endpoints.length === 1 ? '' : 's'})`,
      receiptSummary(receipt),
    ].join('\n'),
});

export const nodeLeave = defineOperation({
  name: 'node leave',
  summary: 'remove a member from the mesh; its routes and capability grants end with it',
  access: 'write',
  capability: 'federate',
  input: z.object({ node: nodeRef, reason }),
  cli: {
    arguments: [{ field: 'node', name: 'node', description: 'node id (vault-02) or DID' }],
    options: [
      { field: 'reason', flags: '--reason <text>', description: 'why it leaves (goes into the receipt)' },
    ],
  },
  async run(context, input) {
    const { receipt } = await recordMeshChange(context, (state, at) =>
      planLeave(state, input.node, input.reason, at),
    );
    return { receipt };
  },
  human: ({ receipt }) => {
    const routes = receipt.body.routes_removed as string[];
    const grants = receipt.body.capabilities_ended as string[];
    return [
      `${String(receipt.body.node_id)} left the mesh`,
      `routes removed: ${routes.length === 0 ? 'none' : routes.join(', ')}`,
      `capability grants ended: ${grants.length === 0 ? 'none' : grants.join(', ')}`,
      receiptSummary(receipt),
    ].join('\n');
  },
});
