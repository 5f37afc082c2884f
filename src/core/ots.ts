/**
 * OpenTimestamps proofs: the `.ots` detached timestamp file and the timestamp tree inside it, read
 * and written byte for byte as the reference implementation (python-opentimestamps) does.
 *
 * A timestamp is a tree. Each node holds a message; each edge is an operation (append, prepend, a
 * hash, ...) taking the parent's message to the child's; the leaves are attestations saying that a
 * message existed at some time: a calendar's promise (pending) or a block header's merkle root.
 * A file holds the header magic, a major version, the hash op and digest of the file it stamps, then
 * the tree rooted at that digest.
 *
 * Pure: no I/O. Limits follow the reference (4096-byte messages, 8192-byte attestation payloads,
 * 256 levels of nesting) so hostile input cannot exhaust memory or the stack; every parse error is
 * INVALID_ENCODING naming the byte offset where the input went wrong.
 */
import { ripemd160, sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { concatAll, concatBytes, equalBytes, fromHex, toHex } from './bytes.js';
import { VaultMeshError } from './errors.js';

/** Shown by a hex dump as text, yet identified as binary data by `file` (reference comment). */
export const HEADER_MAGIC = fromHex('004f70656e54696d657374616d7073000050726f6f6600bf89e2e884e89294');
const MAJOR_VERSION = 1;

/**
 * Longest message an op may take or make: bounds the memory a verifier needs on any one path, and
 * is enough for the Bitcoin transactions calendars commit through.
 */
export const MAX_MSG_LENGTH = 4096;
const MAX_PAYLOAD_SIZE = 8192;
const MAX_URI_LENGTH = 1000;
/** The reference refuses the 256th nested op; recursion stays shallow whatever the input. */
const MAX_DEPTH = 256;
/**
 * Messages materialised by one parse, all nodes together. The reference has no such bound; without
 * it a few bytes per fork (append one byte to a 4 KiB message) could make a small file hold hundreds
 * of times its size in memory. Real proofs are a few kilobytes.
 */
const MAX_TREE_BYTES = 16 * 1024 * 1024;

export type CryptOpKind = 'sha1' | 'ripemd160' | 'sha256' | 'keccak256';

export type Op =
  { kind: 'append' | 'prepend'; arg: Uint8Array } | { kind: 'reverse' | 'hexlify' | CryptOpKind };

export type Attestation =
  | { kind: 'pending'; uri: string }
  | { kind: 'bitcoin' | 'litecoin' | 'ethereum'; height: number }
  /** A notary this code does not know, kept byte for byte so that rewriting the file loses nothing. */
  | { kind: 'unknown'; tag: Uint8Array; payload: Uint8Array };

export interface Timestamp {
  msg: Uint8Array;
  /** A set: no two equal attestations. */
  attestations: Attestation[];
  /** A map from op to the timestamp of its result: no two equal ops. */
  ops: Array<{ op: Op; next: Timestamp }>;
}

export interface DetachedTimestampFile {
  /** How the stamped file was hashed; `timestamp.msg` is that digest. */
  hashOp: CryptOpKind;
  timestamp: Timestamp;
}

const OP_TAGS = {
  sha1: 0x02,
  ripemd160: 0x03,
  sha256: 0x08,
  keccak256: 0x67,
  append: 0xf0,
  prepend: 0xf1,
  reverse: 0xf2,
  hexlify: 0xf3,
} as const satisfies Record<Op['kind'], number>;

const OP_BY_TAG = new Map<number, Op['kind']>(
  Object.entries(OP_TAGS).map(([kind, tag]) => [tag, kind as Op['kind']]),
);

export const DIGEST_LENGTHS: Readonly<Record<CryptOpKind, number>> = {
  sha1: 20,
  ripemd160: 20,
  sha256: 32,
  keccak256: 32,
};

function isCryptOp(kind: Op['kind']): kind is CryptOpKind {
  return kind in DIGEST_LENGTHS;
}

const HASHES: Record<CryptOpKind, (msg: Uint8Array) => Uint8Array> = {
  sha1: (m) => sha1(m),
  ripemd160: (m) => ripemd160(m),
  sha256: (m) => sha256(m),
  keccak256: (m) => keccak_256(m),
};

const FORK = 0xff;
const ATTESTATION = 0x00;

export const ATTESTATION_TAGS = {
  pending: fromHex('83dfe30d2ef90c8e'),
  bitcoin: fromHex('0588960d73d71901'),
  litecoin: fromHex('06869a0d73d71b45'),
  ethereum: fromHex('30fe8087b5c7ead7'),
} as const satisfies Record<Exclude<Attestation['kind'], 'unknown'>, Uint8Array>;

const KNOWN_ATTESTATIONS = Object.entries(ATTESTATION_TAGS) as Array<
  [Exclude<Attestation['kind'], 'unknown'>, Uint8Array]
>;

/** No query, fragment, percent-escape or login syntax: a calendar URI cannot smuggle anything. */
const URI_CHARS = /^[A-Za-z0-9._/:-]*$/;

// --- varuint ---

/** Unsigned LEB128, as the reference writes it (minimal: zero is one byte). */
export function encodeVaruint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `a varuint must be an integer from 0 to 2^53-1, got ${value}`,
    );
  }
  const out: number[] = [];
  let rest = value;
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    out.push(rest > 0 ? low | 0x80 : low);
  } while (rest > 0);
  return Uint8Array.from(out);
}

/** @throws VaultMeshError INVALID_ENCODING for truncated, non-minimal or oversized encodings. */
export function decodeVaruint(bytes: Uint8Array, offset = 0): { value: number; next: number } {
  const reader: Reader = new Reader(bytes, 'varuint');
  reader.offset = offset;
  const value = reader.varuint();
  return { value, next: reader.offset };
}

// --- ops ---

function opName(op: Op): string {
  return 'arg' in op ? `${op.kind} ${toHex(op.arg)}` : op.kind;
}

/** Why `op` cannot apply to `msg`, or undefined when it can. */
function inapplicable(op: Op, msg: Uint8Array): string | undefined {
  const maxMsg = op.kind === 'hexlify' ? MAX_MSG_LENGTH / 2 : MAX_MSG_LENGTH;
  if (msg.length > maxMsg) return `${op.kind} takes messages up to ${maxMsg} bytes, got ${msg.length}`;
  switch (op.kind) {
    case 'append':
    case 'prepend':
      if (op.arg.length === 0 || op.arg.length > MAX_MSG_LENGTH) {
        return `${op.kind} takes 1 to ${MAX_MSG_LENGTH} bytes, got ${op.arg.length}`;
      }
      if (msg.length + op.arg.length > MAX_MSG_LENGTH) {
        return `${op.kind} would make ${msg.length + op.arg.length} bytes, more than ${MAX_MSG_LENGTH}`;
      }
      return undefined;
    case 'reverse':
    case 'hexlify':
      // An empty result would let the commitment graph loop back on itself.
      return msg.length === 0 ? `${op.kind} of an empty message` : undefined;
    default:
      return undefined;
  }
}

function compute(op: Op, msg: Uint8Array): Uint8Array {
  switch (op.kind) {
    case 'append':
      return concatBytes(msg, op.arg);
    case 'prepend':
      return concatBytes(op.arg, msg);
    case 'reverse':
      return msg.slice().reverse();
    case 'hexlify':
      return new TextEncoder().encode(toHex(msg));
    default:
      return HASHES[op.kind](msg);
  }
}

/** @throws VaultMeshError INVALID_ARGUMENT when the op cannot apply (lengths, empty message). */
export function applyOp(op: Op, msg: Uint8Array): Uint8Array {
  const reason = inapplicable(op, msg);
  if (reason !== undefined) throw new VaultMeshError('INVALID_ARGUMENT', `cannot apply ${reason}`);
  return compute(op, msg);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The reference's order: by tag, then by argument bytes. */
function compareOps(a: Op, b: Op): number {
  const byTag = OP_TAGS[a.kind] - OP_TAGS[b.kind];
  if (byTag !== 0) return byTag;
  return 'arg' in a && 'arg' in b ? compareBytes(a.arg, b.arg) : 0;
}

function opEquals(a: Op, b: Op): boolean {
  return compareOps(a, b) === 0;
}

// --- attestations ---

function attestationTag(a: Attestation): Uint8Array {
  return a.kind === 'unknown' ? a.tag : ATTESTATION_TAGS[a.kind];
}

/**
 * The reference's order: by tag, then within a kind by URI, height, or payload. Heights compare as
 * numbers, not as their (non order-preserving) varuint bytes.
 */
function compareAttestations(a: Attestation, b: Attestation): number {
  const byTag = compareBytes(attestationTag(a), attestationTag(b));
  if (byTag !== 0) return byTag;
  if (a.kind === 'pending' && b.kind === 'pending') return a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0;
  if (a.kind === 'unknown' && b.kind === 'unknown') return compareBytes(a.payload, b.payload);
  if ('height' in a && 'height' in b) return a.height - b.height;
  return 0;
}

function attestationEquals(a: Attestation, b: Attestation): boolean {
  return a.kind === b.kind && compareAttestations(a, b) === 0;
}

function attestationPayload(a: Attestation): Uint8Array {
  switch (a.kind) {
    case 'pending': {
      if (a.uri.length > MAX_URI_LENGTH || !URI_CHARS.test(a.uri)) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `pending attestation URI ${JSON.stringify(a.uri.slice(0, 100))} is longer than ${MAX_URI_LENGTH} or has characters outside A-Z a-z 0-9 - . _ / :`,
        );
      }
      const uri = new TextEncoder().encode(a.uri);
      return concatBytes(encodeVaruint(uri.length), uri);
    }
    case 'unknown':
      if (a.tag.length !== 8 || KNOWN_ATTESTATIONS.some(([, tag]) => equalBytes(tag, a.tag))) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `an unknown attestation needs an 8-byte tag no known notary uses, got ${toHex(a.tag)}`,
        );
      }
      if (a.payload.length > MAX_PAYLOAD_SIZE) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `attestation payload of ${a.payload.length} bytes exceeds ${MAX_PAYLOAD_SIZE}`,
        );
      }
      return a.payload;
    default:
      return encodeVaruint(a.height);
  }
}

// --- the tree ---

/** @throws VaultMeshError INVALID_ARGUMENT for a message longer than MAX_MSG_LENGTH. */
export function newTimestamp(msg: Uint8Array): Timestamp {
  if (msg.length > MAX_MSG_LENGTH) {
    throw new VaultMeshError('INVALID_ARGUMENT', `a timestamp message is at most ${MAX_MSG_LENGTH} bytes`);
  }
  return { msg: msg.slice(), attestations: [], ops: [] };
}

/** The timestamp of `op` applied to `ts.msg`: the existing branch, or a new empty one. */
export function addOp(ts: Timestamp, op: Op): Timestamp {
  const existing = ts.ops.find((edge) => opEquals(edge.op, op));
  if (existing !== undefined) return existing.next;
  const next = newTimestamp(applyOp(op, ts.msg));
  ts.ops.push({ op: 'arg' in op ? { kind: op.kind, arg: op.arg.slice() } : { kind: op.kind }, next });
  return next;
}

function addAttestation(ts: Timestamp, attestation: Attestation): void {
  if (!ts.attestations.some((a) => attestationEquals(a, attestation))) ts.attestations.push(attestation);
}

/**
 * Adds every op and attestation of `from` to `into`, in place, so that a branch reached by walking a
 * tree (a pending calendar commitment) can be completed by the calendar's answer. Branches are
 * recomputed from `into`'s messages, never taken on trust.
 * @throws VaultMeshError INVALID_ARGUMENT when the two are for different messages.
 */
export function mergeTimestamps(into: Timestamp, from: Timestamp): void {
  if (!equalBytes(into.msg, from.msg)) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `cannot merge timestamps of different messages (${toHex(into.msg).slice(0, 64)} and ${toHex(from.msg).slice(0, 64)})`,
    );
  }
  for (const attestation of from.attestations) addAttestation(into, attestation);
  for (const edge of from.ops) mergeTimestamps(addOp(into, edge.op), edge.next);
}

/** Every attestation with the message it attests: the result of the ops on the path from the root. */
export function* allAttestations(ts: Timestamp): Generator<{ msg: Uint8Array; attestation: Attestation }> {
  const stack = [ts];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const attestation of node.attestations) yield { msg: node.msg, attestation };
    for (let i = node.ops.length - 1; i >= 0; i--) stack.push(node.ops[i]!.next);
  }
}

/** An empty timestamp over `digest`, to which calendars' answers are merged. */
export function newDetachedTimestamp(
  digest: Uint8Array,
  hashOp: CryptOpKind = 'sha256',
): DetachedTimestampFile {
  if (digest.length !== DIGEST_LENGTHS[hashOp]) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `a ${hashOp} digest is ${DIGEST_LENGTHS[hashOp]} bytes, got ${digest.length}`,
    );
  }
  return { hashOp, timestamp: newTimestamp(digest) };
}

// --- reading ---

class Reader {
  offset = 0;
  /** Bytes of messages created so far, shared by the readers of one parse. */
  budget = { used: 0 };

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
    /** Where `bytes` starts in the whole input, so that offsets inside a payload stay absolute. */
    private readonly base = 0,
  ) {}

  /** A reader of `bytes`, which sit at `at` in this reader's input. */
  sub(bytes: Uint8Array, at: number): Reader {
    const child = new Reader(bytes, this.what, this.base + at);
    child.budget = this.budget;
    return child;
  }

  fail(message: string, at = this.offset): never {
    const offset = this.base + at;
    throw new VaultMeshError('INVALID_ENCODING', `${this.what}: ${message} at offset ${offset}`, {
      hint: 'the OpenTimestamps proof is corrupt or not a proof; keep the original .ots file',
      evidence: { offset },
    });
  }

  byte(): number {
    if (this.offset >= this.bytes.length) this.fail('truncated: expected 1 more byte');
    return this.bytes[this.offset++]!;
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      this.fail(`truncated: expected ${length} bytes, ${this.bytes.length - this.offset} left`);
    }
    // A copy: the tree must not change when the caller reuses its buffer.
    const out = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  varuint(): number {
    const start = this.offset;
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      // 8 groups of 7 bits already pass 2^53; more can only be padding or overflow.
      if (shift > 49) this.fail('varuint longer than 8 bytes', start);
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if (value > Number.MAX_SAFE_INTEGER) this.fail('varuint exceeds 2^53-1', start);
      if ((b & 0x80) === 0) {
        // A trailing zero group means another, shorter encoding exists: refused so bytes stay unique.
        if (b === 0 && shift > 0) this.fail('varuint is not minimally encoded', start);
        return value;
      }
    }
  }

  varbytes(max: number, min = 0): Uint8Array {
    const at = this.offset;
    const length = this.varuint();
    if (length > max) this.fail(`length ${length} exceeds ${max}`, at);
    if (length < min) this.fail(`length ${length} is below ${min}`, at);
    return this.take(length);
  }

  end(what: string): void {
    if (this.offset !== this.bytes.length) {
      this.fail(`${this.bytes.length - this.offset} bytes of trailing garbage after ${what}`);
    }
  }
}

function readAttestation(r: Reader): Attestation {
  const tag = r.take(8);
  const payload = r.varbytes(MAX_PAYLOAD_SIZE);
  const kind = KNOWN_ATTESTATIONS.find(([, known]) => equalBytes(known, tag))?.[0];
  if (kind === undefined) return { kind: 'unknown', tag, payload };
  const p: Reader = r.sub(payload, r.offset - payload.length);
  let attestation: Attestation;
  if (kind === 'pending') {
    const uri = p.varbytes(MAX_URI_LENGTH);
    const bad = uri.findIndex((c) => !URI_CHARS.test(String.fromCharCode(c)));
    if (bad >= 0) {
      p.fail(
        `pending attestation URI has character 0x${uri[bad]!.toString(16).padStart(2, '0')}`,
        p.offset - uri.length + bad,
      );
    }
    attestation = { kind, uri: String.fromCharCode(...uri) };
  } else {
    attestation = { kind, height: p.varuint() };
  }
  // Notaries wanting room for future fields must say so explicitly (reference).
  p.end(`the ${kind} attestation`);
  return attestation;
}

/** What a node already holds, by key, so that a node with many branches parses in linear time. */
interface NodeIndex {
  attestations: Set<string>;
  ops: Map<string, { node: Timestamp; index: NodeIndex }>;
}

const emptyIndex = (): NodeIndex => ({ attestations: new Set(), ops: new Map() });

function attestationKey(a: Attestation): string {
  switch (a.kind) {
    case 'pending':
      return `pending ${a.uri}`;
    case 'unknown':
      return `unknown ${toHex(a.tag)} ${toHex(a.payload)}`;
    default:
      return `${a.kind} ${a.height}`;
  }
}

/** Reads one serialized timestamp into `ts`, whose message is already computed. */
function readInto(r: Reader, ts: Timestamp, index: NodeIndex, depth: number): void {
  if (depth >= MAX_DEPTH) r.fail(`timestamp nested deeper than ${MAX_DEPTH - 1} ops`);
  const branch = (tag: number, at: number): void => {
    if (tag === ATTESTATION) {
      const attestation = readAttestation(r);
      const key = attestationKey(attestation);
      if (!index.attestations.has(key)) {
        index.attestations.add(key);
        ts.attestations.push(attestation);
      }
      return;
    }
    const kind = OP_BY_TAG.get(tag);
    if (kind === undefined) r.fail(`unknown operation tag 0x${tag.toString(16).padStart(2, '0')}`, at);
    const op: Op =
      kind === 'append' || kind === 'prepend' ? { kind, arg: r.varbytes(MAX_MSG_LENGTH, 1) } : { kind };
    const key = opName(op);
    let child = index.ops.get(key);
    if (child === undefined) {
      const reason = inapplicable(op, ts.msg);
      if (reason !== undefined) r.fail(`cannot apply ${reason}`, at);
      const result = compute(op, ts.msg);
      r.budget.used += result.length;
      if (r.budget.used > MAX_TREE_BYTES) r.fail(`proof expands to more than ${MAX_TREE_BYTES} bytes`, at);
      child = { node: { msg: result, attestations: [], ops: [] }, index: emptyIndex() };
      index.ops.set(key, child);
      ts.ops.push({ op, next: child.node });
    }
    // The reference keeps one branch per op (a map key) and drops the other; reading both into one
    // node keeps every attestation, each still committed by recomputed ops.
    readInto(r, child.node, child.index, depth + 1);
  };
  let at = r.offset;
  let tag = r.byte();
  while (tag === FORK) {
    at = r.offset;
    branch(r.byte(), at);
    at = r.offset;
    tag = r.byte();
  }
  branch(tag, at);
}

function readTimestamp(r: Reader, msg: Uint8Array): Timestamp {
  // `msg` is already a private copy within the length limit.
  const ts: Timestamp = { msg, attestations: [], ops: [] };
  readInto(r, ts, emptyIndex(), 0);
  return ts;
}

/**
 * A serialized timestamp (what a calendar answers) for `msg`: the message is not in the bytes, it
 * is what the caller submitted or asked about.
 * @throws VaultMeshError INVALID_ENCODING naming the offset.
 */
export function parseTimestamp(bytes: Uint8Array, msg: Uint8Array): Timestamp {
  const r: Reader = new Reader(bytes, 'OpenTimestamps timestamp');
  const ts = readTimestamp(r, newTimestamp(msg).msg);
  r.end('the timestamp');
  return ts;
}

/** @throws VaultMeshError INVALID_ENCODING naming the offset. */
export function parseDetachedTimestamp(bytes: Uint8Array): DetachedTimestampFile {
  const r: Reader = new Reader(bytes, 'OpenTimestamps file');
  if (
    bytes.length < HEADER_MAGIC.length ||
    !equalBytes(bytes.subarray(0, HEADER_MAGIC.length), HEADER_MAGIC)
  ) {
    r.fail('not an OpenTimestamps proof (bad header magic)');
  }
  r.offset = HEADER_MAGIC.length;
  const version = r.byte();
  if (version !== MAJOR_VERSION) r.fail(`unsupported major version ${version}`, r.offset - 1);
  const tag = r.byte();
  const hashOp = OP_BY_TAG.get(tag);
  if (hashOp === undefined || !isCryptOp(hashOp)) {
    r.fail(`unknown file hash op 0x${tag.toString(16).padStart(2, '0')}`, r.offset - 1);
  }
  const digest = r.take(DIGEST_LENGTHS[hashOp]);
  const timestamp = readTimestamp(r, digest);
  r.end('the timestamp');
  return { hashOp, timestamp };
}

// --- writing ---

function writeTimestamp(out: Uint8Array[], ts: Timestamp, depth: number): void {
  if (depth >= MAX_DEPTH) {
    throw new VaultMeshError('INVALID_ARGUMENT', `timestamp nested deeper than ${MAX_DEPTH - 1} ops`);
  }
  if (ts.attestations.length === 0 && ts.ops.length === 0) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `the timestamp of ${toHex(ts.msg).slice(0, 64)} has neither attestations nor ops`,
      { hint: 'merge at least one calendar answer before writing the proof' },
    );
  }
  // Sorted first, so that equal attestations are neighbours and dropping repeats is n log n, not n².
  const attestations = [...ts.attestations]
    .sort(compareAttestations)
    .filter((a, i, sorted) => i === 0 || !attestationEquals(sorted[i - 1]!, a));
  const ops = [...ts.ops].sort((a, b) => compareOps(a.op, b.op));
  for (let i = 1; i < ops.length; i++) {
    if (opEquals(ops[i - 1]!.op, ops[i]!.op)) {
      throw new VaultMeshError('INVALID_ARGUMENT', `the op ${opName(ops[i]!.op)} appears twice at one node`);
    }
  }
  const writeAttestation = (a: Attestation): void => {
    const payload = attestationPayload(a);
    out.push(Uint8Array.of(ATTESTATION), attestationTag(a), encodeVaruint(payload.length), payload);
  };
  const writeEdge = (edge: { op: Op; next: Timestamp }): void => {
    // Checked here so that what is written parses back to the same messages.
    if (!equalBytes(applyOp(edge.op, ts.msg), edge.next.msg)) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `the result of ${opName(edge.op)} does not match its branch`,
      );
    }
    out.push(Uint8Array.of(OP_TAGS[edge.op.kind]));
    if ('arg' in edge.op) out.push(encodeVaruint(edge.op.arg.length), edge.op.arg);
    writeTimestamp(out, edge.next, depth + 1);
  };
  attestations.forEach((a, i) => {
    const last = i === attestations.length - 1 && ops.length === 0;
    if (!last) out.push(Uint8Array.of(FORK));
    writeAttestation(a);
  });
  ops.forEach((edge, i) => {
    if (i < ops.length - 1) out.push(Uint8Array.of(FORK));
    writeEdge(edge);
  });
}

/**
 * Canonical bytes: attestations and ops sorted as the reference sorts them, so a proof the
 * reference wrote comes back byte for byte.
 * @throws VaultMeshError INVALID_ARGUMENT for an empty branch or an inconsistent tree.
 */
export function serializeTimestamp(ts: Timestamp): Uint8Array {
  const out: Uint8Array[] = [];
  writeTimestamp(out, ts, 0);
  return concatAll(out);
}

/** @throws VaultMeshError INVALID_ARGUMENT for an empty branch or a digest of the wrong length. */
export function serializeDetachedTimestamp(file: DetachedTimestampFile): Uint8Array {
  const length = DIGEST_LENGTHS[file.hashOp];
  if (file.timestamp.msg.length !== length) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `a ${file.hashOp} file digest is ${length} bytes, got ${file.timestamp.msg.length}`,
    );
  }
  return concatBytes(
    HEADER_MAGIC,
    Uint8Array.of(MAJOR_VERSION, OP_TAGS[file.hashOp]),
    file.timestamp.msg,
    serializeTimestamp(file.timestamp),
  );
}
