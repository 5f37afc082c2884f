/**
 * The tree sidecar of one scroll: every perfect-subtree hash of the RFC 6962 tree, one file per
 * level (`level-<h>.bin`, 32 bytes a node), and the byte offset at which each line ends
 * (`ends.bin`, u64 LE a line). A proof reads O(log n) nodes; a line is found in one read.
 * Everything here is derived from the JSONL and rebuilt by `vm reindex`.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { HASH_SIZE, nodesCompletedByAppend, type NodeHashReader } from '../core/merkle.js';
import { VaultMeshError } from '../core/errors.js';
import { writeAllAt } from './durable.js';
import { nodeTreeHasher } from './node-hasher.js';

const END_SIZE = 8;

export type TreeStoreMode = 'read' | 'write';

export class TreeStore {
  private readonly levelFds: number[] = [];
  private readonly levelCounts: number[] = [];
  /** The last node written at each level: the right edge an append reads, kept to spare the reads. */
  private readonly edge: Uint8Array[] = [];
  /**
   * A writer's appends not yet on disk, per level, and their line ends: written out by flush(), once
   * per lock hold rather than once per batch. The sidecar is derived, so a crash before the flush
   * only leaves lines for the next writer to catch up on.
   */
  private readonly pendingNodes: Uint8Array[][] = [];
  private pendingEnds: number[] = [];
  private endsFd = -1;
  private leafCount = 0;
  /** Cached end of the last recorded line; a writer knows it after each append. */
  private covered: number | undefined;

  private constructor(
    readonly dir: string,
    private readonly mode: TreeStoreMode,
  ) {}

  /**
   * Opens the sidecar. A writer repairs what a crash can leave (torn records, upper levels that lag
   * behind level 0); a reader only looks, and reads past what is written by recomputing from children.
   */
  static open(dir: string, mode: TreeStoreMode): TreeStore {
    const store = new TreeStore(dir, mode);
    if (mode === 'write') mkdirSync(dir, { recursive: true });
    store.endsFd = store.openFile('ends.bin');
    const endsCount = store.endsFd < 0 ? 0 : Math.floor(fstatSync(store.endsFd).size / END_SIZE);
    store.openLevel(0);
    store.leafCount = Math.min(endsCount, store.levelCounts[0]!);
    if (mode === 'write') store.repair();
    return store;
  }

  get size(): number {
    return this.leafCount;
  }

  /** Byte length of the JSONL covered by the sidecar. */
  get coveredBytes(): number {
    this.covered ??= this.leafCount === 0 ? 0 : this.lineEnd(this.leafCount - 1);
    return this.covered;
  }

  /** Offset just past the newline of line `seq`. */
  lineEnd(seq: number): number {
    const flushed = this.leafCount - this.pendingEnds.length;
    if (seq >= flushed && seq < this.leafCount) return this.pendingEnds[seq - flushed]!;
    const buf = Buffer.alloc(END_SIZE);
    if (readSync(this.endsFd, buf, 0, END_SIZE, seq * END_SIZE) !== END_SIZE) {
      throw new VaultMeshError('SIDECAR_MISMATCH', `line index has no entry for seq ${seq}`, {
        hint: 'rebuild the indexes with: vm reindex',
      });
    }
    return Number(buf.readBigUInt64LE(0));
  }

  lineStart(seq: number): number {
    return seq === 0 ? 0 : this.lineEnd(seq - 1);
  }

  /** Reads several consecutive line ends at once (verify and catch-up read them in bulk). */
  lineEnds(from: number, count: number): BigUint64Array {
    this.flush();
    if (this.endsFd < 0) return new BigUint64Array(0);
    const buf = Buffer.alloc(count * END_SIZE);
    const got = readSync(this.endsFd, buf, 0, buf.length, from * END_SIZE);
    return new BigUint64Array(buf.buffer, buf.byteOffset, Math.floor(got / END_SIZE));
  }

  readonly readNode: NodeHashReader = (level, index) => {
    this.openLevel(level);
    const count = this.levelCounts[level]!;
    const edge = this.edge[level];
    if (edge !== undefined && index === count - 1) return edge;
    const pending = this.pendingNodes[level] ?? [];
    if (index >= count - pending.length && index < count) return pending[index - (count - pending.length)]!;
    if (index < count) {
      const buf = Buffer.alloc(HASH_SIZE);
      if (readSync(this.levelFds[level]!, buf, 0, HASH_SIZE, index * HASH_SIZE) === HASH_SIZE) return buf;
    }
    if (level === 0) {
      throw new VaultMeshError('SIDECAR_MISMATCH', `tree sidecar has no leaf ${index}`, {
        hint: 'rebuild the indexes with: vm reindex',
      });
    }
    return nodeTreeHasher.hashChildren(
      this.readNode(level - 1, 2 * index),
      this.readNode(level - 1, 2 * index + 1),
    );
  };

  /** Number of nodes stored at `level` (nodes past it are computed on demand by readNode). */
  storedNodes(level: number): number {
    this.openLevel(level);
    return this.levelCounts[level]!;
  }

  /** Reads up to `count` consecutive stored nodes of `level` starting at `from`, in one read. */
  nodes(level: number, from: number, count: number): Buffer {
    this.flush();
    this.openLevel(level);
    const fd = this.levelFds[level]!;
    if (fd < 0) return Buffer.alloc(0);
    const buf = Buffer.alloc(Math.max(0, Math.min(count, this.levelCounts[level]! - from)) * HASH_SIZE);
    const got = buf.length === 0 ? 0 : readSync(fd, buf, 0, buf.length, from * HASH_SIZE);
    return buf.subarray(0, got - (got % HASH_SIZE));
  }

  /** Records appended lines: their leaf hashes and where each ends. Writer only. */
  append(leafHashes: readonly Uint8Array[], ends: readonly number[]): void {
    if (this.mode !== 'write') throw new VaultMeshError('INTERNAL', 'tree store opened read-only');
    const nodes = nodesCompletedByAppend(this.readNode, this.leafCount, leafHashes, nodeTreeHasher);
    const byLevel = new Map<number, Uint8Array[]>();
    for (const node of nodes) {
      let list = byLevel.get(node.level);
      if (list === undefined) byLevel.set(node.level, (list = []));
      list.push(node.hash);
    }
    for (const [level, hashes] of byLevel) {
      this.openLevel(level);
      (this.pendingNodes[level] ??= []).push(...hashes);
      this.levelCounts[level]! += hashes.length;
      this.edge[level] = hashes[hashes.length - 1]!;
    }
    this.pendingEnds.push(...ends);
    this.leafCount += leafHashes.length;
    this.covered = ends[ends.length - 1];
  }

  /** Writes out what appends left in memory: one write per file. */
  flush(): void {
    this.pendingNodes.forEach((hashes, level) => {
      if (hashes.length === 0) return;
      const first = this.levelCounts[level]! - hashes.length;
      writeAllAt(this.levelFds[level]!, Buffer.concat(hashes), first * HASH_SIZE);
      hashes.length = 0;
    });
    if (this.pendingEnds.length > 0) {
      const endBuf = Buffer.alloc(this.pendingEnds.length * END_SIZE);
      this.pendingEnds.forEach((end, i) => endBuf.writeBigUInt64LE(BigInt(end), i * END_SIZE));
      writeAllAt(this.endsFd, endBuf, (this.leafCount - this.pendingEnds.length) * END_SIZE);
      this.pendingEnds = [];
    }
  }

  /**
   * False when the files changed since this store last looked: another process appended (so the
   * in-memory counts are stale) or `vm reindex` replaced them. A writer then reopens under its lock.
   */
  isCurrent(): boolean {
    try {
      const onDisk = statSync(join(this.dir, 'ends.bin'));
      const open = fstatSync(this.endsFd);
      return onDisk.ino === open.ino && open.size === this.leafCount * END_SIZE;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.mode === 'write') this.flush();
    for (const fd of this.levelFds) if (fd >= 0) closeSync(fd);
    if (this.endsFd >= 0) closeSync(this.endsFd);
    this.levelFds.length = 0;
    this.endsFd = -1;
  }

  /** Cuts every file back to whole records of `leafCount` leaves and fills in lagging upper levels. */
  private repair(): void {
    ftruncateSync(this.endsFd, this.leafCount * END_SIZE);
    for (let level = 0; level < 64; level++) {
      const expected = Math.floor(this.leafCount / 2 ** level);
      if (expected === 0 && level > 0 && !existsSync(join(this.dir, `level-${level}.bin`))) break;
      this.openLevel(level);
      const fd = this.levelFds[level]!;
      if (
        this.levelCounts[level]! > expected ||
        fstatSync(fd).size !== this.levelCounts[level]! * HASH_SIZE
      ) {
        this.levelCounts[level] = Math.min(this.levelCounts[level]!, expected);
        ftruncateSync(fd, this.levelCounts[level]! * HASH_SIZE);
      }
      if (this.levelCounts[level]! < expected) {
        const missing: Uint8Array[] = [];
        for (let i = this.levelCounts[level]!; i < expected; i++) missing.push(this.readNode(level, i));
        writeAllAt(fd, Buffer.concat(missing), this.levelCounts[level]! * HASH_SIZE);
        this.levelCounts[level] = expected;
      }
    }
  }

  private openLevel(level: number): void {
    if (this.levelFds[level] !== undefined) return;
    for (let h = this.levelFds.length; h <= level; h++) {
      const fd = this.openFile(`level-${h}.bin`);
      this.levelFds[h] = fd;
      this.levelCounts[h] = fd < 0 ? 0 : Math.floor(fstatSync(fd).size / HASH_SIZE);
    }
  }

  private openFile(name: string): number {
    const path = join(this.dir, name);
    if (this.mode === 'read') return existsSync(path) ? openSync(path, 'r') : -1;
    return openSync(path, existsSync(path) ? 'r+' : 'w+', 0o644);
  }
}
