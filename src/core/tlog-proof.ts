/**
 * C2SP transparency-log proofs (c2sp.org/tlog-proof@v1): an offline-verifiable record that an
 * entry is in a log — the entry's index, its RFC 6962 inclusion proof, and the log's signed
 * checkpoint (with any witness cosignatures), plus optional unauthenticated extra data.
 *
 *     c2sp.org/tlog-proof@v1
 *     extra <base64>          (optional)
 *     index <decimal>
 *     <base64 hash>           (zero or more, leaf's sibling first)
 *
 *     <signed checkpoint note, verbatim>
 */
import { fromBase64, fromUtf8, toBase64 } from './bytes.js';
import { parseCheckpoint } from './checkpoint.js';
import { VaultMeshError, isVaultMeshError } from './errors.js';
import { parseNote } from './note.js';
import type { NoteInput } from './note.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/**
 * An inclusion proof has one hash per tree level below the root, so a tree of up to 2^63 leaves
 * (any index a 64-bit log can hold) needs at most 63; more can only be hostile.
 */
export const MAX_PROOF_HASHES = 63;
const HASH_BYTES = 32;

export interface TlogProof {
  /** Zero-based index of the entry in the log. */
  index: number;
  /** Inclusion proof, from the leaf's sibling up to the root's child; 32 bytes each. */
  hashes: Uint8Array[];
  /** The log's signed checkpoint note, verbatim; open it with openCheckpoint before trusting it. */
  checkpoint: string;
  /** Opaque application data; unauthenticated, so never trust it. Absent means no `extra` line. */
  extra?: Uint8Array;
}

/**
 * Checks the checkpoint note's structure (not its signatures), re-labelling parse failures with the
 * caller's code; firstLine, when the note sits inside a proof, turns its line numbers into the proof's.
 */
function checkCheckpointNote(
  note: string,
  code: 'INVALID_ARGUMENT' | 'PROOF_PARSE',
  firstLine?: number,
): void {
  try {
    parseCheckpoint(parseNote(note).text);
  } catch (e) {
    if (!isVaultMeshError(e, 'NOTE_PARSE') && !isVaultMeshError(e, 'CHECKPOINT_PARSE')) throw e;
    const inner = e.evidence?.['line'];
    const line = firstLine !== undefined && typeof inner === 'number' ? firstLine + inner - 1 : undefined;
    const where = firstLine === undefined ? 'proof checkpoint' : `proof checkpoint (from line ${firstLine})`;
    throw new VaultMeshError(code, `${where}: ${e.message}`, {
      hint: "the proof must end with the log's signed checkpoint note, exactly as the log served it",
      cause: e,
      ...(line === undefined ? {} : { evidence: { line } }),
    });
  }
}

/**
 * Formats a proof in the c2sp.org/tlog-proof@v1 text format.
 * @throws VaultMeshError INVALID_ARGUMENT when the index is not a safe non-negative integer, there are
 *   more than {@link MAX_PROOF_HASHES} hashes or one is not 32 bytes, or the checkpoint is not a
 *   well-formed signed checkpoint note.
 */
export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `proof index must be an integer from 0 to 2^53−1, got ${p.index}`,
    );
  }
  if (p.hashes.length > MAX_PROOF_HASHES) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `a proof holds at most ${MAX_PROOF_HASHES} hashes, got ${p.hashes.length}`,
    );
  }
  p.hashes.forEach((h, i) => {
    if (h.length !== HASH_BYTES) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `proof hash ${i + 1} must be ${HASH_BYTES} bytes, got ${h.length}`,
      );
    }
  });
  checkCheckpointNote(p.checkpoint, 'INVALID_ARGUMENT');
  const extra = p.extra === undefined ? '' : `extra ${toBase64(p.extra)}\n`;
  const hashes = p.hashes.map((h) => `${toBase64(h)}\n`).join('');
  return `${TLOG_PROOF_HEADER}\n${extra}index ${p.index}\n${hashes}\n${p.checkpoint}`;
}

function proofError(message: string, line: number, cause?: unknown): VaultMeshError {
  return new VaultMeshError('PROOF_PARSE', `proof line ${line}: ${message}`, {
    hint: `a ${TLOG_PROOF_HEADER} proof is the header, an optional extra line, "index N", base64 hashes, a blank line, then the signed checkpoint`,
    cause,
    evidence: { line },
  });
}

/**
 * Parses a c2sp.org/tlog-proof@v1 proof. Checks structure only — the checkpoint's signatures and
 * the inclusion proof are for the caller to verify (openCheckpoint, then the inclusion check).
 * @throws VaultMeshError PROOF_PARSE naming the line when the input is not UTF-8, the header is
 *   wrong, the extra data is not padded base64, the index line is missing or not canonical decimal
 *   within 2^53−1, a hash is not 32 bytes of padded base64, there are more than
 *   {@link MAX_PROOF_HASHES} hashes, the blank line or checkpoint is missing, or the checkpoint is not
 *   a well-formed signed checkpoint note (which also catches trailing garbage).
 */
export function parseTlogProof(input: NoteInput): TlogProof {
  let text: string;
  try {
    text = typeof input === 'string' ? input : fromUtf8(input, 'proof');
  } catch (cause) {
    throw new VaultMeshError('PROOF_PARSE', 'proof is not valid UTF-8', { cause });
  }
  let pos = 0;
  let lineNo = 0;
  // Returns the next newline-terminated line, or undefined when the text ends without one.
  const nextLine = (): string | undefined => {
    const end = text.indexOf('\n', pos);
    if (end < 0) return undefined;
    const line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    return line;
  };

  if (nextLine() !== TLOG_PROOF_HEADER) {
    throw proofError(`expected the header line ${TLOG_PROOF_HEADER}`, 1);
  }
  let line = nextLine();
  let extra: Uint8Array | undefined;
  if (line?.startsWith('extra ')) {
    try {
      extra = fromBase64(line.slice('extra '.length), 'extra data');
    } catch (cause) {
      throw proofError('extra data is not valid padded base64', lineNo, cause);
    }
    line = nextLine();
  }
  const indexMatch = line === undefined ? null : /^index (0|[1-9][0-9]*)$/.exec(line);
  if (indexMatch === null) {
    const at = line === undefined ? lineNo + 1 : lineNo;
    throw proofError('expected "index N" with N a decimal number without sign or leading zeros', at);
  }
  const index = Number(indexMatch[1]);
  if (!Number.isSafeInteger(index)) throw proofError('index exceeds 2^53−1, the largest supported', lineNo);

  const hashes: Uint8Array[] = [];
  for (line = nextLine(); line !== ''; line = nextLine()) {
    if (line === undefined) {
      throw proofError('missing the blank line and signed checkpoint after the proof hashes', lineNo + 1);
    }
    if (hashes.length === MAX_PROOF_HASHES) {
      throw proofError(`more than ${MAX_PROOF_HASHES} proof hashes (or a missing blank line)`, lineNo);
    }
    try {
      hashes.push(fromBase64(line, 'proof hash', HASH_BYTES));
    } catch (cause) {
      throw proofError(`proof hash must be ${HASH_BYTES} bytes of padded base64`, lineNo, cause);
    }
  }
  const checkpoint = text.slice(pos);
  if (checkpoint === '') throw proofError('missing the signed checkpoint after the blank line', lineNo + 1);
  checkCheckpointNote(checkpoint, 'PROOF_PARSE', lineNo + 1);
  return { index, hashes, checkpoint, ...(extra === undefined ? {} : { extra }) };
}
