/**
 * The ledger of one data directory: every interface (CLI, HTTP, MCP) goes through this object.
 * Writers are opened per scroll on first use and kept, so that appends from one process share
 * group commits; readers never take a lock.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { BUNDLE_FORMAT, formatBundle } from '../core/bundle.js';
import { VaultMeshError } from '../core/errors.js';
import { consistencyProof, inclusionProof, rootAt } from '../core/merkle.js';
import type { NoteSigner } from '../core/note.js';
import { validateDraft, type Receipt, type ReceiptDraft } from '../core/receipt.js';
import { getScroll } from '../core/scrolls/index.js';
import { formatTlogProof } from '../core/tlog-proof.js';
import { DataDir } from './data-dir.js';
import { loadNodeIdentity, loadNodeSigner, scrollOrigin, type NodeIdentity } from './node-identity.js';
import { nodeTreeHasher } from './node-hasher.js';
import { publishCheckpoint, readCheckpoint, type PublishedCheckpoint } from './publish.js';
import { QueryIndex, type ReceiptQuery } from './query-index.js';
import { ScrollLog, type AppendedReceipt, type BatchObserver, type RecoveryReport } from './scroll-log.js';

export interface LedgerOptions {
  clock?: () => Date;
  onBatch?: BatchObserver;
}

export interface ScrollStatus {
  scroll: string;
  size: number;
  root: Uint8Array;
  checkpointSize: number | undefined;
  /** The JSONL holds bytes the sidecar does not cover: lines a crashed writer appended, or a torn tail. */
  uncovered: boolean;
}

export class Ledger {
  readonly dataDir: DataDir;
  readonly identity: NodeIdentity;
  private readonly clock: () => Date;
  private readonly onBatch: BatchObserver | undefined;
  private readonly writers = new Map<string, Promise<ScrollLog>>();
  /** The writers that finished opening, for readers to flush their buffered sidecar writes. */
  private readonly openWriters = new Map<string, ScrollLog>();
  private signerCache: NoteSigner | undefined;
  private queryIndex: QueryIndex | undefined;

  private constructor(root: string, options: LedgerOptions) {
    this.dataDir = new DataDir(root);
    this.identity = loadNodeIdentity(this.dataDir);
    this.clock = options.clock ?? (() => new Date());
    this.onBatch = options.onBatch;
  }

  static open(root: string, options: LedgerOptions = {}): Ledger {
    return new Ledger(root, options);
  }

  /**
   * Validates every draft first, so a bad one means nothing is written; then appends durably.
   * The result lists the receipts in the order of the drafts, whichever scrolls they went to.
   */
  async emit(drafts: readonly ReceiptDraft[]): Promise<AppendedReceipt[]> {
    const maxBody = this.identity.config.ledger.max_body_bytes;
    const validated = drafts.map((d) => validateDraft(d, maxBody));
    const positions = new Map<string, number[]>();
    validated.forEach((v, i) => positions.set(v.scroll, [...(positions.get(v.scroll) ?? []), i]));
    const results: AppendedReceipt[] = new Array(drafts.length);
    await Promise.all(
      [...positions].map(async ([scroll, indices]) => {
        const appended = await (await this.writer(scroll)).append(indices.map((i) => validated[i]!));
        indices.forEach((draftIndex, k) => (results[draftIndex] = appended[k]!));
      }),
    );
    return results;
  }

  /**
   * Appends to one scroll what `decide` returns, deciding under the scroll's lock on the scroll as
   * it is then (see ScrollLog.appendChecked). Nothing is written when `decide` throws.
   */
  async emitChecked(
    scrollName: string,
    decide: (log: ScrollLog) => readonly ReceiptDraft[] | Promise<readonly ReceiptDraft[]>,
  ): Promise<AppendedReceipt[]> {
    const scroll = getScroll(scrollName);
    const maxBody = this.identity.config.ledger.max_body_bytes;
    const log = await this.writer(scroll.name);
    return log.appendChecked(async (current) =>
      (await decide(current)).map((draft) => {
        if (getScroll(draft.scroll).name !== scroll.name) {
          throw new VaultMeshError(
            'INTERNAL',
            `a checked append to ${scroll.name} drafted a ${draft.scroll} receipt`,
          );
        }
        return validateDraft(draft, maxBody);
      }),
    );
  }

  writer(scrollName: string): Promise<ScrollLog> {
    const scroll = getScroll(scrollName);
    let log = this.writers.get(scroll.name);
    if (log === undefined) {
      log = ScrollLog.openWriter(this.dataDir, scroll, {
        issuer: this.identity.did,
        lockTimeoutMs: this.identity.config.ledger.lock_timeout_ms,
        clock: this.clock,
        ...(this.onBatch === undefined ? {} : { onBatch: this.onBatch }),
      });
      this.writers.set(scroll.name, log);
      log.then(
        (opened) => this.openWriters.set(scroll.name, opened),
        () => this.writers.delete(scroll.name),
      );
    }
    return log;
  }

  /**
   * A lock-free view of the scroll as its sidecar covers it now, including every receipt this
   * process has had acknowledged (a writer's buffered sidecar writes are written out first).
   */
  reader(scrollName: string): ScrollLog {
    this.dataDir.assertUsable();
    const scroll = getScroll(scrollName);
    this.openWriters.get(scroll.name)?.tree.flush();
    return ScrollLog.openReader(this.dataDir, scroll);
  }

  async publish(scrollName: string): Promise<PublishedCheckpoint> {
    const log = await this.writer(scrollName);
    return log.locked(() => publishCheckpoint(log, this.identity, this.signer(), this.clock()));
  }

  checkpoint(log: ScrollLog): PublishedCheckpoint | undefined {
    return readCheckpoint(log, this.identity);
  }

  status(scrollName: string): ScrollStatus {
    const log = this.reader(scrollName);
    try {
      return {
        scroll: log.scroll.name,
        size: log.size,
        root: rootAt(log.tree.readNode, log.size, nodeTreeHasher),
        checkpointSize: this.checkpoint(log)?.checkpoint.size,
        uncovered: log.fileSize() > log.tree.coveredBytes,
      };
    } finally {
      log.close();
    }
  }

  /** A bundle proving receipt `seq` against a signed checkpoint (published now if none covers it). */
  async bundle(scrollName: string, seq: number): Promise<string> {
    let log = this.reader(scrollName);
    let published: PublishedCheckpoint | undefined;
    let receipt: string;
    try {
      receipt = log.readLine(seq);
      published = this.checkpoint(log);
    } finally {
      log.close();
    }
    if (published === undefined || published.checkpoint.size <= seq)
      published = await this.publish(scrollName);
    log = this.reader(scrollName);
    try {
      const { checkpoint, note } = published;
      return formatBundle({
        format: BUNDLE_FORMAT,
        origin: scrollOrigin(this.identity, log.scroll),
        receipt,
        proof: formatTlogProof({
          index: seq,
          hashes: inclusionProof(log.tree.readNode, seq, checkpoint.size, nodeTreeHasher),
          checkpoint: note,
        }),
      });
    } finally {
      log.close();
    }
  }

  consistency(scrollName: string, oldSize: number, newSize?: number) {
    const log = this.reader(scrollName);
    try {
      const size = newSize ?? log.size;
      for (const [name, value] of [
        ['old-size', oldSize],
        ['new-size', size],
      ] as const) {
        if (!Number.isSafeInteger(value) || value < 0 || value > log.size) {
          throw new VaultMeshError(
            'SEQ_OUT_OF_RANGE',
            `${name} ${value} is not a size of scroll ${log.scroll.name}`,
            {
              hint: `sizes run from 0 to ${log.size}`,
            },
          );
        }
      }
      if (oldSize > size) {
        throw new VaultMeshError('INVALID_ARGUMENT', `old-size ${oldSize} is larger than new-size ${size}`);
      }
      return {
        scroll: log.scroll.name,
        oldSize,
        newSize: size,
        oldRoot: rootAt(log.tree.readNode, oldSize, nodeTreeHasher),
        newRoot: rootAt(log.tree.readNode, size, nodeTreeHasher),
        proof: consistencyProof(log.tree.readNode, oldSize, size, nodeTreeHasher),
      };
    } finally {
      log.close();
    }
  }

  /** Receipts matching the query, read back from the JSONL. */
  query(scrollName: string, query: ReceiptQuery): Receipt[] {
    const log = this.reader(scrollName);
    try {
      const seqs = this.index().query(log, query);
      return seqs.map((seq) => JSON.parse(log.readLine(seq)) as Receipt);
    } finally {
      log.close();
    }
  }

  /** Session ids with receipts in a scroll (within a time window), oldest first; read from the index. */
  sessions(scrollName: string, window: { from?: string; to?: string } = {}): string[] {
    const log = this.reader(scrollName);
    try {
      return this.index().sessions(log, window);
    } finally {
      log.close();
    }
  }

  /** What opening writers repaired: unfinished last lines cut, lines indexed that others appended. */
  async recoveries(): Promise<Array<RecoveryReport & { scroll: string; keptIn: string }>> {
    const reports = [];
    for (const pending of this.writers.values()) {
      const log = await pending.catch(() => undefined);
      if (log !== undefined && (log.recovery.tornBytes > 0 || log.recovery.caughtUp > 0)) {
        reports.push({
          scroll: log.scroll.name,
          keptIn: this.dataDir.sidecarDir(log.scroll),
          ...log.recovery,
        });
      }
    }
    return reports;
  }

  /** Forgets the query index of one scroll; the next query rebuilds it from the JSONL. */
  resetQueryIndex(scrollName: string): void {
    this.index().reset(getScroll(scrollName).name);
  }

  async close(): Promise<void> {
    for (const log of this.writers.values()) (await log.catch(() => undefined))?.close();
    this.writers.clear();
    this.openWriters.clear();
    this.queryIndex?.close();
    this.queryIndex = undefined;
  }

  private index(): QueryIndex {
    if (this.queryIndex === undefined) {
      if (!existsSync(this.dataDir.indexDir)) mkdirSync(this.dataDir.indexDir, { recursive: true });
      this.queryIndex = new QueryIndex(this.dataDir.queryIndexFile);
    }
    return this.queryIndex;
  }

  private signer(): NoteSigner {
    this.signerCache ??= loadNodeSigner(this.dataDir);
    return this.signerCache;
  }
}
