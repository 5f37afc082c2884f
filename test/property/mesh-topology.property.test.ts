/**
 * Mesh topology equals a replay of the scroll. For random sequences of operations (joins, updates,
 * leaves, routes, grants with and without expiry, revokes, snapshots, time passing), valid and not:
 * each is accepted or refused exactly as a plain reference model of the rules says; a refusal
 * changes nothing; the incremental state equals a fold from scratch and one resumed from an encoded
 * cache at any point; no anomaly is ever noted; every snapshot matches; and the topology is the
 * model's. Then the same through the real operations on a real ledger, cache files included.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isVaultMeshError } from '../../src/core/errors.js';
import { foldAll } from '../../src/core/fold.js';
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
  type MeshDraft,
} from '../../src/core/mesh/plan.js';
import { encodeMeshState, type MeshState } from '../../src/core/mesh/state.js';
import { topologyOf } from '../../src/core/mesh/topology.js';
import type { Receipt } from '../../src/core/receipt.js';
import { meshEngine } from '../../src/engines/mesh/index.js';
import { parseOperationInput } from '../../src/engines/framework/input.js';
import { foldedState } from '../../src/ledger/fold-cache.js';
import { initDataDir } from '../../src/ledger/init.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { MeshScroll, did, nodeSpec } from '../helpers/mesh.js';
import { makeTempDir } from '../helpers/vm.js';

const NODES = ['n0', 'n1', 'n2', 'n3'] as const;
const TRANSPORTS = ['https', 'wss', 'tcp'] as const;
const CAPABILITIES = ['anchor', 'storage', 'admin'] as const;
const SCOPES = ['*', 'guardian', 'nowhere'] as const;
const ids = (prefix: string) => fc.constantFrom(...[0, 1, 2].map((i) => `${prefix}${i}`));

type Op =
  | { op: 'join'; node: string; update: boolean; type: 'edge' | 'gateway' }
  | { op: 'leave'; node: string }
  | {
      op: 'route-add';
      id: string;
      from: string;
      to: string;
      transport: (typeof TRANSPORTS)[number];
      weight: number;
    }
  | { op: 'route-update'; id: string; transport?: (typeof TRANSPORTS)[number]; weight: number }
  | { op: 'route-remove'; id: string }
  | {
      op: 'grant';
      id: string;
      node: string;
      capability: (typeof CAPABILITIES)[number];
      scope: (typeof SCOPES)[number];
      expiresIn?: number;
    }
  | { op: 'revoke'; id: string }
  | { op: 'snapshot' }
  | { op: 'wait'; ms: number };

const node = fc.constantFrom(...NODES);
const joinArb = fc.record({
  op: fc.constant('join' as const),
  node,
  update: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  type: fc.constantFrom('edge' as const, 'gateway' as const),
});
/** A few joins first, so that most later operations have members to act on. */
const opsArb = (length: { minLength: number; maxLength: number }) =>
  fc
    .tuple(fc.array(joinArb, { minLength: 2, maxLength: 4 }), fc.array(opArb, length))
    .map(([joins, rest]) => [...joins, ...rest]);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: joinArb },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('leave' as const), node }) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        op: fc.constant('route-add' as const),
        id: ids('r'),
        from: node,
        to: node,
        transport: fc.constantFrom(...TRANSPORTS),
        weight: fc.integer({ min: 1, max: 9 }),
      })
      .filter((o) => o.from !== o.to),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('route-update' as const),
      id: ids('r'),
      transport: fc.option(fc.constantFrom(...TRANSPORTS), { nil: undefined }),
      weight: fc.integer({ min: 1, max: 9 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('route-remove' as const), id: ids('r') }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      id: ids('g'),
      node,
      capability: fc.constantFrom(...CAPABILITIES),
      scope: fc.constantFrom(...SCOPES),
      expiresIn: fc.option(fc.integer({ min: -2000, max: 8000 }), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('revoke' as const), id: ids('g') }) },
  { weight: 1, arbitrary: fc.constant({ op: 'snapshot' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  },
);

/** The rules, written out plainly over sets: what each operation should come to. */
class Model {
  members = new Set<string>();
  joined = new Set<string>();
  routes = new Map<string, { from: string; to: string; transport: string; active: boolean }>();
  grants = new Map<
    string,
    {
      node: string;
      capability: string;
      scope: string;
      expires?: number;
      status: 'granted' | 'revoked' | 'ended';
    }
  >();

  private membership(n: string): string | undefined {
    if (!this.joined.has(n)) return 'UNKNOWN_NODE';
    return this.members.has(n) ? undefined : 'NODE_NOT_MEMBER';
  }

  private duplicate(id: string, from: string, to: string, transport: string): boolean {
    return [...this.routes].some(
      ([k, r]) => k !== id && r.active && r.from === from && r.to === to && r.transport === transport,
    );
  }

  private current(g: { expires?: number; status: string }, now: number): boolean {
    return g.status === 'granted' && (g.expires === undefined || g.expires > now);
  }

  /** The code the operation is refused with, or 'ok' (and the model takes the change in). */
  apply(o: Op, now: number): string {
    switch (o.op) {
      case 'join': {
        if (o.update) return this.membership(o.node) ?? 'ok';
        if (this.members.has(o.node)) return 'NODE_EXISTS';
        this.members.add(o.node);
        this.joined.add(o.node);
        return 'ok';
      }
      case 'leave': {
        const refused = this.membership(o.node);
        if (refused !== undefined) return refused;
        this.members.delete(o.node);
        for (const r of this.routes.values()) if (r.from === o.node || r.to === o.node) r.active = false;
        for (const g of this.grants.values())
          if (g.node === o.node && g.status === 'granted') g.status = 'ended';
        return 'ok';
      }
      case 'route-add': {
        const refused = this.membership(o.from) ?? this.membership(o.to);
        if (refused !== undefined) return refused;
        if (this.routes.get(o.id)?.active === true || this.duplicate(o.id, o.from, o.to, o.transport))
          return 'ROUTE_EXISTS';
        this.routes.set(o.id, { from: o.from, to: o.to, transport: o.transport, active: true });
        return 'ok';
      }
      case 'route-update': {
        const route = this.routes.get(o.id);
        if (route?.active !== true) return 'UNKNOWN_ROUTE';
        const transport = o.transport ?? route.transport;
        if (this.duplicate(o.id, route.from, route.to, transport)) return 'ROUTE_EXISTS';
        route.transport = transport;
        return 'ok';
      }
      case 'route-remove': {
        const route = this.routes.get(o.id);
        if (route?.active !== true) return 'UNKNOWN_ROUTE';
        route.active = false;
        return 'ok';
      }
      case 'grant': {
        const expires = o.expiresIn === undefined ? undefined : now + o.expiresIn;
        if (expires !== undefined && expires <= now) return 'INVALID_ARGUMENT';
        const refused = this.membership(o.node);
        if (refused !== undefined) return refused;
        if (this.grants.has(o.id)) return 'GRANT_EXISTS';
        if (o.scope === 'nowhere') return 'UNKNOWN_SCROLL';
        const held = [...this.grants.values()].some(
          (g) =>
            g.node === o.node && g.capability === o.capability && g.scope === o.scope && this.current(g, now),
        );
        if (held) return 'GRANT_EXISTS';
        this.grants.set(o.id, {
          node: o.node,
          capability: o.capability,
          scope: o.scope,
          expires,
          status: 'granted',
        });
        return 'ok';
      }
      case 'revoke': {
        const g = this.grants.get(o.id);
        if (g === undefined) return 'UNKNOWN_GRANT';
        if (g.status !== 'granted') return 'GRANT_NOT_ACTIVE';
        g.status = 'revoked';
        return 'ok';
      }
      case 'snapshot':
      case 'wait':
        return 'ok';
    }
  }

  topology(now: number) {
    const sorted = (xs: Iterable<string>) => [...xs].sort();
    return {
      nodes: sorted([...this.members].map(did)),
      routes: sorted([...this.routes].filter(([, r]) => r.active).map(([id]) => id)),
      capabilities: sorted([...this.grants].filter(([, g]) => this.current(g, now)).map(([id]) => id)),
    };
  }
}

function plan(o: Exclude<Op, { op: 'wait' }>, state: MeshState, at: string): MeshDraft {
  switch (o.op) {
    case 'join':
      return planJoin(state, nodeSpec(o.node, { node_type: o.type }), o.update, at);
    case 'leave':
      return planLeave(state, did(o.node), 'gone', at);
    case 'route-add':
      return planRouteAdd(
        state,
        {
          route_id: o.id,
          from_node: did(o.from),
          to_node: did(o.to),
          transport: o.transport,
          weight: o.weight,
        },
        at,
      );
    case 'route-update':
      return planRouteUpdate(
        state,
        o.id,
        { weight: o.weight, ...(o.transport === undefined ? {} : { transport: o.transport }) },
        at,
      );
    case 'route-remove':
      return planRouteRemove(state, o.id, 'gone', at);
    case 'grant': {
      const expires =
        o.expiresIn === undefined ? {} : { expires_at: new Date(Date.parse(at) + o.expiresIn).toISOString() };
      return planGrant(
        state,
        {
          grant_id: o.id,
          node_id: did(o.node),
          capability: o.capability,
          scope: o.scope,
          granted_by: did('vault-01'),
          ...expires,
        },
        at,
      );
    }
    case 'revoke':
      return planRevoke(state, o.id, 'gone', at);
    case 'snapshot':
      return planSnapshot(state, `snap-${state.size}`, at);
  }
}

const encoded = (state: MeshState) => JSON.stringify(encodeMeshState(state));

describe('mesh topology is a replay of the scroll', () => {
  it('for random operation sequences, against a reference model', () => {
    fc.assert(
      fc.property(opsArb({ minLength: 5, maxLength: 40 }), fc.nat(), (ops, cut) => {
        const mesh = new MeshScroll();
        const model = new Model();
        for (const o of ops) {
          if (o.op === 'wait') {
            mesh.advance(o.ms);
            continue;
          }
          const expected = model.apply(o, Date.parse(mesh.now()));
          const before = encoded(mesh.state);
          let outcome = 'ok';
          try {
            mesh.record((state, at) => plan(o, state, at));
          } catch (error) {
            if (!isVaultMeshError(error)) throw error;
            outcome = error.code;
            expect(encoded(mesh.state), `${o.op} was refused but changed the state`).toBe(before);
          }
          expect(outcome, JSON.stringify(o)).toBe(expected);
        }
        const full = encoded(mesh.state);
        expect(encoded(foldAll(meshFold, mesh.receipts))).toBe(full);
        const k = mesh.receipts.length === 0 ? 0 : cut % (mesh.receipts.length + 1);
        const resumed = meshFold.decode(
          JSON.parse(JSON.stringify(meshFold.encode(foldAll(meshFold, mesh.receipts.slice(0, k))))),
        );
        for (const r of mesh.receipts.slice(k)) meshFold.apply(resumed, r);
        expect(encoded(resumed)).toBe(full);
        expect(mesh.state.anomalies).toEqual([]);
        expect(mesh.state.snapshots.every((s) => s.matches)).toBe(true);
        const topology = topologyOf(mesh.state, mesh.now());
        expect({
          nodes: topology.nodes.map((n) => n.node_id),
          routes: topology.routes.map((r) => r.route_id),
          capabilities: topology.capabilities.map((c) => c.grant_id),
        }).toEqual(model.topology(Date.parse(mesh.now())));
      }),
      { numRuns: 300 },
    );
  });
});

describe('through the real operations on a real ledger', () => {
  const temp = makeTempDir('mesh-property');
  afterAll(() => temp.remove());
  const operation = (name: string) => meshEngine.operations.find((o) => o.name === name)!;
  let run = 0;

  /** The CLI's input for an operation, as the user would type it. */
  function request(o: Exclude<Op, { op: 'wait' | 'snapshot' }>): [string, Record<string, unknown>] {
    switch (o.op) {
      case 'join':
        return [
          'node join',
          { id: o.node, type: o.type, endpoint: [`api=https://${o.node}.example:9110`], update: o.update },
        ];
      case 'leave':
        return ['node leave', { node: o.node, reason: 'gone' }];
      case 'route-add':
        return [
          'route add',
          { id: o.id, from: o.from, to: o.to, transport: o.transport, weight: String(o.weight) },
        ];
      case 'route-update':
        return [
          'route update',
          {
            route: o.id,
            weight: String(o.weight),
            ...(o.transport === undefined ? {} : { transport: o.transport }),
          },
        ];
      case 'route-remove':
        return ['route remove', { route: o.id }];
      case 'grant':
        return [
          'capability grant',
          {
            id: o.id,
            node: o.node,
            capability: o.capability,
            scope: o.scope,
            ...(o.expiresIn === undefined
              ? {}
              : { expires: `${Math.max(1, Math.ceil(o.expiresIn / 1000))}s` }),
          },
        ];
      case 'revoke':
        return ['capability revoke', { grant: o.id, reason: 'gone' }];
    }
  }

  it('refusals write nothing, and the cached state equals a fold of the file, in this process and the next', async () => {
    const realOps = opsArb({ minLength: 3, maxLength: 12 }).map((ops) =>
      ops.filter(
        (o): o is Exclude<Op, { op: 'wait' | 'snapshot' }> => o.op !== 'wait' && o.op !== 'snapshot',
      ),
    );
    await fc.assert(
      fc.asyncProperty(realOps, async (ops) => {
        const data = join(temp.dir, `run-${run++}`);
        await initDataDir(data, 'vault-01');
        const ledger = Ledger.open(data);
        const context = { ledger, clock: () => new Date(), cwd: temp.dir };
        const file = ledger.dataDir.scrollFile(meshEngine.scroll);
        try {
          for (const o of [...ops, { op: 'snapshot' as const }]) {
            const [name, raw] = o.op === 'snapshot' ? ['topology snapshot', {}] : request(o);
            const before = readFileSync(file);
            try {
              await operation(name).run(
                context,
                parseOperationInput(operation(name), raw, (f) => f),
              );
            } catch (error) {
              if (!isVaultMeshError(error)) throw error;
              expect(readFileSync(file).equals(before), `${name} was refused (${error.code}) but wrote`).toBe(
                true,
              );
            }
          }
          const receipts = readFileSync(file, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as Receipt);
          const replay = encoded(foldAll(meshFold, receipts));
          expect(encoded(foldedState(ledger, meshFold).state)).toBe(replay);
          const next = Ledger.open(data);
          try {
            expect(encoded(foldedState(next, meshFold).state)).toBe(replay);
          } finally {
            await next.close();
          }
          expect(JSON.parse(replay).anomalies).toEqual([]);
        } finally {
          await ledger.close();
        }
      }),
      { numRuns: 6 },
    );
  });

  it('a cache written to disk after a long scroll is picked up and extended by the next process', async () => {
    const data = join(temp.dir, 'long');
    await initDataDir(data, 'vault-01');
    const ledger = Ledger.open(data);
    const sim = new MeshScroll();
    // One checked batch of 300 joins, each decided on the state the ones before it made.
    await ledger.emitChecked('mesh', () =>
      Array.from({ length: 300 }, (_, i) => {
        const receipt = sim.record((s, at) => planJoin(s, nodeSpec(`n${i}`), false, at));
        return { scroll: 'mesh', type: receipt.type, body: receipt.body, tags: receipt.tags };
      }),
    );
    expect(foldedState(ledger, meshFold).state.nodes.size).toBe(300);
    await ledger.close();
    const cache = JSON.parse(readFileSync(join(data, 'index/mesh/fold-topology.json'), 'utf8')) as {
      size: number;
      version: number;
    };
    expect(cache).toMatchObject({ size: 300, version: meshFold.version });

    const next = Ledger.open(data);
    try {
      const context = { ledger: next, clock: () => new Date(), cwd: temp.dir };
      const leave = operation('node leave');
      await leave.run(
        context,
        parseOperationInput(leave, { node: 'n7', reason: 'gone' }, (f) => f),
      );
      const receipts = readFileSync(next.dataDir.scrollFile(meshEngine.scroll), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Receipt);
      expect(receipts).toHaveLength(301);
      expect(encoded(foldedState(next, meshFold).state)).toBe(encoded(foldAll(meshFold, receipts)));
      expect(foldedState(next, meshFold).state.nodes.get(did('n7'))!.status).toBe('left');
    } finally {
      await next.close();
    }
  });
});
