/**
 * The Guardian through the real CLI, as an operator runs it, against real witnesses on 127.0.0.1:
 * an `openssl ts -reply` TSA, a ganache chain and an OpenTimestamps calendar, next to the node's
 * own signature. Anchoring with every backend, with one down (partial), tampering after an anchor
 * (divergence), drills and deployments covered by anchors, `vm serve` anchoring on its schedule and
 * over HTTP, and configuration mistakes refused by name.
 *
 * The TSA and the calendar answer from this process: every `vm` that may reach them runs with
 * vmAsync (a blocking spawnSync would stop them from answering).
 */
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnchorVerification, BackendStatus } from '../../src/engines/guardian/anchors.js';
import type { CycleResult } from '../../src/engines/guardian/cycle.js';
import type { AnchorStatement } from '../../src/ledger/anchor-store.js';
import { closeCalendars, startCalendar, type Calendar } from '../helpers/calendar.js';
import { freePort, startGanache, type Ganache } from '../helpers/ganache.js';
import { createToken, startServer, type RunningServer } from '../helpers/node.js';
import { startTsa, type TestTsa } from '../helpers/tsa.js';
import {
  OBSERVABILITY_FILE,
  assertBuilt,
  entryBody,
  initNode,
  jsonError,
  makeTempDir,
  readReceipts,
  runWorker,
  vmAsync,
  writeWorker,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

const GUARDIAN_FILE = 'receipts/guardian/anchor_events.jsonl';
const CHAIN_ID = 1337;

interface Receipt {
  seq: number;
  type: string;
  ts: string;
  tags: string[];
  body: Record<string, unknown>;
}

interface VerifyReport {
  ok: boolean;
  scrolls: Array<{
    scroll: string;
    ok: boolean;
    lines: number;
    findings: Array<{ code: string; message: string }>;
  }>;
}

const tmp = makeTempDir('guardian');
let template: string;
let worker: string;

/** A data directory of its own: a copy of one `vm init` made once (same node key, own scrolls). */
function freshData(name: string): string {
  const data = join(tmp.dir, name);
  cpSync(template, data, { recursive: true });
  return data;
}

/** `vm --format json ARGS` on `data`, without blocking this process (see the file comment). */
const cli = (data: string | undefined, args: readonly string[], cwd?: string): Promise<VmResult> =>
  vmAsync(['--format', 'json', ...args], {
    ...(data === undefined ? {} : { data }),
    ...(cwd ? { cwd } : {}),
  });

/** The parsed stdout of a run that must end with `status`. */
function output<T>(result: VmResult, status = 0): T {
  expect(result.status, `exit status; stderr: ${result.stderr}`).toBe(status);
  return JSON.parse(result.stdout) as T;
}

const guardianReceipts = (data: string): Receipt[] =>
  readReceipts(join(data, GUARDIAN_FILE)) as unknown as Receipt[];

const ofType = (receipts: Receipt[], type: string, anchorId?: string): Receipt[] =>
  receipts.filter((r) => r.type === type && (anchorId === undefined || r.body.anchor_id === anchorId));

const statementOf = (data: string, id: string): AnchorStatement =>
  JSON.parse(readFileSync(join(data, 'anchors', id, 'statement.json'), 'utf8')) as AnchorStatement;

/** The evidence files of one backend as stored, with their SHA-256 as receipts pin them. */
function evidenceOnDisk(data: string, id: string, backend: string): Array<{ name: string; sha256: string }> {
  const dir = join(data, 'anchors', id, backend);
  return readdirSync(dir)
    .sort()
    .map((name) => ({
      name,
      sha256: `sha256:${createHash('sha256')
        .update(readFileSync(join(dir, name)))
        .digest('hex')}`,
    }));
}

/** Appends `count` receipts to the observability scroll through the Ledger API and signs a checkpoint. */
async function fillScroll(data: string, count: number, prefix = 't'): Promise<void> {
  await runWorker(worker, { dataDir: data, count, batchSizes: [count], prefix, publishEvery: count });
}

/** Rewrites line `n` (1-based) of a scroll file in place with `edit`. */
function editLine(file: string, n: number, edit: (line: string) => string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const edited = edit(lines[n - 1]!);
  expect(edited).not.toBe(lines[n - 1]);
  lines[n - 1] = edited;
  writeFileSync(file, lines.join('\n'));
}

const changeAmount = (line: string): string => line.replace(/"amount":"[^"]*"/, '"amount":"999999.00"');

beforeAll(() => {
  template = join(tmp.dir, 'template');
  initNode(template);
  worker = writeWorker(tmp.dir);
});

afterAll(async () => {
  await closeCalendars();
  tmp.remove();
});

describe('anchoring to a TSA, a chain, OpenTimestamps and the node itself', () => {
  let tsa: TestTsa;
  let ganache: Ganache;
  let calendar: Calendar;
  let data: string;
  let first: CycleResult;
  const BACKENDS = ['chain', 'local', 'ots', 'tsa'];

  beforeAll(async () => {
    [tsa, ganache, calendar] = await Promise.all([
      startTsa(),
      startGanache({ chainId: CHAIN_ID }),
      startCalendar(),
    ]);
    data = freshData('full');
    mkdirSync(join(data, 'tsa'));
    copyFileSync(tsa.caCertPath, join(data, 'tsa/ca.crt'));
    ganache.writeKeyFile(join(data, 'keys/ethereum.key'));
    appendFileSync(
      join(data, 'vaultmesh.toml'),
      `
[guardian]
stale_after = "1h"
timeout_ms = 15000
attempts = 2
retry_delay_ms = 10
local = true

[[guardian.rfc3161]]
name = "tsa"
url = ${JSON.stringify(tsa.url)}
ca_cert_path = "tsa/ca.crt"

[[guardian.ots]]
name = "ots"
calendars = [${JSON.stringify(calendar.url)}]

[[guardian.ethereum]]
name = "chain"
rpc_url = ${JSON.stringify(ganache.rpcUrl)}
chain_id = ${CHAIN_ID}
key_path = "keys/ethereum.key"
confirmations = 0
poll_ms = 50
`,
    );
  });

  afterAll(async () => {
    await Promise.all([tsa?.remove(), ganache?.stop(), calendar?.close()]);
  });

  it('anchor-now: exit 0, one success per backend, receipts pinning the evidence stored under anchors/<id>/', async () => {
    for (const id of ['a', 'b']) {
      const emitted = await cli(data, [
        'emit',
        'observability',
        'obs_metric_snapshot',
        '--body',
        JSON.stringify(entryBody(id)),
      ]);
      expect(emitted.status, emitted.stderr).toBe(0);
    }
    first = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']));
    expect(first.outcome).toBe('anchored');
    expect(first.failures).toEqual([]);
    expect(first.divergences).toEqual([]);
    expect(first.successes.map((s) => s.backend).sort()).toEqual(BACKENDS);
    expect(Object.fromEntries(first.successes.map((s) => [s.backend, [s.kind, s.status]]))).toEqual({
      chain: ['ethereum', 'confirmed'],
      local: ['local', 'confirmed'],
      ots: ['ots', 'pending'],
      tsa: ['rfc3161', 'confirmed'],
    });
    expect(tsa.stamped()).toBe(1);

    const id = first.anchor_id!;
    const statement = statementOf(data, id);
    expect(statement.combined_root).toBe(first.combined_root);
    expect(statement.heads).toEqual(first.heads);
    expect(statement.heads.find((h) => h.scroll === 'observability')?.size).toBe(2);

    const successes = ofType(guardianReceipts(data), 'anchor_success', id);
    expect(successes.map((r) => r.body.backend).sort()).toEqual(BACKENDS);
    expect(new Set(successes.map((r) => r.seq))).toEqual(new Set(first.successes.map((s) => s.seq)));
    for (const receipt of successes) {
      const backend = String(receipt.body.backend);
      expect(receipt.body).toMatchObject({ anchor_id: id, combined_root: first.combined_root, attempts: 1 });
      expect(receipt.body.evidence, backend).toEqual(evidenceOnDisk(data, id, backend));
    }
    const names = Object.fromEntries(successes.map((r) => [r.body.backend, r.body.evidence]));
    expect(names).toMatchObject({
      local: [{ name: 'anchor.note' }],
      tsa: [{ name: 'token.tsr' }],
      ots: [{ name: 'anchor.ots' }],
      chain: [{ name: 'tx.json' }],
    });
    // The transaction on the chain carries the combined root.
    const tx = JSON.parse(readFileSync(join(data, 'anchors', id, 'chain/tx.json'), 'utf8')) as {
      tx_hash: string;
    };
    const onChain = await ganache.rpc<{ input: string }>('eth_getTransactionByHash', [tx.tx_hash]);
    expect(onChain.input).toBe(`0x564d3031${first.combined_root!.slice('sha256:'.length)}`);
  });

  it('anchor-status lists every backend with its age, none stale; verify checks the root, every scroll and backend', async () => {
    const [status, verified, scrolls] = await Promise.all([
      cli(data, ['guardian', 'anchor-status']),
      cli(data, ['guardian', 'verify']),
      cli(data, ['verify']),
    ]);
    const rows = output<BackendStatus[]>(status);
    expect(rows.map((r) => r.backend).sort()).toEqual(BACKENDS);
    for (const row of rows) {
      expect(row, row.backend).toMatchObject({
        last_anchor: first.anchor_id,
        combined_root: first.combined_root,
        stale: false,
        last_failure: null,
      });
      expect(row.age_seconds, row.backend).toBeGreaterThanOrEqual(0);
      expect(row.age_seconds, row.backend).toBeLessThan(60);
    }
    expect(rows.find((r) => r.backend === 'ots')?.status).toBe('pending');

    const report = output<AnchorVerification>(verified);
    expect(report).toMatchObject({
      ok: true,
      anchor_id: first.anchor_id,
      combined_root: first.combined_root,
    });
    expect(report.checks.map((c) => c.check).sort()).toEqual(
      [
        'combined-root',
        ...first.heads.map((h) => `scroll:${h.scroll}`),
        ...BACKENDS.map((b) => `backend:${b}`),
      ].sort(),
    );
    for (const check of report.checks) expect(check.ok, `${check.check}: ${check.detail}`).toBe(true);
    const detail = (check: string) => report.checks.find((c) => c.check === check)!.detail;
    expect(detail('backend:tsa')).toMatch(
      /^RFC 3161 token from VaultMesh Test TSA .* chained to VaultMesh Test Root$/,
    );
    expect(detail('backend:chain')).toMatch(
      new RegExp(`^Ethereum chain ${CHAIN_ID}: tx 0x[0-9a-f]{64} in block`),
    );
    expect(detail('backend:ots')).toBe(`OpenTimestamps: pending at ${calendar.url}`);
    expect(detail('backend:local')).toMatch(/^signed by vaultmesh\.local\/vault-01 at /);

    const all = output<VerifyReport>(scrolls);
    expect(all.ok).toBe(true);
    expect(all.scrolls.map((s) => s.scroll).sort()).toEqual(first.heads.map((h) => h.scroll).sort());
    for (const s of all.scrolls) expect(s.ok, s.scroll).toBe(true);
  });

  it('one backend down: exit 8 (partial), an anchor_failure after 2 attempts, the others anchored', async () => {
    const downUrl = `http://127.0.0.1:${await freePort()}/tsa`;
    appendFileSync(
      join(data, 'vaultmesh.toml'),
      `
[[guardian.rfc3161]]
name = "tsa-down"
url = "${downUrl}"
ca_cert_path = "tsa/ca.crt"
`,
    );
    const result = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']), 8);
    expect(result.outcome).toBe('partial');
    expect(result.successes.map((s) => s.backend).sort()).toEqual(BACKENDS);
    expect(result.failures).toEqual([
      {
        backend: 'tsa-down',
        kind: 'rfc3161',
        code: 'IO_ERROR',
        error: expect.stringContaining(`cannot reach the TSA at ${downUrl}`),
        attempts: 2,
        seq: expect.any(Number),
      },
    ]);

    const receipts = guardianReceipts(data);
    const [failure, ...more] = ofType(receipts, 'anchor_failure', result.anchor_id!);
    expect(more).toEqual([]);
    expect(failure).toMatchObject({
      seq: result.failures[0]!.seq,
      tags: expect.arrayContaining(['failure', 'rfc3161']),
      body: {
        backend: 'tsa-down',
        kind: 'rfc3161',
        endpoint: downUrl,
        attempts: 2,
        code: 'IO_ERROR',
        error: expect.stringContaining(downUrl),
        combined_root: result.combined_root,
      },
    });
    expect(
      ofType(receipts, 'anchor_success', result.anchor_id!)
        .map((r) => r.body.backend)
        .sort(),
    ).toEqual(BACKENDS);
    expect(existsSync(join(data, 'anchors', result.anchor_id!, 'tsa-down'))).toBe(false);

    const rows = output<BackendStatus[]>(await cli(data, ['guardian', 'anchor-status']));
    const down = rows.find((r) => r.backend === 'tsa-down');
    expect(down).toMatchObject({
      kind: 'rfc3161',
      endpoint: downUrl,
      last_anchor: null,
      age_seconds: null,
      stale: true,
      last_failure: { code: 'IO_ERROR', error: expect.stringContaining(downUrl) },
    });
    for (const row of rows.filter((r) => r.backend !== 'tsa-down')) {
      expect(row, row.backend).toMatchObject({
        last_anchor: result.anchor_id,
        stale: false,
        last_failure: null,
      });
    }
  });

  it('OpenTimestamps: nothing to upgrade until the calendar mines, then anchor_upgrade confirmed and a Bitcoin attestation', async () => {
    const pending = ofType(guardianReceipts(data), 'anchor_success').filter((r) => r.body.backend === 'ots');
    expect(pending.map((r) => r.body.status)).toEqual(['pending', 'pending']);
    expect(calendar.pending()).toBe(2);

    const before = await cli(data, ['guardian', 'upgrade']);
    expect(output<unknown[]>(before)).toEqual([]);
    expect(ofType(guardianReceipts(data), 'anchor_upgrade')).toEqual([]);
    const text = await vmAsync(['guardian', 'upgrade'], { data });
    expect(text.stdout).toContain('nothing to upgrade');

    calendar.mine(840_000);
    const upgraded = output<Array<{ anchor_id: string; backend: string; status: string; seq: number }>>(
      await cli(data, ['guardian', 'upgrade']),
    );
    const ids = pending.map((r) => String(r.body.anchor_id));
    expect(upgraded.map((u) => u.anchor_id).sort()).toEqual([...ids].sort());
    for (const u of upgraded) expect(u).toMatchObject({ backend: 'ots', status: 'confirmed' });

    const upgrades = ofType(guardianReceipts(data), 'anchor_upgrade');
    expect(upgrades).toHaveLength(2);
    for (const receipt of upgrades) {
      const id = String(receipt.body.anchor_id);
      expect(receipt.body).toMatchObject({ backend: 'ots', kind: 'ots', status: 'confirmed' });
      expect(receipt.body.summary).toMatchObject({ bitcoin_heights: [840_000] });
      expect(receipt.body.evidence).toEqual(evidenceOnDisk(data, id, 'ots'));
    }

    const [latest, firstAnchor, again] = await Promise.all([
      cli(data, ['guardian', 'verify']),
      cli(data, ['guardian', 'verify', first.anchor_id!]),
      cli(data, ['guardian', 'upgrade']),
    ]);
    for (const result of [latest, firstAnchor]) {
      const report = output<AnchorVerification>(result);
      expect(report.ok).toBe(true);
      const ots = report.checks.find((c) => c.check === 'backend:ots');
      expect(ots).toMatchObject({ ok: true, final: true });
      expect(ots?.detail).toMatch(
        /^OpenTimestamps: Bitcoin block 840000 attestation \(commitment [0-9a-f]{64}\)/,
      );
    }
    expect(output<unknown[]>(again)).toEqual([]);
  });

  it('anchor-status reports the upgraded OpenTimestamps anchor as confirmed', async () => {
    const rows = output<BackendStatus[]>(await cli(data, ['guardian', 'anchor-status']));
    const upgraded = ofType(guardianReceipts(data), 'anchor_upgrade').map((r) => r.body.anchor_id);
    const ots = rows.find((r) => r.backend === 'ots')!;
    expect(upgraded).toContain(ots.last_anchor);
    expect(ots.status).toBe('confirmed');
  });
});

describe('tampering after an anchor', () => {
  it('an amount edited in place: exit 4, anchor_divergence naming observability, nothing anchored; old bundles still verify', async () => {
    const data = freshData('tamper');
    await fillScroll(data, 3);
    const anchored = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']));
    const bundle = join(tmp.dir, 'before.json');
    const [proof, vkeyRun] = await Promise.all([
      cli(data, ['proof', 'observability', '0', '-o', bundle]),
      vmAsync(['vkey'], { data }),
    ]);
    expect(proof.status, proof.stderr).toBe(0);
    const vkey = vkeyRun.stdout.trim();
    const anchorsBefore = readdirSync(join(data, 'anchors'));
    const anchoredHead = anchored.heads.find((h) => h.scroll === 'observability')!;

    editLine(join(data, OBSERVABILITY_FILE), 2, changeAmount);
    const result = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']), 4);
    expect(result).toMatchObject({ outcome: 'diverged', anchor_id: null, successes: [], failures: [] });
    expect(result.divergences).toEqual([
      {
        scroll: 'observability',
        anchored_size: 3,
        current_size: 3,
        reason: expect.stringMatching(/LINE_CORRUPT: line 2 \(seq 1\)/),
        seq: expect.any(Number),
      },
    ]);

    const receipts = guardianReceipts(data);
    expect(ofType(receipts, 'anchor_divergence')).toEqual([
      expect.objectContaining({
        seq: result.divergences[0]!.seq,
        tags: expect.arrayContaining(['divergence', 'observability']),
        body: {
          scroll: 'observability',
          anchored_size: 3,
          current_size: 3,
          anchor_id: anchored.anchor_id,
          anchored_root: anchoredHead.root,
          reason: result.divergences[0]!.reason,
        },
      }),
    ]);
    expect(ofType(receipts, 'anchor_success').map((r) => r.body.anchor_id)).toEqual([anchored.anchor_id]);
    expect(readdirSync(join(data, 'anchors'))).toEqual(anchorsBefore);

    const [offline, verify] = await Promise.all([
      cli(undefined, ['verify-bundle', bundle, '--vkey', vkey]),
      cli(data, ['verify', 'observability']),
    ]);
    const verdict = output<{ ok: boolean; anchor: { id: string; evidence: Array<{ status: string }> } }>(
      offline,
    );
    expect(verdict.ok).toBe(true);
    expect(verdict.anchor.id).toBe(anchored.anchor_id);
    expect(verdict.anchor.evidence.map((e) => e.status)).toEqual(['ok']);
    const report = output<VerifyReport>(verify, 4);
    expect(report.ok).toBe(false);
    expect(report.scrolls[0]!.findings[0]).toMatchObject({
      code: 'LINE_CORRUPT',
      message: expect.stringContaining('line 2 (seq 1)'),
    });

    // Every later cycle stops at the same place: rewritten history is never anchored over.
    const again = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']), 4);
    expect(again.divergences.map((d) => d.scroll)).toEqual(['observability']);
    expect(ofType(guardianReceipts(data), 'anchor_success')).toHaveLength(1);
  });

  it('a truncated scroll: exit 4, a divergence with the anchored and the current size', async () => {
    const data = freshData('truncate');
    await fillScroll(data, 4);
    const anchored = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']));
    const file = join(data, OBSERVABILITY_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, `${lines.slice(0, 2).join('\n')}\n`);

    const result = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']), 4);
    expect(result.outcome).toBe('diverged');
    expect(result.divergences).toEqual([
      expect.objectContaining({ scroll: 'observability', anchored_size: 4, current_size: 2 }),
    ]);
    const [divergence] = ofType(guardianReceipts(data), 'anchor_divergence');
    expect(divergence?.body).toMatchObject({
      scroll: 'observability',
      anchored_size: 4,
      current_size: 2,
      anchor_id: anchored.anchor_id,
      reason: expect.stringContaining('truncated'),
    });
    expect(ofType(guardianReceipts(data), 'anchor_success')).toHaveLength(1);
  });

  it('guardian verify fails the head of a scroll edited in place after the anchor', async () => {
    const data = freshData('tamper-verify');
    await fillScroll(data, 3);
    output<CycleResult>(await cli(data, ['guardian', 'anchor-now']));
    editLine(join(data, OBSERVABILITY_FILE), 2, changeAmount);
    const report = output<AnchorVerification>(await cli(data, ['guardian', 'verify']), 4);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'scroll:observability')?.ok).toBe(false);
  });

  it('a cycle limited with --scroll does not make earlier anchored scrolls unchecked', async () => {
    const data = freshData('partial-scroll');
    await fillScroll(data, 3);
    output<CycleResult>(await cli(data, ['guardian', 'anchor-now']));
    output<CycleResult>(await cli(data, ['guardian', 'anchor-now', '--scroll', 'guardian']));
    editLine(join(data, OBSERVABILITY_FILE), 2, changeAmount);
    const result = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']), 4);
    expect(result.divergences.map((d) => d.scroll)).toEqual(['observability']);
  });
});

describe('drills and deployments under an anchor', () => {
  const PROMPT = 'IoT device bridging into OT network with weak detection';

  it('vm drills seal --anchor: the anchor made right after the seal covers the sealed receipt', async () => {
    const data = freshData('drills');
    const work = join(tmp.dir, 'drills-work');
    mkdirSync(work);
    const plan = output<{ contract: { id: string; stages: Array<{ id: string }> } }>(
      await cli(
        data,
        ['drills', 'plan', PROMPT, '--id', 'drill-anchored', '-o', 'drill.json', '--init'],
        work,
      ),
    );
    writeFileSync(join(work, 'findings.md'), '# findings\n');
    for (const stage of plan.contract.stages) {
      output(
        await cli(
          data,
          ['drills', 'complete-stage', stage.id, '--drill', 'drill-anchored', '--outputs', 'findings.md'],
          work,
        ),
      );
    }
    const sealed = output<{
      receipt: { seq: number; scroll?: string; type: string };
      anchor: { outcome: string; anchor_id: string; failures: number };
    }>(await cli(data, ['drills', 'seal', 'drill-anchored', '--anchor'], work));
    expect(sealed.anchor).toMatchObject({ outcome: 'anchored', failures: 0 });
    const statement = statementOf(data, sealed.anchor.anchor_id);
    const drills = statement.heads.find((h) => h.scroll === 'drills')!;
    expect(drills.size).toBeGreaterThan(sealed.receipt.seq);
    const lines = readFileSync(join(data, 'receipts/drills/drill_runs.jsonl'), 'utf8').trim().split('\n');
    expect(drills.size).toBe(lines.length);

    const report = output<AnchorVerification>(
      await cli(data, ['guardian', 'verify', sealed.anchor.anchor_id]),
    );
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.check === 'scroll:drills')?.detail).toBe(
      `size ${drills.size} is a prefix of the scroll now (${lines.length})`,
    );
  });

  it('vm remembrancer verify --full-chain: anchor skipped before any anchor, ok once anchor-now covered it', async () => {
    const data = freshData('remembrancer');
    const work = join(tmp.dir, 'remembrancer-work');
    mkdirSync(work);
    writeFileSync(join(work, 'app.tar'), 'api build 1.0.0\n');
    writeFileSync(join(work, 'build.log'), 'ci: green\n');
    const recorded = output<{ receipt: { seq: number } }>(
      await cli(
        data,
        [
          'remembrancer',
          'record',
          '--component',
          'api',
          '--version',
          '1.0.0',
          '--artifact',
          'app.tar',
          '--evidence',
          'build.log',
        ],
        work,
      ),
    );
    type Verdicts = {
      ok: boolean;
      deployments: Array<{ checks: Array<{ check: string; status: string; detail: string }> }>;
    };
    const anchorCheck = (v: Verdicts) => v.deployments[0]!.checks.find((c) => c.check === 'anchor');

    const before = output<Verdicts>(
      await cli(data, ['remembrancer', 'verify', 'app.tar', '--full-chain'], work),
    );
    expect(before.ok).toBe(true);
    expect(anchorCheck(before)).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining(`no anchor covers seq ${recorded.receipt.seq} yet`),
    });

    const cycle = output<CycleResult>(await cli(data, ['guardian', 'anchor-now']));
    const after = output<Verdicts>(
      await cli(data, ['remembrancer', 'verify', 'app.tar', '--full-chain'], work),
    );
    expect(after.ok).toBe(true);
    expect(anchorCheck(after)).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(
        `anchor ${cycle.anchor_id} covers seq ${recorded.receipt.seq}: signed by`,
      ),
    });
    for (const check of after.deployments[0]!.checks)
      expect(['ok', 'skipped'], check.check).toContain(check.status);
  });
});

describe('vm serve anchors on its schedule and over HTTP', () => {
  let data: string;
  let server: RunningServer | undefined;

  afterAll(async () => {
    await server?.stop();
  });

  it('interval = "1s": anchors without a request; anchor-status, anchor-now (401/403/200) and the age metric', async () => {
    data = freshData('serve');
    appendFileSync(join(data, 'vaultmesh.toml'), '\n[guardian]\ninterval = "1s"\nlocal = true\n');
    const [storage, anchor] = await Promise.all([
      createToken(data, ['storage'], { subject: 'writer' }),
      createToken(data, ['anchor'], { subject: 'anchorer' }),
    ]);
    server = await startServer(data);

    const successes = (): Receipt[] => {
      try {
        return ofType(guardianReceipts(data), 'anchor_success');
      } catch {
        return []; // a line being written
      }
    };
    const deadline = Date.now() + 8000;
    while (successes().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const scheduled = successes();
    expect(scheduled.length, server.stderr()).toBeGreaterThanOrEqual(2);
    expect(new Set(scheduled.map((r) => r.body.anchor_id)).size).toBe(scheduled.length);
    for (const r of scheduled) expect(r.body.backend).toBe('local');

    const status = await fetch(`${server.url}/guardian/anchor-status`);
    expect(status.status).toBe(200);
    const rows = (await status.json()) as BackendStatus[];
    expect(rows).toEqual([
      expect.objectContaining({
        backend: 'local',
        kind: 'local',
        stale: false,
        last_anchor: expect.any(String),
      }),
    ]);

    const post = (token?: string) =>
      fetch(`${server!.url}/guardian/anchor-now`, {
        method: 'POST',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      });
    const [anonymous, wrongGrant] = await Promise.all([post(), post(storage.token)]);
    expect(anonymous.status).toBe(401);
    expect(wrongGrant.status).toBe(403);
    const known = new Set(successes().map((r) => r.body.anchor_id));
    const granted = await post(anchor.token);
    expect(granted.status).toBe(200);
    const cycle = (await granted.json()) as CycleResult;
    expect(cycle.outcome).toBe('anchored');
    expect(known.has(cycle.anchor_id)).toBe(false);
    expect(existsSync(join(data, 'anchors', cycle.anchor_id!, 'statement.json'))).toBe(true);
    expect(successes().map((r) => r.body.anchor_id)).toContain(cycle.anchor_id);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^vaultmesh_anchor_age_seconds\{backend="local"\} \d+(\.\d+)?$/m);
  });
});

describe('configuration mistakes are refused by name, before anything is written', () => {
  const refused = async (data: string, args: readonly string[] = []) => {
    const before = readFileSync(join(data, GUARDIAN_FILE), 'utf8');
    const result = await cli(data, ['guardian', 'anchor-now', ...args]);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(readFileSync(join(data, GUARDIAN_FILE), 'utf8')).toBe(before);
    expect(existsSync(join(data, 'anchors'))).toBe(false);
    return jsonError(result);
  };

  it('an rfc3161 entry without url, two backends with one name, an unknown --backend', async () => {
    const noUrl = freshData('config-no-url');
    appendFileSync(
      join(noUrl, 'vaultmesh.toml'),
      '\n[guardian]\n\n[[guardian.rfc3161]]\nname = "tsa"\nca_cert_path = "ca.pem"\n',
    );
    const twice = freshData('config-twice');
    appendFileSync(
      join(twice, 'vaultmesh.toml'),
      '\n[guardian]\nlocal = true\n\n[[guardian.ots]]\nname = "local"\ncalendars = ["http://127.0.0.1:9/"]\n',
    );
    const unknown = freshData('config-unknown');
    appendFileSync(
      join(unknown, 'vaultmesh.toml'),
      '\n[guardian]\n\n[[guardian.ots]]\nname = "cal"\ncalendars = ["http://127.0.0.1:9/"]\n',
    );

    const [a, b, c] = await Promise.all([
      refused(noUrl),
      refused(twice),
      refused(unknown, ['--backend', 'nope']),
    ]);
    expect(a).toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringContaining('guardian.rfc3161.0.url'),
      evidence: { key: 'guardian.rfc3161.0.url' },
    });
    expect(a.message).toContain(join(noUrl, 'vaultmesh.toml'));
    expect(b).toMatchObject({ code: 'INVALID_CONFIG', message: 'two guardian backends are named "local"' });
    expect(c).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'no guardian backend named "nope"',
      hint: 'configured: local, cal',
    });
  });
});
