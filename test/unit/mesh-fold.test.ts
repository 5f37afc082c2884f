/**
 * The Mesh fold and its rules: what each receipt type does to the derived state, what the engine
 * refuses (and that a refusal changes nothing), and how receipts that break a rule — possible only
 * through the trusted Ledger API — are noted as anomalies and left out.
 */
import { createBLAKE3 } from 'hash-wasm';
import { describe, expect, it } from 'vitest';
import { foldAll } from '../../src/core/fold.js';
import { endpointsHash, nodeDidOf, normalizeEndpointUrl, topologyHash } from '../../src/core/mesh/fields.js';
import { meshFold } from '../../src/core/mesh/fold.js';
import {
  planGrant,
  planJoin,
  planLeave,
  planRevoke,
  planRouteAdd,
  planRouteRemove,
  planRouteUpdate,
  planSnapshot,
} from '../../src/core/mesh/plan.js';
import { encodeMeshState, type MeshState } from '../../src/core/mesh/state.js';
import { grantStatus, topologyOf } from '../../src/core/mesh/topology.js';
import { validateDraft } from '../../src/core/receipt.js';
import { codeOf } from '../helpers/errors.js';
import { MeshScroll, did, nodeSpec } from '../helpers/mesh.js';

const blake3 = await createBLAKE3();
const route = (from: string, to: string, id = `${from}-${to}`) => ({
  route_id: id,
  from_node: did(from),
  to_node: did(to),
  transport: 'https' as const,
  weight: 1,
});
const grant = (id: string, node: string, extra: { expires_at?: string; scope?: string } = {}) => ({
  grant_id: id,
  node_id: did(node),
  capability: 'anchor' as const,
  scope: extra.scope ?? '*',
  granted_by: did('vault-01'),
  ...(extra.expires_at === undefined ? {} : { expires_at: extra.expires_at }),
});

/** A mesh of a, b and c with routes a->b and b->c. */
function threeNodes(): MeshScroll {
  const mesh = new MeshScroll();
  for (const id of ['a', 'b', 'c']) mesh.record((s, at) => planJoin(s, nodeSpec(id), false, at));
  mesh.record((s, at) => planRouteAdd(s, route('a', 'b'), at));
  mesh.record((s, at) => planRouteAdd(s, route('b', 'c'), at));
  return mesh;
}

/** The code a plan is refused with, after checking the refusal left the state as it was. */
function refusedWith(mesh: MeshScroll, plan: (s: MeshState, at: string) => unknown): string {
  const before = JSON.stringify(encodeMeshState(mesh.state));
  const code = codeOf(() => plan(mesh.state, mesh.now()));
  expect(JSON.stringify(encodeMeshState(mesh.state))).toBe(before);
  return code;
}

describe('node ids and endpoints', () => {
  it('takes a node id or its DID, and refuses anything else', () => {
    expect(nodeDidOf('vault-02')).toBe('did:vm:node:vault-02');
    expect(nodeDidOf('did:vm:node:vault-02')).toBe('did:vm:node:vault-02');
    for (const bad of [
      'Vault-02',
      'vault 02',
      '',
      'did:vm:human:alice',
      'did:vm:node:',
      '-x',
      'a/b',
      'x'.repeat(64),
    ])
      expect(nodeDidOf(bad), bad).toBeUndefined();
  });

  it('keeps endpoint URLs in normal form and says what is wrong with the others', () => {
    expect(normalizeEndpointUrl('https://Vault-02.Example:443')).toEqual({
      url: 'https://vault-02.example/',
    });
    expect(normalizeEndpointUrl('tcp://10.0.0.3:9000')).toEqual({ url: 'tcp://10.0.0.3:9000' });
    expect(normalizeEndpointUrl('wss://[::1]:9111/gossip')).toEqual({ url: 'wss://[::1]:9111/gossip' });
    const problems: Array<[string, RegExp]> = [
      ['ftp://vault-02.example', /scheme "ftp"/],
      ['javascript:alert(1)', /scheme "javascript"/],
      ['vault-02.example:9110', /scheme "vault-02.example"/],
      ['not a url', /is not a URL/],
      ['https://user:secret@vault-02.example', /credentials/],
      ['https://vault-02.example/#x', /fragment/],
      ['tcp://10.0.0.3', /needs a port/],
      ['https://vault-02.example:99999', /is not a URL/],
      [`https://${'a'.repeat(2100)}.example`, /longer than/],
    ];
    for (const [url, problem] of problems) {
      const result = normalizeEndpointUrl(url);
      expect('problem' in result && result.problem, url).toMatch(problem);
    }
  });

  it('pins the endpoints with BLAKE3 of their JCS', () => {
    const endpoints = [{ name: 'api', url: 'https://a.example:9110/' }];
    blake3.init();
    blake3.update('[{"name":"api","url":"https://a.example:9110/"}]');
    expect(endpointsHash(endpoints)).toBe(`blake3:${blake3.digest('hex')}`);
  });

  it('refuses a join body whose endpoints hash, URLs or names do not hold', () => {
    const body = { ...nodeSpec('a'), endpoints_hash: endpointsHash(nodeSpec('a').endpoints), update: false };
    const draft = (b: Record<string, unknown>) => () =>
      validateDraft({ scroll: 'mesh', type: 'mesh_node_join', body: b });
    expect(draft(body)).not.toThrow();
    expect(draft({ ...body, endpoints_hash: `blake3:${'1'.repeat(64)}` })).toThrow(
      /body\.endpoints_hash: does not match/,
    );
    expect(draft({ ...body, endpoints: [{ name: 'api', url: 'https://A.example' }] })).toThrow(
      /normal form: write https:\/\/a\.example\//,
    );
    expect(draft({ ...body, endpoints: [] })).toThrow(/at least one endpoint/);
    const twice = [
      { name: 'api', url: 'https://a.example/' },
      { name: 'api', url: 'https://b.example/' },
    ];
    expect(draft({ ...body, endpoints: twice, endpoints_hash: endpointsHash(twice) })).toThrow(
      /body\.endpoints\.1\.name: endpoint name "api" is used twice/,
    );
    expect(draft({ ...body, node_id: 'did:vm:node:A' })).toThrow(/body\.node_id/);
    expect(draft({ ...body, node_type: 'router' })).toThrow(/body\.node_type/);
    expect(draft({ ...body, display_name: 'a\nb' })).toThrow(/control characters/);
  });
});

describe('nodes', () => {
  it('a join makes a member with its record; the topology lists it', () => {
    const mesh = new MeshScroll();
    const receipt = mesh.record((s, at) =>
      planJoin(s, nodeSpec('a', { region: 'eu-west-1', tags: ['primary'] }), false, at),
    );
    expect(receipt.tags).toEqual(['mesh', 'node', 'join']);
    const node = mesh.state.nodes.get(did('a'))!;
    expect(node).toMatchObject({
      status: 'member',
      joined_seq: 0,
      joined_at: receipt.ts,
      region: 'eu-west-1',
      receipts: [0],
    });
    expect(topologyOf(mesh.state, mesh.now()).nodes).toEqual([
      {
        node_id: did('a'),
        display_name: 'Node a',
        node_type: 'infrastructure',
        endpoints: [{ name: 'api', url: 'https://a.example:9110/' }],
        endpoints_hash: endpointsHash([{ name: 'api', url: 'https://a.example:9110/' }]),
        region: 'eu-west-1',
        tags: ['primary'],
        joined_seq: 0,
        joined_at: receipt.ts,
      },
    ]);
  });

  it('refuses a second join of a member; an update changes its record and keeps its membership', () => {
    const mesh = threeNodes();
    expect(refusedWith(mesh, (s, at) => planJoin(s, nodeSpec('a'), false, at))).toBe('NODE_EXISTS');
    const update = mesh.record((s, at) =>
      planJoin(s, nodeSpec('a', { node_type: 'gateway', display_name: 'A' }), true, at),
    );
    expect(update.tags).toEqual(['mesh', 'node', 'update']);
    const node = mesh.state.nodes.get(did('a'))!;
    expect(node).toMatchObject({
      node_type: 'gateway',
      display_name: 'A',
      joined_seq: 0,
      updated_seq: update.seq,
    });
    expect(topologyOf(mesh.state, mesh.now()).routes.map((r) => r.route_id)).toEqual(['a-b', 'b-c']);
    expect(refusedWith(mesh, (s, at) => planJoin(s, nodeSpec('z'), true, at))).toBe('UNKNOWN_NODE');
  });

  it('a leave ends the routes both ways and the grants of the node, and lists them', () => {
    const mesh = threeNodes();
    mesh.record((s, at) => planRouteAdd(s, route('c', 'a'), at));
    mesh.record((s, at) => planGrant(s, grant('g-b', 'b'), at));
    mesh.record((s, at) => planGrant(s, grant('g-a', 'a'), at));
    const leave = mesh.record((s, at) => planLeave(s, did('b'), 'decommissioned', at));
    expect(leave.body).toEqual({
      node_id: did('b'),
      reason: 'decommissioned',
      routes_removed: ['a-b', 'b-c'],
      capabilities_ended: ['g-b'],
    });
    const topology = topologyOf(mesh.state, mesh.now());
    expect(topology.nodes.map((n) => n.node_id)).toEqual([did('a'), did('c')]);
    expect(topology.routes.map((r) => r.route_id)).toEqual(['c-a']);
    expect(topology.capabilities.map((c) => c.grant_id)).toEqual(['g-a']);
    expect(mesh.state.routes.get('a-b')).toMatchObject({
      status: 'ended',
      ended_seq: leave.seq,
      end_reason: `node ${did('b')} left`,
    });
    expect(grantStatus(mesh.state.grants.get('g-b')!, mesh.now())).toBe('ended');
    expect(mesh.state.nodes.get(did('b'))).toMatchObject({
      status: 'left',
      left_seq: leave.seq,
      leave_reason: 'decommissioned',
    });
  });

  it('refuses to leave a node that is not a member; a node that left may join again, without its old routes', () => {
    const mesh = threeNodes();
    expect(refusedWith(mesh, (s, at) => planLeave(s, did('z'), 'r', at))).toBe('UNKNOWN_NODE');
    mesh.record((s, at) => planLeave(s, did('b'), 'r', at));
    expect(refusedWith(mesh, (s, at) => planLeave(s, did('b'), 'r', at))).toBe('NODE_NOT_MEMBER');
    expect(refusedWith(mesh, (s, at) => planJoin(s, nodeSpec('b'), true, at))).toBe('NODE_NOT_MEMBER');
    const rejoin = mesh.record((s, at) => planJoin(s, nodeSpec('b'), false, at));
    expect(mesh.state.nodes.get(did('b'))).toMatchObject({ status: 'member', joined_seq: rejoin.seq });
    expect(mesh.state.nodes.get(did('b'))!.left_seq).toBeUndefined();
    expect(topologyOf(mesh.state, mesh.now()).routes).toEqual([]);
  });
});

describe('routes', () => {
  it('joins two current members only', () => {
    const mesh = threeNodes();
    expect(refusedWith(mesh, (s, at) => planRouteAdd(s, route('a', 'z'), at))).toBe('UNKNOWN_NODE');
    mesh.record((s, at) => planLeave(s, did('c'), 'r', at));
    expect(refusedWith(mesh, (s, at) => planRouteAdd(s, route('c', 'a'), at))).toBe('NODE_NOT_MEMBER');
    expect(
      codeOf(() =>
        validateDraft({
          scroll: 'mesh',
          type: 'mesh_route_change',
          body: { ...route('a', 'a'), action: 'add' },
        }),
      ),
    ).toBe('INVALID_BODY');
  });

  it('refuses a second route with the same id, or the same ends and transport', () => {
    const mesh = threeNodes();
    expect(refusedWith(mesh, (s, at) => planRouteAdd(s, route('b', 'a', 'a-b'), at))).toBe('ROUTE_EXISTS');
    expect(refusedWith(mesh, (s, at) => planRouteAdd(s, route('a', 'b', 'other'), at))).toBe('ROUTE_EXISTS');
    mesh.record((s, at) => planRouteAdd(s, { ...route('a', 'b', 'a-b-wss'), transport: 'wss' }, at));
    expect(refusedWith(mesh, (s, at) => planRouteUpdate(s, 'a-b-wss', { transport: 'https' }, at))).toBe(
      'ROUTE_EXISTS',
    );
  });

  it('updates keep the ends; removal ends the route; unknown and removed routes are refused', () => {
    const mesh = threeNodes();
    const update = mesh.record((s, at) => planRouteUpdate(s, 'a-b', { weight: 5, latency_ms: 12 }, at));
    expect(update.body).toMatchObject({
      action: 'update',
      from_node: did('a'),
      to_node: did('b'),
      weight: 5,
      latency_ms: 12,
    });
    mesh.record((s, at) => planRouteUpdate(s, 'a-b', { latency_ms: null }, at));
    expect(mesh.state.routes.get('a-b')).toMatchObject({ weight: 5, updated_seq: update.seq + 1 });
    expect(mesh.state.routes.get('a-b')!.latency_ms).toBeUndefined();
    const removal = mesh.record((s, at) => planRouteRemove(s, 'a-b', 'link down', at));
    expect(mesh.state.routes.get('a-b')).toMatchObject({
      status: 'removed',
      ended_seq: removal.seq,
      end_reason: 'link down',
    });
    expect(topologyOf(mesh.state, mesh.now()).routes.map((r) => r.route_id)).toEqual(['b-c']);
    expect(refusedWith(mesh, (s, at) => planRouteRemove(s, 'a-b', undefined, at))).toBe('UNKNOWN_ROUTE');
    expect(refusedWith(mesh, (s, at) => planRouteRemove(s, 'nope', undefined, at))).toBe('UNKNOWN_ROUTE');
    expect(refusedWith(mesh, (s, at) => planRouteUpdate(s, 'nope', { weight: 2 }, at))).toBe('UNKNOWN_ROUTE');
    mesh.record((s, at) => planRouteAdd(s, route('a', 'b'), at));
    expect(mesh.state.routes.get('a-b')).toMatchObject({ status: 'active', added_seq: removal.seq + 1 });
  });
});

describe('capabilities', () => {
  it('are current until they expire or are revoked', () => {
    const mesh = threeNodes();
    const expires = new Date(Date.parse(mesh.now()) + 60_000).toISOString();
    mesh.record((s, at) => planGrant(s, grant('g1', 'a', { expires_at: expires }), at));
    expect(grantStatus(mesh.state.grants.get('g1')!, mesh.now())).toBe('active');
    expect(refusedWith(mesh, (s, at) => planGrant(s, grant('g2', 'a'), at))).toBe('GRANT_EXISTS');
    expect(refusedWith(mesh, (s, at) => planGrant(s, grant('g1', 'b'), at))).toBe('GRANT_EXISTS');
    mesh.advance(60_000);
    expect(grantStatus(mesh.state.grants.get('g1')!, mesh.now())).toBe('expired');
    expect(topologyOf(mesh.state, mesh.now()).capabilities).toEqual([]);
    mesh.record((s, at) => planGrant(s, grant('g2', 'a'), at));
    mesh.record((s, at) => planRevoke(s, 'g2', 'key rotated', at));
    expect(mesh.state.grants.get('g2')).toMatchObject({ status: 'revoked', end_reason: 'key rotated' });
    expect(refusedWith(mesh, (s, at) => planRevoke(s, 'g2', 'again', at))).toBe('GRANT_NOT_ACTIVE');
    expect(refusedWith(mesh, (s, at) => planRevoke(s, 'nope', 'r', at))).toBe('UNKNOWN_GRANT');
    // An expired grant can still be revoked, so the scroll says it is over whatever the clocks say.
    mesh.record((s, at) => planRevoke(s, 'g1', 'cleanup', at));
    expect(grantStatus(mesh.state.grants.get('g1')!, mesh.now())).toBe('revoked');
  });

  it('refuses grants to non-members, on unknown scrolls, or already expired', () => {
    const mesh = threeNodes();
    expect(refusedWith(mesh, (s, at) => planGrant(s, grant('g', 'z'), at))).toBe('UNKNOWN_NODE');
    expect(refusedWith(mesh, (s, at) => planGrant(s, grant('g', 'a', { scope: 'nope' }), at))).toBe(
      'UNKNOWN_SCROLL',
    );
    expect(refusedWith(mesh, (s, at) => planGrant(s, grant('g', 'a', { expires_at: mesh.now() }), at))).toBe(
      'INVALID_ARGUMENT',
    );
    mesh.record((s, at) => planGrant(s, grant('g', 'a', { scope: 'guardian' }), at));
    expect(mesh.state.grants.get('g')!.scope).toBe('guardian');
  });
});

describe('snapshots', () => {
  it('pin the topology: the recorded hash is that of a fresh replay of the receipts before it', () => {
    const mesh = threeNodes();
    mesh.record((s, at) => planGrant(s, grant('g1', 'a'), at));
    const snapshot = mesh.record((s, at) => planSnapshot(s, 'snap-1', at));
    const body = snapshot.body as {
      at_size: number;
      as_of: string;
      topology_hash: string;
      node_count: number;
    };
    expect(body.at_size).toBe(snapshot.seq);
    const replayed = foldAll(meshFold, mesh.receipts.slice(0, body.at_size));
    expect(topologyHash(topologyOf(replayed, body.as_of))).toBe(body.topology_hash);
    expect(body.node_count).toBe(3);
    expect(mesh.state.snapshots).toEqual([
      {
        snapshot_id: 'snap-1',
        seq: snapshot.seq,
        at_size: body.at_size,
        as_of: body.as_of,
        topology_hash: body.topology_hash,
        matches: true,
      },
    ]);
    expect(mesh.state.anomalies).toEqual([]);
  });
});

describe('receipts that break the rules', () => {
  const joinBody = (id: string) => ({
    ...nodeSpec(id),
    endpoints_hash: endpointsHash(nodeSpec(id).endpoints),
    update: false,
  });

  it('are noted as anomalies and change nothing', () => {
    const mesh = threeNodes();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['mesh_node_join', joinBody('a'), 'NODE_EXISTS'],
      ['mesh_node_join', { ...joinBody('d'), endpoints_hash: `blake3:${'2'.repeat(64)}` }, 'INVALID_BODY'],
      [
        'mesh_node_leave',
        { node_id: did('a'), reason: 'r', routes_removed: [], capabilities_ended: [] },
        'INVALID_BODY',
      ],
      [
        'mesh_node_leave',
        { node_id: did('z'), reason: 'r', routes_removed: [], capabilities_ended: [] },
        'UNKNOWN_NODE',
      ],
      ['mesh_route_change', { ...route('a', 'z'), action: 'add' }, 'UNKNOWN_NODE'],
      ['mesh_route_change', { ...route('a', 'c', 'a-b'), action: 'add' }, 'ROUTE_EXISTS'],
      ['mesh_route_change', { ...route('a', 'c'), action: 'remove' }, 'UNKNOWN_ROUTE'],
      ['mesh_route_change', { ...route('a', 'c', 'a-b'), action: 'update' }, 'INVALID_BODY'],
      [
        'mesh_capability_revoke',
        { grant_id: 'nope', node_id: did('a'), capability: 'anchor', reason: 'r' },
        'UNKNOWN_GRANT',
      ],
      ['mesh_capability_grant', grant('g', 'z'), 'UNKNOWN_NODE'],
      ['mesh_node_join', { node_id: 'vault-02' }, 'INVALID_BODY'],
    ];
    const before = JSON.stringify(encodeMeshState({ ...mesh.state, size: 0, anomalies: [] }));
    for (const [type, body] of cases) mesh.append(type, body);
    expect(mesh.state.anomalies.map((a) => [a.seq, a.type, a.code])).toEqual(
      cases.map(([type, , code], i) => [5 + i, type, code]),
    );
    expect(mesh.state.anomalies[0]!.message).toMatch(/already a member/);
    expect(JSON.stringify(encodeMeshState({ ...mesh.state, size: 0, anomalies: [] }))).toBe(before);
    expect(mesh.state.size).toBe(5 + cases.length);
  });

  it('a snapshot that is not what the receipts derive is a TOPOLOGY_MISMATCH', () => {
    const mesh = threeNodes();
    const real = planSnapshot(mesh.state, 'snap-real', mesh.now()).body as Record<string, unknown>;
    mesh.append('mesh_topology_snapshot', { ...real, at_size: 3 });
    const topology = topologyOf(mesh.state, mesh.now());
    const forged = { ...topology, routes: [] };
    mesh.append('mesh_topology_snapshot', {
      ...real,
      at_size: mesh.receipts.length,
      route_count: 0,
      topology: forged,
      topology_hash: topologyHash(forged),
    });
    expect(mesh.state.snapshots.map((s) => s.matches)).toEqual([false, false]);
    expect(mesh.state.anomalies.map((a) => [a.code, a.message])).toEqual([
      ['TOPOLOGY_MISMATCH', 'at_size is 3 but the snapshot is receipt 5'],
      [
        'TOPOLOGY_MISMATCH',
        expect.stringMatching(/^topology_hash blake3:\w+ is not the derived topology's blake3:\w+$/),
      ],
    ]);
  });
});

describe('the fold', () => {
  it('survives its cache encoding, and a fold from scratch equals the incremental one', () => {
    const mesh = threeNodes();
    mesh.record((s, at) => planGrant(s, grant('g1', 'a', { expires_at: '2030-01-01T00:00:00.000Z' }), at));
    mesh.record((s, at) => planLeave(s, did('c'), 'r', at));
    mesh.append('mesh_node_leave', {
      node_id: did('c'),
      reason: 'r',
      routes_removed: [],
      capabilities_ended: [],
    });
    const encoded = encodeMeshState(mesh.state);
    expect(encodeMeshState(meshFold.decode(JSON.parse(JSON.stringify(encoded))))).toEqual(encoded);
    expect(encodeMeshState(foldAll(meshFold, mesh.receipts))).toEqual(encoded);
    const resumed = meshFold.decode(encodeMeshState(foldAll(meshFold, mesh.receipts.slice(0, 4))));
    for (const r of mesh.receipts.slice(4)) meshFold.apply(resumed, r);
    expect(encodeMeshState(resumed)).toEqual(encoded);
  });
});
