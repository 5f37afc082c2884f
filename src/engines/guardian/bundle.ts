/**
 * Anchored receipt bundles: a bundle (receipt, inclusion proof, signed checkpoint) plus the anchor
 * that covers the receipt — the anchor's statement, a consistency proof from the anchored size to
 * the bundle's checkpoint, and every backend's evidence — so that `vm verify-bundle` can check the
 * whole chain offline, down to the TSA's signature or the OpenTimestamps operations.
 */
import { fromBase64, toBase64 } from '../../core/bytes.js';
import {
  formatBundle,
  parseBundle,
  verifyBundle,
  type BundleAnchor,
  type VerifiedBundle,
} from '../../core/bundle.js';
import { openCheckpoint } from '../../core/checkpoint.js';
import { isVaultMeshError } from '../../core/errors.js';
import type { NoteVerifier } from '../../core/note.js';
import { parseTlogProof } from '../../core/tlog-proof.js';
import { AnchorStore } from '../../ledger/anchor-store.js';
import type { Ledger } from '../../ledger/ledger.js';
import { nodeTreeHasher } from '../../ledger/node-hasher.js';
import { coveringAnchor } from './anchors.js';
import type { BackendKind, VerifiedAnchor } from './backend.js';
import { verifyLocalEvidence } from './backends/local.js';
import { createOtsBackend } from './backends/ots.js';
import { createRfc3161Backend } from './backends/rfc3161.js';

/** The bundle of `seq`, with the earliest anchor that covers it when there is one. */
export async function anchoredBundle(ledger: Ledger, scroll: string, seq: number): Promise<string> {
  const text = await ledger.bundle(scroll, seq);
  const statement = coveringAnchor(ledger, scroll, seq);
  if (statement === undefined) return text;
  const bundle = parseBundle(text);
  const { checkpoint } = openCheckpoint(
    parseTlogProof(bundle.proof).checkpoint,
    [ledger.identity.verifier],
    bundle.origin,
  );
  const head = statement.heads.find((h) => h.scroll === scroll)!;
  const store = new AnchorStore(ledger.dataDir);
  const evidence: BundleAnchor['evidence'] = [];
  for (const receipt of ledger.query('guardian', {
    types: ['anchor_success'],
    where: [{ path: 'anchor_id', value: statement.id, text: statement.id }],
    limit: 64,
  })) {
    const backend = String(receipt.body.backend);
    evidence.push({
      backend,
      kind: receipt.body.kind as BackendKind,
      files: store.evidence(statement.id, backend).map((f) => ({ name: f.name, data: toBase64(f.bytes) })),
    });
  }
  const consistency = ledger.consistency(scroll, head.size, checkpoint.size).proof.map(toBase64);
  return formatBundle({ ...bundle, anchor: { statement, consistency, evidence } });
}

export interface EvidenceVerdict {
  backend: string;
  kind: BackendKind;
  status: 'ok' | 'fail' | 'skipped';
  detail: string;
  time?: string;
}

export interface EvidenceOptions {
  /** The node's key, for the local backend's signed note. */
  verifier: NoteVerifier;
  /** Trust anchors (PEM file) for RFC 3161 tokens; without them the tokens are not checked. */
  tsaCa?: string;
  cwd: string;
}

/** Checks each backend's evidence in a verified bundle, offline. */
export async function verifyAnchorEvidence(
  anchor: NonNullable<VerifiedBundle['anchor']>,
  options: EvidenceOptions,
): Promise<EvidenceVerdict[]> {
  const verdicts: EvidenceVerdict[] = [];
  for (const item of anchor.evidence) {
    const files = item.files.map((f) => ({
      name: f.name,
      bytes: fromBase64(f.data, `${item.backend} ${f.name}`),
    }));
    const offline = AbortSignal.timeout(30_000);
    const check = async (): Promise<VerifiedAnchor | string> => {
      switch (item.kind) {
        case 'local':
          return verifyLocalEvidence(anchor.digest, files, options.verifier);
        case 'rfc3161':
          if (options.tsaCa === undefined)
            return 'not checked: pass --tsa-ca with the TSA trust anchors (PEM)';
          return createRfc3161Backend(
            {
              name: item.backend,
              url: 'https://offline.invalid/',
              ca_cert_path: options.tsaCa,
              timeout_ms: 10_000,
            },
            options.cwd,
          ).verify(anchor.digest, files, offline);
        case 'ots':
          return createOtsBackend({
            name: item.backend,
            calendars: ['https://offline.invalid/'],
            timeout_ms: 10_000,
            min_calendars: 1,
          }).verify(anchor.digest, files, offline);
        case 'ethereum': {
          const tx = files.find((f) => f.name === 'tx.json');
          return `not checked offline: re-read ${tx === undefined ? 'the transaction' : new TextDecoder().decode(tx.bytes)} on its chain (vm guardian verify does)`;
        }
      }
    };
    try {
      const result = await check();
      verdicts.push(
        typeof result === 'string'
          ? { backend: item.backend, kind: item.kind, status: 'skipped', detail: result }
          : {
              backend: item.backend,
              kind: item.kind,
              status: 'ok',
              detail: result.detail,
              ...(result.time === undefined ? {} : { time: result.time }),
            },
      );
    } catch (error) {
      if (!isVaultMeshError(error)) throw error;
      verdicts.push({
        backend: item.backend,
        kind: item.kind,
        status: 'fail',
        detail: `${error.code}: ${error.message}`,
      });
    }
  }
  return verdicts;
}

/**
 * A bundle verified to the end: receipt, inclusion, signed checkpoint and, when it carries one, the
 * anchor and each backend's evidence. Every interface reports bundles in this one shape.
 * @throws VaultMeshError when the bundle itself does not hold (see core verifyBundle).
 */
export async function verifyBundleReport(text: string, options: EvidenceOptions) {
  const verified = verifyBundle(text, [options.verifier], nodeTreeHasher);
  const anchor =
    verified.anchor === undefined
      ? null
      : {
          id: verified.anchor.statement.id,
          combined_root: verified.anchor.statement.combined_root,
          evidence: await verifyAnchorEvidence(verified.anchor, options),
        };
  return {
    ok: anchor === null || anchor.evidence.every((e) => e.status !== 'fail'),
    scroll: verified.receipt.scroll,
    seq: verified.receipt.seq,
    type: verified.receipt.type,
    ts: verified.receipt.ts,
    root_hash: verified.receipt.root_hash,
    checkpoint: {
      origin: verified.checkpoint.origin,
      size: verified.checkpoint.size,
      root: toBase64(verified.checkpoint.rootHash),
    },
    signedBy: verified.signedBy.map((k) => k.name),
    anchor,
  };
}
