/**
 * Receipt bundles: one receipt line plus everything needed to prove offline that it was recorded —
 * its inclusion proof and the scroll's signed checkpoint, as a C2SP tlog-proof@v1 text that
 * transparency-log tooling can check on its own. Verification needs only this module and the
 * node's verifier key, so it also runs in a browser.
 */
import { z } from 'zod';
import { utf8 } from './bytes.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { VaultMeshError, isVaultMeshError } from './errors.js';
import { defaultTreeHasher, verifyInclusion, type TreeHasher } from './merkle.js';
import type { NoteKeyRef, NoteVerifier } from './note.js';
import { parseReceiptLine, type Receipt } from './receipt.js';
import { parseTlogProof } from './tlog-proof.js';

export const BUNDLE_FORMAT = 'vaultmesh.receipt-bundle@v1';
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;

export interface ReceiptBundle {
  format: typeof BUNDLE_FORMAT;
  /** Origin of the scroll's log, `<node origin>/<scroll>`. */
  origin: string;
  /** The scroll line, byte for byte, without its newline. */
  receipt: string;
  /** c2sp.org/tlog-proof@v1 text: index, inclusion proof, signed checkpoint. */
  proof: string;
}

const bundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  origin: z.string().min(1),
  receipt: z.string().min(2),
  proof: z.string().min(1),
});

export function formatBundle(bundle: ReceiptBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

/** @throws VaultMeshError BUNDLE_PARSE naming the field that is missing or malformed. */
export function parseBundle(text: string): ReceiptBundle {
  if (text.length > MAX_BUNDLE_BYTES) {
    throw new VaultMeshError('BUNDLE_PARSE', `bundle is larger than ${MAX_BUNDLE_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new VaultMeshError('BUNDLE_PARSE', `bundle is not JSON: ${(cause as Error).message}`, {
      cause,
      hint: 'a bundle is the JSON file written by vm proof',
    });
  }
  const parsed = bundleSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VaultMeshError(
      'BUNDLE_PARSE',
      `bundle field ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      {
        hint: 'a bundle is the JSON file written by vm proof',
      },
    );
  }
  return parsed.data;
}

export interface VerifiedBundle {
  receipt: Receipt;
  checkpoint: Checkpoint;
  signedBy: NoteKeyRef[];
}

/**
 * Verifies a bundle offline: the checkpoint's signature by a trusted key and its origin, the
 * receipt's own integrity (canonical form, body hash, position), and its inclusion in the tree the
 * checkpoint commits to.
 * @throws VaultMeshError BUNDLE_PARSE / PROOF_PARSE / CHECKPOINT_PARSE for malformed input;
 *   UNKNOWN_SIGNER / SIGNATURE_INVALID for the checkpoint; BUNDLE_INVALID or INCLUSION_MISMATCH when
 *   the receipt is not what the checkpoint commits to.
 */
export function verifyBundle(
  text: string,
  verifiers: readonly NoteVerifier[],
  hasher: TreeHasher = defaultTreeHasher,
): VerifiedBundle {
  const bundle = parseBundle(text);
  const proof = parseTlogProof(bundle.proof);
  const { checkpoint, verified } = openCheckpoint(proof.checkpoint, verifiers, bundle.origin);
  const scroll = bundle.origin.slice(bundle.origin.lastIndexOf('/') + 1);
  if (proof.index >= checkpoint.size) {
    throw new VaultMeshError(
      'BUNDLE_INVALID',
      `proof index ${proof.index} is outside the checkpoint's ${checkpoint.size} leaves`,
    );
  }
  let receipt: Receipt;
  try {
    receipt = parseReceiptLine(bundle.receipt, { scroll, seq: proof.index });
  } catch (error) {
    if (!isVaultMeshError(error)) throw error;
    throw new VaultMeshError('BUNDLE_INVALID', `bundle receipt: ${error.message}`, {
      cause: error,
      evidence: error.evidence,
    });
  }
  verifyInclusion(
    proof.index,
    checkpoint.size,
    hasher.hashLeaf(utf8(bundle.receipt)),
    proof.hashes,
    checkpoint.rootHash,
    hasher,
  );
  return { receipt, checkpoint, signedBy: verified };
}
