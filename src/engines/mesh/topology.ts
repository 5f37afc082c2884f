/**
 * `vm mesh topology [--graph json|dot] [--output FILE]`, `topology show` (the same read for HTTP
 * and MCP callers, which share no files with the node), `topology snapshot` and `audit`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import { topologyDot } from '../../core/mesh/dot.js';
import { planSnapshot } from '../../core/mesh/plan.js';
import type { MeshAnomaly, MeshSnapshot } from '../../core/mesh/state.js';
import { topologyDocument, type TopologyDocument } from '../../core/mesh/topology.js';
import type { Receipt } from '../../core/receipt.js';
import { textTable } from '../../core/table.js';
import { writeFileDurably } from '../../ledger/durable.js';
import { defineOperation, type EngineContext } from '../framework/engine.js';
import { anomalyRows } from '../framework/folded.js';
import { currentMesh, receiptSummary, recordMeshChange } from './ledger.js';

const GRAPHS = ['json', 'dot'] as const;
type Graph = (typeof GRAPHS)[number];

const graphOption = {
  field: 'graph',
  flags: '--graph <form>',
  description: 'json (the topology document, default) or dot (Graphviz)',
};

export type TopologyOutput = TopologyDocument & { graph: Graph; dot?: string; written?: string };

function readTopology(context: EngineContext, graph: Graph): TopologyOutput {
  const { state, at } = currentMesh(context);
  const document = topologyDocument(state, at);
  return { ...document, graph, ...(graph === 'dot' ? { dot: topologyDot(document) } : {}) };
}

/** The text `--output` writes and the human form prints: the document as JSON, or the DOT. */
function graphText(output: TopologyOutput): string {
  if (output.dot !== undefined) return output.dot;
  const document = Object.fromEntries(
    Object.entries(output).filter(([key]) => key !== 'graph' && key !== 'written'),
  );
  return `${JSON.stringify(document, null, 2)}\n`;
}

function outputPath(context: EngineContext, file: string): string {
  const path = resolve(context.cwd, file);
  if (!existsSync(dirname(path))) {
    throw new VaultMeshError('FILE_MISSING', `--output ${file}: directory ${dirname(path)} does not exist`, {
      hint: 'create the directory first, or write the file elsewhere',
    });
  }
  if (existsSync(path) && !statSync(path).isFile()) {
    throw new VaultMeshError('INVALID_ARGUMENT', `--output ${file} is not a regular file`, {
      hint: 'name a file to write, not a directory',
    });
  }
  return path;
}

const graphInput = z.enum(GRAPHS).default('json');

export const topology = defineOperation({
  name: 'topology',
  summary: 'the current topology, derived from the scroll: JSON or Graphviz DOT, to stdout or a file',
  access: 'read',
  local: true,
  input: z.object({ graph: graphInput, output: z.string().min(1).optional() }),
  cli: {
    options: [
      graphOption,
      {
        field: 'output',
        flags: '--output <file>',
        description: 'write it to this file (replaced atomically)',
      },
    ],
  },
  async run(context, input): Promise<TopologyOutput> {
    const path = input.output === undefined ? undefined : outputPath(context, input.output);
    const output = readTopology(context, input.graph);
    if (path === undefined) return output;
    writeFileDurably(path, graphText(output));
    return { ...output, written: path };
  },
  human: (r) =>
    r.written === undefined
      ? graphText(r)
      : `wrote the topology at size ${r.size} (${r.node_count} nodes, ${r.route_count} routes, ${r.capability_count} capabilities) as ${r.graph} to ${r.written}\n${r.topology_hash}`,
});

export const topologyShow = defineOperation({
  name: 'topology show',
  summary: 'the current topology as JSON or Graphviz DOT (for HTTP and MCP callers)',
  access: 'read',
  input: z.object({ graph: graphInput }),
  cli: { options: [graphOption] },
  async run(context, input): Promise<TopologyOutput> {
    return readTopology(context, input.graph);
  },
  human: graphText,
});

export const topologySnapshot = defineOperation({
  name: 'topology snapshot',
  summary: 'record the current topology and its hash as a receipt',
  access: 'write',
  input: z.object({}),
  cli: {},
  async run(context) {
    const id = `snap-${randomBytes(8).toString('hex')}`;
    const { receipt } = await recordMeshChange(context, (state, at) => planSnapshot(state, id, at));
    return { receipt };
  },
  human: ({ receipt }: { receipt: Receipt }) =>
    [
      `snapshot ${String(receipt.body.snapshot_id)} of the topology at size ${String(receipt.body.at_size)}: ${String(receipt.body.node_count)} nodes, ${String(receipt.body.route_count)} routes, ${String(receipt.body.capability_count)} capabilities`,
      `topology_hash ${String(receipt.body.topology_hash)}`,
      receiptSummary(receipt),
    ].join('\n'),
});

interface AuditOutput {
  ok: boolean;
  size: number;
  anomalies: MeshAnomaly[];
  snapshots: MeshSnapshot[];
}

export const audit = defineOperation({
  name: 'audit',
  summary: 'receipts that break the rules, and whether each topology snapshot matches a replay',
  access: 'read',
  input: z.object({}),
  cli: {},
  async run(context): Promise<AuditOutput> {
    const { state } = currentMesh(context);
    return {
      ok: state.anomalies.length === 0,
      size: state.size,
      anomalies: state.anomalies,
      snapshots: state.snapshots,
    };
  },
  human: (r) =>
    [
      `${r.ok ? 'ok' : 'FAIL'}: ${r.size} receipts, ${r.anomalies.length} anomalies, ${r.snapshots.filter((s) => s.matches).length}/${r.snapshots.length} snapshots match a replay`,
      ...(r.anomalies.length === 0 ? [] : [textTable(anomalyRows(r.anomalies))]),
    ].join('\n'),
  rows: (r) => anomalyRows(r.anomalies),
});
