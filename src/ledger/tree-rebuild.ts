/**
 * Rebuilding a scroll's tree from its leaf hashes, for `vm verify`: the root at every size asked
 * for, and each interior node compared with the copy the sidecar stored. Large scrolls do this on a
 * worker thread, so that reading and hashing the lines (the main thread's part) and building the
 * tree run on two cores.
 */
import { Worker } from 'node:worker_threads';
import { StreamingTreeBuilder } from '../core/merkle.js';
import { nodeTreeHasher } from './node-hasher.js';
import { TreeStore } from './tree-store.js';

const NODE_WINDOW = 65_536;
/** Below this many bytes of JSONL a worker costs more to start than it saves. */
export const WORKER_THRESHOLD_BYTES = 16 * 1024 * 1024;

export interface TreeRebuildResult {
  size: number;
  root: Uint8Array;
  /** Roots at the sizes asked for that the leaves reached. */
  roots: Map<number, Uint8Array>;
  /** The first interior node whose stored copy differs, if any. */
  storedNodeMismatch: { level: number; index: number } | undefined;
}

export interface TreeRebuildSpec {
  sidecarDir: string;
  wantedSizes: number[];
}

/** The rebuild itself, on whichever thread runs it. */
export class TreeRebuilder {
  private readonly store: TreeStore;
  private readonly wanted: Set<number>;
  private readonly roots = new Map<number, Uint8Array>();
  private readonly windows = new Map<number, { from: number; nodes: Buffer }>();
  private mismatch: { level: number; index: number } | undefined;
  private readonly builder = new StreamingTreeBuilder(nodeTreeHasher, (level, index, hash) =>
    this.checkStoredNode(level, index, hash),
  );

  constructor(spec: TreeRebuildSpec) {
    this.store = TreeStore.open(spec.sidecarDir, 'read');
    this.wanted = new Set(spec.wantedSizes);
    this.capture();
  }

  /** Adds leaf hashes, 32 bytes each, back to back. */
  add(leafHashes: Uint8Array): void {
    for (let offset = 0; offset < leafHashes.length; offset += 32) {
      this.builder.addLeafHash(leafHashes.subarray(offset, offset + 32));
      this.capture();
    }
  }

  finish(): TreeRebuildResult {
    this.store.close();
    return {
      size: this.builder.size,
      root: this.builder.root(),
      roots: this.roots,
      storedNodeMismatch: this.mismatch,
    };
  }

  private capture(): void {
    if (this.wanted.has(this.builder.size)) this.roots.set(this.builder.size, this.builder.root());
  }

  private checkStoredNode(level: number, index: number, hash: Uint8Array): void {
    if (this.mismatch !== undefined || index >= this.store.storedNodes(level)) return;
    let window = this.windows.get(level);
    if (window === undefined || index < window.from || index >= window.from + window.nodes.length / 32) {
      window = { from: index, nodes: this.store.nodes(level, index, NODE_WINDOW) };
      this.windows.set(level, window);
    }
    const offset = (index - window.from) * 32;
    if (window.nodes.compare(hash, 0, 32, offset, offset + 32) !== 0) this.mismatch = { level, index };
  }
}

/** The same interface as {@link TreeRebuilder}, with the work on a worker thread. */
export class TreeRebuildWorker {
  private readonly worker: Worker;
  private readonly result: Promise<TreeRebuildResult>;

  constructor(spec: TreeRebuildSpec) {
    this.worker = new Worker(new URL('./tree-rebuild-worker.js', import.meta.url), { workerData: spec });
    this.result = new Promise((resolve, reject) => {
      this.worker.once('message', resolve);
      this.worker.once('error', reject);
    });
  }

  /** Hands the hashes over (the buffer is transferred, not copied). */
  add(leafHashes: Uint8Array): void {
    const owned = leafHashes.byteOffset === 0 && leafHashes.byteLength === leafHashes.buffer.byteLength;
    const buffer = (owned ? leafHashes : leafHashes.slice()).buffer as ArrayBuffer;
    this.worker.postMessage({ leaves: buffer }, [buffer]);
  }

  async finish(): Promise<TreeRebuildResult> {
    this.worker.postMessage({ finish: true });
    try {
      return await this.result;
    } finally {
      await this.worker.terminate();
    }
  }
}
