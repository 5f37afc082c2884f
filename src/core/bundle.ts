/**
 * Receipt bundles: one receipt line plus everything needed to prove offline that it was recorded —
 * its inclusion proof and the scroll's signed checkpoint, as a C2SP tlog-proof@v1 text that
 * transparency-log tooling can check on its own. Verification needs only this module and the
 * node's verifier key, so it also runs in a browser.
 */
import { z } from 'zod';
import { fromBase64, fromHex, toHex, utf8 } from './bytes.js';
import { combinedRoot } from './combined-root.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { VaultMeshError, isVaultMeshError } from './errors.js';
import { defaultTreeHasher, verifyConsistency, verifyInclusion, type TreeHasher } from './merkle.js';
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
  /** The Guardian anchor that covers the receipt, when one does. */
  anchor?: BundleAnchor;
}

const sha256Ref = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);

const anchorSchema = z.strictObject({
  /** What was anchored: every scroll's head and the combined root over them. */
  statement: z.strictObject({
    v: z.literal(1),
    id: z.string().min(1),
    node: z.string(),
    origin: z.string(),
    time: z.string(),
    combined_root: sha256Ref,
    heads: z
      .array(
        z.strictObject({ scroll: z.string().min(1), size: z.number().int().nonnegative(), root: sha256Ref }),
      )
      .min(1)
      .max(1024),
  }),
  /** RFC 9162 consistency proof from the anchored size of this scroll to the bundle's checkpoint. */
  consistency: z.array(base64).max(128),
  /** Each backend's evidence, as stored by the Guardian. */
  evidence: z
    .array(
      z.strictObject({
        backend: z.string().min(1),
        kind: z.enum(['local', 'rfc3161', 'ots', 'ethereum']),
        files: z.array(z.strictObject({ name: z.string().min(1), data: base64 })).max(8),
      }),
    )
    .max(16),
});
export type BundleAnchor = z.infer<typeof anchorSchema>;

const bundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  origin: z.string().min(1),
  receipt: z.string().min(2),
  proof: z.string().min(1),
  anchor: anchorSchema.optional(),
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
  /**
   * The anchor, once its structure holds: the heads hash to the combined root, the scroll's head
   * covers the receipt and is a prefix of the checkpoint's tree. Its evidence is checked by the
   * caller, with each backend's verifier.
   */
  anchor?: { statement: BundleAnchor['statement']; digest: Uint8Array; evidence: BundleAnchor['evidence'] };
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
  if (bundle.anchor === undefined) return { receipt, checkpoint, signedBy: verified };
  return {
    receipt,
    checkpoint,
    signedBy: verified,
    anchor: verifyAnchorStructure(bundle.anchor, scroll, proof.index, checkpoint, hasher),
  };
}

function verifyAnchorStructure(
  anchor: BundleAnchor,
  scroll: string,
  index: number,
  checkpoint: Checkpoint,
  hasher: TreeHasher,
): NonNullable<VerifiedBundle['anchor']> {
  const { statement } = anchor;
  const invalid = (message: string) =>
    new VaultMeshError('BUNDLE_INVALID', `anchor ${statement.id}: ${message}`, {
      hint: 'the anchor section does not belong to this receipt; make the bundle again with vm proof',
    });
  const digest = combinedRoot(
    statement.heads.map((h) => ({ scroll: h.scroll, size: h.size, root: fromHex(h.root.slice(7)) })),
    hasher,
  );
  if (`sha256:${toHex(digest)}` !== statement.combined_root)
    throw invalid('its heads do not hash to its combined root');
  const head = statement.heads.find((h) => h.scroll === scroll);
  if (head === undefined) throw invalid(`it has no head for scroll ${scroll}`);
  if (head.size <= index) throw invalid(`it covers ${head.size} receipts of ${scroll}, not seq ${index}`);
  if (head.size > checkpoint.size)
    throw invalid(`its head (${head.size}) is beyond the checkpoint (${checkpoint.size})`);
  verifyConsistency(
    head.size,
    checkpoint.size,
    fromHex(head.root.slice(7)),
    checkpoint.rootHash,
    anchor.consistency.map((h) => fromBase64(h, 'anchor.consistency')),
    hasher,
  );
  return { statement, digest, evidence: anchor.evidence };
}
