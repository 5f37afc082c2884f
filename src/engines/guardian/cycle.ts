/**
 * The Guardian's anchor cycle (DESIGN §4): check that every scroll still extends what was anchored
 * before, sign every scroll's checkpoint, build the combined root over their heads, and hand it to
 * each backend. Every outcome is a receipt in the Guardian scroll: `anchor_success` and
 * `anchor_failure` per backend, `anchor_divergence` per rewritten scroll. A divergence stops the
 * cycle: rewritten history is never anchored as if it were fine.
 */
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../core/bytes.js';
import { combinedRoot } from '../../core/combined-root.js';
import { isVaultMeshError, VaultMeshError } from '../../core/errors.js';
import type { Receipt, ReceiptDraft } from '../../core/receipt.js';
import { SCROLLS, getScroll } from '../../core/scrolls/index.js';
import { AnchorStore, type AnchorStatement, type AnchoredHead } from '../../ledger/anchor-store.js';
import type { Ledger } from '../../ledger/ledger.js';
import { nodeTreeHasher } from '../../ledger/node-hasher.js';
import { verifyScroll } from '../../ledger/verify.js';
import type { AnchorBackend, AnchorEvidence } from './backend.js';
import type { GuardianConfig } from './config.js';

export interface CycleOptions {
  /** Anchor only these scrolls (all by default). Divergence is checked for every anchored scroll. */
  scrolls?: readonly string[];
  /** Use only these backends (all configured by default). */
  backends?: readonly string[];
  clock?: () => Date;
  /** Waits between attempts; tests pass a fast one. */
  sleep?: (ms: number) => Promise<void>;
}

export type CycleOutcome = 'anchored' | 'partial' | 'failed' | 'diverged';

export interface CycleResult {
  outcome: CycleOutcome;
  anchor_id: string | null;
  combined_root: string | null;
  heads: AnchoredHead[];
  successes: Array<{ backend: string; kind: string; status: string; time?: string; seq: number }>;
  failures: Array<{
    backend: string;
    kind: string;
    code: string;
    error: string;
    attempts: number;
    seq: number;
  }>;
  divergences: Array<{
    scroll: string;
    anchored_size: number;
    current_size: number;
    reason: string;
    seq: number;
  }>;
}

const sha256Ref = (bytes: Uint8Array) => `sha256:${toHex(bytes)}`;

/** The statement of the newest anchor that at least one backend confirmed or accepted. */
export function lastAnchor(ledger: Ledger): AnchorStatement | undefined {
  const [latest] = ledger.query('guardian', { types: ['anchor_success'], reverse: true, limit: 1 });
  return latest === undefined
    ? undefined
    : new AnchorStore(ledger.dataDir).statement(String(latest.body.anchor_id));
}

/** Scrolls that no longer extend the heads of `anchored`: truncated, rewritten, or failing verification. */
/**
 * The newest anchored head of every scroll, with the anchor it is in: a cycle limited to some
 * scrolls must not let the others fall out of the divergence check.
 */
export function latestAnchoredHeads(ledger: Ledger): Array<AnchoredHead & { anchor_id: string }> {
  const store = new AnchorStore(ledger.dataDir);
  const heads = new Map<string, AnchoredHead & { anchor_id: string }>();
  const seen = new Set<string>();
  for (const receipt of ledger.query('guardian', {
    types: ['anchor_success'],
    reverse: true,
    limit: Number.MAX_SAFE_INTEGER,
  })) {
    const id = String(receipt.body.anchor_id);
    if (seen.has(id)) continue;
    seen.add(id);
    for (const head of store.statement(id).heads)
      if (!heads.has(head.scroll)) heads.set(head.scroll, { ...head, anchor_id: id });
    if (heads.size === SCROLLS.length) break;
  }
  return [...heads.values()];
}

/** Scrolls that no longer extend their anchored heads: truncated, rewritten, or failing verification. */
export async function divergences(
  ledger: Ledger,
  anchoredHeads: readonly AnchoredHead[],
): Promise<Omit<CycleResult['divergences'][number], 'seq'>[]> {
  const found: Omit<CycleResult['divergences'][number], 'seq'>[] = [];
  for (const head of anchoredHeads) {
    const scroll = getScroll(head.scroll);
    const report = await verifyScroll(ledger, scroll, { deep: false });
    const diverged = (reason: string, currentSize: number) =>
      found.push({ scroll: head.scroll, anchored_size: head.size, current_size: currentSize, reason });
    if (!report.ok) {
      const first = report.findings[0];
      diverged(
        `the scroll fails verification: ${first?.code ?? 'unknown'}: ${first?.message ?? ''}`,
        report.lines,
      );
      continue;
    }
    if (report.lines < head.size) {
      diverged(`the scroll has ${report.lines} receipts; ${head.size} were anchored`, report.lines);
      continue;
    }
    const { oldRoot } = ledger.consistency(head.scroll, head.size);
    if (sha256Ref(oldRoot) !== head.root) {
      diverged(
        `its first ${head.size} receipts hash to ${sha256Ref(oldRoot)}, ${head.root} was anchored`,
        report.lines,
      );
    }
  }
  return found;
}

async function attempt(
  backend: AnchorBackend,
  digest: Uint8Array,
  config: GuardianConfig,
  sleep: (ms: number) => Promise<void>,
): Promise<{ evidence: AnchorEvidence; attempts: number } | { error: VaultMeshError; attempts: number }> {
  let last: VaultMeshError | undefined;
  for (let n = 1; n <= config.attempts; n++) {
    try {
      const evidence = await backend.submit({ digest, signal: AbortSignal.timeout(config.timeout_ms) });
      return { evidence, attempts: n };
    } catch (error) {
      last = isVaultMeshError(error)
        ? error
        : new VaultMeshError('IO_ERROR', `${backend.name}: ${(error as Error).message}`, { cause: error });
      if (n < config.attempts) await sleep(config.retry_delay_ms * 2 ** (n - 1));
    }
  }
  return { error: last!, attempts: config.attempts };
}

export async function runAnchorCycle(
  ledger: Ledger,
  config: GuardianConfig,
  allBackends: readonly AnchorBackend[],
  options: CycleOptions = {},
): Promise<CycleResult> {
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  const scrolls = (options.scrolls ?? SCROLLS.map((s) => s.name)).map((s) => getScroll(s).name);
  const backends = selectBackends(allBackends, options.backends);
  const result: CycleResult = {
    outcome: 'anchored',
    anchor_id: null,
    combined_root: null,
    heads: [],
    successes: [],
    failures: [],
    divergences: [],
  };

  const anchoredHeads = latestAnchoredHeads(ledger);
  if (anchoredHeads.length > 0) {
    const diverged = await divergences(ledger, anchoredHeads);
    if (diverged.length > 0) {
      const appended = await ledger.emit(
        diverged.map((d) => ({
          scroll: 'guardian',
          type: 'anchor_divergence',
          body: {
            ...d,
            anchor_id: anchoredHeads.find((h) => h.scroll === d.scroll)!.anchor_id,
            anchored_root: anchoredHeads.find((h) => h.scroll === d.scroll)!.root,
          },
          tags: ['guardian', 'divergence', d.scroll],
        })),
      );
      await ledger.publish('guardian');
      result.divergences = diverged.map((d, i) => ({ ...d, seq: appended[i]!.receipt.seq }));
      result.outcome = 'diverged';
      return result;
    }
  }

  for (const scroll of scrolls) {
    const { checkpoint } = await ledger.publish(scroll);
    result.heads.push({ scroll, size: checkpoint.size, root: sha256Ref(checkpoint.rootHash) });
  }
  const combined = combinedRoot(
    result.heads.map((h) => ({ scroll: h.scroll, size: h.size, root: fromHex(h.root.slice(7)) })),
    nodeTreeHasher,
  );
  const now = clock();
  const statement: AnchorStatement = {
    v: 1,
    id: `anchor-${now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`,
    node: ledger.identity.did,
    origin: ledger.identity.config.node.origin,
    time: now.toISOString(),
    combined_root: sha256Ref(combined),
    heads: result.heads,
  };
  const store = new AnchorStore(ledger.dataDir);
  store.create(statement);
  result.anchor_id = statement.id;
  result.combined_root = statement.combined_root;

  const outcomes = await Promise.all(
    backends.map(async (b) => ({ backend: b, ...(await attempt(b, combined, config, sleep)) })),
  );
  const drafts: ReceiptDraft[] = outcomes.map((o) => {
    const base = {
      anchor_id: statement.id,
      backend: o.backend.name,
      kind: o.backend.kind,
      endpoint: o.backend.endpoint,
      combined_root: statement.combined_root,
      attempts: o.attempts,
    };
    if ('error' in o) {
      return {
        scroll: 'guardian',
        type: 'anchor_failure',
        body: { ...base, code: o.error.code, error: o.error.message },
        tags: ['guardian', 'anchor', 'failure', o.backend.kind],
      };
    }
    const evidence = store.saveEvidence(statement.id, o.backend.name, o.evidence.files);
    return {
      scroll: 'guardian',
      type: 'anchor_success',
      body: {
        ...base,
        status: o.evidence.status,
        scrolls: result.heads.length,
        evidence,
        ...(o.evidence.time === undefined ? {} : { time: o.evidence.time }),
        summary: o.evidence.summary,
      },
      tags: ['guardian', 'anchor', o.backend.kind],
    };
  });
  const appended = drafts.length === 0 ? [] : await ledger.emit(drafts);
  await ledger.publish('guardian');
  appended.forEach(({ receipt }, i) => {
    const o = outcomes[i]!;
    if ('error' in o) {
      result.failures.push({
        backend: o.backend.name,
        kind: o.backend.kind,
        code: o.error.code,
        error: o.error.message,
        attempts: o.attempts,
        seq: receipt.seq,
      });
    } else {
      result.successes.push({
        backend: o.backend.name,
        kind: o.backend.kind,
        status: o.evidence.status,
        ...(o.evidence.time === undefined ? {} : { time: o.evidence.time }),
        seq: receipt.seq,
      });
    }
  });
  result.outcome =
    result.failures.length === 0 ? 'anchored' : result.successes.length > 0 ? 'partial' : 'failed';
  return result;
}

export function selectBackends(
  all: readonly AnchorBackend[],
  names: readonly string[] | undefined,
): AnchorBackend[] {
  if (names === undefined || names.length === 0) return [...all];
  return names.map((name) => {
    const backend = all.find((b) => b.name === name);
    if (backend === undefined) {
      throw new VaultMeshError('INVALID_ARGUMENT', `no guardian backend named "${name}"`, {
        hint: `configured: ${all.map((b) => b.name).join(', ') || 'none'}`,
      });
    }
    return backend;
  });
}

/** The latest receipt of each kind per backend, newest first. */
export function anchorReceipts(
  ledger: Ledger,
  query: { backend?: string; from?: string; limit: number },
): Receipt[] {
  return ledger.query('guardian', {
    types: ['anchor_success', 'anchor_failure', 'anchor_divergence', 'anchor_upgrade'],
    ...(query.backend === undefined
      ? {}
      : { where: [{ path: 'backend', value: query.backend, text: query.backend }] }),
    ...(query.from === undefined ? {} : { from: query.from }),
    limit: query.limit,
    reverse: true,
  });
}
