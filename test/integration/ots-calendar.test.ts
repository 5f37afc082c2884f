/**
 * The OpenTimestamps backend against calendar servers running in the test on 127.0.0.1, answering
 * as opentimestamps-server (otsserver/rpc.py, calendar.py) does:
 *
 * - `POST /digest`: the submitted commitment, appended with a server nonce and hashed (the
 *   aggregator's nonce_timestamp), prepended with a 4-byte time index and appended with an 8-byte
 *   MAC (Calendar.submit), then a PendingAttestation naming the calendar's own URL;
 * - `GET /timestamp/<hex>`: 404 until the test "mines", then the path from that commitment through
 *   a Bitcoin transaction and a merkle branch to a BitcoinBlockHeaderAttestation.
 *
 * The answers are assembled byte by byte here, with node:crypto, not with the code under test.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { VaultMeshError } from '../../src/core/errors.js';
import { allAttestations, parseDetachedTimestamp } from '../../src/core/ots.js';
import type { EvidenceFile } from '../../src/engines/guardian/backend.js';
import { createOtsBackend, otsConfigSchema } from '../../src/engines/guardian/backends/ots.js';
import { closeCalendars, downUrl, startCalendar } from '../helpers/calendar.js';

const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

afterEach(closeCalendars);

function backend(calendars: string[], options: { timeout_ms?: number; min_calendars?: number } = {}) {
  return createOtsBackend(otsConfigSchema.parse({ name: 'ots-test', calendars, ...options }));
}

const signal = () => new AbortController().signal;
const digestOf = (text: string) => new Uint8Array(sha256(Buffer.from(text)));

async function rejection(promise: Promise<unknown>): Promise<VaultMeshError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof VaultMeshError) return e;
    throw e;
  }
  throw new Error('expected a VaultMeshError');
}

/** The commitment each pending attestation of `files` names, by calendar URI. */
function pendingCommitments(files: readonly EvidenceFile[]): Map<string, string> {
  const file = parseDetachedTimestamp(files[0]!.bytes);
  const out = new Map<string, string>();
  for (const { msg, attestation } of allAttestations(file.timestamp)) {
    if (attestation.kind === 'pending') out.set(attestation.uri, toHex(msg));
  }
  return out;
}

describe('OpenTimestamps backend against calendars', () => {
  it('submits a blinded commitment, stays pending until mined, then names the block and merkle root', async () => {
    const calendar = await startCalendar();
    const down = await downUrl();
    const ots = backend([calendar.url, down]);
    expect(ots.kind).toBe('ots');
    expect(ots.endpoint).toBe(calendar.url);
    const digest = digestOf('combined root');

    const evidence = await ots.submit({ digest, signal: signal() });
    expect(evidence.status).toBe('pending');
    expect(evidence.summary.calendars).toEqual([calendar.url]);
    expect(evidence.summary.failed).toMatchObject([{ url: down, code: 'IO_ERROR' }]);
    expect(evidence.summary.pending).toBe(1);
    expect(evidence.files.map((f) => f.name)).toEqual(['anchor.ots']);

    // What the calendar saw: 32 bytes that are not the digest but sha256(digest || nonce).
    const [post] = calendar.requests;
    expect(post).toMatchObject({ method: 'POST', path: '/digest' });
    expect(post!.headers.accept).toBe('application/vnd.opentimestamps.v1');
    expect(post!.body).toHaveLength(32);
    expect(toHex(post!.body)).not.toBe(toHex(digest));
    const file = parseDetachedTimestamp(evidence.files[0]!.bytes);
    expect(file.hashOp).toBe('sha256');
    expect(toHex(file.timestamp.msg)).toBe(toHex(digest));
    const [nonceEdge] = file.timestamp.ops;
    expect(nonceEdge!.op.kind).toBe('append');
    const nonce = Buffer.from((nonceEdge!.op as { arg: Uint8Array }).arg);
    expect(nonce).toHaveLength(16);
    expect(toHex(sha256(Buffer.from(digest), nonce))).toBe(toHex(post!.body));

    const pending = await ots.verify(digest, evidence.files, signal());
    expect(pending).toEqual({ final: false, detail: `OpenTimestamps: pending at ${calendar.url}` });

    expect(await ots.upgrade!(digest, evidence.files, signal())).toBeUndefined();
    const commitment = pendingCommitments(evidence.files).get(calendar.url)!;
    expect(calendar.requests.at(-1)).toMatchObject({ method: 'GET', path: `/timestamp/${commitment}` });

    calendar.mine(840_000);
    const upgraded = await ots.upgrade!(digest, evidence.files, signal());
    expect(upgraded?.status).toBe('confirmed');
    expect(upgraded?.summary.bitcoin_heights).toEqual([840_000]);
    const root = calendar.merkleRoot(commitment);
    const verified = await ots.verify(digest, upgraded!.files, signal());
    expect(verified.final).toBe(true);
    expect(verified.time).toBeUndefined();
    expect(verified.detail).toBe(
      `OpenTimestamps: Bitcoin block 840000 attestation (commitment ${root.toString('hex')}) — check the block header's merkle root equals ${Buffer.from(root).reverse().toString('hex')}`,
    );
    // Complete: nothing more to ask for.
    const asked = calendar.requests.length;
    expect(await ots.upgrade!(digest, upgraded!.files, signal())).toBeUndefined();
    expect(calendar.requests).toHaveLength(asked);
  });

  it('needs min_calendars answers; with two, upgrades as soon as one is mined', async () => {
    const [a, b] = [await startCalendar(), await startCalendar()];
    const ots = backend([a.url, b.url], { min_calendars: 2 });
    const digest = digestOf('two calendars');
    const evidence = await ots.submit({ digest, signal: signal() });
    expect(evidence.summary).toMatchObject({ calendars: [a.url, b.url], failed: [], pending: 2 });
    expect([...pendingCommitments(evidence.files).keys()].sort()).toEqual([a.url, b.url].sort());
    expect((await ots.verify(digest, evidence.files, signal())).detail).toBe(
      `OpenTimestamps: pending at ${[a.url, b.url].sort().join(', ')}`,
    );

    b.mine(123);
    const upgraded = await ots.upgrade!(digest, evidence.files, signal());
    expect(upgraded?.status).toBe('confirmed');
    expect(upgraded?.summary.pending).toBe(2);
    const verified = await ots.verify(digest, upgraded!.files, signal());
    expect(verified.final).toBe(true);
    expect(verified.detail).toMatch(/^OpenTimestamps: Bitcoin block 123 attestation/);

    const down = await downUrl();
    const strict = backend([a.url, down], { min_calendars: 2 });
    const error = await rejection(strict.submit({ digest, signal: signal() }));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/1 of 2 calendars accepted the digest, 2 needed/);
  });

  it('a calendar answering garbage or an HTTP error is listed as failed, not a crash', async () => {
    const [good, garbage, broken, huge] = [
      await startCalendar(),
      await startCalendar('garbage'),
      await startCalendar('http500'),
      await startCalendar('huge'),
    ];
    const ots = backend([garbage.url, broken.url, huge.url, good.url]);
    const evidence = await ots.submit({ digest: digestOf('garbage'), signal: signal() });
    expect(evidence.summary.calendars).toEqual([good.url]);
    expect(evidence.summary.failed).toMatchObject([
      {
        url: garbage.url,
        code: 'INVALID_ENCODING',
        error: `the calendar at ${garbage.url}/digest answered OpenTimestamps timestamp: unknown operation tag 0x6e at offset 0`,
      },
      { url: broken.url, code: 'IO_ERROR', error: `the calendar at ${broken.url}/digest answered HTTP 500` },
      {
        url: huge.url,
        code: 'IO_ERROR',
        error: `the calendar at ${huge.url}/digest answered more than 10000 bytes`,
      },
    ]);
  });

  it('all calendars down is IO_ERROR naming every one', async () => {
    const [a, b] = [await downUrl(), await downUrl()];
    const error = await rejection(backend([a, b]).submit({ digest: digestOf('down'), signal: signal() }));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toContain(`${a}/digest`);
    expect(error.message).toContain(`${b}/digest`);
    expect(error.evidence?.failed).toHaveLength(2);
  });

  it('honours the timeout, per calendar and for the whole submission', async () => {
    const [good, hanging] = [await startCalendar(), await startCalendar('hang')];
    const started = Date.now();
    const evidence = await backend([hanging.url, good.url], { timeout_ms: 300 }).submit({
      digest: digestOf('slow'),
      signal: signal(),
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(evidence.summary.failed).toMatchObject([
      {
        url: hanging.url,
        code: 'IO_ERROR',
        error: `the calendar at ${hanging.url}/digest did not answer within 300 ms`,
      },
    ]);

    const error = await rejection(
      backend([hanging.url], { timeout_ms: 300 }).submit({ digest: digestOf('slow'), signal: signal() }),
    );
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/did not answer within 300 ms/);

    const aborted = await rejection(
      backend([hanging.url]).submit({ digest: digestOf('slow'), signal: AbortSignal.abort() }),
    );
    expect(aborted.message).toMatch(/was aborted/);
  });

  it('upgrade: unreachable calendars are IO_ERROR, foreign pending URIs are not followed', async () => {
    const calendar = await startCalendar();
    const ots = backend([calendar.url]);
    const digest = digestOf('upgrade');
    const evidence = await ots.submit({ digest, signal: signal() });
    await calendar.close();
    const error = await rejection(ots.upgrade!(digest, evidence.files, signal()));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/no calendar answered/);

    const foreign = await startCalendar('foreign-uri');
    const other = backend([foreign.url]);
    const stamped = await other.submit({ digest, signal: signal() });
    const asked = foreign.requests.length;
    expect(await other.upgrade!(digest, stamped.files, signal())).toBeUndefined();
    expect(foreign.requests).toHaveLength(asked);
  });

  it('verify refuses evidence that does not commit to the digest', async () => {
    const calendar = await startCalendar();
    const ots = backend([calendar.url]);
    const digest = digestOf('verify');
    const evidence = await ots.submit({ digest, signal: signal() });

    const other = await rejection(ots.verify(digestOf('another root'), evidence.files, signal()));
    expect(other.code).toBe('BUNDLE_INVALID');
    expect(other.message).toContain(toHex(digestOf('another root')));

    expect((await rejection(ots.verify(digest, [], signal()))).code).toBe('BUNDLE_INVALID');
    const corrupt = evidence.files[0]!.bytes.slice(0, -3);
    expect(
      (await rejection(ots.verify(digest, [{ name: 'anchor.ots', bytes: corrupt }], signal()))).code,
    ).toBe('INVALID_ENCODING');
    expect((await rejection(ots.submit({ digest: new Uint8Array(31), signal: signal() }))).code).toBe(
      'INVALID_ARGUMENT',
    );
  });
});

describe('otsConfigSchema', () => {
  it('fills defaults and strips trailing slashes', () => {
    expect(otsConfigSchema.parse({ name: 'ots', calendars: ['https://a.pool.opentimestamps.org/'] })).toEqual(
      {
        name: 'ots',
        calendars: ['https://a.pool.opentimestamps.org'],
        timeout_ms: 10_000,
        min_calendars: 1,
      },
    );
  });

  it('refuses bad names, URLs, counts and unknown keys', () => {
    const base = { name: 'ots', calendars: ['https://a.example'] };
    for (const bad of [
      { ...base, name: 'OTS' },
      { ...base, calendars: [] },
      { ...base, calendars: ['ftp://a.example'] },
      { ...base, calendars: ['https://a.example/?x=1'] },
      { ...base, calendars: ['https://user:pw@a.example'] },
      { ...base, calendars: Array.from({ length: 9 }, (_, i) => `https://c${i}.example`) },
      { ...base, calendars: ['https://a.example', 'https://a.example/'] },
      { ...base, min_calendars: 2 },
      { ...base, timeout_ms: 10 },
      { ...base, extra: true },
    ]) {
      expect(otsConfigSchema.safeParse(bad).success).toBe(false);
    }
  });
});
