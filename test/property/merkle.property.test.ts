import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, equalBytes, toHex, utf8 } from '../../src/core/bytes.js';
import { isVaultMeshError } from '../../src/core/errors.js';
import {
  StreamingTreeBuilder,
  consistencyProof,
  defaultTreeHasher,
  inclusionProof,
  nodesCompletedByAppend,
  rootAt,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/core/merkle.js';
import type { CompletedNode, NodeHashReader } from '../../src/core/merkle.js';

interface RefProof {
  hashes: Uint8Array[];
  /** Which side of the running hash each proof hash goes on: equal shapes, equal verifier computations. */
  shape: string;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH (RFC 9162 §2.1.1), PATH (§2.1.3.1) and PROOF/SUBPROOF (§2.1.4.1) transcribed literally over
 * D[start:end], on an independent SHA-256 call. MTH is memoised only so that exhaustive sweeps stay fast.
 */
class Reference {
  readonly #memo = new Map<string, Uint8Array>();

  constructor(readonly leaves: readonly Uint8Array[]) {}

  mth(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n === 0) return nobleSha256(new Uint8Array(0));
    if (n === 1) return nobleSha256(concatBytes(Uint8Array.of(0x00), this.leaves[start]!));
    const key = `${start}:${end}`;
    let hash = this.#memo.get(key);
    if (hash === undefined) {
      const k = largestPowerOfTwoBelow(n);
      hash = nobleSha256(
        concatBytes(Uint8Array.of(0x01), this.mth(start, start + k), this.mth(start + k, end)),
      );
      this.#memo.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[start:end]) with m counted from start. */
  path(m: number, start: number, end: number): RefProof {
    if (end - start === 1) return { hashes: [], shape: '' };
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      const sub = this.path(m, start, start + k);
      return { hashes: [...sub.hashes, this.mth(start + k, end)], shape: `${sub.shape}R` };
    }
    const sub = this.path(m - k, start + k, end);
    return { hashes: [...sub.hashes, this.mth(start, start + k)], shape: `${sub.shape}L` };
  }

  /** PROOF(m, D[n]) for 0 < m ≤ n; the RFC leaves m = 0 undefined. */
  proof(m: number, n: number): RefProof {
    return this.subproof(m, 0, n, true);
  }

  subproof(m: number, start: number, end: number, b: boolean): RefProof {
    if (m === end - start)
      return b ? { hashes: [], shape: '=' } : { hashes: [this.mth(start, end)], shape: '+' };
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      const sub = this.subproof(m, start, start + k, b);
      return { hashes: [...sub.hashes, this.mth(start + k, end)], shape: `${sub.shape}R` };
    }
    const sub = this.subproof(m - k, start + k, end, false);
    return { hashes: [...sub.hashes, this.mth(start, start + k)], shape: `${sub.shape}L` };
  }
}

const key = (level: number, index: number): string => `${level}:${index}`;

function sameHashes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((hash, i) => equalBytes(hash, b[i]!));
}

function storeOf(nodes: readonly CompletedNode[]): Map<string, Uint8Array> {
  return new Map(nodes.map((n) => [key(n.level, n.index), n.hash]));
}

function readerOf(nodes: Map<string, Uint8Array>): NodeHashReader {
  return (level, index) => {
    const hash = nodes.get(key(level, index));
    if (hash === undefined) throw new Error(`node ${key(level, index)} is not in the store`);
    return hash;
  };
}

/** The error code a call throws, or 'ok'. */
function outcome(run: () => void): string {
  try {
    run();
    return 'ok';
  } catch (e) {
    if (isVaultMeshError(e)) return e.code;
    throw e;
  }
}

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

const MAX = 1100;
const LEAVES = Array.from({ length: MAX }, (_, i) => utf8(`leaf ${i}`));
const LEAF_HASHES = LEAVES.map((l) => defaultTreeHasher.hashLeaf(l));
const REF = new Reference(LEAVES);
const NODES = storeOf(nodesCompletedByAppend(() => new Uint8Array(0), 0, LEAF_HASHES));
const read = readerOf(NODES);
const ROOTS = Array.from({ length: MAX + 1 }, (_, n) => rootAt(read, n));

const EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257];
const EDGE_SIZES_LARGE = [...EDGE_SIZES, 511, 512, 513, 1023, 1024, 1025];
/** A tree size in [1, max], biased towards powers of two and their neighbours. */
const size = (max = MAX) =>
  fc.oneof(fc.constantFrom(...EDGE_SIZES_LARGE.filter((s) => s <= max)), fc.integer({ min: 1, max }));
/** A tree size and a leaf index in it. */
const sizeAndIndex = size().chain((n) =>
  fc.tuple(fc.constant(n), fc.oneof(fc.constantFrom(0, n - 1), fc.nat(n - 1))),
);
/** Two tree sizes 0 < m < n. */
const sizePair = size()
  .filter((n) => n >= 2)
  .chain((n) =>
    fc.tuple(fc.oneof(fc.constantFrom(1, n - 1), fc.integer({ min: 1, max: n - 1 })), fc.constant(n)),
  );

describe('tree heads', () => {
  it('agree between the streaming builder, rootFromLeafHashes, rootAt and the RFC for every size up to 300', () => {
    const builder = new StreamingTreeBuilder();
    for (let n = 0; n <= 300; n++) {
      if (n > 0) builder.addLeaf(LEAVES[n - 1]!);
      const expected = toHex(REF.mth(0, n));
      expect(toHex(builder.root()), `size ${n}`).toBe(expected);
      expect(toHex(rootFromLeafHashes(LEAF_HASHES.slice(0, n))), `size ${n}`).toBe(expected);
      expect(toHex(ROOTS[n]!), `size ${n}`).toBe(expected);
    }
  });

  it('agree for arbitrary leaf contents', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 70 }), (leaves) => {
        const ref = new Reference(leaves);
        const hashes = leaves.map((l) => defaultTreeHasher.hashLeaf(l));
        const nodes = readerOf(storeOf(nodesCompletedByAppend(() => new Uint8Array(0), 0, hashes)));
        const builder = new StreamingTreeBuilder();
        for (let n = 0; n <= leaves.length; n++) {
          if (n > 0) builder.addLeaf(leaves[n - 1]!);
          const expected = toHex(ref.mth(0, n));
          expect(toHex(builder.root())).toBe(expected);
          expect(toHex(rootFromLeafHashes(hashes.slice(0, n)))).toBe(expected);
          expect(toHex(rootAt(nodes, n))).toBe(expected);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('node store maintenance', () => {
  it('builds the same store, children first, however the appends are batched', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.array(fc.integer({ min: 0, max: 80 }), { maxLength: 40 }),
        (n, cuts) => {
          const nodes = new Map<string, Uint8Array>();
          const store = readerOf(nodes);
          const outOfOrder: string[] = [];
          let done = 0;
          for (const cut of [...cuts, n]) {
            const end = Math.min(n, done + cut);
            for (const { level, index, hash } of nodesCompletedByAppend(
              store,
              done,
              LEAF_HASHES.slice(done, end),
            )) {
              const childrenFirst =
                level === 0 ||
                (nodes.has(key(level - 1, 2 * index)) && nodes.has(key(level - 1, 2 * index + 1)));
              if (!childrenFirst || nodes.has(key(level, index))) outOfOrder.push(key(level, index));
              nodes.set(key(level, index), hash);
            }
            done = end;
          }
          expect(outOfOrder).toEqual([]);
          // Exactly the perfect subtrees of the first n leaves, each as in the one-shot build.
          const wrong: string[] = [];
          let expectedCount = 0;
          for (let level = 0, width = 1; width <= n; level++, width *= 2) {
            for (let index = 0; (index + 1) * width <= n; index++) {
              expectedCount++;
              const hash = nodes.get(key(level, index));
              if (hash === undefined || !equalBytes(hash, NODES.get(key(level, index))!))
                wrong.push(key(level, index));
            }
          }
          expect(wrong).toEqual([]);
          expect(nodes.size).toBe(expectedCount);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shows the streaming builder observer exactly the interior nodes of the store', () => {
    fc.assert(
      fc.property(size(), (n) => {
        const seen = new Map<string, Uint8Array>();
        const builder = new StreamingTreeBuilder(defaultTreeHasher, (level, index, hash) =>
          seen.set(key(level, index), hash.slice()),
        );
        for (const h of LEAF_HASHES.slice(0, n)) builder.addLeafHash(h);
        const expected = [...NODES].filter(([id]) => {
          const [level, index] = id.split(':').map(Number) as [number, number];
          return level > 0 && (index + 1) * 2 ** level <= n;
        });
        expect(seen.size).toBe(expected.length);
        for (const [id, hash] of expected) expect(toHex(seen.get(id)!)).toBe(toHex(hash));
      }),
    );
  });

  it('stores the RFC hash of every perfect subtree', () => {
    for (const [id, hash] of NODES) {
      const [level, index] = id.split(':').map(Number) as [number, number];
      expect(toHex(hash), id).toBe(toHex(REF.mth(index * 2 ** level, (index + 1) * 2 ** level)));
    }
  });
});

describe('inclusion proofs', () => {
  it('match the RFC and verify for every leaf of every tree up to 300 leaves', () => {
    const wrong: string[] = [];
    for (let n = 1; n <= 300; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(read, i, n);
        if (!sameHashes(proof, REF.path(i, 0, n).hashes)) wrong.push(`leaf ${i} of ${n}`);
        verifyInclusion(i, n, LEAF_HASHES[i]!, proof, ROOTS[n]!);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('match the RFC and verify in larger trees', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([n, i]) => {
        const proof = inclusionProof(read, i, n);
        expect(proof.map(toHex)).toEqual(REF.path(i, 0, n).hashes.map(toHex));
        verifyInclusion(i, n, LEAF_HASHES[i]!, proof, ROOTS[n]!);
      }),
      { numRuns: 500 },
    );
  });

  it('fail when any bit of the proof, the leaf hash or the root is flipped', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), ([n, i], which, bit) => {
        const proof = inclusionProof(read, i, n);
        let leaf = LEAF_HASHES[i]!;
        let root = ROOTS[n]!;
        const target = which % (proof.length + 2);
        if (target === proof.length) leaf = flipBit(leaf, bit);
        else if (target === proof.length + 1) root = flipBit(root, bit);
        else proof[target] = flipBit(proof[target]!, bit);
        expect(() => verifyInclusion(i, n, leaf, proof, root)).toThrow(
          expect.objectContaining({ code: 'INCLUSION_MISMATCH' }),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('fail for another index or size unless the path has exactly the same shape', () => {
    fc.assert(
      fc.property(sizeAndIndex, sizeAndIndex, ([n, i], [n2, i2]) => {
        fc.pre(n !== n2 || i !== i2);
        const proof = inclusionProof(read, i, n);
        const sameShape = REF.path(i2, 0, n2).shape === REF.path(i, 0, n).shape;
        expect(outcome(() => verifyInclusion(i2, n2, LEAF_HASHES[i]!, proof, ROOTS[n]!))).toBe(
          sameShape ? 'ok' : 'INCLUSION_MISMATCH',
        );
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), ([n, i], other) => {
        fc.pre(n > 1);
        const i2 = (i + 1 + (other % (n - 1))) % n;
        const proof = inclusionProof(read, i, n);
        expect(outcome(() => verifyInclusion(i2, n, LEAF_HASHES[i]!, proof, ROOTS[n]!))).toBe(
          'INCLUSION_MISMATCH',
        );
      }),
      { numRuns: 500 },
    );
  });

  it('are not bound to the tree size by the root alone', () => {
    // Leaf 6 of 7 and leaf 3 of 4 both sit two left-hand siblings below the root, so the same
    // proof verifies either way: the size must come from the signed checkpoint with the root.
    const proof = inclusionProof(read, 6, 7);
    expect(REF.path(3, 0, 4).shape).toBe(REF.path(6, 0, 7).shape);
    expect(outcome(() => verifyInclusion(3, 4, LEAF_HASHES[6]!, proof, ROOTS[7]!))).toBe('ok');
  });
});

describe('consistency proofs', () => {
  it('match the RFC and verify between every pair of trees up to 260 leaves', () => {
    const wrong: string[] = [];
    for (let n = 0; n <= 260; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(read, m, n);
        if (!sameHashes(proof, m === 0 ? [] : REF.proof(m, n).hashes)) wrong.push(`${m} to ${n}`);
        verifyConsistency(m, n, ROOTS[m]!, ROOTS[n]!, proof);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('match the RFC and verify between larger trees', () => {
    fc.assert(
      fc.property(sizePair, ([m, n]) => {
        const proof = consistencyProof(read, m, n);
        expect(proof.map(toHex)).toEqual(REF.proof(m, n).hashes.map(toHex));
        verifyConsistency(m, n, ROOTS[m]!, ROOTS[n]!, proof);
      }),
      { numRuns: 500 },
    );
  });

  it('fail when any bit of the proof or either root is flipped', () => {
    fc.assert(
      fc.property(sizePair, fc.nat(), fc.nat(255), ([m, n], which, bit) => {
        const proof = consistencyProof(read, m, n);
        let oldRoot = ROOTS[m]!;
        let newRoot = ROOTS[n]!;
        const target = which % (proof.length + 2);
        if (target === proof.length) oldRoot = flipBit(oldRoot, bit);
        else if (target === proof.length + 1) newRoot = flipBit(newRoot, bit);
        else proof[target] = flipBit(proof[target]!, bit);
        expect(() => verifyConsistency(m, n, oldRoot, newRoot, proof)).toThrow(
          expect.objectContaining({ code: 'CONSISTENCY_MISMATCH' }),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('fail for other sizes unless the proof has exactly the same shape', () => {
    fc.assert(
      fc.property(
        sizePair,
        size().chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n))),
        ([m, n], [m2, n2]) => {
          fc.pre(m !== m2 || n !== n2);
          const proof = consistencyProof(read, m, n);
          const sameShape = m2 > 0 && m2 < n2 && REF.proof(m2, n2).shape === REF.proof(m, n).shape;
          expect(outcome(() => verifyConsistency(m2, n2, ROOTS[m]!, ROOTS[n]!, proof))).toBe(
            sameShape ? 'ok' : 'CONSISTENCY_MISMATCH',
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('fail when the roots are swapped or the proof is empty', () => {
    fc.assert(
      fc.property(sizePair, ([m, n]) => {
        const proof = consistencyProof(read, m, n);
        expect(outcome(() => verifyConsistency(m, n, ROOTS[n]!, ROOTS[m]!, proof))).toBe(
          'CONSISTENCY_MISMATCH',
        );
        expect(outcome(() => verifyConsistency(m, n, ROOTS[m]!, ROOTS[n]!, []))).toBe('CONSISTENCY_MISMATCH');
      }),
      { numRuns: 300 },
    );
  });
});
