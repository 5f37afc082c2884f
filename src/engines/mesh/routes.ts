/** `vm mesh route add|update|remove|list`: directed routes between members. */
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import { nodeIdOf, TRANSPORTS } from '../../core/mesh/fields.js';
import { planRouteAdd, planRouteRemove, planRouteUpdate } from '../../core/mesh/plan.js';
import type { MeshRoute } from '../../core/mesh/state.js';
import type { Receipt } from '../../core/receipt.js';
import { reason, recordId, transport } from '../../core/scrolls/mesh.js';
import { textTable, type TableRows } from '../../core/table.js';
import { defineOperation } from '../framework/engine.js';
import { integerInput, nodeRef } from './inputs.js';
import { currentMesh, receiptSummary, recordMeshChange } from './ledger.js';

const weightInput = integerInput(1, 1_000_000);
const latencyInput = integerInput(0, 3_600_000);

const transportOption = {
  field: 'transport',
  flags: '--transport <transport>',
  description: `${TRANSPORTS.join(', ')} (default: https)`,
};
const weightOption = {
  field: 'weight',
  flags: '--weight <n>',
  description: 'routing weight, 1-1000000 (default: 1)',
};
const latencyOption = {
  field: 'latency',
  flags: '--latency-ms <ms>',
  description: 'expected latency in milliseconds',
};
const routeArgument = { field: 'route', name: 'route-id', description: 'the route (vm mesh route list)' };

function routeRows(routes: readonly MeshRoute[]): TableRows {
  return {
    columns: ['route_id', 'from_node', 'to_node', 'transport', 'weight', 'latency_ms', 'status', 'added_seq'],
    rows: routes.map((r) => [
      r.route_id,
      r.from_node,
      r.to_node,
      r.transport,
      String(r.weight),
      r.latency_ms === undefined ? '' : String(r.latency_ms),
      r.status,
      String(r.added_seq),
    ]),
  };
}

const routeDone =
  (verb: string) =>
  ({ receipt }: { receipt: Receipt }) =>
    [
      `route ${String(receipt.body.route_id)} ${verb}: ${String(receipt.body.from_node)} -> ${String(receipt.body.to_node)} over ${String(receipt.body.transport)}, weight ${String(receipt.body.weight)}`,
      receiptSummary(receipt),
    ].join('\n');

export const routeAdd = defineOperation({
  name: 'route add',
  summary: 'add a directed route between two members',
  access: 'write',
  capability: 'federate',
  input: z
    .object({
      from: nodeRef,
      to: nodeRef,
      transport: transport.default('https'),
      weight: weightInput.default(1),
      latency: latencyInput.optional(),
      id: recordId.optional(),
    })
    .refine((i) => i.from !== i.to, { path: ['to'], message: 'a route joins two different nodes' }),
  cli: {
    options: [
      { field: 'from', flags: '--from <node>', description: 'the node the route starts at (id or DID)' },
      { field: 'to', flags: '--to <node>', description: 'the node it leads to' },
      transportOption,
      weightOption,
      latencyOption,
      { field: 'id', flags: '--id <route-id>', description: 'route id (default: <from>-<to>-<transport>)' },
    ],
  },
  async run(context, input) {
    const route = {
      route_id: input.id ?? `${nodeIdOf(input.from)}-${nodeIdOf(input.to)}-${input.transport}`,
      from_node: input.from,
      to_node: input.to,
      transport: input.transport,
      weight: input.weight,
      ...(input.latency === undefined ? {} : { latency_ms: input.latency }),
    };
    const { receipt } = await recordMeshChange(context, (state, at) => planRouteAdd(state, route, at));
    return { receipt };
  },
  human: routeDone('added'),
});

export const routeUpdate = defineOperation({
  name: 'route update',
  summary: "change a route's transport, weight or latency (its ends stay)",
  access: 'write',
  capability: 'federate',
  input: z.object({
    route: recordId,
    transport: transport.optional(),
    weight: weightInput.optional(),
    latency: latencyInput.optional(),
    clearLatency: z.boolean().default(false),
  }),
  cli: {
    arguments: [routeArgument],
    options: [
      transportOption,
      weightOption,
      latencyOption,
      { field: 'clearLatency', flags: '--clear-latency', description: 'forget the recorded latency' },
    ],
  },
  async run(context, input) {
    if (
      input.transport === undefined &&
      input.weight === undefined &&
      input.latency === undefined &&
      !input.clearLatency
    ) {
      throw new VaultMeshError('INVALID_ARGUMENT', 'nothing to change', {
        hint: 'give --transport, --weight, --latency-ms or --clear-latency',
      });
    }
    if (input.latency !== undefined && input.clearLatency) {
      throw new VaultMeshError('INVALID_ARGUMENT', '--latency-ms and --clear-latency contradict each other', {
        hint: 'give one of them',
      });
    }
    const changes = {
      ...(input.transport === undefined ? {} : { transport: input.transport }),
      ...(input.weight === undefined ? {} : { weight: input.weight }),
      ...(input.clearLatency
        ? { latency_ms: null }
        : input.latency === undefined
          ? {}
          : { latency_ms: input.latency }),
    };
    const { receipt } = await recordMeshChange(context, (state, at) =>
      planRouteUpdate(state, input.route, changes, at),
    );
    return { receipt };
  },
  human: routeDone('updated'),
});

export const routeRemove = defineOperation({
  name: 'route remove',
  summary: 'remove a route',
  access: 'write',
  capability: 'federate',
  input: z.object({ route: recordId, reason: reason.optional() }),
  cli: {
    arguments: [routeArgument],
    options: [{ field: 'reason', flags: '--reason <text>', description: 'why (goes into the receipt)' }],
  },
  async run(context, input) {
    const { receipt } = await recordMeshChange(context, (state, at) =>
      planRouteRemove(state, input.route, input.reason, at),
    );
    return { receipt };
  },
  human: routeDone('removed'),
});

export const routeList = defineOperation({
  name: 'route list',
  summary: 'list the current routes (--all: also removed and ended ones)',
  access: 'read',
  input: z.object({ node: nodeRef.optional(), all: z.boolean().default(false) }),
  cli: {
    options: [
      { field: 'node', flags: '--node <node>', description: 'only routes from or to this node' },
      { field: 'all', flags: '--all', description: 'also routes that were removed or ended' },
    ],
  },
  async run(context, input) {
    const { state } = currentMesh(context);
    const routes = [...state.routes.values()]
      .filter(
        (r) =>
          (input.all || r.status === 'active') &&
          (input.node === undefined || r.from_node === input.node || r.to_node === input.node),
      )
      .sort((a, b) => (a.route_id < b.route_id ? -1 : 1));
    return { size: state.size, routes };
  },
  human: (r) => (r.routes.length === 0 ? 'no routes' : textTable(routeRows(r.routes))),
  rows: (r) => routeRows(r.routes),
});
