/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, interoperable with Go's
 * golang.org/x/mod/sumdb/note: the same key strings, the same signature lines, the same verdicts.
 *
 * A signed note is UTF-8 text ending in a newline, a blank line, then one or more lines
 * `— <key name> <base64(4-byte key ID || signature)>`. The signature covers the text,
 * including its final newline but not the blank line.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from './bytes.js';
import { VaultMeshError } from './errors.js';
import { sha256 } from './hash.js';

/** Signature type byte for Ed25519 in key IDs and key strings (signed-note §Signature types). */
const ALG_ED25519 = 0x01;
const ED25519_PUBLIC_KEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
/**
 * The spec asks verifiers to cap signatures per note (and to accept at least 16);
 * 100 is Go's cap, so every note Go opens, this opens too.
 */
export const MAX_NOTE_SIGNATURES = 100;
const SIGNATURE_PREFIX = '\u2014 ';
const PRIVATE_KEY_PREFIX = 'PRIVATE+KEY+';

/** A note, as text or as the raw bytes read from a file or the network. */
export type NoteInput = string | Uint8Array;

/** Identifies a key: the name and the 32-bit key ID together, never either alone. */
export interface NoteKeyRef {
  name: string;
  keyId: number;
}

/** One signature line: who claims to have signed, and the signature bytes after the key ID. */
export interface NoteSignature extends NoteKeyRef {
  signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, ending in a newline; untrusted until verified. */
  text: string;
  signatures: NoteSignature[];
}

export interface OpenedNote {
  text: string;
  /** Keys whose signatures verified, each listed once, in note order. */
  verified: NoteKeyRef[];
  /** Signatures by keys the caller did not supply, each key listed once; ignored, as the spec requires. */
  unverified: NoteKeyRef[];
}

export interface NoteSigner extends NoteKeyRef {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface NoteVerifier extends NoteKeyRef {
  publicKey: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

/** A key ID as the 8 lower-case hex digits used in key strings and messages. */
export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/**
 * Key names must be non-empty without Unicode spaces or `+` (the key-string separator).
 * Control characters are refused too: a note may not contain them, so such a name could never sign one.
 */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !/[\p{White_Space}+]/u.test(name) && findForbiddenCharacter(name) === undefined;
}

// Matching control characters is the point here; the surrogate halves are matched one UTF-16 unit at a time.
const FORBIDDEN_CHARACTER =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0009\u000b-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Finds the first character a signed note may not contain: an ASCII control other than newline,
 * or half of a UTF-16 surrogate pair (which has no UTF-8 encoding, so it could not be signed faithfully).
 * Returns its index and a description, or undefined when the text is clean.
 */
export function findForbiddenCharacter(text: string): { index: number; reason: string } | undefined {
  const m = FORBIDDEN_CHARACTER.exec(text);
  if (m === null) return undefined;
  const code = m[0].charCodeAt(0);
  const hex = code.toString(16).padStart(4, '0');
  const reason = code < 0x20 ? `control character U+${hex}` : `unpaired surrogate U+${hex} (not valid UTF-8)`;
  return { index: m.index, reason };
}

/** 1-based line number of a string index. */
export function lineNumberAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The key bytes as key IDs and key strings carry them: the signature type byte, then the key. */
function typedKey(key: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(ALG_ED25519), key);
}

function keyIdOf(name: string, typed: Uint8Array): number {
  const digest = sha256(concatBytes(utf8(name), Uint8Array.of(0x0a), typed));
  return readUint32(digest);
}

function readUint32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

function uint32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function keyError(message: string, cause?: unknown): VaultMeshError {
  return new VaultMeshError('INVALID_KEY', message, {
    hint: 'verifier keys look like <name>+<8 hex digits>+<base64 key>; signer keys add a PRIVATE+KEY+ prefix',
    cause,
  });
}

/** Splits `<name>+<hex key ID>+<base64>` into checked parts; the base64 may itself contain `+`. */
function splitKeyString(keyString: string, what: string): { name: string; keyId: number; key: Uint8Array } {
  const first = keyString.indexOf('+');
  const second = first < 0 ? -1 : keyString.indexOf('+', first + 1);
  if (second < 0) throw keyError(`${what}: expected three parts separated by '+'`);
  const name = keyString.slice(0, first);
  const hex = keyString.slice(first + 1, second);
  if (!isValidKeyName(name)) {
    throw keyError(`${what}: invalid key name (it must be non-empty, without spaces or '+')`);
  }
  if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw keyError(`${what}: key ID must be 8 hex digits`);
  let key: Uint8Array;
  try {
    key = fromBase64(keyString.slice(second + 1), `${what} data`);
  } catch (cause) {
    throw keyError(`${what}: key data is not valid padded base64`, cause);
  }
  if (key.length === 0) throw keyError(`${what}: key data is empty`);
  if (key[0] !== ALG_ED25519) {
    throw keyError(
      `${what}: signature type 0x${key[0]!.toString(16).padStart(2, '0')} is not supported; only Ed25519 (0x01) is`,
    );
  }
  if (key.length !== 1 + ED25519_PUBLIC_KEY_BYTES) {
    throw keyError(`${what}: Ed25519 key must be 32 bytes, got ${key.length - 1}`);
  }
  return { name, keyId: parseInt(hex, 16), key: key.subarray(1) };
}

function ed25519Verifier(name: string, keyId: number, publicKey: Uint8Array): NoteVerifier {
  return {
    name,
    keyId,
    publicKey,
    // RFC 8032 strict decoding (not ZIP-215), matching Go's crypto/ed25519, so both sides agree on every signature.
    verify: (message, signature) =>
      signature.length === ED25519_SIGNATURE_BYTES &&
      ed25519.verify(signature, message, publicKey, { zip215: false }),
  };
}

/**
 * Parses a verifier key `<name>+<8 hex key ID>+<base64(0x01 || 32-byte public key)>`.
 * @throws VaultMeshError INVALID_KEY when the string is malformed, the key ID does not match the
 *   name and key, the signature type is not Ed25519, or the key is not a curve point.
 */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const { name, keyId, key } = splitKeyString(vkey, 'verifier key');
  if (keyIdOf(name, typedKey(key)) !== keyId) {
    throw keyError(`verifier key ID ${formatKeyId(keyId)} does not match the key name and public key`);
  }
  if (!ed25519.utils.isValidPublicKey(key)) throw keyError('verifier key is not a valid Ed25519 public key');
  return ed25519Verifier(name, keyId, key);
}

/**
 * Parses a signer key in Go's format `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>`.
 * @throws VaultMeshError INVALID_KEY when the string is malformed or its key ID does not match the
 *   public key derived from the seed. Messages never include the secret.
 */
export function parseSignerKey(skey: string): NoteSigner {
  if (!skey.startsWith(PRIVATE_KEY_PREFIX)) {
    throw keyError(`signer key must start with ${PRIVATE_KEY_PREFIX}`);
  }
  const { name, keyId, key: seed } = splitKeyString(skey.slice(PRIVATE_KEY_PREFIX.length), 'signer key');
  const publicKey = ed25519.getPublicKey(seed);
  if (keyIdOf(name, typedKey(publicKey)) !== keyId) {
    throw keyError(`signer key ID ${formatKeyId(keyId)} does not match the key name and derived public key`);
  }
  return { name, keyId, publicKey, sign: (message) => ed25519.sign(message, seed) };
}

function requireKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `invalid key name ${JSON.stringify(name)}`, {
      hint: 'key names must be non-empty, without spaces, control characters or "+", e.g. example.com/log',
    });
  }
}

/**
 * Encodes an Ed25519 public key as a verifier key string.
 * @throws VaultMeshError INVALID_ARGUMENT for an invalid name; INVALID_KEY when the key is not 32 bytes
 *   or not a curve point.
 */
export function vkeyFromPublicKey(name: string, publicKey: Uint8Array): string {
  requireKeyName(name);
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || !ed25519.utils.isValidPublicKey(publicKey)) {
    throw keyError(`not an Ed25519 public key (${publicKey.length} bytes)`);
  }
  const typed = typedKey(publicKey);
  return `${name}+${formatKeyId(keyIdOf(name, typed))}+${toBase64(typed)}`;
}

/**
 * Creates an Ed25519 key pair as Go-compatible key strings. Without a seed the key is random
 * (WebCrypto, available in Node 20 and browsers); with a 32-byte seed it is deterministic.
 * @throws VaultMeshError INVALID_ARGUMENT for an invalid name or a seed that is not 32 bytes.
 */
export function generateNoteKey(name: string, seed?: Uint8Array): { skey: string; vkey: string } {
  requireKeyName(name);
  if (seed !== undefined && seed.length !== 32) {
    throw new VaultMeshError('INVALID_ARGUMENT', `key seed must be 32 bytes, got ${seed.length}`);
  }
  const secret = seed ?? ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secret);
  const keyId = formatKeyId(keyIdOf(name, typedKey(publicKey)));
  const skey = `${PRIVATE_KEY_PREFIX}${name}+${keyId}+${toBase64(typedKey(secret))}`;
  return { skey, vkey: vkeyFromPublicKey(name, publicKey) };
}

function noteError(message: string, line?: number): VaultMeshError {
  return new VaultMeshError('NOTE_PARSE', line === undefined ? message : `line ${line}: ${message}`, {
    hint: 'a signed note is text ending in a newline, a blank line, then lines "— <key name> <base64>"',
    ...(line === undefined ? {} : { evidence: { line } }),
  });
}

function noteString(note: NoteInput): string {
  if (typeof note === 'string') return note;
  try {
    return fromUtf8(note, 'note');
  } catch (cause) {
    throw new VaultMeshError('NOTE_PARSE', 'note is not valid UTF-8', { cause });
  }
}

function parseSignatureLine(line: string, lineNo: number): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw noteError('expected a signature line starting with "— " (em dash, space)', lineNo);
  }
  const body = line.slice(SIGNATURE_PREFIX.length);
  const space = body.indexOf(' ');
  const name = space < 0 ? body : body.slice(0, space);
  if (space < 0 || !isValidKeyName(name)) {
    throw noteError(
      'signature line must be "— <key name> <base64>" with a name free of spaces and "+"',
      lineNo,
    );
  }
  let raw: Uint8Array;
  try {
    raw = fromBase64(body.slice(space + 1), 'signature');
  } catch (cause) {
    throw new VaultMeshError('NOTE_PARSE', `line ${lineNo}: signature is not valid padded base64`, {
      cause,
      evidence: { line: lineNo },
    });
  }
  if (raw.length < 5) throw noteError('signature must hold a 4-byte key ID and at least one byte', lineNo);
  return { name, keyId: readUint32(raw), signature: raw.slice(4) };
}

/**
 * Splits a signed note into its text and signature lines without verifying anything.
 * The text is untrusted: use {@link openNote} before acting on it.
 * @throws VaultMeshError NOTE_PARSE naming the line when the note is not valid UTF-8, holds a
 *   control character, lacks the blank line or signatures, has a malformed signature line, or has
 *   more than {@link MAX_NOTE_SIGNATURES} signatures.
 */
export function parseNote(note: NoteInput): ParsedNote {
  const msg = noteString(note);
  const bad = findForbiddenCharacter(msg);
  if (bad !== undefined) throw noteError(`note contains ${bad.reason}`, lineNumberAt(msg, bad.index));
  // The text may itself contain blank lines: the last one separates it from the signatures.
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw noteError('note has no blank line before its signatures');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  const firstSignatureLine = lineNumberAt(msg, split + 2);
  if (block === '') throw noteError('note has no signature lines after the blank line', firstSignatureLine);
  const lines = block.split('\n');
  if (lines.pop() !== '') {
    throw noteError('last signature line does not end with a newline', firstSignatureLine + lines.length);
  }
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw noteError(`note has ${lines.length} signatures; at most ${MAX_NOTE_SIGNATURES} are accepted`);
  }
  return { text, signatures: lines.map((line, i) => parseSignatureLine(line, firstSignatureLine + i)) };
}

const refKey = (ref: NoteKeyRef): string => `${ref.name}+${formatKeyId(ref.keyId)}`;

/**
 * Checks a parsed note's signatures against the known verifiers, as Go's note.Open does, except that
 * every signature by a known key is verified, repeats included (Go checks only the first).
 * Signatures by unknown keys — even sharing a name or a key ID with a known key — are ignored.
 * @throws VaultMeshError SIGNATURE_INVALID when a known key's signature fails; UNKNOWN_SIGNER when no
 *   signature is from a known key; INVALID_ARGUMENT when two verifiers share a name and key ID and a
 *   signature names them.
 */
export function verifyNote(note: ParsedNote, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = new Map<string, NoteVerifier[]>();
  for (const v of verifiers) {
    const list = known.get(refKey(v));
    if (list === undefined) known.set(refKey(v), [v]);
    else list.push(v);
  }
  const message = utf8(note.text);
  const verified = new Map<string, NoteKeyRef>();
  const unverified = new Map<string, NoteKeyRef>();
  for (const sig of note.signatures) {
    const id = refKey(sig);
    const candidates = known.get(id);
    if (candidates === undefined) {
      if (!unverified.has(id)) unverified.set(id, { name: sig.name, keyId: sig.keyId });
      continue;
    }
    if (candidates.length > 1) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `ambiguous key ${id}: more than one trusted key has this name and ID`,
        {
          hint: 'remove the duplicate from the trusted keys',
          evidence: { key: id },
        },
      );
    }
    if (!candidates[0]!.verify(message, sig.signature)) {
      throw new VaultMeshError('SIGNATURE_INVALID', `invalid signature for key ${id}`, {
        hint: 'the note was altered after signing, or was signed by a different key with the same name and ID',
        evidence: { key: id, name: sig.name, keyId: formatKeyId(sig.keyId) },
      });
    }
    if (!verified.has(id)) verified.set(id, { name: sig.name, keyId: sig.keyId });
  }
  if (verified.size === 0) {
    throw new VaultMeshError('UNKNOWN_SIGNER', 'note has no signature from a trusted key', {
      hint: "add the signer's verifier key (<name>+<key ID>+<key>) to the trusted keys if you trust it",
      evidence: { signers: [...unverified.keys()] },
    });
  }
  return { text: note.text, verified: [...verified.values()], unverified: [...unverified.values()] };
}

/**
 * Parses and verifies a signed note; see {@link parseNote} and {@link verifyNote}.
 * @throws VaultMeshError NOTE_PARSE, SIGNATURE_INVALID, UNKNOWN_SIGNER or INVALID_ARGUMENT.
 */
export function openNote(note: NoteInput, verifiers: readonly NoteVerifier[]): OpenedNote {
  return verifyNote(parseNote(note), verifiers);
}

function signatureLine(ref: NoteKeyRef, signature: Uint8Array): string {
  return `${SIGNATURE_PREFIX}${ref.name} ${toBase64(concatBytes(uint32Bytes(ref.keyId), signature))}\n`;
}

function requireKeyRef(ref: NoteKeyRef, what: string): void {
  requireKeyName(ref.name);
  if (!Number.isInteger(ref.keyId) || ref.keyId < 0 || ref.keyId > 0xffffffff) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${what} key ID must be a 32-bit unsigned integer`);
  }
}

/**
 * Signs note text, producing a signed note: the existing signatures first (minus any by the same
 * name and key ID as a new signer, which the new signature replaces, as in Go), then the new ones.
 * Existing signatures are copied, not verified.
 * @throws VaultMeshError INVALID_ARGUMENT when the text does not end in a newline or holds a character
 *   a note may not contain, when there is no signer, a name or key ID is invalid, or the result
 *   would exceed {@link MAX_NOTE_SIGNATURES} signatures.
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  if (!text.endsWith('\n')) throw new VaultMeshError('INVALID_ARGUMENT', 'note text must end with a newline');
  const bad = findForbiddenCharacter(text);
  if (bad !== undefined) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `note text line ${lineNumberAt(text, bad.index)} contains ${bad.reason}`,
    );
  }
  if (signers.length === 0) throw new VaultMeshError('INVALID_ARGUMENT', 'a note needs at least one signer');
  for (const s of signers) requireKeyRef(s, `signer ${s.name}`);
  const replaced = new Set(signers.map(refKey));
  const kept = existing.filter((sig) => !replaced.has(refKey(sig)));
  for (const sig of kept) {
    requireKeyRef(sig, `existing signature ${sig.name}`);
    // A line with a key ID but no signature bytes would not parse back.
    if (sig.signature.length === 0) {
      throw new VaultMeshError('INVALID_ARGUMENT', `existing signature ${sig.name} is empty`);
    }
  }
  if (kept.length + signers.length > MAX_NOTE_SIGNATURES) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `a note may carry at most ${MAX_NOTE_SIGNATURES} signatures`,
    );
  }
  const message = utf8(text);
  const fresh = signers.map((s) => signatureLine(s, s.sign(message)));
  return `${text}\n${kept.map((sig) => signatureLine(sig, sig.signature)).join('')}${fresh.join('')}`;
}

/**
 * Adds signatures to an already signed note, keeping its other signature lines (a cosignature).
 * The existing signatures are not verified: open the note first if that matters.
 * @throws VaultMeshError NOTE_PARSE when the note is malformed, or as {@link signNote}.
 */
export function cosignNote(signedNote: NoteInput, signers: readonly NoteSigner[]): string {
  const { text, signatures } = parseNote(signedNote);
  return signNote(text, signers, signatures);
}
