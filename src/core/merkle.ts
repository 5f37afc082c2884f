/**
 * RFC 6962 / RFC 9162 §2.1 Merkle trees: tree hashes, inclusion and consistency proofs, and the
 * bookkeeping a node store needs to stay in step with an append-only log.
 *
 * Tree sizes and leaf indices are plain numbers up to 2^53 − 1, so all index arithmetic here uses
 * division and remainders: JavaScript's bitwise operators truncate to 32 bits.
 */
import { equalBytes, toHex } from './bytes.js';
import { VaultMeshError } from './errors.js';
import { sha256 as defaultSha256 } from './hash.js';
import type { Sha256 } from './hash.js';

/** Size in bytes of every leaf hash, node hash and root. */
export const HASH_SIZE = 32;

/** Enough stack slots for any safe-integer tree size: one per set bit of 2^53 − 1. */
const MAX_LEVELS = 53;

/** The two domain-separated hashes of RFC 6962 §2.1, plus the hash of the empty tree. */
export interface TreeHasher {
  /** SHA-256(0x00 || leaf). */
  hashLeaf(leaf: Uint8Array): Uint8Array;
  /** SHA-256(0x01 || left || right); throws `INVALID_ARGUMENT` unless both are HASH_SIZE bytes. */
  hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array;
  /** SHA-256 of the empty string: the root of a tree with no leaves. */
  emptyRoot(): Uint8Array;
}

/**
 * The RFC 6962 tree hasher over the given SHA-256; every call returns a fresh array. Interior nodes
 * may use another implementation (`childSha256`): for 65-byte inputs the per-call cost dominates,
 * and the fastest function for short inputs is not always the fastest for leaves.
 */
export function rfc6962Hasher(sha256: Sha256, childSha256: Sha256 = sha256): TreeHasher {
  // Inputs are assembled in reused buffers; this is safe because sha256 is synchronous and consumes
  // its input before it returns.
  const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
  nodeInput[0] = 0x01;
  let leafInput = new Uint8Array(1024);
  return {
    hashLeaf(leaf) {
      if (leafInput.length < 1 + leaf.length) leafInput = new Uint8Array(2 * (1 + leaf.length));
      leafInput.set(leaf, 1);
      return sha256(leafInput.subarray(0, 1 + leaf.length));
    },
    hashChildren(left, right) {
      if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `child hashes must be ${HASH_SIZE} bytes, got ${left.length} and ${right.length}`,
        );
      }
      nodeInput.set(left, 1);
      nodeInput.set(right, 1 + HASH_SIZE);
      return childSha256(nodeInput);
    },
    emptyRoot() {
      return sha256(new Uint8Array(0));
    },
  };
}

/** The RFC 6962 tree hasher built on @noble/hashes, usable anywhere (browsers included). */
export const defaultTreeHasher: TreeHasher = rfc6962Hasher(defaultSha256);

/**
 * Reads the hash of the perfect subtree at `level` covering leaves [index·2^level, (index+1)·2^level).
 * Level 0 holds the leaf hashes. Callers only ask for nodes that are complete in the tree at hand.
 */
export type NodeHashReader = (level: number, index: number) => Uint8Array;

/** Called with each interior node a {@link StreamingTreeBuilder} completes (level ≥ 1). */
export type NodeObserver = (level: number, index: number, hash: Uint8Array) => void;

/** A node of the perfect-subtree store, as produced by {@link nodesCompletedByAppend}. */
export interface CompletedNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

/**
 * Computes the root of a growing tree in O(log n) memory: leaves are added one at a time and
 * {@link StreamingTreeBuilder.root} may be called at any point without disturbing the state.
 */
export class StreamingTreeBuilder {
  readonly #hasher: TreeHasher;
  readonly #onNode: NodeObserver | undefined;
  /**
   * Roots of the perfect subtrees so far, largest first, as fixed views into one buffer, so that
   * adding a leaf allocates nothing but the hashes it computes.
   */
  readonly #slots: Uint8Array[];
  #depth = 0;
  #size = 0;

  /** `onNode`, when given, sees every interior perfect-subtree node as it is completed. */
  constructor(hasher: TreeHasher = defaultTreeHasher, onNode?: NodeObserver) {
    this.#hasher = hasher;
    this.#onNode = onNode;
    const storage = new Uint8Array(MAX_LEVELS * HASH_SIZE);
    this.#slots = Array.from({ length: MAX_LEVELS }, (_, i) =>
      storage.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE),
    );
  }

  /** The number of leaves added so far. */
  get size(): number {
    return this.#size;
  }

  /** Adds a leaf by its content; throws `INVALID_ARGUMENT` when the tree is at its maximum size. */
  addLeaf(leaf: Uint8Array): void {
    this.addLeafHash(this.#hasher.hashLeaf(leaf));
  }

  /**
   * Adds a leaf by its leaf hash, which is copied. Throws `INVALID_ARGUMENT` unless the hash is
   * HASH_SIZE bytes, or when the tree is at its maximum size.
   */
  addLeafHash(leafHash: Uint8Array): void {
    checkHashArgument(leafHash, 'leafHash');
    if (this.#size === Number.MAX_SAFE_INTEGER) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `a tree cannot hold more than ${Number.MAX_SAFE_INTEGER} leaves`,
      );
    }
    // Each trailing one bit of the old size is a perfect subtree waiting for a right sibling of its
    // own height, which the new leaf completes.
    let node = leafHash;
    let depth = this.#depth;
    let level = 0;
    for (let n = this.#size; n % 2 === 1; n = (n - 1) / 2) {
      depth--;
      level++;
      node = this.#hasher.hashChildren(this.#slots[depth]!, node);
      this.#onNode?.(level, (this.#size + 1) / 2 ** level - 1, node);
    }
    this.#slots[depth]!.set(node);
    this.#depth = depth + 1;
    this.#size++;
  }

  /** The tree head of the leaves added so far, as a fresh array. */
  root(): Uint8Array {
    if (this.#depth === 0) return this.#hasher.emptyRoot();
    let root: Uint8Array = this.#slots[this.#depth - 1]!.slice();
    for (let d = this.#depth - 2; d >= 0; d--) root = this.#hasher.hashChildren(this.#slots[d]!, root);
    return root;
  }
}

/** The tree head of the given leaf hashes. Throws `INVALID_ARGUMENT` if one is not HASH_SIZE bytes. */
export function rootFromLeafHashes(
  leafHashes: Iterable<Uint8Array>,
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array {
  const builder = new StreamingTreeBuilder(hasher);
  for (const h of leafHashes) builder.addLeafHash(h);
  return builder.root();
}

/**
 * The tree hash of leaves [start, end), which must be a subtree of some RFC 6962 tree: non-empty,
 * with `start` a multiple of the smallest power of two ≥ end − start. Reads one perfect subtree per
 * set bit of end − start. Throws `INVALID_ARGUMENT` for any other range or a malformed stored hash.
 */
export function rangeHash(
  read: NodeHashReader,
  start: number,
  end: number,
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array {
  checkCount(start, 'start');
  checkCount(end, 'end');
  if (end <= start) {
    throw new VaultMeshError('INVALID_ARGUMENT', `end must be greater than start, got [${start}, ${end})`);
  }
  if (start % ceilPowerOfTwo(end - start) !== 0) {
    throw new VaultMeshError('INVALID_ARGUMENT', `[${start}, ${end}) is not a subtree of an RFC 6962 tree`, {
      hint: 'start must be a multiple of the smallest power of two that is at least end - start',
    });
  }
  // The range splits into perfect subtrees, largest first, and its hash folds them from the right.
  let hash: Uint8Array | undefined;
  let pos = end;
  let width = 1;
  for (let remaining = end - start, level = 0; remaining > 0; level++, width *= 2) {
    if (remaining % 2 === 1) {
      pos -= width;
      const node = readNode(read, level, pos / width);
      hash = hash === undefined ? node.slice() : hasher.hashChildren(node, hash);
      remaining--;
    }
    remaining /= 2;
  }
  return hash!;
}

/** The tree head of the first `size` leaves. Throws `INVALID_ARGUMENT` for a bad size or stored hash. */
export function rootAt(
  read: NodeHashReader,
  size: number,
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array {
  checkCount(size, 'size');
  return size === 0 ? hasher.emptyRoot() : rangeHash(read, 0, size, hasher);
}

/**
 * The inclusion proof PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf end first, from O(log size)
 * node reads. Throws `INVALID_ARGUMENT` unless 0 ≤ index < size, or for a malformed stored hash.
 */
export function inclusionProof(
  read: NodeHashReader,
  index: number,
  size: number,
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array[] {
  return inclusionSiblings(index, size).map(([start, end]) => rangeHash(read, start, end, hasher));
}

/**
 * The consistency proof PROOF(oldSize, D[newSize]) of RFC 9162 §2.1.4.1, from O(log newSize) node
 * reads; empty when oldSize is 0 or equals newSize. Throws `INVALID_ARGUMENT` unless
 * 0 ≤ oldSize ≤ newSize, or for a malformed stored hash.
 */
export function consistencyProof(
  read: NodeHashReader,
  oldSize: number,
  newSize: number,
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array[] {
  return consistencySubtrees(oldSize, newSize).map(([start, end]) => rangeHash(read, start, end, hasher));
}

/**
 * The root implied by an inclusion proof, by the algorithm of RFC 9162 §2.1.3.2. Throws
 * `INVALID_ARGUMENT` unless 0 ≤ index < size and leafHash is HASH_SIZE bytes, and
 * `INCLUSION_MISMATCH` when the proof has the wrong number of hashes or one of the wrong size.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array {
  checkIndex(index, size);
  checkHashArgument(leafHash, 'leafHash');
  proof.forEach((p, i) => {
    if (p.length !== HASH_SIZE) {
      throw malformedInclusion(
        index,
        size,
        proof,
        `inclusion proof hash ${i} is ${p.length} bytes, not ${HASH_SIZE}`,
      );
    }
  });
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw malformedInclusion(index, size, proof);
    if (fn % 2 === 1 || fn === sn) {
      r = hasher.hashChildren(p, r);
      // Where the tree's right edge is short, the node has no right sibling: climb past those levels.
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = hasher.hashChildren(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw malformedInclusion(index, size, proof);
  return r;
}

/**
 * Checks that `leafHash` is leaf `index` of the tree of `size` leaves whose head is `root`.
 * Throws `INCLUSION_MISMATCH` (evidence: index, size, expectedRoot, computedRoot as hex) when the
 * proof leads to another root or is malformed, and `INVALID_ARGUMENT` for out-of-range sizes or
 * hashes that are not HASH_SIZE bytes. A root does not commit to its size, so the size must come
 * from the same signed checkpoint as the root.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  hasher: TreeHasher = defaultTreeHasher,
): void {
  checkHashArgument(root, 'root');
  const computed = rootFromInclusionProof(index, size, leafHash, proof, hasher);
  if (!equalBytes(computed, root)) {
    throw new VaultMeshError(
      'INCLUSION_MISMATCH',
      `inclusion proof for leaf ${index} of ${size} leads to root ${toHex(computed)}, not ${toHex(root)}`,
      {
        hint: 'the entry, the proof or the tree head has been altered, or they belong to different trees',
        evidence: { index, size, expectedRoot: toHex(root), computedRoot: toHex(computed) },
      },
    );
  }
}

/**
 * Checks that the tree of `oldSize` leaves with head `oldRoot` is a prefix of the tree of `newSize`
 * leaves with head `newRoot`, by the algorithm of RFC 9162 §2.1.4.2. When oldSize equals newSize the
 * proof must be empty and the roots equal; when oldSize is 0 the proof must be empty and oldRoot must
 * be the empty-tree hash. Throws `CONSISTENCY_MISMATCH` (evidence: both sizes and the expected and
 * computed roots as hex) when the proof does not hold or is malformed, and `INVALID_ARGUMENT` unless
 * 0 ≤ oldSize ≤ newSize and both roots are HASH_SIZE bytes.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
  hasher: TreeHasher = defaultTreeHasher,
): void {
  checkSizes(oldSize, newSize);
  checkHashArgument(oldRoot, 'oldRoot');
  checkHashArgument(newRoot, 'newRoot');
  const checkRoots = (computedOld: Uint8Array, computedNew: Uint8Array): void => {
    const oldOk = equalBytes(computedOld, oldRoot);
    if (oldOk && equalBytes(computedNew, newRoot)) return;
    throw new VaultMeshError(
      'CONSISTENCY_MISMATCH',
      `consistency proof from ${oldSize} to ${newSize} leaves does not reproduce the ${oldOk ? 'new' : 'old'} root`,
      {
        hint: 'one of the tree heads has been altered or forked, or the proof belongs to other trees',
        evidence: {
          oldSize,
          newSize,
          expectedOldRoot: toHex(oldRoot),
          computedOldRoot: toHex(computedOld),
          expectedNewRoot: toHex(newRoot),
          computedNewRoot: toHex(computedNew),
        },
      },
    );
  };
  proof.forEach((p, i) => {
    if (p.length !== HASH_SIZE) {
      throw malformedConsistency(
        oldSize,
        newSize,
        proof,
        `consistency proof hash ${i} is ${p.length} bytes, not ${HASH_SIZE}`,
      );
    }
  });

  if (oldSize === 0 || oldSize === newSize) {
    if (proof.length !== 0) throw malformedConsistency(oldSize, newSize, proof);
    checkRoots(oldSize === 0 ? hasher.emptyRoot() : newRoot, newSize === 0 ? hasher.emptyRoot() : newRoot);
    return;
  }
  if (proof.length === 0) throw malformedConsistency(oldSize, newSize, proof);

  // When the old tree is a perfect subtree of the new one, the proof leaves out its root: the
  // verifier already has it.
  const oldIsPerfect = isPowerOfTwo(oldSize);
  let fr = oldIsPerfect ? oldRoot : proof[0]!;
  let sr = fr;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  for (let i = oldIsPerfect ? 0 : 1; i < proof.length; i++) {
    const c = proof[i]!;
    if (sn === 0) throw malformedConsistency(oldSize, newSize, proof);
    if (fn % 2 === 1 || fn === sn) {
      fr = hasher.hashChildren(c, fr);
      sr = hasher.hashChildren(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = hasher.hashChildren(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw malformedConsistency(oldSize, newSize, proof);
  checkRoots(fr, sr);
}

/**
 * The perfect-subtree nodes (every level, leaves included) that become complete when `leafHashes`
 * are appended to a tree of `oldSize` leaves, each node after its children. `read` supplies nodes
 * already complete before the append. Throws `INVALID_ARGUMENT` for a bad size, a leaf hash that is
 * not HASH_SIZE bytes, a tree that would exceed 2^53 − 1 leaves, or a malformed stored hash.
 */
export function nodesCompletedByAppend(
  read: NodeHashReader,
  oldSize: number,
  leafHashes: readonly Uint8Array[],
  hasher: TreeHasher = defaultTreeHasher,
): CompletedNode[] {
  checkCount(oldSize, 'oldSize');
  if (oldSize + leafHashes.length > Number.MAX_SAFE_INTEGER) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `a tree cannot hold more than ${Number.MAX_SAFE_INTEGER} leaves`,
    );
  }
  leafHashes.forEach((h, i) => checkHashArgument(h, `leafHashes[${i}]`));
  const completed: CompletedNode[] = [];
  // Nodes at one level complete in index order, so a left sibling completed by this append is
  // always the latest left child completed at its level.
  const latest: Uint8Array[] = [];
  leafHashes.forEach((leafHash, i) => {
    let hash: Uint8Array = leafHash.slice();
    let index = oldSize + i;
    let level = 0;
    let width = 1;
    for (;;) {
      completed.push({ level, index, hash });
      if (index % 2 === 0) {
        latest[level] = hash;
        break;
      }
      const leftEnd = index * width;
      const left = leftEnd <= oldSize ? readNode(read, level, index - 1) : latest[level]!;
      hash = hasher.hashChildren(left, hash);
      index = (index - 1) / 2;
      level++;
      width *= 2;
    }
  });
  return completed;
}

/** The leaf ranges whose tree hashes make up PATH(index, D[size]), in proof order. */
function inclusionSiblings(index: number, size: number): Array<[number, number]> {
  checkIndex(index, size);
  const siblings: Array<[number, number]> = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const mid = lo + splitPoint(hi - lo);
    if (index < mid) {
      siblings.push([mid, hi]);
      hi = mid;
    } else {
      siblings.push([lo, mid]);
      lo = mid;
    }
  }
  return siblings.reverse();
}

/** The leaf ranges whose tree hashes make up PROOF(oldSize, D[newSize]), in proof order. */
function consistencySubtrees(oldSize: number, newSize: number): Array<[number, number]> {
  checkSizes(oldSize, newSize);
  const subtrees: Array<[number, number]> = [];
  if (oldSize === 0 || oldSize === newSize) return subtrees;
  let lo = 0;
  let hi = newSize;
  // RFC 9162's SUBPROOF flag: the old tree's root can be left out while it is a left-edge subtree.
  let onLeftEdge = true;
  while (hi !== oldSize) {
    const mid = lo + splitPoint(hi - lo);
    if (oldSize <= mid) {
      subtrees.push([mid, hi]);
      hi = mid;
    } else {
      subtrees.push([lo, mid]);
      lo = mid;
      onLeftEdge = false;
    }
  }
  if (!onLeftEdge) subtrees.push([lo, hi]);
  return subtrees.reverse();
}

function malformedInclusion(
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  detail?: string,
): VaultMeshError {
  const expected = inclusionSiblings(index, size).length;
  return new VaultMeshError(
    'INCLUSION_MISMATCH',
    detail ??
      `inclusion proof for leaf ${index} of ${size} must have ${expected} hashes, but has ${proof.length}`,
    {
      hint: 'the proof is malformed, or was made for another leaf index or tree size',
      evidence: { index, size, proofLength: proof.length, expectedProofLength: expected },
    },
  );
}

function malformedConsistency(
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  detail?: string,
): VaultMeshError {
  const expected = consistencySubtrees(oldSize, newSize).length;
  return new VaultMeshError(
    'CONSISTENCY_MISMATCH',
    detail ??
      `consistency proof from ${oldSize} to ${newSize} leaves must have ${expected} hashes, but has ${proof.length}`,
    {
      hint: 'the proof is malformed, or was made for other tree sizes',
      evidence: { oldSize, newSize, proofLength: proof.length, expectedProofLength: expected },
    },
  );
}

/** The largest power of two strictly less than n (n ≥ 2): RFC 6962's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function ceilPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function isPowerOfTwo(n: number): boolean {
  return ceilPowerOfTwo(n) === n;
}

function readNode(read: NodeHashReader, level: number, index: number): Uint8Array {
  const hash = read(level, index);
  if (hash.length !== HASH_SIZE) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `node store returned ${hash.length} bytes for node (level ${level}, index ${index}), not ${HASH_SIZE}`,
    );
  }
  return hash;
}

function checkCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `${name} must be a non-negative safe integer, got ${value}`,
      {
        // A string, because NaN and Infinity do not survive JSON.
        evidence: { parameter: name, value: String(value) },
      },
    );
  }
}

function checkIndex(index: number, size: number): void {
  checkCount(index, 'index');
  checkCount(size, 'size');
  if (index >= size) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `index ${index} is out of range for a tree of size ${size}`,
      {
        hint: 'a leaf index must be less than the tree size',
        evidence: { parameter: 'index', index, size },
      },
    );
  }
}

function checkSizes(oldSize: number, newSize: number): void {
  checkCount(oldSize, 'oldSize');
  checkCount(newSize, 'newSize');
  if (oldSize > newSize) {
    throw new VaultMeshError('INVALID_ARGUMENT', `oldSize ${oldSize} is larger than newSize ${newSize}`, {
      hint: 'a consistency proof goes from an older, smaller tree to a newer, larger one',
      evidence: { parameter: 'oldSize', oldSize, newSize },
    });
  }
}

function checkHashArgument(hash: Uint8Array, name: string): void {
  if (hash.length !== HASH_SIZE) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${name} must be ${HASH_SIZE} bytes, got ${hash.length}`, {
      evidence: { parameter: name, length: hash.length },
    });
  }
}
