/**
 * The Mesh engine end to end, through the `vm` binary: nodes join from a config file and from
 * flags, routes and capability grants come and go, a leave ends what the node had, the topology
 * (JSON or DOT, to stdout or a file) equals a replay of the scroll, snapshots pin it; every bad
 * input is refused with its code and exit status and writes nothing; concurrent writers keep the
 * rules; `vm verify` passes afterwards.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { createBLAKE3 } from 'hash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldAll } from '../../src/core/fold.js';
import { topologyHash } from '../../src/core/mesh/fields.js';
import { meshFold } from '../../src/core/mesh/fold.js';
import { topologyOf, type TopologyDocument } from '../../src/core/mesh/topology.js';
import type { Receipt } from '../../src/core/receipt.js';
import {
  assertBuilt,
  initNode,
  jsonError,
  makeTempDir,
  readReceipts,
  snapshotDataDir,
  vm,
  vmAsync,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

const MESH_FILE = 'receipts/mesh/mesh_events.jsonl';
const temp = makeTempDir('mesh');
const data = join(temp.dir, 'data');
const did = (id: string) => `did:vm:node:${id}`;
const blake3 = await createBLAKE3();

beforeAll(() => initNode(data));
afterAll(() => temp.remove());

/** `vm --format json mesh ARGS`, from the temp directory (where relative file names resolve). */
const mesh = (args: readonly string[]): VmResult =>
  vm(['--format', 'json', 'mesh', ...args], { data, cwd: temp.dir });

function ok<T>(result: VmResult): T {
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const scroll = () => readReceipts(join(data, MESH_FILE)) as unknown as Receipt[];

/** Runs a command that must be refused: its code, its exit status, and nothing on disk changed. */
function refused(args: readonly string[], code: string, status: number, message?: RegExp): void {
  const before = snapshotDataDir(data);
  const scrollBefore = readFileSync(join(data, MESH_FILE));
  const result = mesh(args);
  expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(status);
  const error = jsonError(result);
  expect(error.code, args.join(' ')).toBe(code);
  if (message !== undefined) expect(error.message).toMatch(message);
  expect(error.hint, `${code} has a hint`).toBeTruthy();
  expect(
    readFileSync(join(data, MESH_FILE)).equals(scrollBefore),
    `${args.join(' ')} wrote to the scroll`,
  ).toBe(true);
  expect(snapshotDataDir(data)).toEqual(before);
}

function writeConfig(name: string, config: unknown): string {
  writeFileSync(join(temp.dir, name), typeof config === 'string' ? config : JSON.stringify(config));
  return name;
}

interface Written {
  receipt: Receipt;
}

describe('vm mesh', () => {
  it('node join: from a config file, from flags, and both (a flag wins)', () => {
    writeConfig('vault-02.json', {
      node_id: 'vault-02',
      display_name: 'Vault "02"',
      node_type: 'gateway',
      endpoints: [
        { name: 'api', url: 'https://Vault-02.example:9110' },
        { name: 'gossip', url: 'wss://vault-02.example:9111/gossip' },
      ],
      region: 'eu-west-1',
      tags: ['primary'],
    });
    const first = ok<Written & { node: { status: string } }>(
      mesh(['node', 'join', '--config', 'vault-02.json']),
    );
    expect(first.receipt).toMatchObject({ seq: 0, type: 'mesh_node_join', tags: ['mesh', 'node', 'join'] });
    const endpoints = [
      { name: 'api', url: 'https://vault-02.example:9110/' },
      { name: 'gossip', url: 'wss://vault-02.example:9111/gossip' },
    ];
    blake3.init();
    blake3.update(canonicalize(endpoints)!);
    expect(first.receipt.body).toEqual({
      node_id: did('vault-02'),
      display_name: 'Vault "02"',
      node_type: 'gateway',
      endpoints,
      endpoints_hash: `blake3:${blake3.digest('hex')}`,
      region: 'eu-west-1',
      tags: ['primary'],
      update: false,
    });
    expect(first.node.status).toBe('member');

    const human = vm(
      [
        'mesh',
        'node',
        'join',
        '--id',
        'vault-03',
        '--type',
        'storage',
        '--endpoint',
        'api=https://vault-03.example',
        'replication=tcp://10.0.0.3:9000',
      ],
      { data },
    );
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /^joined did:vm:node:vault-03 \(storage, 2 endpoints\)\nmesh seq 1 \(mesh_node_join\) blake3:[0-9a-f]{64}\n$/,
    );

    writeConfig('vault-04.json', {
      node_id: 'did:vm:node:vault-04',
      node_type: 'edge',
      endpoints: [{ name: 'api', url: 'https://vault-04.example' }],
    });
    const third = ok<Written>(
      mesh(['node', 'join', '--config', 'vault-04.json', '--type', 'witness', '--name', 'Witness 04']),
    );
    expect(third.receipt.body).toMatchObject({
      node_id: did('vault-04'),
      node_type: 'witness',
      display_name: 'Witness 04',
    });
  });

  it('node join --update changes a member and keeps what it was not told', () => {
    const updated = ok<Written & { node: Record<string, unknown> }>(
      mesh(['node', 'join', '--id', 'vault-04', '--update', '--region', 'us-east-1']),
    );
    expect(updated.receipt.tags).toEqual(['mesh', 'node', 'update']);
    expect(updated.node).toMatchObject({
      node_type: 'witness',
      display_name: 'Witness 04',
      region: 'us-east-1',
      joined_seq: 2,
      updated_seq: 3,
    });
  });

  it('node list as a table, CSV and JSON; node show by id or DID', () => {
    const table = vm(['mesh', 'node', 'list'], { data });
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NODE_ID\s+DISPLAY_NAME\s+NODE_TYPE\s+STATUS\s+ENDPOINTS/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([
      did('vault-02'),
      did('vault-03'),
      did('vault-04'),
    ]);

    const csv = vm(['--format', 'csv', 'mesh', 'node', 'list'], { data });
    expect(csv.status).toBe(0);
    const rows = csv.stdout.split('\r\n');
    expect(rows[0]).toBe(
      'node_id,display_name,node_type,status,endpoints,region,tags,routes,capabilities,joined_seq,joined_at',
    );
    expect(rows[1]).toMatch(
      /^did:vm:node:vault-02,"Vault ""02""",gateway,member,api=https:\/\/vault-02\.example:9110\/ gossip=wss:/,
    );

    const listed = ok<{ nodes: Array<{ node_id: string }> }>(mesh(['node', 'list', '--type', 'storage']));
    expect(listed.nodes.map((n) => n.node_id)).toEqual([did('vault-03')]);

    const shown = ok<{ node: { node_id: string; receipts: number[] } }>(mesh(['node', 'show', 'vault-04']));
    expect(shown.node).toMatchObject({ node_id: did('vault-04'), receipts: [2, 3] });
    expect(ok<{ node: { node_id: string } }>(mesh(['node', 'show', did('vault-04')])).node.node_id).toBe(
      did('vault-04'),
    );
  });

  it('route add, update, remove and list', () => {
    const added = ok<Written>(
      mesh(['route', 'add', '--from', 'vault-02', '--to', 'vault-03', '--latency-ms', '12']),
    );
    expect(added.receipt.body).toEqual({
      route_id: 'vault-02-vault-03-https',
      action: 'add',
      from_node: did('vault-02'),
      to_node: did('vault-03'),
      transport: 'https',
      weight: 1,
      latency_ms: 12,
    });
    ok(
      mesh([
        'route',
        'add',
        '--from',
        'vault-03',
        '--to',
        'vault-04',
        '--transport',
        'tcp',
        '--weight',
        '5',
        '--id',
        'r-34',
      ]),
    );
    ok(mesh(['route', 'add', '--from', 'vault-04', '--to', 'vault-02', '--transport', 'wss']));
    const updated = ok<Written>(mesh(['route', 'update', 'r-34', '--weight', '7', '--clear-latency']));
    expect(updated.receipt.body).toMatchObject({
      action: 'update',
      from_node: did('vault-03'),
      to_node: did('vault-04'),
      weight: 7,
      transport: 'tcp',
    });
    const removed = ok<Written>(
      mesh(['route', 'remove', 'vault-04-vault-02-wss', '--reason', 'link retired']),
    );
    expect(removed.receipt.body).toMatchObject({
      action: 'remove',
      reason: 'link retired',
      from_node: did('vault-04'),
    });

    const current = ok<{ routes: Array<{ route_id: string }> }>(mesh(['route', 'list']));
    expect(current.routes.map((r) => r.route_id)).toEqual(['r-34', 'vault-02-vault-03-https']);
    const all = ok<{ routes: Array<{ route_id: string; status: string }> }>(
      mesh(['route', 'list', '--all', '--node', 'vault-04']),
    );
    expect(all.routes.map((r) => [r.route_id, r.status])).toEqual([
      ['r-34', 'active'],
      ['vault-04-vault-02-wss', 'removed'],
    ]);
  });

  it('capability grant, revoke and list', () => {
    const anchor = ok<Written>(
      mesh([
        'capability',
        'grant',
        'vault-02',
        'anchor',
        '--scope',
        'guardian',
        '--expires',
        '30d',
        '--id',
        'g-anchor',
      ]),
    );
    expect(anchor.receipt.body).toMatchObject({
      grant_id: 'g-anchor',
      node_id: did('vault-02'),
      capability: 'anchor',
      scope: 'guardian',
      granted_by: did('vault-01'),
    });
    const expires = Date.parse(String(anchor.receipt.body.expires_at)) - Date.parse(anchor.receipt.ts);
    expect(Math.abs(expires - 30 * 86_400_000)).toBeLessThan(60_000);
    ok(mesh(['capability', 'grant', 'vault-03', 'storage', '--id', 'g-storage']));
    ok(
      mesh([
        'capability',
        'grant',
        'vault-03',
        'compute',
        '--id',
        'g-compute',
        '--granted-by',
        'did:vm:human:ops-lead',
      ]),
    );
    const revoked = ok<Written>(mesh(['capability', 'revoke', 'g-storage', '--reason', 'moved to vault-04']));
    expect(revoked.receipt.body).toEqual({
      grant_id: 'g-storage',
      node_id: did('vault-03'),
      capability: 'storage',
      reason: 'moved to vault-04',
    });

    const active = ok<{ grants: Array<{ grant_id: string; granted_by: string }> }>(
      mesh(['capability', 'list']),
    );
    expect(active.grants.map((g) => [g.grant_id, g.granted_by])).toEqual([
      ['g-anchor', did('vault-01')],
      ['g-compute', 'did:vm:human:ops-lead'],
    ]);
    const gone = ok<{ grants: Array<{ grant_id: string }> }>(
      mesh(['capability', 'list', '--status', 'revoked']),
    );
    expect(gone.grants.map((g) => g.grant_id)).toEqual(['g-storage']);
  });

  it('topology: the document equals a replay of the scroll, on stdout or in a file', () => {
    const doc = ok<TopologyDocument>(mesh(['topology']));
    const replay = topologyOf(foldAll(meshFold, scroll()), doc.as_of);
    expect({ nodes: doc.nodes, routes: doc.routes, capabilities: doc.capabilities }).toEqual(replay);
    expect(doc).toMatchObject({
      format: 'vaultmesh-mesh-topology/v1',
      size: scroll().length,
      node_count: 3,
      route_count: 2,
      capability_count: 2,
    });
    expect(doc.topology_hash).toBe(topologyHash(replay));

    const human = vm(['mesh', 'topology', '--output', 'topology.json'], { data, cwd: temp.dir });
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /^wrote the topology at size \d+ \(3 nodes, 2 routes, 2 capabilities\) as json to .*topology\.json\n/,
    );
    const file = JSON.parse(readFileSync(join(temp.dir, 'topology.json'), 'utf8')) as TopologyDocument;
    expect(file.topology_hash).toBe(doc.topology_hash);
    expect(file.nodes).toEqual(doc.nodes);
    expect(Object.keys(file)).not.toContain('graph');

    ok(mesh(['topology', '--graph', 'dot', '--output', 'topology.dot']));
    const dot = readFileSync(join(temp.dir, 'topology.dot'), 'utf8');
    const statements = dot.split('\n').filter((l) => l.startsWith('  "'));
    expect(dot).toMatch(
      /^\/\/ VaultMesh mesh topology at size \d+ .*\n\/\/ blake3:[0-9a-f]{64}\ndigraph "vaultmesh-mesh" \{\n/,
    );
    expect(dot.endsWith('}\n')).toBe(true);
    expect(statements.filter((l) => !l.includes(' -> ')).map((l) => l.trim().split(' ')[0])).toEqual(
      doc.nodes.map((n) => `"${n.node_id}"`),
    );
    expect(statements.filter((l) => l.includes(' -> '))).toHaveLength(2);
    expect(dot).toContain(
      '[label="Vault \\"02\\"\\ndid:vm:node:vault-02 (gateway)\\neu-west-1\\ncapabilities: anchor:guardian", shape="diamond"];',
    );
    // Written by rename: no temporary file is left beside it.
    expect(readdirSync(temp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const shown = vm(['mesh', 'topology', 'show', '--graph', 'dot'], { data });
    // The same graph; only the first comment line, which names the time, differs.
    expect(shown.stdout.split('\n').slice(1)).toEqual(dot.split('\n').slice(1));
  });

  it('topology snapshot: the recorded hash is a fresh replay of the scroll at that size', () => {
    const { receipt } = ok<Written>(mesh(['topology', 'snapshot']));
    const body = receipt.body as {
      at_size: number;
      as_of: string;
      topology_hash: string;
      node_count: number;
    };
    expect(body.at_size).toBe(receipt.seq);
    const replayed = foldAll(meshFold, scroll().slice(0, body.at_size));
    expect(topologyHash(topologyOf(replayed, body.as_of))).toBe(body.topology_hash);
    expect(body.node_count).toBe(3);
    const audit = ok<{ ok: boolean; snapshots: Array<{ matches: boolean }>; anomalies: unknown[] }>(
      mesh(['audit']),
    );
    expect(audit).toMatchObject({ ok: true, anomalies: [], snapshots: [{ matches: true }] });
  });

  it('node leave ends the routes and grants of the node and says so', () => {
    const { receipt } = ok<Written>(mesh(['node', 'leave', 'vault-03', '--reason', 'decommissioned']));
    expect(receipt.body).toEqual({
      node_id: did('vault-03'),
      reason: 'decommissioned',
      routes_removed: ['r-34', 'vault-02-vault-03-https'],
      capabilities_ended: ['g-compute'],
    });
    const doc = ok<TopologyDocument>(mesh(['topology']));
    expect(doc.nodes.map((n) => n.node_id)).toEqual([did('vault-02'), did('vault-04')]);
    expect(doc.routes).toEqual([]);
    expect(doc.capabilities.map((c) => c.grant_id)).toEqual(['g-anchor']);
    expect(ok<{ node: { status: string } }>(mesh(['node', 'show', 'vault-03'])).node.status).toBe('left');
  });

  it('refuses bad input with its code and exit status, writing nothing', () => {
    const endpoint = ['--endpoint', 'api=https://vault-05.example'];
    refused(
      ['node', 'join', '--id', 'Vault 05', ...endpoint],
      'INVALID_ARGUMENT',
      2,
      /^--id: "Vault 05" is not a node id/,
    );
    refused(['node', 'show', 'did:vm:human:alice'], 'INVALID_ARGUMENT', 2, /^<node>:/);
    refused(
      ['node', 'join', '--id', 'vault-05', '--endpoint', 'api=ftp://vault-05.example'],
      'INVALID_ARGUMENT',
      2,
      /^--endpoint\.0: .*scheme "ftp"/,
    );
    refused(
      ['node', 'join', '--id', 'vault-05', '--endpoint', 'api=https://ops:secret@vault-05.example'],
      'INVALID_ARGUMENT',
      2,
      /credentials/,
    );
    refused(
      ['node', 'join', '--id', 'vault-05', '--endpoint', 'api=tcp://10.0.0.5'],
      'INVALID_ARGUMENT',
      2,
      /needs a port/,
    );
    refused(
      ['node', 'join', '--id', 'vault-05', '--endpoint', 'https://vault-05.example'],
      'INVALID_ARGUMENT',
      2,
      /is not name=url/,
    );
    refused(
      ['node', 'join', '--id', 'vault-05', '--endpoint', 'api=https://a.example', 'api=https://b.example'],
      'INVALID_ARGUMENT',
      2,
      /^--endpoint: 1\.name: endpoint name "api" is used twice/,
    );
    refused(['node', 'join', '--id', 'vault-05'], 'INVALID_ARGUMENT', 2, /^--endpoint: required/);
    refused(['node', 'join', ...endpoint], 'INVALID_ARGUMENT', 2, /^--id: required/);
    refused(
      ['node', 'join', '--id', 'vault-05', '--type', 'router', ...endpoint],
      'INVALID_ARGUMENT',
      2,
      /^--type:/,
    );
    refused(['node', 'join', '--id', 'vault-02', ...endpoint], 'NODE_EXISTS', 2, /already a member/);
    refused(['node', 'join', '--id', 'vault-05', '--update', ...endpoint], 'UNKNOWN_NODE', 3);
    refused(['node', 'join', '--id', 'vault-03', '--update', ...endpoint], 'NODE_NOT_MEMBER', 2);
    refused(['node', 'leave', 'vault-99', '--reason', 'x'], 'UNKNOWN_NODE', 3);
    refused(['node', 'leave', 'vault-03', '--reason', 'again'], 'NODE_NOT_MEMBER', 2, /left at seq/);
    refused(['node', 'leave', 'vault-02'], 'INVALID_ARGUMENT', 2, /^--reason:/);
    refused(['node', 'show', 'vault-99'], 'UNKNOWN_NODE', 3);

    refused(['route', 'add', '--from', 'vault-02', '--to', 'vault-03'], 'NODE_NOT_MEMBER', 2, /^to_node: /);
    refused(['route', 'add', '--from', 'vault-77', '--to', 'vault-02'], 'UNKNOWN_NODE', 3, /^from_node: /);
    refused(
      ['route', 'add', '--from', 'vault-02', '--to', 'vault-02'],
      'INVALID_ARGUMENT',
      2,
      /^--to: a route joins two different nodes/,
    );
    refused(
      ['route', 'add', '--from', 'vault-02', '--to', 'vault-04', '--weight', '0'],
      'INVALID_ARGUMENT',
      2,
      /^--weight:/,
    );
    refused(
      ['route', 'add', '--from', 'vault-02', '--to', 'vault-04', '--transport', 'carrier-pigeon'],
      'INVALID_ARGUMENT',
      2,
      /^--transport:/,
    );
    refused(['route', 'remove', 'no-such-route'], 'UNKNOWN_ROUTE', 3);
    refused(
      ['route', 'remove', 'r-34'],
      'UNKNOWN_ROUTE',
      3,
      /no longer current: node did:vm:node:vault-03 left/,
    );
    refused(['route', 'update', 'r-34'], 'INVALID_ARGUMENT', 2, /nothing to change/);

    refused(['capability', 'grant', 'vault-02', 'read'], 'INVALID_ARGUMENT', 2, /^<capability>:/);
    refused(
      ['capability', 'grant', 'vault-02', 'anchor', '--scope', 'guardian'],
      'GRANT_EXISTS',
      2,
      /already holds anchor on guardian: grant g-anchor/,
    );
    refused(['capability', 'grant', 'vault-02', 'compute', '--scope', 'nowhere'], 'UNKNOWN_SCROLL', 3);
    refused(['capability', 'grant', 'vault-03', 'compute'], 'NODE_NOT_MEMBER', 2);
    refused(
      ['capability', 'grant', 'vault-02', 'compute', '--expires', 'someday'],
      'INVALID_ARGUMENT',
      2,
      /^--expires/,
    );
    refused(
      ['capability', 'grant', 'vault-02', 'compute', '--expires', '2020-01-01T00:00:00Z'],
      'INVALID_ARGUMENT',
      2,
      /not in the future/,
    );
    refused(
      ['capability', 'grant', 'vault-02', 'compute', '--granted-by', 'ops-lead'],
      'INVALID_ARGUMENT',
      2,
      /^--granted-by:/,
    );
    refused(
      ['capability', 'grant', 'vault-02', 'compute', '--id', 'g-anchor'],
      'GRANT_EXISTS',
      2,
      /already used/,
    );
    refused(['capability', 'revoke', 'no-such-grant', '--reason', 'x'], 'UNKNOWN_GRANT', 3);
    refused(
      ['capability', 'revoke', 'g-storage', '--reason', 'again'],
      'GRANT_NOT_ACTIVE',
      2,
      /was revoked at seq/,
    );
    refused(
      ['capability', 'revoke', 'g-compute', '--reason', 'x'],
      'GRANT_NOT_ACTIVE',
      2,
      /was ended at seq \d+: node did:vm:node:vault-03 left/,
    );

    refused(['topology', '--graph', 'svg'], 'INVALID_ARGUMENT', 2, /^--graph:/);
    refused(['topology', '--output', 'no-such-dir/topology.json'], 'FILE_MISSING', 3, /does not exist/);
    expect(existsSync(join(temp.dir, 'no-such-dir'))).toBe(false);
  });

  it('refuses a bad node config file, naming the file and the field', () => {
    const endpoints = [{ name: 'api', url: 'https://vault-05.example' }];
    refused(
      ['node', 'join', '--config', writeConfig('broken.json', '{"node_id": "vault-05",')],
      'INVALID_NODE_CONFIG',
      2,
      /^broken\.json is not valid JSON/,
    );
    refused(
      ['node', 'join', '--config', writeConfig('typo.json', { node_id: 'vault-05', endpoint: endpoints })],
      'INVALID_NODE_CONFIG',
      2,
      /^typo\.json: Unrecognized key: "endpoint"/,
    );
    refused(
      [
        'node',
        'join',
        '--config',
        writeConfig('type.json', { node_id: 'vault-05', node_type: 'router', endpoints }),
      ],
      'INVALID_NODE_CONFIG',
      2,
      /^type\.json: node_type: /,
    );
    refused(
      [
        'node',
        'join',
        '--config',
        writeConfig('url.json', { node_id: 'vault-05', endpoints: [{ name: 'api', url: 'gopher://x' }] }),
      ],
      'INVALID_NODE_CONFIG',
      2,
      /^url\.json: endpoints\.0\.url: .*scheme "gopher"/,
    );
    refused(
      ['node', 'join', '--config', writeConfig('did.json', { node_id: 'did:vm:agent:x', endpoints })],
      'INVALID_NODE_CONFIG',
      2,
      /^did\.json: node_id: /,
    );
    refused(
      ['node', 'join', '--config', writeConfig('array.json', [1, 2])],
      'INVALID_NODE_CONFIG',
      2,
      /^array\.json: /,
    );
    refused(['node', 'join', '--config', 'missing.json'], 'FILE_MISSING', 3);
  });

  it('mesh receipts cannot be appended directly', () => {
    const before = readFileSync(join(data, MESH_FILE));
    const result = vm(
      ['--format', 'json', 'emit', 'mesh', 'mesh_node_join', '--body', '{"node_id":"did:vm:node:x"}'],
      { data },
    );
    expect(result.status).toBe(2);
    expect(jsonError(result).code).toBe('RESERVED_TYPE');
    expect(readFileSync(join(data, MESH_FILE)).equals(before)).toBe(true);
  });

  it('concurrent joins of one node from several processes: exactly one succeeds', async () => {
    const join9 = [
      '--format',
      'json',
      'mesh',
      'node',
      'join',
      '--id',
      'vault-09',
      '--endpoint',
      'api=https://vault-09.example',
    ];
    const results = await Promise.all(Array.from({ length: 4 }, () => vmAsync(join9, { data })));
    expect(results.filter((r) => r.status === 0)).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 0);
    expect(losers.map((r) => [r.status, jsonError(r).code])).toEqual(
      Array.from({ length: 3 }, () => [2, 'NODE_EXISTS']),
    );
    const joins = scroll().filter((r) => r.type === 'mesh_node_join' && r.body.node_id === did('vault-09'));
    expect(joins).toHaveLength(1);

    const routes = await Promise.all(
      ['a', 'b', 'c'].map((id) =>
        vmAsync(
          [
            '--format',
            'json',
            'mesh',
            'route',
            'add',
            '--from',
            'vault-09',
            '--to',
            'vault-02',
            '--id',
            `race-${id}`,
          ],
          { data },
        ),
      ),
    );
    expect(routes.map((r) => r.status).sort()).toEqual([0, 2, 2]);
    expect(
      ok<{ routes: Array<{ from_node: string }> }>(mesh(['route', 'list', '--node', 'vault-09'])).routes,
    ).toHaveLength(1);
  });

  it('leaves a ledger that verifies, with no anomalies', () => {
    const verify = vm(['verify'], { data });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/ok {3}mesh: \d+ receipts/);
    const audit = ok<{ ok: boolean; size: number }>(mesh(['audit']));
    expect(audit).toEqual(expect.objectContaining({ ok: true, size: scroll().length }));
  });
});
