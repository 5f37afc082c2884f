/**
 * Reading anchors back: the status of each backend, completing pending evidence (OpenTimestamps),
 * and re-verifying a stored anchor against its backends' evidence and the scrolls as they are now.
 */
import { createHash } from 'node:crypto';
import { fromHex, toHex } from '../../core/bytes.js';
import { combinedRoot } from '../../core/combined-root.js';
import { isVaultMeshError, VaultMeshError } from '../../core/errors.js';
import type { Receipt } from '../../core/receipt.js';
import { AnchorStore, type AnchorStatement } from '../../ledger/anchor-store.js';
import type { Ledger } from '../../ledger/ledger.js';
import { nodeTreeHasher } from '../../ledger/node-hasher.js';
import type { AnchorBackend } from './backend.js';
import type { GuardianConfig } from './config.js';
import { divergences, lastAnchor } from './cycle.js';

const digestOf = (statement: AnchorStatement) => fromHex(statement.combined_root.slice('sha256:'.length));

function latest(ledger: Ledger, type: string, backend: string): Receipt | undefined {
  return ledger.query('guardian', {
    types: [type],
    where: [{ path: 'backend', value: backend, text: backend }],
    reverse: true,
    limit: 1,
  })[0];
}

export interface BackendStatus {
  backend: string;
  kind: string;
  endpoint: string;
  last_anchor: string | null;
  combined_root: string | null;
  anchored_at: string | null;
  status: string | null;
  age_seconds: number | null;
  stale: boolean;
  last_failure: { at: string; code: string; error: string } | null;
}

export function anchorStatus(
  ledger: Ledger,
  config: GuardianConfig,
  backends: readonly AnchorBackend[],
  now: Date,
): BackendStatus[] {
  return backends.map((b) => {
    const success = latest(ledger, 'anchor_success', b.name);
    const failure = latest(ledger, 'anchor_failure', b.name);
    const upgrade = latest(ledger, 'anchor_upgrade', b.name);
    // An upgrade of the latest anchor (an OpenTimestamps attestation arrived) is its status now.
    const current =
      upgrade !== undefined && success !== undefined && upgrade.body.anchor_id === success.body.anchor_id
        ? upgrade
        : success;
    const age = success === undefined ? null : Math.round((now.getTime() - Date.parse(success.ts)) / 1000);
    return {
      backend: b.name,
      kind: b.kind,
      endpoint: b.endpoint,
      last_anchor: success === undefined ? null : String(success.body.anchor_id),
      combined_root: success === undefined ? null : String(success.body.combined_root),
      anchored_at: success?.ts ?? null,
      status: current === undefined ? null : String(current.body.status),
      age_seconds: age,
      stale: age === null || age * 1000 > config.stale_after,
      last_failure:
        failure !== undefined && (success === undefined || failure.seq > success.seq)
          ? { at: failure.ts, code: String(failure.body.code), error: String(failure.body.error) }
          : null,
    };
  });
}

function hashFile(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Completes pending evidence; each completion is an `anchor_upgrade` receipt. */
export async function upgradeAnchors(
  ledger: Ledger,
  config: GuardianConfig,
  backends: readonly AnchorBackend[],
): Promise<Array<{ anchor_id: string; backend: string; status: string; seq: number }>> {
  const store = new AnchorStore(ledger.dataDir);
  const upgraded = [];
  for (const backend of backends.filter((b) => b.upgrade !== undefined)) {
    const pending = ledger.query('guardian', {
      types: ['anchor_success'],
      where: [
        { path: 'backend', value: backend.name, text: backend.name },
        { path: 'status', value: 'pending', text: 'pending' },
      ],
      limit: Number.MAX_SAFE_INTEGER,
    });
    for (const receipt of pending) {
      const id = String(receipt.body.anchor_id);
      const done = ledger.query('guardian', {
        types: ['anchor_upgrade'],
        where: [
          { path: 'anchor_id', value: id, text: id },
          { path: 'backend', value: backend.name, text: backend.name },
          { path: 'status', value: 'confirmed', text: 'confirmed' },
        ],
        limit: 1,
      });
      if (done.length > 0) continue;
      const statement = store.statement(id);
      const evidence = await backend.upgrade!(
        digestOf(statement),
        store.evidence(id, backend.name),
        AbortSignal.timeout(config.timeout_ms),
      );
      if (evidence === undefined) continue;
      const stored = store.saveEvidence(id, backend.name, evidence.files);
      const [appended] = await ledger.emit([
        {
          scroll: 'guardian',
          type: 'anchor_upgrade',
          body: {
            anchor_id: id,
            backend: backend.name,
            kind: backend.kind,
            endpoint: backend.endpoint,
            combined_root: statement.combined_root,
            status: evidence.status,
            evidence: stored,
            summary: evidence.summary,
          },
          tags: ['guardian', 'anchor', 'upgrade', backend.kind],
        },
      ]);
      upgraded.push({
        anchor_id: id,
        backend: backend.name,
        status: evidence.status,
        seq: appended!.receipt.seq,
      });
    }
  }
  if (upgraded.length > 0) await ledger.publish('guardian');
  return upgraded;
}

/** The earliest anchor whose head of `scroll` includes `seq`. */
export function coveringAnchor(ledger: Ledger, scroll: string, seq: number): AnchorStatement | undefined {
  const store = new AnchorStore(ledger.dataDir);
  const seen = new Set<string>();
  for (const receipt of ledger.query('guardian', {
    types: ['anchor_success'],
    limit: Number.MAX_SAFE_INTEGER,
  })) {
    const id = String(receipt.body.anchor_id);
    if (seen.has(id)) continue;
    seen.add(id);
    const statement = store.statement(id);
    if ((statement.heads.find((h) => h.scroll === scroll)?.size ?? 0) > seq) return statement;
  }
  return undefined;
}

export interface AnchorVerification {
  anchor_id: string;
  combined_root: string;
  ok: boolean;
  checks: Array<{ check: string; ok: boolean; detail: string; time?: string; final?: boolean }>;
}

/**
 * Re-verifies an anchor (the latest by default): the combined root recomputed from its heads, each
 * head still a prefix of its scroll, and every backend's stored evidence, byte-checked against the
 * hashes its receipt pinned and verified by the backend.
 */
export async function verifyAnchor(
  ledger: Ledger,
  config: GuardianConfig,
  backends: readonly AnchorBackend[],
  id?: string,
): Promise<AnchorVerification> {
  const store = new AnchorStore(ledger.dataDir);
  const statement = id === undefined ? lastAnchor(ledger) : store.statement(id);
  if (statement === undefined) {
    throw new VaultMeshError('NOT_RECORDED', 'no anchor has been made yet', {
      hint: 'anchor with: vm guardian anchor-now',
    });
  }
  const checks: AnchorVerification['checks'] = [];
  const judge = async (
    check: string,
    work: () => Promise<{ detail: string; time?: string; final?: boolean }>,
  ) => {
    try {
      checks.push({ check, ok: true, ...(await work()) });
    } catch (error) {
      if (!isVaultMeshError(error)) throw error;
      checks.push({ check, ok: false, detail: `${error.code}: ${error.message}` });
    }
  };
  await judge('combined-root', async () => {
    const recomputed = combinedRoot(
      statement.heads.map((h) => ({ scroll: h.scroll, size: h.size, root: fromHex(h.root.slice(7)) })),
      nodeTreeHasher,
    );
    if (`sha256:${toHex(recomputed)}` !== statement.combined_root) {
      throw new VaultMeshError('ROOT_MISMATCH', 'the heads do not hash to the anchored combined root');
    }
    return { detail: `${statement.heads.length} scroll heads hash to ${statement.combined_root}` };
  });
  // The scrolls as they are on disk now, not as their sidecars remember them: an edit in place shows.
  const diverged = await divergences(ledger, statement.heads);
  for (const head of statement.heads) {
    await judge(`scroll:${head.scroll}`, async () => {
      const divergence = diverged.find((d) => d.scroll === head.scroll);
      if (divergence !== undefined) throw new VaultMeshError('CONSISTENCY_MISMATCH', divergence.reason);
      const { oldRoot, newSize } = ledger.consistency(head.scroll, head.size);
      if (`sha256:${toHex(oldRoot)}` !== head.root) {
        throw new VaultMeshError(
          'CONSISTENCY_MISMATCH',
          `the first ${head.size} receipts no longer hash to the anchored root`,
        );
      }
      return { detail: `size ${head.size} is a prefix of the scroll now (${newSize})` };
    });
  }
  for (const backend of backends) {
    const success = ledger.query('guardian', {
      types: ['anchor_success', 'anchor_upgrade'],
      where: [
        { path: 'anchor_id', value: statement.id, text: statement.id },
        { path: 'backend', value: backend.name, text: backend.name },
      ],
      reverse: true,
      limit: 1,
    })[0];
    if (success === undefined) continue;
    await judge(`backend:${backend.name}`, async () => {
      const files = store.evidence(statement.id, backend.name);
      for (const pinned of success.body.evidence as Array<{ name: string; sha256: string }>) {
        const file = files.find((f) => f.name === pinned.name);
        if (file === undefined || hashFile(file.bytes) !== pinned.sha256) {
          throw new VaultMeshError(
            'ARTIFACT_MISMATCH',
            `evidence ${pinned.name} is missing or changed since it was recorded`,
          );
        }
      }
      return backend.verify(digestOf(statement), files, AbortSignal.timeout(config.timeout_ms));
    });
  }
  return {
    anchor_id: statement.id,
    combined_root: statement.combined_root,
    ok: checks.every((c) => c.ok),
    checks,
  };
}
