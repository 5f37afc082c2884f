/**
 * What every anchor backend does: take a 32-byte digest (the combined root of the scrolls'
 * checkpoints) to an outside witness of time, keep the evidence that it did, and later check that
 * evidence offline against the digest. Backends never write receipts or files themselves: the
 * Guardian records their evidence and outcome.
 */
import type { JsonValue } from '../../core/canonical.js';

export type BackendKind = 'local' | 'rfc3161' | 'ots' | 'ethereum';

export interface AnchorRequest {
  /** The digest anchored: the combined root (SHA-256 output, 32 bytes). */
  digest: Uint8Array;
  /** Aborts the submission (the Guardian's timeout). */
  signal: AbortSignal;
}

export interface EvidenceFile {
  /** A plain file name, e.g. `token.tsr`, `anchor.ots`, `tx.json`. */
  name: string;
  bytes: Uint8Array;
}

export interface AnchorEvidence {
  /** `pending`: accepted but not final yet (an OpenTimestamps calendar commitment, an unconfirmed tx). */
  status: 'confirmed' | 'pending';
  /** The evidence a verifier needs, stored by the Guardian next to the anchor. */
  files: EvidenceFile[];
  /** Facts for the receipt body: the TSA's genTime and serial, a tx hash and block, calendar URLs. */
  summary: Record<string, JsonValue>;
  /** The outside time the evidence attests, when it has one (ISO 8601). */
  time?: string;
}

export interface VerifiedAnchor {
  /** What was checked, in one sentence for humans (names the TSA, the block, the attestation). */
  detail: string;
  time?: string;
  /** False while the evidence is still pending (it proves submission, not yet time). */
  final: boolean;
}

export interface AnchorBackend {
  readonly kind: BackendKind;
  /** The configured name (several TSAs may be configured; each is its own backend). */
  readonly name: string;
  /** Where it talks to, for receipts and status (a URL; `local` for the local backend). */
  readonly endpoint: string;
  submit(request: AnchorRequest): Promise<AnchorEvidence>;
  /**
   * Checks stored evidence against the digest, offline where the backend allows (a TSA token,
   * OTS operations up to their attestation); the Ethereum backend re-reads the transaction.
   * @throws VaultMeshError (BUNDLE_INVALID, SIGNATURE_INVALID, ...) naming what does not hold.
   */
  verify(digest: Uint8Array, files: readonly EvidenceFile[], signal: AbortSignal): Promise<VerifiedAnchor>;
  /** Completes pending evidence (OpenTimestamps upgrade); undefined when nothing changed yet. */
  upgrade?(
    digest: Uint8Array,
    files: readonly EvidenceFile[],
    signal: AbortSignal,
  ): Promise<AnchorEvidence | undefined>;
}
