import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../../src/core/bytes.js';
import { sha256 } from '../../src/core/hash.js';
import {
  HASH_SIZE,
  StreamingTreeBuilder,
  consistencyProof,
  defaultTreeHasher,
  inclusionProof,
  nodesCompletedByAppend,
  rangeHash,
  rfc6962Hasher,
  rootAt,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/core/merkle.js';
import type { NodeHashReader } from '../../src/core/merkle.js';

// Known-answer vectors: the 8-leaf RFC 6962 test tree used across Certificate Transparency
// implementations, copied from transparency-dev/merkle (Apache-2.0): testonly/constants.go
// (leaves, node hashes, roots) and proof/verify_test.go (inclusion and consistency proofs).
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => fromHex(h));

const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** NODES[level][index]: every perfect subtree of the 8-leaf tree. */
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

/** ROOTS[n]: the tree head of the first n leaves. */
const ROOTS = [
  EMPTY_ROOT,
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

/** Inclusion proofs by 0-based leaf index (the Go source numbers leaves from 1). */
const INCLUSION_VECTORS = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  { index: 0, size: 1, proof: [] },
];

const CONSISTENCY_VECTORS = [
  {
    oldSize: 1,
    newSize: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    oldSize: 6,
    newSize: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { oldSize: 1, newSize: 1, proof: [] },
];

/** The Go tests' arbitrary 32-byte hash that belongs to no tree. */
const SOME_HASH = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');

const h = (hex: string): Uint8Array => fromHex(hex, 'test vector', HASH_SIZE);
const hexes = (hashes: readonly Uint8Array[]): string[] => hashes.map(toHex);
const leafHashes = (leaves: readonly Uint8Array[]): Uint8Array[] =>
  leaves.map((l) => defaultTreeHasher.hashLeaf(l));

interface NodeStore {
  nodes: Map<string, Uint8Array>;
  read: NodeHashReader;
  reads: Array<[number, number]>;
}

/** An in-memory node store filled by nodesCompletedByAppend, recording every read. */
function buildStore(hashes: readonly Uint8Array[]): NodeStore {
  const nodes = new Map<string, Uint8Array>();
  const reads: Array<[number, number]> = [];
  const read: NodeHashReader = (level, index) => {
    reads.push([level, index]);
    const node = nodes.get(`${level}:${index}`);
    if (node === undefined) throw new Error(`node ${level}:${index} is not in the store`);
    return node;
  };
  for (const n of nodesCompletedByAppend(read, 0, hashes)) nodes.set(`${n.level}:${n.index}`, n.hash);
  return { nodes, read, reads };
}

/** A consistent store for a tree of any size, all of whose leaves are equal, so one hash per level serves. */
function uniformStore(): { read: NodeHashReader; reads: () => number } {
  const levels = [defaultTreeHasher.hashLeaf(utf8('same'))];
  for (let l = 1; l <= 53; l++) levels.push(defaultTreeHasher.hashChildren(levels[l - 1]!, levels[l - 1]!));
  let count = 0;
  return {
    read: (level) => {
      count++;
      return levels[level]!;
    },
    reads: () => count,
  };
}

const flipBit = (bytes: Uint8Array, bit: number): Uint8Array => {
  const out = bytes.slice();
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
};

const code = (code: string) => expect.objectContaining({ code });

const LEAF_HASHES = leafHashes(LEAVES);
const store = buildStore(LEAF_HASHES);

describe('tree hashing', () => {
  it('hashes the empty tree, leaves and nodes as RFC 6962 says', () => {
    expect(toHex(defaultTreeHasher.emptyRoot())).toBe(EMPTY_ROOT);
    expect(hexes(LEAF_HASHES)).toEqual(NODES[0]);
    expect(toHex(defaultTreeHasher.hashChildren(LEAF_HASHES[0]!, LEAF_HASHES[1]!))).toBe(NODES[1]![0]);
  });

  it('builds a hasher on any SHA-256 implementation', () => {
    let calls = 0;
    const hasher = rfc6962Hasher((data) => {
      calls++;
      return sha256(data);
    });
    expect(
      toHex(
        rootFromLeafHashes(
          LEAVES.map((l) => hasher.hashLeaf(l)),
          hasher,
        ),
      ),
    ).toBe(ROOTS[8]);
    expect(calls).toBe(8 + 7);
  });

  it('refuses child hashes of the wrong size', () => {
    expect(() => defaultTreeHasher.hashChildren(new Uint8Array(31), LEAF_HASHES[0]!)).toThrow(
      code('INVALID_ARGUMENT'),
    );
  });
});

describe('tree heads', () => {
  it('matches the known roots for every size from 0 to 8', () => {
    const builder = new StreamingTreeBuilder();
    for (let n = 0; n <= 8; n++) {
      if (n > 0) builder.addLeaf(LEAVES[n - 1]!);
      expect(builder.size).toBe(n);
      expect(toHex(builder.root())).toBe(ROOTS[n]);
      expect(toHex(rootFromLeafHashes(LEAF_HASHES.slice(0, n)))).toBe(ROOTS[n]);
      expect(toHex(rootAt(store.read, n))).toBe(ROOTS[n]);
    }
  });

  it('leaves the streaming state alone when the root is read, and copies added hashes', () => {
    const builder = new StreamingTreeBuilder();
    for (const leafHash of LEAF_HASHES.slice(0, 5)) {
      const mine = leafHash.slice();
      builder.addLeafHash(mine);
      mine.fill(0);
      builder.root();
    }
    expect(toHex(builder.root())).toBe(ROOTS[5]);
    expect(toHex(builder.root())).toBe(ROOTS[5]);
    builder.root().fill(0);
    expect(toHex(builder.root())).toBe(ROOTS[5]);
  });

  it('refuses leaf hashes of the wrong size', () => {
    expect(() => new StreamingTreeBuilder().addLeafHash(new Uint8Array(33))).toThrow(
      code('INVALID_ARGUMENT'),
    );
    expect(() => rootFromLeafHashes([LEAF_HASHES[0]!, new Uint8Array(0)])).toThrow(code('INVALID_ARGUMENT'));
  });

  it('hashes any RFC 6962 subtree range and refuses other ranges', () => {
    expect(toHex(rangeHash(store.read, 0, 8))).toBe(ROOTS[8]);
    expect(toHex(rangeHash(store.read, 6, 7))).toBe(NODES[0]![6]);
    expect(toHex(rangeHash(store.read, 4, 7))).toBe(
      toHex(defaultTreeHasher.hashChildren(h(NODES[1]![2]!), h(NODES[0]![6]!))),
    );
    for (const [start, end] of [
      [1, 3],
      [2, 5],
      [3, 3],
      [4, 2],
      [-1, 1],
      [0, 1.5],
    ] as const) {
      expect(() => rangeHash(store.read, start, end)).toThrow(code('INVALID_ARGUMENT'));
    }
  });

  it('refuses a node store that returns hashes of the wrong size', () => {
    expect(() => rootAt(() => new Uint8Array(31), 1)).toThrow(code('INVALID_ARGUMENT'));
  });
});

describe('node store maintenance', () => {
  it('completes exactly the perfect subtrees of the known tree, children first', () => {
    const expected = new Map(
      NODES.flatMap((row, level) => row.map((hex, index) => [`${level}:${index}`, hex])),
    );
    expect(new Map([...store.nodes].map(([key, hash]) => [key, toHex(hash)]))).toEqual(expected);

    const completed = nodesCompletedByAppend(store.read, 0, LEAF_HASHES);
    const seen = new Set<string>();
    for (const { level, index } of completed) {
      if (level > 0) {
        expect(seen.has(`${level - 1}:${2 * index}`)).toBe(true);
        expect(seen.has(`${level - 1}:${2 * index + 1}`)).toBe(true);
      }
      seen.add(`${level}:${index}`);
    }
  });

  it('reads only the nodes that were complete before the append', () => {
    const first = buildStore(LEAF_HASHES.slice(0, 5));
    first.reads.length = 0;
    const added = nodesCompletedByAppend(first.read, 5, LEAF_HASHES.slice(5));
    expect(first.reads).toEqual([
      [0, 4],
      [2, 0],
    ]);
    expect(added.map((n) => [n.level, n.index, toHex(n.hash)])).toEqual([
      [0, 5, NODES[0]![5]],
      [1, 2, NODES[1]![2]],
      [0, 6, NODES[0]![6]],
      [0, 7, NODES[0]![7]],
      [1, 3, NODES[1]![3]],
      [2, 1, NODES[2]![1]],
      [3, 0, NODES[3]![0]],
    ]);
  });

  it('refuses bad sizes and leaf hashes', () => {
    expect(() => nodesCompletedByAppend(store.read, -1, [])).toThrow(code('INVALID_ARGUMENT'));
    expect(() => nodesCompletedByAppend(store.read, 0, [new Uint8Array(3)])).toThrow(
      code('INVALID_ARGUMENT'),
    );
    expect(() => nodesCompletedByAppend(store.read, Number.MAX_SAFE_INTEGER, [LEAF_HASHES[0]!])).toThrow(
      code('INVALID_ARGUMENT'),
    );
  });
});

/** Go's corruptInclusionProof probes (transparency-dev/merkle proof/verify_test.go), adapted. */
function inclusionProbes(
  index: number,
  size: number,
  proof: Uint8Array[],
  root: Uint8Array,
  leafHash: Uint8Array,
) {
  const probes: Array<{
    desc: string;
    index: number;
    size: number;
    leaf: Uint8Array;
    proof: Uint8Array[];
    root: Uint8Array;
  }> = [
    { desc: 'index + 1', index: index + 1, size, leaf: leafHash, proof, root },
    { desc: 'index ^ 2', index: index ^ 2, size, leaf: leafHash, proof, root },
    { desc: 'size * 2', index, size: size * 2, leaf: leafHash, proof, root },
    { desc: 'wrong leaf', index, size, leaf: sha256(utf8('WrongLeaf')), proof, root },
    { desc: 'empty root', index, size, leaf: leafHash, proof, root: h(EMPTY_ROOT) },
    { desc: 'random root', index, size, leaf: leafHash, proof, root: SOME_HASH },
    { desc: 'trailing garbage', index, size, leaf: leafHash, proof: [...proof, new Uint8Array(0)], root },
    { desc: 'trailing root', index, size, leaf: leafHash, proof: [...proof, root], root },
    { desc: 'preceding garbage', index, size, leaf: leafHash, proof: [new Uint8Array(0), ...proof], root },
    { desc: 'preceding root', index, size, leaf: leafHash, proof: [root, ...proof], root },
  ];
  if (index > 0) probes.push({ desc: 'index - 1', index: index - 1, size, leaf: leafHash, proof, root });
  if (size > 1)
    probes.push({ desc: 'size / 2', index, size: Math.floor(size / 2), leaf: leafHash, proof, root });
  proof.forEach((_, i) => {
    const wrong = proof.slice();
    wrong[i] = flipBit(wrong[i]!, 3);
    probes.push({ desc: `modified proof[${i}] bit 3`, index, size, leaf: leafHash, proof: wrong, root });
  });
  if (proof.length > 0)
    probes.push({ desc: 'removed component', index, size, leaf: leafHash, proof: proof.slice(0, -1), root });
  if (proof.length > 1) {
    probes.push({
      desc: 'inserted component',
      index,
      size,
      leaf: leafHash,
      proof: [proof[0]!, SOME_HASH, ...proof.slice(1)],
      root,
    });
  }
  return probes;
}

describe('inclusion proofs', () => {
  for (const v of INCLUSION_VECTORS) {
    describe(`leaf ${v.index} of ${v.size}`, () => {
      const root = h(ROOTS[v.size]!);
      const leafHash = LEAF_HASHES[v.index]!;
      const proof = v.proof.map(h);

      it('matches the known proof and verifies', () => {
        expect(hexes(inclusionProof(store.read, v.index, v.size))).toEqual(v.proof);
        expect(toHex(rootFromInclusionProof(v.index, v.size, leafHash, proof))).toBe(ROOTS[v.size]);
        expect(() => verifyInclusion(v.index, v.size, leafHash, proof, root)).not.toThrow();
      });

      it('refuses every corruption of the proof, leaf, root, index or size', () => {
        for (const p of inclusionProbes(v.index, v.size, proof, root, leafHash)) {
          const expected = p.index >= p.size ? 'INVALID_ARGUMENT' : 'INCLUSION_MISMATCH';
          expect(() => verifyInclusion(p.index, p.size, p.leaf, p.proof, p.root), p.desc).toThrow(
            code(expected),
          );
        }
      });
    });
  }

  it('builds proofs from the right nodes (transparency-dev/merkle proof/proof_test.go)', () => {
    const n = (level: number, index: number) => NODES[level]![index]!;
    const cases: Array<[number, number, string[]]> = [
      [0, 7, [n(0, 1), n(1, 1), toHex(defaultTreeHasher.hashChildren(h(n(1, 2)), h(n(0, 6))))]],
      [4, 7, [n(0, 5), n(0, 6), n(2, 0)]],
      [6, 7, [n(1, 2), n(2, 0)]],
      [2, 4, [n(0, 3), n(1, 0)]],
      [3, 5, [n(0, 2), n(1, 0), n(0, 4)]],
      [3, 6, [n(0, 2), n(1, 0), n(1, 2)]],
      [4, 6, [n(0, 5), n(2, 0)]],
    ];
    for (const [index, size, expected] of cases) {
      expect(hexes(inclusionProof(store.read, index, size))).toEqual(expected);
    }
  });

  it('reads only the nodes the proof needs', () => {
    const big = buildStore(
      Array.from({ length: 95 }, (_, i) => defaultTreeHasher.hashLeaf(utf8(`leaf ${i}`))),
    );
    const readsFor = (index: number, size: number) => {
      big.reads.length = 0;
      inclusionProof(big.read, index, size);
      return new Set(big.reads.map(([l, i]) => `${l}:${i}`));
    };
    expect(readsFor(10, 15)).toEqual(new Set(['0:11', '1:4', '0:14', '1:6', '3:0']));
    expect(readsFor(24, 31)).toEqual(new Set(['0:25', '1:13', '0:30', '1:14', '3:2', '4:0']));
    expect(readsFor(81, 95)).toEqual(new Set(['0:80', '1:41', '2:21', '0:94', '1:46', '2:22', '4:4', '6:0']));
  });

  it('reports the computed and expected roots when the proof leads elsewhere', () => {
    const v = INCLUSION_VECTORS[0]!;
    const computed = rootFromInclusionProof(v.index, v.size, LEAF_HASHES[1]!, v.proof.map(h));
    let error: unknown;
    try {
      verifyInclusion(v.index, v.size, LEAF_HASHES[1]!, v.proof.map(h), h(ROOTS[8]!));
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'INCLUSION_MISMATCH',
      evidence: { index: 0, size: 8, expectedRoot: ROOTS[8], computedRoot: toHex(computed) },
    });
  });

  it('says how many hashes a malformed proof should have had', () => {
    const proof = INCLUSION_VECTORS[0]!.proof.map(h);
    expect(() => verifyInclusion(0, 8, LEAF_HASHES[0]!, proof.slice(1), h(ROOTS[8]!))).toThrow(
      expect.objectContaining({
        code: 'INCLUSION_MISMATCH',
        message: expect.stringContaining('must have 3 hashes, but has 2'),
        evidence: { index: 0, size: 8, proofLength: 2, expectedProofLength: 3 },
      }),
    );
    expect(() =>
      verifyInclusion(0, 8, LEAF_HASHES[0]!, [...proof.slice(1), new Uint8Array(31)], h(ROOTS[8]!)),
    ).toThrow(
      expect.objectContaining({
        code: 'INCLUSION_MISMATCH',
        message: expect.stringContaining('hash 2 is 31 bytes'),
      }),
    );
  });

  it('refuses bad indices, sizes and hash lengths, naming the parameter', () => {
    const leaf = LEAF_HASHES[0]!;
    const root = h(ROOTS[1]!);
    const bad: Array<[number, number, string]> = [
      [0, 0, 'index'],
      [1, 1, 'index'],
      [-1, 1, 'index'],
      [0.5, 1, 'index'],
      [Number.NaN, 1, 'index'],
      [0, -1, 'size'],
      [0, 2 ** 53, 'size'],
      [0, Number.POSITIVE_INFINITY, 'size'],
    ];
    for (const [index, size, parameter] of bad) {
      expect(() => verifyInclusion(index, size, leaf, [], root)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(parameter) }),
      );
      expect(() => inclusionProof(store.read, index, size)).toThrow(code('INVALID_ARGUMENT'));
    }
    expect(() => verifyInclusion(0, 1, new Uint8Array(9), [], root)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('leafHash') }),
    );
    expect(() => verifyInclusion(0, 1, leaf, [], new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('root') }),
    );
  });
});

/** Go's corruptConsistencyProof probes (transparency-dev/merkle proof/verify_test.go), adapted. */
function consistencyProbes(
  m: number,
  n: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: Uint8Array[],
) {
  const wrongRoot = sha256(utf8('WrongRoot'));
  const probes: Array<{
    desc: string;
    m: number;
    n: number;
    oldRoot: Uint8Array;
    newRoot: Uint8Array;
    proof: Uint8Array[];
  }> = [
    { desc: 'size1 - 1', m: m - 1, n, oldRoot, newRoot, proof },
    { desc: 'size1 + 1', m: m + 1, n, oldRoot, newRoot, proof },
    { desc: 'size1 ^ 2', m: m ^ 2, n, oldRoot, newRoot, proof },
    { desc: 'size2 * 2', m, n: n * 2, oldRoot, newRoot, proof },
    { desc: 'size2 / 2', m, n: Math.floor(n / 2), oldRoot, newRoot, proof },
    { desc: 'wrong root1', m, n, oldRoot: wrongRoot, newRoot, proof },
    { desc: 'wrong root2', m, n, oldRoot, newRoot: wrongRoot, proof },
    { desc: 'swapped roots', m, n, oldRoot: newRoot, newRoot: oldRoot, proof },
    { desc: 'empty proof', m, n, oldRoot, newRoot, proof: [] },
    { desc: 'trailing garbage', m, n, oldRoot, newRoot, proof: [...proof, new Uint8Array(0)] },
    { desc: 'trailing root1', m, n, oldRoot, newRoot, proof: [...proof, oldRoot] },
    { desc: 'trailing root2', m, n, oldRoot, newRoot, proof: [...proof, newRoot] },
    { desc: 'preceding garbage', m, n, oldRoot, newRoot, proof: [new Uint8Array(0), ...proof] },
    { desc: 'preceding root1', m, n, oldRoot, newRoot, proof: [oldRoot, ...proof] },
    { desc: 'preceding root2', m, n, oldRoot, newRoot, proof: [newRoot, ...proof] },
    { desc: 'preceding proof[0]', m, n, oldRoot, newRoot, proof: [proof[0]!, ...proof] },
    { desc: 'truncated proof', m, n, oldRoot, newRoot, proof: proof.slice(0, -1) },
  ];
  proof.forEach((_, i) => {
    const wrong = proof.slice();
    wrong[i] = flipBit(wrong[i]!, 4);
    probes.push({ desc: `modified proof[${i}] bit 4`, m, n, oldRoot, newRoot, proof: wrong });
  });
  return probes;
}

describe('consistency proofs', () => {
  for (const v of CONSISTENCY_VECTORS) {
    describe(`from ${v.oldSize} to ${v.newSize}`, () => {
      const oldRoot = h(ROOTS[v.oldSize]!);
      const newRoot = h(ROOTS[v.newSize]!);
      const proof = v.proof.map(h);

      it('matches the known proof and verifies', () => {
        expect(hexes(consistencyProof(store.read, v.oldSize, v.newSize))).toEqual(v.proof);
        expect(() => verifyConsistency(v.oldSize, v.newSize, oldRoot, newRoot, proof)).not.toThrow();
      });

      // As in the Go tests, only non-trivial proofs: a trivial one survives e.g. swapped equal roots.
      if (proof.length > 0) {
        it('refuses every corruption of the proof, roots or sizes', () => {
          for (const p of consistencyProbes(v.oldSize, v.newSize, oldRoot, newRoot, proof)) {
            const expected = p.m > p.n ? 'INVALID_ARGUMENT' : 'CONSISTENCY_MISMATCH';
            expect(() => verifyConsistency(p.m, p.n, p.oldRoot, p.newRoot, p.proof), p.desc).toThrow(
              code(expected),
            );
          }
        });
      }
    });
  }

  it('builds proofs from the right nodes (transparency-dev/merkle proof/proof_test.go)', () => {
    const n = (level: number, index: number) => NODES[level]![index]!;
    const cases: Array<[number, number, string[]]> = [
      [1, 2, [n(0, 1)]],
      [1, 4, [n(0, 1), n(1, 1)]],
      [1, 6, [n(0, 1), n(1, 1), n(1, 2)]],
      [2, 3, [n(0, 2)]],
      [2, 8, [n(1, 1), n(2, 1)]],
      [3, 7, [n(0, 2), n(0, 3), n(1, 0), toHex(defaultTreeHasher.hashChildren(h(n(1, 2)), h(n(0, 6))))]],
      [4, 7, [toHex(defaultTreeHasher.hashChildren(h(n(1, 2)), h(n(0, 6))))]],
      [5, 7, [n(0, 4), n(0, 5), n(0, 6), n(2, 0)]],
      [6, 7, [n(1, 2), n(0, 6), n(2, 0)]],
      [7, 8, [n(0, 6), n(0, 7), n(1, 2), n(2, 0)]],
      [3, 5, [n(0, 2), n(0, 3), n(1, 0), n(0, 4)]],
      [4, 6, [n(1, 2)]],
    ];
    for (const [m, size, expected] of cases) {
      expect(hexes(consistencyProof(store.read, m, size)), `${m} to ${size}`).toEqual(expected);
    }
    for (let size = 0; size <= 8; size++) {
      expect(consistencyProof(store.read, size, size)).toEqual([]);
      expect(consistencyProof(store.read, 0, size)).toEqual([]);
    }
  });

  it('reads only the nodes the proof needs', () => {
    const big = buildStore(
      Array.from({ length: 95 }, (_, i) => defaultTreeHasher.hashLeaf(utf8(`leaf ${i}`))),
    );
    const readsFor = (m: number, size: number) => {
      big.reads.length = 0;
      consistencyProof(big.read, m, size);
      return new Set(big.reads.map(([l, i]) => `${l}:${i}`));
    };
    expect(readsFor(10, 15)).toEqual(new Set(['1:4', '1:5', '0:14', '1:6', '3:0']));
    expect(readsFor(24, 31)).toEqual(new Set(['3:2', '0:30', '1:14', '2:6', '4:0']));
    expect(readsFor(81, 95)).toEqual(
      new Set(['0:80', '0:81', '1:41', '2:21', '0:94', '1:46', '2:22', '4:4', '6:0']),
    );
  });

  it('handles empty and equal trees (transparency-dev/merkle TestVerifyConsistency, adapted)', () => {
    const empty = h(EMPTY_ROOT);
    const r1 = h(ROOTS[1]!);
    const r2 = h(ROOTS[2]!);
    const cases: Array<[number, number, Uint8Array, Uint8Array, Uint8Array[], string]> = [
      [0, 0, empty, empty, [], 'ok'],
      [0, 1, empty, r1, [], 'ok'],
      [1, 1, r1, r1, [], 'ok'],
      [2, 2, r2, r2, [], 'ok'],
      [0, 0, empty, r1, [], 'CONSISTENCY_MISMATCH'],
      [0, 0, r1, r1, [], 'CONSISTENCY_MISMATCH'],
      [0, 1, r1, r1, [], 'CONSISTENCY_MISMATCH'],
      [1, 1, r1, r2, [], 'CONSISTENCY_MISMATCH'],
      [1, 2, r1, r2, [], 'CONSISTENCY_MISMATCH'],
      [0, 0, empty, empty, [empty], 'CONSISTENCY_MISMATCH'],
      [0, 1, empty, r1, [empty], 'CONSISTENCY_MISMATCH'],
      [1, 1, r1, r1, [r1], 'CONSISTENCY_MISMATCH'],
      [1, 0, r1, empty, [], 'INVALID_ARGUMENT'],
      [2, 1, r2, r1, [], 'INVALID_ARGUMENT'],
    ];
    for (const [m, n, oldRoot, newRoot, proof, expected] of cases) {
      const run = () => verifyConsistency(m, n, oldRoot, newRoot, proof);
      if (expected === 'ok') expect(run, `${m} to ${n}`).not.toThrow();
      else expect(run, `${m} to ${n}`).toThrow(code(expected));
    }
  });

  it('reports the roots when the proof does not reproduce them', () => {
    const v = CONSISTENCY_VECTORS[1]!;
    const wrongOld = h(ROOTS[5]!);
    expect(() => verifyConsistency(v.oldSize, v.newSize, wrongOld, h(ROOTS[8]!), v.proof.map(h))).toThrow(
      expect.objectContaining({
        code: 'CONSISTENCY_MISMATCH',
        message: expect.stringContaining('old root'),
        evidence: {
          oldSize: 6,
          newSize: 8,
          expectedOldRoot: ROOTS[5],
          computedOldRoot: ROOTS[6],
          expectedNewRoot: ROOTS[8],
          computedNewRoot: ROOTS[8],
        },
      }),
    );
    expect(() => verifyConsistency(6, 8, h(ROOTS[6]!), h(ROOTS[7]!), v.proof.map(h))).toThrow(
      expect.objectContaining({ code: 'CONSISTENCY_MISMATCH', message: expect.stringContaining('new root') }),
    );
    expect(() => verifyConsistency(6, 8, h(ROOTS[6]!), h(ROOTS[8]!), v.proof.map(h).slice(1))).toThrow(
      expect.objectContaining({
        code: 'CONSISTENCY_MISMATCH',
        evidence: { oldSize: 6, newSize: 8, proofLength: 2, expectedProofLength: 3 },
      }),
    );
  });

  it('refuses bad sizes and root lengths, naming the parameter', () => {
    const r = h(ROOTS[1]!);
    expect(() => verifyConsistency(-1, 1, r, r, [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('oldSize') }),
    );
    expect(() => verifyConsistency(1, 2 ** 53, r, r, [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('newSize') }),
    );
    expect(() => verifyConsistency(1, 2, new Uint8Array(1), r, [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('oldRoot') }),
    );
    expect(() => consistencyProof(store.read, 3, 2)).toThrow(code('INVALID_ARGUMENT'));
  });
});

describe('trees beyond 32-bit sizes', () => {
  const SIZES = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 3, 2 ** 52 + 12345, Number.MAX_SAFE_INTEGER];

  it('proves inclusion near 2^53', () => {
    const { read } = uniformStore();
    for (const size of SIZES) {
      const root = rootAt(read, size);
      for (const index of [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, size - 2, size - 1].filter((i) => i < size)) {
        const proof = inclusionProof(read, index, size);
        expect(() => verifyInclusion(index, size, read(0, index), proof, root)).not.toThrow();
      }
    }
  });

  it('proves consistency near 2^53', () => {
    const { read } = uniformStore();
    for (const newSize of SIZES) {
      for (const oldSize of [1, 3, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, newSize - 1]) {
        if (oldSize > newSize) continue;
        const proof = consistencyProof(read, oldSize, newSize);
        expect(() =>
          verifyConsistency(oldSize, newSize, rootAt(read, oldSize), rootAt(read, newSize), proof),
        ).not.toThrow();
      }
    }
  });

  it('appends leaves at the largest sizes', () => {
    const { read } = uniformStore();
    const leaf = read(0, 0);
    const added = nodesCompletedByAppend(read, 2 ** 40 - 1, [leaf]);
    expect(added.map((n) => [n.level, n.index])).toEqual(
      Array.from({ length: 41 }, (_, l) => [l, 2 ** (40 - l) - 1]),
    );
    expect(toHex(added.at(-1)!.hash)).toBe(toHex(rootAt(read, 2 ** 40)));
  });
});

describe('proof cost', () => {
  it('proves inclusion in a million-leaf tree with O(log n) reads', () => {
    const { read, reads } = uniformStore();
    const size = 1_000_000;
    const runs = 2000;
    for (let i = 0; i < runs; i++) inclusionProof(read, (i * 7919) % size, size);
    expect(reads() / runs).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
  });
});
