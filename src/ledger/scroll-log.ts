/**
 * One scroll on disk: the append-only JSONL (the truth) and its tree sidecar. Appends are grouped:
 * every draft queued while a write is in flight goes out in the next single write + fdatasync, and
 * each caller is answered only after the fsync that covers its receipts. A writer takes the
 * scroll's lock for the batch only, and first catches up on lines other processes appended.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { VaultMeshError } from '../core/errors.js';
import { parseReceiptLine, sealDraft, type Receipt, type ValidatedDraft } from '../core/receipt.js';
import type { ScrollDefinition } from '../core/scrolls/index.js';
import type { DataDir } from './data-dir.js';
import { writeAllAt, writeFileDurably } from './durable.js';
import { withLock } from './lock.js';
import { leafHashInPlace } from './node-hasher.js';
import { TreeStore } from './tree-store.js';

const NEWLINE = 0x0a;
const CATCH_UP_CHUNK = 4 * 1024 * 1024;
/** Longest a writer keeps the scroll's lock across consecutive batches. */
const MAX_HOLD_MS = 20;
const yieldToCallers = promisify(setImmediate);

export interface AppendedReceipt {
  receipt: Receipt;
  line: string;
}

export interface RecoveryReport {
  /** Bytes of an unfinished last line cut off (kept under index/<scroll>/torn-*.bin). */
  tornBytes: number;
  /** Lines found in the JSONL that the sidecar did not cover yet. */
  caughtUp: number;
}

export interface WriterOptions {
  issuer: string;
  lockTimeoutMs: number;
  clock: () => Date;
  /** Told of every durable batch: how many receipts, and how long its write + fdatasync took. */
  onBatch?: BatchObserver;
}

export type BatchObserver = (scroll: string, receipts: number, syncSeconds: number) => void;

interface Pending {
  drafts: readonly ValidatedDraft[];
  resolve: (receipts: AppendedReceipt[]) => void;
  reject: (error: unknown) => void;
}

export class ScrollLog {
  readonly path: string;
  private readonly queue: Pending[] = [];
  private draining = false;
  readonly recovery: RecoveryReport = { tornBytes: 0, caughtUp: 0 };

  private constructor(
    readonly dataDir: DataDir,
    readonly scroll: ScrollDefinition,
    private readonly fd: number,
    private treeStore: TreeStore,
    private readonly writer: WriterOptions | undefined,
  ) {
    this.path = dataDir.scrollFile(scroll);
  }

  /** A reader sees the lines the sidecar covers; it never takes the lock and never repairs. */
  static openReader(dataDir: DataDir, scroll: ScrollDefinition): ScrollLog {
    const path = dataDir.scrollFile(scroll);
    const fd = existsSync(path) ? openSync(path, 'r') : -1;
    return new ScrollLog(dataDir, scroll, fd, TreeStore.open(dataDir.sidecarDir(scroll), 'read'), undefined);
  }

  /** A writer repairs a torn tail and indexes lines appended by others before returning. */
  static async openWriter(
    dataDir: DataDir,
    scroll: ScrollDefinition,
    options: WriterOptions,
  ): Promise<ScrollLog> {
    const path = dataDir.scrollFile(scroll);
    mkdirSync(dirname(path), { recursive: true });
    mkdirSync(dataDir.sidecarDir(scroll), { recursive: true });
    const log = await withLock(dataDir.lockFile(scroll), options.lockTimeoutMs, async () => {
      const fd = openSync(path, 'a+', 0o644);
      const tree = TreeStore.open(dataDir.sidecarDir(scroll), 'write');
      const opened = new ScrollLog(dataDir, scroll, fd, tree, options);
      opened.checkIndexedTail();
      opened.catchUp();
      tree.flush();
      return opened;
    });
    return log;
  }

  get size(): number {
    return this.treeStore.size;
  }

  get tree(): TreeStore {
    return this.treeStore;
  }

  /** Runs `work` holding the scroll's writer lock, after catching up with other writers. */
  async locked<T>(work: () => T | Promise<T>): Promise<T> {
    const writer = this.requireWriter();
    return withLock(this.dataDir.lockFile(this.scroll), writer.lockTimeoutMs, async () => {
      if (!this.treeStore.isCurrent()) {
        // Another writer appended, or `vm reindex` rebuilt the sidecar: take it up from the files.
        this.treeStore.close();
        this.treeStore = TreeStore.open(this.dataDir.sidecarDir(this.scroll), 'write');
      }
      try {
        this.catchUp();
        return await work();
      } finally {
        this.treeStore.flush();
      }
    });
  }

  /** Appends receipts; resolves once they are on disk (fdatasync), in order, with their seq. */
  append(drafts: readonly ValidatedDraft[]): Promise<AppendedReceipt[]> {
    this.requireWriter();
    return new Promise((resolve, reject) => {
      this.queue.push({ drafts, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  /** Appends only if the scroll is still empty once the lock is held: a genesis receipt, written once. */
  appendIfEmpty(drafts: readonly ValidatedDraft[]): Promise<AppendedReceipt[]> {
    return this.appendChecked(() => (this.size === 0 ? drafts : []));
  }

  /**
   * A compare-and-append: `decide` runs holding the lock, on the scroll as every writer left it, and
   * what it returns is written in one batch before anyone else may append. An engine whose rules
   * depend on what is already recorded (a balance, an entry id, a DID that must not exist yet) checks
   * them here, so two processes can never both pass the check and both append.
   */
  appendChecked(
    decide: (log: ScrollLog) => readonly ValidatedDraft[] | Promise<readonly ValidatedDraft[]>,
  ): Promise<AppendedReceipt[]> {
    return this.locked(async () => {
      const drafts = await decide(this);
      return drafts.length === 0 ? [] : this.writeBatch(drafts);
    });
  }

  /** The line at `seq`, without its newline. */
  readLine(seq: number): string {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq >= this.size) {
      throw new VaultMeshError(
        'SEQ_OUT_OF_RANGE',
        `scroll ${this.scroll.name} has no seq ${seq} (size ${this.size})`,
        {
          hint: this.size === 0 ? 'the scroll is empty' : `use a seq from 0 to ${this.size - 1}`,
        },
      );
    }
    const start = this.tree.lineStart(seq);
    const end = this.tree.lineEnd(seq);
    const buf = Buffer.alloc(end - start);
    readSync(this.fd, buf, 0, buf.length, start);
    return buf.toString('utf8', 0, buf.length - 1);
  }

  /** Lines `from` (inclusive) to `to` (exclusive), read in large chunks. */
  *readLines(from: number, to: number): Generator<{ seq: number; line: string }> {
    let seq = from;
    while (seq < to) {
      const start = this.tree.lineStart(seq);
      const ends = this.tree.lineEnds(seq, Math.min(to - seq, 8192));
      const last = Number(ends[ends.length - 1]);
      const buf = Buffer.alloc(last - start);
      readSync(this.fd, buf, 0, buf.length, start);
      let offset = 0;
      for (const end of ends) {
        const length = Number(end) - start - offset;
        yield { seq, line: buf.toString('utf8', offset, offset + length - 1) };
        offset += length;
        seq++;
      }
    }
  }

  /** Raw bytes of the JSONL at `position`, indexed or not (for verification). */
  readAt(buf: Buffer, position: number): number {
    return this.fd < 0 ? 0 : readSync(this.fd, buf, 0, buf.length, position);
  }

  /** Size in bytes of the JSONL file as it is now, indexed or not. */
  fileSize(): number {
    return this.fd < 0 ? 0 : fstatSync(this.fd).size;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.treeStore.close();
  }

  private requireWriter(): WriterOptions {
    if (this.writer === undefined)
      throw new VaultMeshError('INTERNAL', `scroll ${this.scroll.name} was opened read-only`);
    return this.writer;
  }

  /**
   * Writes queued batches. The lock is kept while this process's appends keep arriving (each batch
   * yields once so callers can queue the next), for at most MAX_HOLD_MS, then released so other
   * processes get their turn.
   */
  private async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.length > 0) {
      try {
        await this.locked(async () => {
          const heldSince = Date.now();
          do {
            this.flush(this.queue.splice(0));
            await yieldToCallers();
          } while (this.queue.length > 0 && Date.now() - heldSince < MAX_HOLD_MS);
        });
      } catch (error) {
        // The lock or the catch-up failed: nothing queued was written.
        for (const pending of this.queue.splice(0)) pending.reject(error);
      }
    }
    this.draining = false;
  }

  private flush(batch: Pending[]): void {
    try {
      const appended = this.writeBatch(batch.flatMap((p) => p.drafts));
      let offset = 0;
      for (const pending of batch) {
        pending.resolve(appended.slice(offset, offset + pending.drafts.length));
        offset += pending.drafts.length;
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  private writeBatch(drafts: readonly ValidatedDraft[]): AppendedReceipt[] {
    const writer = this.requireWriter();
    const ts = writer.clock().toISOString();
    const first = this.tree.size;
    const appended = drafts.map((draft, i) => sealDraft(draft, first + i, ts, writer.issuer));
    const bytes = Buffer.from(appended.map((a) => a.line).join('\n') + '\n', 'utf8');
    const start = this.tree.coveredBytes;
    const started = performance.now();
    try {
      writeAllAt(this.fd, bytes, null);
      // Synchronous on purpose: the thread-pool round trip of the async call costs about a third of
      // an fsync, and appends arriving meanwhile still wait in the socket or the queue for the next
      // batch, so group commit is unchanged.
      fdatasyncSync(this.fd);
    } catch (cause) {
      // Leave no partial batch behind: nothing in it was acknowledged.
      ftruncateSync(this.fd, start);
      throw new VaultMeshError('IO_ERROR', `writing to ${this.path} failed: ${(cause as Error).message}`, {
        cause,
        hint: 'check free disk space and permissions; nothing from this batch was recorded',
      });
    }
    writer.onBatch?.(this.scroll.name, appended.length, (performance.now() - started) / 1000);
    this.indexLines(bytes, start);
    return appended;
  }

  /**
   * Hashes the complete lines of `bytes` (which begin at file offset `base`) into the sidecar,
   * calling `check` on each first. Returns the number of bytes consumed (up to the last newline).
   */
  private indexLines(bytes: Buffer, base: number, check?: (line: string, seq: number) => void): number {
    const leafHashes: Uint8Array[] = [];
    const ends: number[] = [];
    let lineStart = 0;
    let seq = this.tree.size;
    for (let nl = bytes.indexOf(NEWLINE, 0); nl !== -1; nl = bytes.indexOf(NEWLINE, lineStart)) {
      check?.(bytes.toString('utf8', lineStart, nl), seq++);
      leafHashes.push(leafHashInPlace(bytes, lineStart, nl));
      ends.push(base + nl + 1);
      lineStart = nl + 1;
    }
    if (leafHashes.length > 0) this.tree.append(leafHashes, ends);
    return lineStart;
  }

  /** A sidecar that covers more than the file, or a last line that changed, means the file was rewritten. */
  private checkIndexedTail(): void {
    const size = this.tree.size;
    if (size === 0) return;
    const fileSize = this.fileSize();
    if (fileSize < this.tree.coveredBytes) {
      throw new VaultMeshError(
        'SIDECAR_MISMATCH',
        `${this.path} is ${fileSize} bytes but ${size} lines (${this.tree.coveredBytes} bytes) were recorded: the file was truncated or rewritten`,
        {
          hint: `run vm verify ${this.scroll.name} to find the first altered line`,
          evidence: { fileSize, recordedLines: size },
        },
      );
    }
    const start = this.tree.lineStart(size - 1);
    const line = Buffer.alloc(this.tree.coveredBytes - start);
    readSync(this.fd, line, 0, line.length, start);
    const recorded = Buffer.from(this.tree.readNode(0, size - 1));
    if (line[line.length - 1] !== NEWLINE || !leafHashInPlace(line, 0, line.length - 1).equals(recorded)) {
      throw new VaultMeshError(
        'SIDECAR_MISMATCH',
        `line ${size} (seq ${size - 1}) of ${this.path} differs from what was recorded`,
        {
          hint: `run vm verify ${this.scroll.name} to find the first altered line`,
          evidence: { line: size, seq: size - 1 },
        },
      );
    }
  }

  /** Indexes lines others appended since we last looked, validating each; cuts off a torn tail. */
  private catchUp(): void {
    let covered = this.tree.coveredBytes;
    const fileSize = this.fileSize();
    if (fileSize < covered) this.checkIndexedTail();
    while (covered < fileSize) {
      const chunk = Buffer.alloc(Math.min(CATCH_UP_CHUNK, fileSize - covered));
      readSync(this.fd, chunk, 0, chunk.length, covered);
      const before = this.tree.size;
      const consumed = this.indexLines(chunk, covered, (line, seq) => {
        parseReceiptLine(line, { scroll: this.scroll.name, seq });
      });
      this.recovery.caughtUp += this.tree.size - before;
      if (consumed === 0) {
        if (covered + chunk.length < fileSize) {
          throw new VaultMeshError(
            'LINE_CORRUPT',
            `line ${this.tree.size + 1} of ${this.path} is longer than ${CATCH_UP_CHUNK} bytes`,
            {
              hint: `run vm verify ${this.scroll.name}`,
            },
          );
        }
        this.cutTornTail(covered, chunk);
        return;
      }
      covered += consumed;
    }
  }

  /** An unfinished last line was never acknowledged; keep its bytes for inspection and cut it. */
  private cutTornTail(offset: number, bytes: Buffer): void {
    writeFileDurably(join(this.dataDir.sidecarDir(this.scroll), `torn-${offset}.bin`), bytes);
    ftruncateSync(this.fd, offset);
    fsyncSync(this.fd);
    this.recovery.tornBytes += bytes.length;
  }
}
