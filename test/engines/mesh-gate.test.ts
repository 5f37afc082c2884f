/**
 * The design gate's checklist (seed 001 §12) for the Mesh engine, whose state is a fold of its
 * scroll rather than staged runs: each item judged on what its operations leave on disk, run in
 * process through the same input contract every interface uses.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAnchored, expectRootAndCheckpoint } from '../helpers/gate.js';
import { VaultMeshError } from '../../src/core/errors.js';
import { foldAll } from '../../src/core/fold.js';
import { topologyDot } from '../../src/core/mesh/dot.js';
import { endpointsHash, topologyHash } from '../../src/core/mesh/fields.js';
import { meshFold } from '../../src/core/mesh/fold.js';
import { topologyDocument, topologyOf, TOPOLOGY_FORMAT } from '../../src/core/mesh/topology.js';
import { assertAppendable, parseReceiptLine, validateDraft, type Receipt } from '../../src/core/receipt.js';
import { getReceiptType, SCROLLS } from '../../src/core/scrolls/index.js';
import { mesh as meshScroll, topologySchema, type SnapshotBody } from '../../src/core/scrolls/mesh.js';
import { csv } from '../../src/core/table.js';
import type { AnyOperation } from '../../src/engines/framework/engine.js';
import { parseOperationInput } from '../../src/engines/framework/input.js';
import { meshEngine } from '../../src/engines/mesh/index.js';
import { currentMesh } from '../../src/engines/mesh/ledger.js';
import type { TopologyOutput } from '../../src/engines/mesh/topology.js';
import { ENGINE_SURFACES } from '../../src/engines/registry.js';
import { initDataDir } from '../../src/ledger/init.js';
import { Ledger } from '../../src/ledger/ledger.js';

const did = (id: string) => `did:vm:node:${id}`;
const V2 = did('vault-02');
const V3 = did('vault-03');
const EDGE = did('edge-01');
const MAIN_ROUTE = 'vault-02-vault-03-https';

/** What the gate's run writes, in order: every receipt type of the scroll at least once. */
const WRITTEN = [
  ['node join', 'mesh_node_join'],
  ['node join', 'mesh_node_join'],
  ['node join', 'mesh_node_join'],
  ['route add', 'mesh_route_change'],
  ['route add', 'mesh_route_change'],
  ['route add', 'mesh_route_change'],
  ['route update', 'mesh_route_change'],
  ['route remove', 'mesh_route_change'],
  ['capability grant', 'mesh_capability_grant'],
  ['capability grant', 'mesh_capability_grant'],
  ['capability grant', 'mesh_capability_grant'],
  ['capability revoke', 'mesh_capability_revoke'],
  ['node join', 'mesh_node_join'],
  ['topology snapshot', 'mesh_topology_snapshot'],
  ['node leave', 'mesh_node_leave'],
  ['topology snapshot', 'mesh_topology_snapshot'],
] as const;

function operation(name: string): AnyOperation {
  const found = meshEngine.operations.find((o) => o.name === name);
  if (found === undefined) throw new Error(`no mesh operation "${name}"`);
  return found;
}

describe('design gate: mesh', () => {
  let scratch: string;
  let ledger: Ledger;
  let scrollBefore = '';
  let receipts: Receipt[] = [];
  /** The last output of each operation the run used, for the surface checks. */
  const outputs = new Map<string, unknown>();

  /** Runs an operation as every interface does: raw input parsed by its schema, then run. */
  const run = async <O>(name: string, raw: Record<string, unknown>): Promise<O> => {
    const op = operation(name);
    const input: unknown = parseOperationInput(op, raw, (field) => `--${field}`);
    const output = (await op.run({ ledger, clock: () => new Date(), cwd: scratch }, input)) as O;
    outputs.set(name, output);
    return output;
  };
  const context = () => ({ ledger, clock: () => new Date(), cwd: scratch });
  const scrollText = () => readFileSync(ledger.dataDir.scrollFile(meshScroll), 'utf8');
  const rootText = () => readFileSync(ledger.dataDir.rootFile(meshScroll), 'utf8');
  const checkpointText = () => readFileSync(ledger.dataDir.checkpointFile(meshScroll), 'utf8');
  const refusal = (name: string, raw: Record<string, unknown>) =>
    run(name, raw).then(
      () => undefined,
      (e: unknown) => e,
    );

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'vaultmesh-mesh-gate-'));
    await initDataDir(join(scratch, 'data'), 'gate');
    ledger = Ledger.open(join(scratch, 'data'));
    await run('node join', {
      id: 'vault-02',
      name: 'Vault 02',
      type: 'gateway',
      endpoint: ['api=https://Vault-02.example:9110'],
      region: 'eu-west-1',
      tag: ['eu'],
    });
    scrollBefore = scrollText();
    writeFileSync(
      join(scratch, 'vault-03.json'),
      JSON.stringify({
        node_id: 'vault-03',
        display_name: 'Vault 03',
        node_type: 'storage',
        endpoints: [
          { name: 'api', url: 'https://vault-03.example:9110' },
          { name: 'gossip', url: 'wss://vault-03.example/gossip' },
        ],
      }),
    );
    await run('node join', { config: 'vault-03.json' });
    await run('node join', { id: EDGE, type: 'edge', endpoint: ['api=https://edge-01.example'] });
    await run('route add', { from: 'vault-02', to: 'vault-03', weight: '5', latency: '12' });
    await run('route add', { from: 'vault-03', to: 'edge-01', transport: 'wss', id: 'r-edge' });
    await run('route add', { from: 'vault-03', to: 'vault-02', transport: 'grpcs', id: 'r-back' });
    await run('route update', { route: MAIN_ROUTE, weight: '7', clearLatency: true });
    await run('route remove', { route: 'r-back', reason: 'unused' });
    await run('capability grant', {
      node: 'vault-02',
      capability: 'anchor',
      scope: 'guardian',
      id: 'g-anchor',
    });
    await run('capability grant', { node: 'edge-01', capability: 'storage', expires: '30d', id: 'g-edge' });
    await run('capability grant', { node: 'vault-03', capability: 'federate', id: 'g-fed' });
    await run('capability revoke', { grant: 'g-fed', reason: 'rotated' });
    await run('node join', { id: 'vault-02', update: true, tag: ['eu', 'primary'] });
    await run('topology snapshot', {});
    await run('node leave', { node: 'edge-01', reason: 'decommissioned' });
    await run('topology snapshot', {});
    receipts = scrollText()
      .trimEnd()
      .split('\n')
      .map((line, seq) => parseReceiptLine(line, { scroll: 'mesh', seq }));
  });
  afterAll(async () => {
    await ledger.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('registered: the Mesh engine is served on its own scroll', () => {
    expect(ENGINE_SURFACES).toContain(meshEngine);
    expect(meshEngine.id).toBe('mesh');
    expect(meshEngine.scroll).toBe(meshScroll);
    expect(meshScroll.file).toBe('receipts/mesh/mesh_events.jsonl');
    expect(SCROLLS).toContain(meshScroll);
  });

  it('surface: every operation has a summary, an input schema and a human form; lists give CSV rows', async () => {
    for (const read of [
      'node list',
      'node show',
      'route list',
      'capability list',
      'topology show',
      'audit',
    ]) {
      await run(
        read,
        read === 'node show' ? { node: 'vault-02' } : read === 'capability list' ? { status: 'all' } : {},
      );
    }
    await run('topology', {});
    expect(meshEngine.operations.map((o) => o.name).sort()).toEqual([...outputs.keys()].sort());
    for (const op of meshEngine.operations) {
      expect(op.summary.length, op.name).toBeGreaterThan(10);
      expect(typeof op.input.safeParse, op.name).toBe('function');
      expect(['read', 'write'], op.name).toContain(op.access);
      const human = op.human(outputs.get(op.name));
      expect(typeof human, op.name).toBe('string');
      expect(human.trim().length, op.name).toBeGreaterThan(0);
    }
    const lists: Array<[string, number]> = [
      ['node list', 2],
      ['route list', 1],
      ['capability list', 3],
      ['audit', 0],
    ];
    for (const [name, count] of lists) {
      const op = operation(name);
      expect(op.rows, name).toBeDefined();
      const rows = op.rows!(outputs.get(name));
      expect(rows.rows, name).toHaveLength(count);
      for (const row of rows.rows) expect(row, name).toHaveLength(rows.columns.length);
      expect(csv(rows).split('\r\n'), name).toHaveLength(count + 2);
    }
    expect(meshEngine.operations.filter((o) => o.rows !== undefined).map((o) => o.name)).toEqual(
      lists.map(([name]) => name),
    );
  });

  it('contract: every input is validated before anything is written, and refusals write nothing', async () => {
    const before = { scroll: scrollText(), root: rootText(), checkpoint: checkpointText() };
    const size = ledger.status('mesh').size;
    const api = ['api=https://vault-09.example'];
    const refusals: Array<[string, Record<string, unknown>, string]> = [
      ['node join', { id: 'vault-02', endpoint: api }, 'NODE_EXISTS'],
      ['node join', { id: 'Vault 09', endpoint: api }, 'INVALID_ARGUMENT'],
      ['node join', { id: 'vault-09', endpoint: ['api=ftp://vault-09.example'] }, 'INVALID_ARGUMENT'],
      ['node join', { id: 'vault-09', endpoint: ['api=https://u:p@vault-09.example'] }, 'INVALID_ARGUMENT'],
      ['node join', { id: 'vault-09' }, 'INVALID_ARGUMENT'],
      ['node join', { id: 'vault-09', update: true, tag: ['x'] }, 'UNKNOWN_NODE'],
      ['node join', { id: 'edge-01', update: true, tag: ['x'] }, 'NODE_NOT_MEMBER'],
      ['node join', { config: 'missing.json' }, 'FILE_MISSING'],
      ['node leave', { node: 'vault-09', reason: 'x' }, 'UNKNOWN_NODE'],
      ['node show', { node: 'vault-09' }, 'UNKNOWN_NODE'],
      ['route add', { from: 'vault-02', to: 'vault-09' }, 'UNKNOWN_NODE'],
      ['route add', { from: 'vault-03', to: 'edge-01' }, 'NODE_NOT_MEMBER'],
      ['route add', { from: 'vault-02', to: 'vault-02' }, 'INVALID_ARGUMENT'],
      ['route add', { from: 'vault-02', to: 'vault-03', id: 'again' }, 'ROUTE_EXISTS'],
      ['route add', { from: 'vault-02', to: 'vault-03', transport: 'smtp' }, 'INVALID_ARGUMENT'],
      ['route update', { route: 'r-edge', weight: '2' }, 'UNKNOWN_ROUTE'],
      ['route update', { route: MAIN_ROUTE }, 'INVALID_ARGUMENT'],
      ['route update', { route: MAIN_ROUTE, weight: '0' }, 'INVALID_ARGUMENT'],
      ['route remove', { route: 'r-back' }, 'UNKNOWN_ROUTE'],
      ['capability grant', { node: 'vault-02', capability: 'anchor', scope: 'guardian' }, 'GRANT_EXISTS'],
      ['capability grant', { node: 'vault-03', capability: 'anchor', id: 'g-anchor' }, 'GRANT_EXISTS'],
      ['capability grant', { node: 'vault-02', capability: 'admin', scope: 'nowhere' }, 'UNKNOWN_SCROLL'],
      ['capability grant', { node: 'vault-02', capability: 'read' }, 'INVALID_ARGUMENT'],
      ['capability grant', { node: 'edge-01', capability: 'admin' }, 'NODE_NOT_MEMBER'],
      [
        'capability grant',
        { node: 'vault-02', capability: 'admin', expires: '2001-01-01T00:00:00Z' },
        'INVALID_ARGUMENT',
      ],
      ['capability revoke', { grant: 'g-nope', reason: 'x' }, 'UNKNOWN_GRANT'],
      ['capability revoke', { grant: 'g-fed', reason: 'again' }, 'GRANT_NOT_ACTIVE'],
      ['capability revoke', { grant: 'g-edge', reason: 'gone' }, 'GRANT_NOT_ACTIVE'],
      ['topology', { output: 'no-such-dir/topology.json' }, 'FILE_MISSING'],
    ];
    for (const [name, raw, code] of refusals) {
      const error = await refusal(name, raw);
      expect(error, `${name} ${JSON.stringify(raw)}`).toBeInstanceOf(VaultMeshError);
      expect((error as VaultMeshError).code, `${name} ${JSON.stringify(raw)}`).toBe(code);
    }
    expect(scrollText()).toBe(before.scroll);
    expect(rootText()).toBe(before.root);
    expect(checkpointText()).toBe(before.checkpoint);
    expect(ledger.status('mesh').size).toBe(size);
    expect(existsSync(join(scratch, 'no-such-dir'))).toBe(false);
  });

  it('state: derived from the receipts alone, equal to a fold of the scroll file from scratch', () => {
    const fromFile = foldAll(meshFold, receipts);
    expect(currentMesh(context()).state).toEqual(fromFile);
    expect(fromFile.size).toBe(receipts.length);
    expect(fromFile.anomalies).toEqual([]);
    expect([...fromFile.nodes.values()].map((n) => [n.node_id, n.status])).toEqual([
      [V2, 'member'],
      [V3, 'member'],
      [EDGE, 'left'],
    ]);
    const v2 = fromFile.nodes.get(V2)!;
    expect([v2.joined_seq, v2.updated_seq, v2.tags, v2.region]).toEqual([
      0,
      12,
      ['eu', 'primary'],
      'eu-west-1',
    ]);
    expect(v2.endpoints).toEqual([{ name: 'api', url: 'https://vault-02.example:9110/' }]);
    expect(v2.endpoints_hash).toBe(endpointsHash(v2.endpoints));
    expect([...fromFile.routes.values()].map((r) => [r.route_id, r.status, r.weight, r.latency_ms])).toEqual([
      [MAIN_ROUTE, 'active', 7, undefined],
      ['r-edge', 'ended', 1, undefined],
      ['r-back', 'removed', 1, undefined],
    ]);
    expect([...fromFile.grants.values()].map((g) => [g.grant_id, g.status, g.granted_by])).toEqual([
      ['g-anchor', 'granted', ledger.identity.did],
      ['g-edge', 'ended', ledger.identity.did],
      ['g-fed', 'revoked', ledger.identity.did],
    ]);
    expect(fromFile.snapshots.map((s) => [s.seq, s.at_size, s.matches])).toEqual([
      [13, 13, true],
      [15, 15, true],
    ]);
  });

  it('receipts: one per change, in order, each registered, reserved and valid against its type schema', () => {
    expect(receipts.map((r) => r.type)).toEqual(WRITTEN.map(([, type]) => type));
    expect(new Set(receipts.map((r) => r.type))).toEqual(new Set(meshScroll.types.map((t) => t.type)));
    expect(receipts.map((r) => r.seq)).toEqual(receipts.map((_, i) => i));
    for (const r of receipts) {
      expect(r.scroll).toBe('mesh');
      expect(r.issuer).toBe(ledger.identity.did);
      expect(r.tags[0]).toBe('mesh');
      validateDraft({ scroll: r.scroll, type: r.type, body: r.body, tags: r.tags });
      expect(getReceiptType(meshScroll, r.type).reserved).toMatch(/Mesh engine/);
      let refused: unknown;
      try {
        assertAppendable({ scroll: 'mesh', type: r.type });
      } catch (e) {
        refused = e;
      }
      expect(refused, r.type).toBeInstanceOf(VaultMeshError);
      expect((refused as VaultMeshError).code).toBe('RESERVED_TYPE');
    }
    const leave = receipts[14]!.body;
    expect([leave.routes_removed, leave.capabilities_ended]).toEqual([['r-edge'], ['g-edge']]);
  });

  it('append-only: later operations only added lines after the earlier bytes', () => {
    const after = scrollText();
    expect(after.startsWith(scrollBefore)).toBe(true);
    expect(scrollBefore.trimEnd().split('\n')).toHaveLength(1);
    expect(after.slice(scrollBefore.length).trimEnd().split('\n')).toHaveLength(receipts.length - 1);
  });

  it('topology: the operation outputs a replay of the scroll, as JSON, DOT and a written file', async () => {
    const replay = foldAll(meshFold, receipts);
    const json = await run<TopologyOutput>('topology', {});
    const { graph, ...document } = json;
    expect(graph).toBe('json');
    expect(document).toEqual(topologyDocument(replay, json.as_of));
    expect(json.format).toBe(TOPOLOGY_FORMAT);
    expect(json.size).toBe(receipts.length);
    expect(json.topology_hash).toBe(topologyHash(topologyOf(replay, json.as_of)));
    expect(
      topologySchema.parse({ nodes: json.nodes, routes: json.routes, capabilities: json.capabilities }),
    ).toEqual(topologyOf(replay, json.as_of));
    expect(json.nodes.map((n) => n.node_id)).toEqual([V2, V3]);
    expect(json.routes.map((r) => r.route_id)).toEqual([MAIN_ROUTE]);
    expect(json.capabilities.map((c) => c.grant_id)).toEqual(['g-anchor']);

    const shown = await run<TopologyOutput>('topology show', {});
    expect(shown.topology_hash).toBe(json.topology_hash);

    const dot = await run<TopologyOutput>('topology', { graph: 'dot' });
    expect(dot.dot).toBe(topologyDot(topologyDocument(replay, dot.as_of)));
    expect(dot.dot).toContain(`"${V2}" -> "${V3}"`);

    const written = await run<TopologyOutput>('topology', { output: 'topology.json' });
    expect(written.written).toBe(join(scratch, 'topology.json'));
    const onDisk = JSON.parse(readFileSync(join(scratch, 'topology.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual(topologyDocument(replay, written.as_of));
    expect(ledger.status('mesh').size).toBe(receipts.length);
  });

  it('snapshot: each topology_hash is the hash of a replay up to its at_size', async () => {
    const snapshots = receipts.filter((r) => r.type === 'mesh_topology_snapshot');
    expect(snapshots).toHaveLength(2);
    for (const receipt of snapshots) {
      const body = receipt.body as unknown as SnapshotBody;
      expect(body.at_size).toBe(receipt.seq);
      const replay = foldAll(meshFold, receipts.slice(0, body.at_size));
      const topology = topologyOf(replay, body.as_of);
      expect(body.topology).toEqual(topology);
      expect(body.topology_hash).toBe(topologyHash(topology));
      expect([body.node_count, body.route_count, body.capability_count]).toEqual([
        topology.nodes.length,
        topology.routes.length,
        topology.capabilities.length,
      ]);
    }
    const [first, second] = snapshots.map((r) => r.body as unknown as SnapshotBody);
    expect([first!.node_count, first!.route_count, first!.capability_count]).toEqual([3, 2, 2]);
    expect([second!.node_count, second!.route_count, second!.capability_count]).toEqual([2, 1, 1]);
    const audit = await run<{ ok: boolean; snapshots: Array<{ matches: boolean }> }>('audit', {});
    expect(audit.ok).toBe(true);
    expect(audit.snapshots.map((s) => s.matches)).toEqual([true, true]);
  });

  it('root: ROOT.mesh.txt and the signed checkpoint hold the tree root of the scroll', () => {
    expectRootAndCheckpoint(ledger, meshScroll, receipts.length);
  });

  it('anchor: a Guardian cycle with the local backend covers the Mesh scroll', async () => {
    await expectAnchored(ledger, meshScroll, receipts.length);
  });

  it('query: by type, by tag and by body field', () => {
    const joins = ledger.query('mesh', { types: ['mesh_node_join'], limit: 100 });
    expect(joins.map((r) => r.body.node_id)).toEqual([V2, V3, EDGE, V2]);
    const routes = ledger.query('mesh', { tags: ['route'], limit: 100 });
    expect(routes.map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
    const byBody = ledger.query('mesh', {
      where: [{ path: 'grant_id', value: 'g-fed', text: 'g-fed' }],
      limit: 10,
    });
    expect(byBody.map((r) => r.type)).toEqual(['mesh_capability_grant', 'mesh_capability_revoke']);
  });
});
