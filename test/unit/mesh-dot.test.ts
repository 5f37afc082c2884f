/**
 * The DOT form of the topology, read back with a small DOT reader (the grammar of graphviz.org's
 * "The DOT Language": quoted ids, attribute lists, node and edge statements): every statement
 * parses, every member is one node, every route one edge, and labels holding quotes, backslashes,
 * braces and line breaks come back as written.
 */
import { describe, expect, it } from 'vitest';
import { dotString, topologyDot } from '../../src/core/mesh/dot.js';
import { planGrant, planJoin, planRouteAdd } from '../../src/core/mesh/plan.js';
import { topologyDocument } from '../../src/core/mesh/topology.js';
import { MeshScroll, did, nodeSpec } from '../helpers/mesh.js';

type Token = { kind: 'id'; value: string } | { kind: 'punct'; value: string };

/** Tokens of a DOT text, with quoted strings unescaped at the DOT level. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if (text.startsWith('//', i)) i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (text.startsWith('->', i)) {
      tokens.push({ kind: 'punct', value: '->' });
      i += 2;
    } else if ('{}[]=,;'.includes(c)) {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated string');
        const d = text[i]!;
        if (d === '"') break;
        if (d === '\n') throw new Error('raw line break inside a string');
        // As Graphviz's lexer (lib/cgraph/scan.l) reads them: `\"` is a quote, `\\` a pair kept
        // for the label's own escapes, so a backslash can end a string.
        if (d === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          value += text[i + 1] === '"' ? '"' : '\\\\';
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'id', value });
    } else {
      const m = /^[A-Za-z_][A-Za-z_0-9]*/.exec(text.slice(i));
      if (m === null) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 10))}`);
      tokens.push({ kind: 'id', value: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

interface Graph {
  name: string;
  nodes: Map<string, Record<string, string>>;
  edges: Array<{ from: string; to: string; attrs: Record<string, string> }>;
  defaults: Map<string, Record<string, string>>;
}

/** `digraph ID { stmt* }` where stmt is `graph|node|edge [..];`, `ID [..];` or `ID -> ID [..];`. */
function parseDot(text: string): Graph {
  const tokens = tokenize(text);
  let at = 0;
  const next = () => tokens[at++] ?? { kind: 'punct', value: '<end>' };
  const expect_ = (value: string) => {
    const t = next();
    if (t.value !== value) throw new Error(`expected ${value}, got ${t.value}`);
  };
  const id = () => {
    const t = next();
    if (t.kind !== 'id') throw new Error(`expected an id, got ${t.value}`);
    return t.value;
  };
  const attrList = () => {
    const attrs: Record<string, string> = {};
    expect_('[');
    while (tokens[at]?.value !== ']') {
      const key = id();
      expect_('=');
      attrs[key] = id();
      if (tokens[at]?.value === ',') at++;
    }
    expect_(']');
    return attrs;
  };
  expect_('digraph');
  const graph: Graph = { name: id(), nodes: new Map(), edges: [], defaults: new Map() };
  expect_('{');
  while (tokens[at]?.value !== '}') {
    const first = tokens[at]!;
    if (
      first.kind === 'id' &&
      ['graph', 'node', 'edge'].includes(first.value) &&
      tokens[at + 1]?.value === '['
    ) {
      at++;
      graph.defaults.set(first.value, attrList());
    } else {
      const from = id();
      if (tokens[at]?.value === '->') {
        at++;
        graph.edges.push({ from, to: id(), attrs: attrList() });
      } else {
        if (graph.nodes.has(from)) throw new Error(`node ${from} declared twice`);
        graph.nodes.set(from, attrList());
      }
    }
    expect_(';');
  }
  expect_('}');
  if (at !== tokens.length) throw new Error('text after the graph');
  return graph;
}

/** A label as Graphviz shows it: `\\` is a backslash, `\n` a line break. */
function shownLabel(label: string): string {
  return label.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

describe('DOT', () => {
  it('quotes every string so that no text ends it early', () => {
    expect(dotString('plain')).toBe('"plain"');
    expect(dotString('say "hi"')).toBe('"say \\"hi\\""');
    expect(dotString('ends with \\')).toBe('"ends with \\\\"');
    expect(dotString('two\nlines')).toBe('"two\\nlines"');
    expect(dotString('tab\there')).toBe('"tabhere"');
    for (const text of ['a"b', 'x\\', '\\"', '"; } digraph x { "', 'a\\nb', '\\N']) {
      const [token, ...rest] = tokenize(dotString(text));
      expect(rest).toEqual([]);
      expect(shownLabel(token!.value)).toBe(text);
    }
  });

  it('is a digraph with one node per member and one edge per route, labels as written', () => {
    const mesh = new MeshScroll();
    const hostile = 'Vault "02" \\ {edge} -> x; // not a comment';
    mesh.record((s, at) =>
      planJoin(s, nodeSpec('vault-01', { node_type: 'gateway', region: 'eu-west-1' }), false, at),
    );
    mesh.record((s, at) =>
      planJoin(s, nodeSpec('vault-02', { display_name: hostile, node_type: 'witness' }), false, at),
    );
    mesh.record((s, at) => planJoin(s, nodeSpec('vault-03'), false, at));
    mesh.record((s, at) =>
      planRouteAdd(
        s,
        {
          route_id: 'r1',
          from_node: did('vault-01'),
          to_node: did('vault-02'),
          transport: 'wss',
          weight: 3,
          latency_ms: 12,
        },
        at,
      ),
    );
    mesh.record((s, at) =>
      planRouteAdd(
        s,
        { route_id: 'r2', from_node: did('vault-02'), to_node: did('vault-01'), transport: 'tcp', weight: 1 },
        at,
      ),
    );
    mesh.record((s, at) =>
      planGrant(
        s,
        {
          grant_id: 'g1',
          node_id: did('vault-02'),
          capability: 'anchor',
          scope: 'guardian',
          granted_by: did('vault-01'),
        },
        at,
      ),
    );
    const doc = topologyDocument(mesh.state, mesh.now());
    const text = topologyDot(doc);
    const graph = parseDot(text);

    expect(graph.name).toBe('vaultmesh-mesh');
    expect([...graph.nodes.keys()]).toEqual([did('vault-01'), did('vault-02'), did('vault-03')]);
    expect(graph.nodes.get(did('vault-01'))).toEqual({
      label: `Node vault-01\\n${did('vault-01')} (gateway)\\neu-west-1`,
      shape: 'diamond',
    });
    expect(shownLabel(graph.nodes.get(did('vault-02'))!.label!).split('\n')).toEqual([
      hostile,
      `${did('vault-02')} (witness)`,
      'capabilities: anchor:guardian',
    ]);
    expect(graph.nodes.get(did('vault-02'))!.shape).toBe('hexagon');
    expect(graph.edges).toEqual([
      { from: did('vault-01'), to: did('vault-02'), attrs: { id: 'r1', label: 'r1\\nwss, weight 3, 12 ms' } },
      { from: did('vault-02'), to: did('vault-01'), attrs: { id: 'r2', label: 'r2\\ntcp, weight 1' } },
    ]);
    expect(graph.defaults.get('graph')!.label).toBe(`VaultMesh mesh, size 6\\n${doc.topology_hash}`);
    for (const edge of graph.edges) {
      expect(graph.nodes.has(edge.from)).toBe(true);
      expect(graph.nodes.has(edge.to)).toBe(true);
    }
  });

  it('an empty mesh is an empty digraph', () => {
    const graph = parseDot(topologyDot(topologyDocument(new MeshScroll().state, '2026-11-23T09:00:00.000Z')));
    expect(graph.nodes.size).toBe(0);
    expect(graph.edges).toEqual([]);
  });
});
