/**
 * The OpenTimestamps anchor: the digest goes to public calendars, which aggregate it into a Bitcoin
 * transaction within hours. Until then the proof is a calendar's promise (pending); `upgrade` asks
 * the calendars again and merges the path to the Bitcoin block header into `anchor.ots`, a standard
 * detached timestamp that the reference client (`ots verify`) reads too.
 *
 * Verification is offline: the ops from the digest to each attestation are recomputed. Checking a
 * Bitcoin attestation to the end needs the block header at that height, which needs a Bitcoin node;
 * the detail names the merkle root that header must carry instead of pretending to have looked.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { concatBytes, equalBytes, toHex } from '../../../core/bytes.js';
import type { JsonValue } from '../../../core/canonical.js';
import { VaultMeshError } from '../../../core/errors.js';
import {
  addOp,
  allAttestations,
  mergeTimestamps,
  newDetachedTimestamp,
  parseDetachedTimestamp,
  parseTimestamp,
  serializeDetachedTimestamp,
  type Attestation,
  type DetachedTimestampFile,
  type Timestamp,
} from '../../../core/ots.js';
import type { AnchorBackend, AnchorEvidence, EvidenceFile, VerifiedAnchor } from '../backend.js';

const OTS_FILE = 'anchor.ots';
/** The reference client reads at most this much of a calendar's answer. */
const MAX_RESPONSE_BYTES = 10_000;
/**
 * A proof normally waits on one commitment per calendar; a calendar answering with hundreds of
 * pending branches must not turn one upgrade into hundreds of requests.
 */
const MAX_UPGRADE_REQUESTS = 32;
const GET_HEADERS = { accept: 'application/vnd.opentimestamps.v1', 'user-agent': 'VaultMesh' };
const POST_HEADERS = {
  ...GET_HEADERS,
  // What both reference clients send with the raw digest; calendars read only Content-Length.
  'content-type': 'application/x-www-form-urlencoded',
};
/**
 * Calendars the reference client follows pending attestations to by default. Public pools answer
 * with these calendars' URIs, not their own; any other URI must share a configured calendar's origin.
 */
const DEFAULT_CALENDAR_HOSTS = /^[^/]+\.calendar\.(?:opentimestamps\.org|eternitywall\.com|catallaxy\.com)$/;

const calendarUrl = z
  .string()
  .max(1000)
  .refine((text) => {
    try {
      const url = new URL(text);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.search === '' &&
        url.hash === '' &&
        url.username === '' &&
        url.password === ''
      );
    } catch {
      return false;
    }
  }, 'an http:// or https:// URL without query, fragment or credentials')
  // The calendar API paths are appended to the URL as the reference does: `<url>/digest`.
  .transform((text) => text.replace(/\/+$/, ''));

export const otsConfigSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and - (up to 32 characters)'),
    calendars: z.array(calendarUrl).min(1).max(8),
    timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
    /** Calendars that must accept the digest for the submission to count. */
    min_calendars: z.number().int().min(1).max(8).default(1),
  })
  .superRefine((config, ctx) => {
    if (new Set(config.calendars).size !== config.calendars.length) {
      ctx.addIssue({ code: 'custom', path: ['calendars'], message: 'a calendar is listed twice' });
    }
    if (config.min_calendars > config.calendars.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_calendars'],
        message: `at most the number of calendars (${config.calendars.length})`,
      });
    }
  });

export type OtsConfig = z.output<typeof otsConfigSchema>;

/** A type alias, not an interface, so that failures are JsonValue as they are. */
type Failure = { url: string; code: string; error: string };

function failureOf(url: string, cause: unknown): Failure {
  return cause instanceof VaultMeshError
    ? { url, code: cause.code, error: cause.message }
    : { url, code: 'IO_ERROR', error: String(cause) };
}

function httpError(url: string, status: number): VaultMeshError {
  return new VaultMeshError('IO_ERROR', `the calendar at ${url} answered HTTP ${status}`);
}

/** The calendar's timestamp for `msg`; a malformed one is INVALID_ENCODING naming the calendar. */
function parseAnswer(body: Uint8Array, msg: Uint8Array, url: string): Timestamp {
  try {
    return parseTimestamp(body, msg);
  } catch (cause) {
    if (!(cause instanceof VaultMeshError)) throw cause;
    throw new VaultMeshError('INVALID_ENCODING', `the calendar at ${url} answered ${cause.message}`, {
      cause,
      evidence: cause.evidence,
    });
  }
}

/** fetch says only "fetch failed"; the cause says why (refused, DNS, unexpected redirect). */
function networkReason(cause: unknown): string {
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  return inner instanceof Error ? inner.message : String(inner);
}

/** Bitcoin shows hashes byte-reversed: this is how explorers and `getblockheader` print the merkle root. */
function displayOrder(msg: Uint8Array): string {
  return toHex(msg.slice().reverse());
}

function pendingUris(ts: Timestamp): string[] {
  const uris = new Set<string>();
  for (const { attestation } of allAttestations(ts))
    if (attestation.kind === 'pending') uris.add(attestation.uri);
  return [...uris].sort();
}

function bitcoinAttestations(ts: Timestamp): Array<{ msg: Uint8Array; height: number }> {
  const found: Array<{ msg: Uint8Array; height: number }> = [];
  for (const { msg, attestation } of allAttestations(ts)) {
    if (attestation.kind === 'bitcoin') found.push({ msg, height: attestation.height });
  }
  return found.sort((a, b) => a.height - b.height);
}

function evidenceOf(file: DetachedTimestampFile, summary: Record<string, JsonValue>): AnchorEvidence {
  const bitcoin = bitcoinAttestations(file.timestamp);
  return {
    // The reference client calls a timestamp complete once it has a Bitcoin attestation.
    status: bitcoin.length > 0 ? 'confirmed' : 'pending',
    files: [{ name: OTS_FILE, bytes: serializeDetachedTimestamp(file) }],
    summary: {
      ...summary,
      pending: pendingUris(file.timestamp).length,
      bitcoin_heights: [...new Set(bitcoin.map((b) => b.height))],
    },
  };
}

/** `anchor.ots` parsed and checked to be a SHA-256 timestamp of exactly `digest`. */
function readEvidence(digest: Uint8Array, files: readonly EvidenceFile[]): DetachedTimestampFile {
  const evidence = files.find((f) => f.name === OTS_FILE);
  if (evidence === undefined) {
    throw new VaultMeshError('BUNDLE_INVALID', `the OpenTimestamps evidence has no ${OTS_FILE}`, {
      evidence: { files: files.map((f) => f.name) },
    });
  }
  const file = parseDetachedTimestamp(evidence.bytes);
  if (file.hashOp !== 'sha256' || !equalBytes(file.timestamp.msg, digest)) {
    throw new VaultMeshError(
      'BUNDLE_INVALID',
      `${OTS_FILE} timestamps ${file.hashOp}:${toHex(file.timestamp.msg)}, not the anchored digest sha256:${toHex(digest)}`,
      { evidence: { expected: toHex(digest), actual: toHex(file.timestamp.msg), hash_op: file.hashOp } },
    );
  }
  return file;
}

export function createOtsBackend(config: OtsConfig): AnchorBackend {
  const configuredOrigins = new Set(config.calendars.map((url) => new URL(url).origin));

  /** Only calendars the operator chose, or the reference's defaults, are asked about a commitment. */
  function mayFollow(uri: string): boolean {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return false;
    }
    if (configuredOrigins.has(url.origin)) return true;
    return (
      url.protocol === 'https:' &&
      url.port === '' &&
      url.pathname === '/' &&
      DEFAULT_CALENDAR_HOSTS.test(url.hostname)
    );
  }

  /** The status and, for 200, the body; network failures and timeouts are IO_ERROR. */
  async function request(
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: Uint8Array },
    signal: AbortSignal,
  ): Promise<{ status: number; body: Uint8Array }> {
    const timeout = AbortSignal.timeout(config.timeout_ms);
    try {
      const response = await fetch(url, {
        ...init,
        signal: AbortSignal.any([signal, timeout]),
        // A redirect could lead past the calendars this backend agreed to talk to.
        redirect: 'error',
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return { status: response.status, body: new Uint8Array() };
      }
      return { status: 200, body: await readCapped(response, url) };
    } catch (cause) {
      if (cause instanceof VaultMeshError) throw cause;
      const message = timeout.aborted
        ? `the calendar at ${url} did not answer within ${config.timeout_ms} ms`
        : signal.aborted
          ? `the request to the calendar at ${url} was aborted`
          : `cannot reach the calendar at ${url}: ${networkReason(cause)}`;
      throw new VaultMeshError('IO_ERROR', message, { cause });
    }
  }

  async function submit(digest: Uint8Array, signal: AbortSignal): Promise<AnchorEvidence> {
    if (digest.length !== 32) {
      throw new VaultMeshError('INVALID_ARGUMENT', `an anchor digest is 32 bytes, got ${digest.length}`);
    }
    const file = newDetachedTimestamp(digest);
    // As `ots stamp` does: the calendars see sha256(digest || nonce), so they learn nothing about the digest.
    const commitment = addOp(addOp(file.timestamp, { kind: 'append', arg: randomBytes(16) }), {
      kind: 'sha256',
    });
    const answers = await Promise.allSettled(
      config.calendars.map(async (url) => {
        const target = `${url}/digest`;
        const answer = await request(
          target,
          { method: 'POST', headers: POST_HEADERS, body: commitment.msg },
          signal,
        );
        if (answer.status !== 200) throw httpError(target, answer.status);
        return parseAnswer(answer.body, commitment.msg, target);
      }),
    );
    const ok: string[] = [];
    const failed: Failure[] = [];
    answers.forEach((answer, i) => {
      const url = config.calendars[i]!;
      if (answer.status === 'fulfilled') {
        mergeTimestamps(commitment, answer.value);
        ok.push(url);
      } else {
        failed.push(failureOf(url, answer.reason));
      }
    });
    if (ok.length < config.min_calendars) {
      throw new VaultMeshError(
        'IO_ERROR',
        `OpenTimestamps: ${ok.length} of ${config.calendars.length} calendars accepted the digest, ${config.min_calendars} needed: ${failed.map((f) => f.error).join('; ')}`,
        {
          hint: 'check the network and the calendar URLs, or lower min_calendars',
          evidence: { accepted: ok, failed },
        },
      );
    }
    return evidenceOf(file, { calendars: ok, failed });
  }

  async function upgrade(
    digest: Uint8Array,
    files: readonly EvidenceFile[],
    signal: AbortSignal,
  ): Promise<AnchorEvidence | undefined> {
    const file = readEvidence(digest, files);
    if (bitcoinAttestations(file.timestamp).length > 0) return undefined;
    const before = serializeDetachedTimestamp(file);
    // Collected first: merging answers adds nodes the walk must not visit.
    const asks: Array<{ node: Timestamp; uri: string }> = [];
    const skipped = new Set<string>();
    const walk = [file.timestamp];
    while (walk.length > 0) {
      const node = walk.pop()!;
      for (const a of node.attestations) {
        if (a.kind !== 'pending') continue;
        if (mayFollow(a.uri) && asks.length < MAX_UPGRADE_REQUESTS) asks.push({ node, uri: a.uri });
        else skipped.add(a.uri);
      }
      walk.push(...node.ops.map((edge) => edge.next));
    }
    const answers = await Promise.allSettled(
      asks.map(async ({ node, uri }) => {
        const target = `${uri}/timestamp/${toHex(node.msg)}`;
        const answer = await request(target, { method: 'GET', headers: GET_HEADERS }, signal);
        // 404: the calendar has not put the commitment in a block yet.
        if (answer.status === 404) return undefined;
        if (answer.status !== 200) throw httpError(target, answer.status);
        return parseAnswer(answer.body, node.msg, target);
      }),
    );
    const answered: string[] = [];
    const failed: Failure[] = [];
    answers.forEach((answer, i) => {
      const { node, uri } = asks[i]!;
      if (answer.status === 'rejected') {
        failed.push(failureOf(uri, answer.reason));
        return;
      }
      answered.push(uri);
      if (answer.value !== undefined) mergeTimestamps(node, answer.value);
    });
    if (asks.length > 0 && answered.length === 0) {
      throw new VaultMeshError(
        'IO_ERROR',
        `OpenTimestamps: no calendar answered about the pending commitments: ${failed.map((f) => f.error).join('; ')}`,
        { hint: 'the proof stays pending; try again later', evidence: { failed } },
      );
    }
    const after = serializeDetachedTimestamp(file);
    if (equalBytes(before, after)) return undefined;
    return evidenceOf(file, {
      calendars: [...new Set(answered)].sort(),
      failed,
      skipped: [...skipped].sort(),
    });
  }

  async function verify(digest: Uint8Array, files: readonly EvidenceFile[]): Promise<VerifiedAnchor> {
    const file = readEvidence(digest, files);
    const bitcoin = bitcoinAttestations(file.timestamp);
    if (bitcoin.length > 0) {
      const checks = bitcoin.map(
        ({ msg, height }) =>
          `Bitcoin block ${height} attestation (commitment ${toHex(msg)}) — check the block header's merkle root equals ${displayOrder(msg)}`,
      );
      return { final: true, detail: `OpenTimestamps: ${checks.join('; ')}` };
    }
    const pending = pendingUris(file.timestamp);
    if (pending.length > 0)
      return { final: false, detail: `OpenTimestamps: pending at ${pending.join(', ')}` };
    const kinds = new Set<Attestation['kind']>();
    for (const { attestation } of allAttestations(file.timestamp)) kinds.add(attestation.kind);
    return {
      final: false,
      detail: `OpenTimestamps: no Bitcoin or pending attestation, only ${[...kinds].sort().join(', ')}`,
    };
  }

  return {
    kind: 'ots',
    name: config.name,
    endpoint: config.calendars[0]!,
    submit: (request) => submit(request.digest, request.signal),
    verify: (digest, files) => verify(digest, files),
    upgrade,
  };
}

/** The body, refusing more than MAX_RESPONSE_BYTES without reading it all. */
async function readCapped(response: Response, url: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (response.body !== null) {
    let length = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > MAX_RESPONSE_BYTES) {
        await reader.cancel();
        throw new VaultMeshError(
          'IO_ERROR',
          `the calendar at ${url} answered more than ${MAX_RESPONSE_BYTES} bytes`,
        );
      }
      chunks.push(value);
    }
  }
  return concatBytes(...chunks);
}
