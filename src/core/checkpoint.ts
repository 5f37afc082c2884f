/**
 * C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint): the text of a signed note naming
 * the log (origin), the tree size and the RFC 6962 root hash, then optional extension lines.
 */
import { fromBase64, toBase64 } from './bytes.js';
import { VaultMeshError } from './errors.js';
import { findForbiddenCharacter, lineNumberAt, parseNote, verifyNote } from './note.js';
import type { NoteInput, NoteKeyRef, NoteVerifier } from './note.js';

export interface Checkpoint {
  /** Identifies the log; compared byte for byte, never interpreted as a URL. */
  origin: string;
  /** Number of leaves; at most 2^53−1 so it stays an exact JavaScript number. */
  size: number;
  /** RFC 6962 Merkle tree root at `size`, 32 bytes. */
  rootHash: Uint8Array;
  /** Opaque, non-empty lines after the root hash, without their newlines. */
  extensions: string[];
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  verified: NoteKeyRef[];
  unverified: NoteKeyRef[];
}

const ROOT_HASH_BYTES = 32;

function formatError(message: string): VaultMeshError {
  return new VaultMeshError('INVALID_ARGUMENT', `cannot format checkpoint: ${message}`);
}

function checkLine(value: string, what: string): void {
  if (value === '') throw formatError(`${what} must be non-empty`);
  if (value.includes('\n')) throw formatError(`${what} must be a single line`);
  const bad = findForbiddenCharacter(value);
  if (bad !== undefined) throw formatError(`${what} contains ${bad.reason}`);
}

/**
 * Formats a checkpoint as note text (every line newline-terminated), ready for signNote.
 * @throws VaultMeshError INVALID_ARGUMENT when the origin or an extension is empty, spans lines or
 *   holds a character a note may not contain, the size is not a safe non-negative integer, or the
 *   root hash is not 32 bytes.
 */
export function formatCheckpoint(cp: Checkpoint): string {
  checkLine(cp.origin, 'origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) {
    throw formatError(`size must be an integer from 0 to 2^53−1, got ${cp.size}`);
  }
  if (cp.rootHash.length !== ROOT_HASH_BYTES) {
    throw formatError(`root hash must be ${ROOT_HASH_BYTES} bytes, got ${cp.rootHash.length}`);
  }
  cp.extensions.forEach((ext, i) => checkLine(ext, `extension line ${i + 1}`));
  return [cp.origin, String(cp.size), toBase64(cp.rootHash), ...cp.extensions].map((l) => `${l}\n`).join('');
}

function parseError(message: string, line?: number, cause?: unknown): VaultMeshError {
  const where = line === undefined ? 'checkpoint' : `checkpoint line ${line}:`;
  return new VaultMeshError('CHECKPOINT_PARSE', `${where} ${message}`, {
    hint: 'a checkpoint is: origin, tree size in decimal, base64 root hash, each on its own line',
    cause,
    ...(line === undefined ? {} : { evidence: { line } }),
  });
}

/**
 * Parses checkpoint note text (without signatures). Structure only: nothing here is trusted.
 * @throws VaultMeshError CHECKPOINT_PARSE naming the line when the text does not end in a newline,
 *   holds a forbidden character, has fewer than three lines, an empty origin, a size that is not
 *   canonical decimal or exceeds 2^53−1, a root hash that is not 32 bytes of padded base64, or an
 *   empty extension line.
 */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = findForbiddenCharacter(text);
  if (bad !== undefined) throw parseError(`contains ${bad.reason}`, lineNumberAt(text, bad.index));
  if (!text.endsWith('\n')) throw parseError('does not end with a newline', lineNumberAt(text, text.length));
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeText, hashText, ...extensions] = lines;
  if (origin === undefined || sizeText === undefined || hashText === undefined) {
    throw parseError(`has ${lines.length} line(s); it needs an origin, a tree size and a root hash`);
  }
  if (origin === '') throw parseError('origin is empty', 1);
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) {
    throw parseError('tree size must be a decimal number without sign, spaces or leading zeros', 2);
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) {
    throw parseError('tree size exceeds 2^53−1, the largest size supported', 2);
  }
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(hashText, 'root hash', ROOT_HASH_BYTES);
  } catch (cause) {
    throw parseError('root hash must be 32 bytes of padded base64', 3, cause);
  }
  const empty = extensions.indexOf('');
  if (empty >= 0) throw parseError('extension lines must be non-empty', 4 + empty);
  return { origin, size, rootHash, extensions };
}

/**
 * Parses a signed checkpoint, checks its origin, then verifies its signatures (see verifyNote).
 * The structure and origin are checked first only to give a precise error; nothing is trusted
 * unless this returns.
 * @throws VaultMeshError NOTE_PARSE or CHECKPOINT_PARSE for malformed input; CHECKPOINT_PARSE when
 *   the origin differs from expectedOrigin; SIGNATURE_INVALID, UNKNOWN_SIGNER or INVALID_ARGUMENT
 *   as verifyNote.
 */
export function openCheckpoint(
  signedNote: NoteInput,
  verifiers: readonly NoteVerifier[],
  expectedOrigin?: string,
): OpenedCheckpoint {
  const note = parseNote(signedNote);
  const checkpoint = parseCheckpoint(note.text);
  if (expectedOrigin !== undefined && checkpoint.origin !== expectedOrigin) {
    throw new VaultMeshError(
      'CHECKPOINT_PARSE',
      `checkpoint line 1: origin is ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(expectedOrigin)}`,
      {
        hint: 'this checkpoint is from a different log; check which log the proof or checkpoint came from',
        evidence: { line: 1, origin: checkpoint.origin, expectedOrigin },
      },
    );
  }
  const { verified, unverified } = verifyNote(note, verifiers);
  return { checkpoint, verified, unverified };
}
