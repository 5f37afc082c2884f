/**
 * The topology as a Graphviz DOT digraph: one node statement per member (its DID as the node id,
 * its name, type, region and capabilities in the label), one edge per route. Every id and
 * attribute value is a quoted DOT string, so no name a user chose can end a statement early.
 */
import type { NodeType } from './fields.js';
import type { TopologyDocument } from './topology.js';

const SHAPES: Record<NodeType, string> = {
  infrastructure: 'box',
  gateway: 'diamond',
  edge: 'ellipse',
  witness: 'hexagon',
  storage: 'cylinder',
  compute: 'component',
};

/**
 * A DOT quoted string. Inside quotes DOT gives meaning only to `\"` (and to a backslash before a
 * line end); labels add escapes of their own (`\n`, `\l`, `\N` ...), so every backslash is
 * doubled, quotes are escaped and line breaks become `\n`, which a label shows as a new line.
 */
export function dotString(text: string): string {
  const escaped = text
    .replaceAll('\\', '\\\\')
    .replaceAll('"', '\\"')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/\p{Cc}/gu, '');
  return `"${escaped}"`;
}

function attributes(pairs: Record<string, string>): string {
  return `[${Object.entries(pairs)
    .map(([key, value]) => `${key}=${dotString(value)}`)
    .join(', ')}]`;
}

export function topologyDot(doc: TopologyDocument): string {
  const capabilities = new Map<string, string[]>();
  for (const c of doc.capabilities) {
    const held = capabilities.get(c.node_id) ?? [];
    held.push(c.scope === '*' ? c.capability : `${c.capability}:${c.scope}`);
    capabilities.set(c.node_id, held);
  }
  const lines = [
    `// VaultMesh mesh topology at size ${doc.size} (${doc.as_of}): ${doc.node_count} nodes, ${doc.route_count} routes`,
    `// ${doc.topology_hash}`,
    'digraph "vaultmesh-mesh" {',
    `  graph ${attributes({ label: `VaultMesh mesh, size ${doc.size}\n${doc.topology_hash}`, labelloc: 't', rankdir: 'LR' })};`,
    `  node ${attributes({ fontname: 'Helvetica' })};`,
    `  edge ${attributes({ fontname: 'Helvetica' })};`,
  ];
  for (const n of doc.nodes) {
    const label = [
      n.display_name,
      `${n.node_id} (${n.node_type})`,
      ...(n.region === undefined ? [] : [n.region]),
      ...(capabilities.has(n.node_id) ? [`capabilities: ${capabilities.get(n.node_id)!.join(', ')}`] : []),
    ].join('\n');
    lines.push(`  ${dotString(n.node_id)} ${attributes({ label, shape: SHAPES[n.node_type] })};`);
  }
  for (const r of doc.routes) {
    const facts = [
      r.transport,
      `weight ${r.weight}`,
      ...(r.latency_ms === undefined ? [] : [`${r.latency_ms} ms`]),
    ];
    lines.push(
      `  ${dotString(r.from_node)} -> ${dotString(r.to_node)} ${attributes({ id: r.route_id, label: `${r.route_id}\n${facts.join(', ')}` })};`,
    );
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
