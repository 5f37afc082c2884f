import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/core/bytes.js';
import { isVaultMeshError } from '../../src/core/errors.js';
import type { VaultMeshError } from '../../src/core/errors.js';
import { defaultTreeHasher, inclusionProof, rootAt, rootFromLeafHashes } from '../../src/core/merkle.js';
import type { NodeHashReader } from '../../src/core/merkle.js';
import {
  MAX_BUNDLE_ENTRY_BYTES,
  TILE_HEIGHT,
  TILE_WIDTH,
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTileIndex,
  parseTilePath,
  readerFromTiles,
  tileHashes,
  tilePath,
  tileWidthAt,
} from '../../src/core/tiles.js';
import type { TileRef } from '../../src/core/tiles.js';

/** Every perfect-subtree node of a tree of the given leaf hashes, by height. */
function allLevels(leafHashes: Uint8Array[]): Uint8Array[][] {
  const levels = [leafHashes];
  for (let below = leafHashes; below.length >= 2;) {
    const level: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) {
      level.push(defaultTreeHasher.hashChildren(below[i]!, below[i + 1]!));
    }
    levels.push(level);
    below = level;
  }
  return levels;
}

function treeOf(size: number): { leafHashes: Uint8Array[]; read: NodeHashReader } {
  const leafHashes = Array.from({ length: size }, (_, i) => defaultTreeHasher.hashLeaf(utf8(`leaf ${i}`)));
  const levels = allLevels(leafHashes);
  return {
    leafHashes,
    read: (level, index) => {
      const hash = levels[level]?.[index];
      if (hash === undefined) throw new Error(`no node (${level}, ${index})`);
      return hash;
    },
  };
}

function thrown(f: () => unknown): VaultMeshError {
  try {
    f();
  } catch (e) {
    if (isVaultMeshError(e)) return e;
    throw e;
  }
  throw new Error('expected a VaultMeshError');
}

describe('tile index and path encoding', () => {
  it('writes indices as x-prefixed 3-digit elements, the last without x', () => {
    // Spec: "For example, index 1234067 will be encoded as `x001/x234/067`."
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(7)).toBe('007');
    expect(encodeTileIndex(999)).toBe('999');
    expect(encodeTileIndex(1000)).toBe('x001/000');
    expect(encodeTileIndex(Number.MAX_SAFE_INTEGER)).toBe('x009/x007/x199/x254/x740/991');
  });

  it('refuses indices that are not non-negative safe integers', () => {
    for (const n of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) {
      expect(thrown(() => encodeTileIndex(n)).code).toBe('INVALID_ARGUMENT');
    }
  });

  // Spec: tiles at "<prefix>/tile/<L>/<N>[.p/<W>]", bundles at "<prefix>/tile/entries/<N>[.p/<W>]";
  // the level 1 and 2 paths are the partial tiles of the spec's "tree of size 70,000" example.
  const vectors: Array<[string, TileRef]> = [
    ['tile/0/x001/x234/067', { kind: 'hash', level: 0, index: 1234067, width: 256 }],
    ['tile/0/x001/x234/067.p/8', { kind: 'hash', level: 0, index: 1234067, width: 8 }],
    ['tile/entries/x001/x234/067', { kind: 'entries', index: 1234067, width: 256 }],
    ['tile/entries/x001/x234/067.p/8', { kind: 'entries', index: 1234067, width: 8 }],
    ['tile/0/272', { kind: 'hash', level: 0, index: 272, width: 256 }],
    ['tile/0/273.p/112', { kind: 'hash', level: 0, index: 273, width: 112 }],
    ['tile/1/000', { kind: 'hash', level: 1, index: 0, width: 256 }],
    ['tile/1/001.p/17', { kind: 'hash', level: 1, index: 1, width: 17 }],
    ['tile/2/000.p/1', { kind: 'hash', level: 2, index: 0, width: 1 }],
    ['tile/entries/000.p/255', { kind: 'entries', index: 0, width: 255 }],
    [
      'tile/63/x009/x007/x199/x254/x740/991',
      { kind: 'hash', level: 63, index: Number.MAX_SAFE_INTEGER, width: 256 },
    ],
  ];

  it.each(vectors)('%s both ways', (path, tile) => {
    expect(tilePath(tile)).toBe(path);
    expect(parseTilePath(path)).toEqual(tile);
  });

  it('refuses to write a tile with a bad level, index or width', () => {
    const bad: TileRef[] = [
      { kind: 'hash', level: 64, index: 0, width: 256 },
      { kind: 'hash', level: -1, index: 0, width: 256 },
      { kind: 'hash', level: 0.5, index: 0, width: 256 },
      { kind: 'hash', level: 0, index: -1, width: 256 },
      { kind: 'entries', index: 0, width: 0 },
      { kind: 'entries', index: 0, width: 257 },
      { kind: 'entries', index: 0, width: 2.5 },
    ];
    for (const tile of bad) expect(thrown(() => tilePath(tile)).code).toBe('INVALID_ARGUMENT');
  });

  const badPaths: Array<[string, string]> = [
    ['', 'does not start with "tile/"'],
    ['/tile/0/000', 'does not start with "tile/"'],
    ['tiles/0/000', 'does not start with "tile/"'],
    ['tile', 'has no tile index'],
    ['tile/0', 'has no tile index'],
    ['tile/0/000/', 'empty element'],
    ['tile//000', 'empty element'],
    ['tile/0//000', 'empty element'],
    ['tile/00/000', 'level "00"'],
    ['tile/01/000', 'level "01"'],
    ['tile/64/000', 'level "64"'],
    ['tile/100/000', 'level "100"'],
    ['tile/-1/000', 'level "-1"'],
    ['tile/+1/000', 'level "+1"'],
    ['tile/1e1/000', 'level "1e1"'],
    ['tile/data/000', 'level "data"'],
    ['tile/Entries/000', 'level "Entries"'],
    ['tile/0/00', 'last index element "00"'],
    ['tile/0/0000', 'last index element "0000"'],
    ['tile/0/x001', 'last index element "x001"'],
    ['tile/0/0x1', 'last index element "0x1"'],
    ['tile/0/ 01', 'last index element " 01"'],
    ['tile/0/１２３', 'last index element "１２３"'],
    ['tile/0/001/234', 'index element "001"'],
    ['tile/0/X001/234', 'index element "X001"'],
    ['tile/0/x01/234', 'index element "x01"'],
    ['tile/0/xx001/234', 'index element "xx001"'],
    ['tile/0/000/extra', 'index element "000"'],
    ['tile/entries/entries/000', 'index element "entries"'],
    ['tile/0/x000/001', 'leading "x000"'],
    ['tile/0/x000/x001/234', 'leading "x000"'],
    ['tile/0/x009/x007/x199/x254/x740/992', 'index above 9007199254740991'],
    ['tile/0/x001/x000/x000/x000/x000/x000/000', 'index above'],
    ['tile/0/000.p', 'ends in ".p" without a width'],
    ['tile/0/000.p/0', 'partial width "0"'],
    ['tile/0/000.p/256', 'partial width "256"'],
    ['tile/0/000.p/08', 'partial width "08"'],
    ['tile/0/000.p/1.5', 'partial width "1.5"'],
    ['tile/0/000.p/ 8', 'partial width " 8"'],
    ['tile/0/000.p/8/9', 'has elements after ".p/<W>"'],
    ['tile/0/x001.p/8/067', 'has elements after ".p/<W>"'],
    ['tile/0/000.P/8', 'index element "000.P"'],
    ['tile/0/000.p.p/8', 'last index element "000.p"'],
    [`tile/0/${'x000/'.repeat(20)}000`, 'is longer than any tile path'],
  ];

  it.each(badPaths)('rejects %j', (path, fragment) => {
    const e = thrown(() => parseTilePath(path));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(fragment);
    expect(e.hint).toContain('tile/<L>/<N>');
  });
});

describe('tileWidthAt', () => {
  const sizes = [0, 1, 255, 256, 257, 65536, 65537];
  // [level, tile index, width for each size above]
  const table: Array<[number, number, number[]]> = [
    [0, 0, [0, 1, 255, 256, 256, 256, 256]],
    [0, 1, [0, 0, 0, 0, 1, 256, 256]],
    [0, 255, [0, 0, 0, 0, 0, 256, 256]],
    [0, 256, [0, 0, 0, 0, 0, 0, 1]],
    [1, 0, [0, 0, 0, 1, 1, 256, 256]],
    [1, 1, [0, 0, 0, 0, 0, 0, 0]],
    [2, 0, [0, 0, 0, 0, 0, 1, 1]],
    [2, 1, [0, 0, 0, 0, 0, 0, 0]],
  ];

  it.each(table)('level %i, tile %i', (level, index, widths) => {
    expect(sizes.map((size) => tileWidthAt(size, level, index))).toEqual(widths);
  });

  it('matches the spec example of a tree of size 70,000', () => {
    // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile
    // of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial
    // level 2 tile of width 1."
    for (let n = 0; n < 273; n++) expect(tileWidthAt(70_000, 0, n)).toBe(256);
    expect(tileWidthAt(70_000, 0, 273)).toBe(112);
    expect(tileWidthAt(70_000, 0, 274)).toBe(0);
    expect(tileWidthAt(70_000, 1, 0)).toBe(256);
    expect(tileWidthAt(70_000, 1, 1)).toBe(17);
    expect(tileWidthAt(70_000, 1, 2)).toBe(0);
    expect(tileWidthAt(70_000, 2, 0)).toBe(1);
    expect(tileWidthAt(70_000, 3, 0)).toBe(0);
  });

  it('matches the spec example of a tree of size 256', () => {
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1."
    expect(tileWidthAt(256, 0, 0)).toBe(256);
    expect(tileWidthAt(256, 0, 1)).toBe(0);
    expect(tileWidthAt(256, 1, 0)).toBe(1);
    expect(tileWidthAt(256, 2, 0)).toBe(0);
  });

  it('handles the largest trees and levels', () => {
    expect(tileWidthAt(Number.MAX_SAFE_INTEGER, 6, 0)).toBe(31);
    expect(tileWidthAt(Number.MAX_SAFE_INTEGER, 63, 0)).toBe(0);
    expect(tileWidthAt(Number.MAX_SAFE_INTEGER, 0, Number.MAX_SAFE_INTEGER)).toBe(0);
  });

  it('refuses bad arguments', () => {
    const cases: Array<[number, number, number]> = [
      [-1, 0, 0],
      [1.5, 0, 0],
      [0, 64, 0],
      [0, -1, 0],
      [0, 0, -1],
      [0, 0, NaN],
    ];
    for (const args of cases) {
      expect(thrown(() => tileWidthAt(...args)).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('tileHashes and readerFromTiles', () => {
  it('a level-1 tile holds the tree hashes of full level-0 tiles', () => {
    // Spec: "At “level 1” and above, each hash in a tile is the Merkle Tree Hash of a *full* tile at
    // the level below."
    const { leafHashes, read } = treeOf(2 * TILE_WIDTH + 3);
    const tile = tileHashes(read, { level: 1, index: 0, width: tileWidthAt(leafHashes.length, 1, 0) });
    expect(tile.length).toBe(2 * 32);
    expect(toHex(tile.subarray(0, 32))).toBe(toHex(rootFromLeafHashes(leafHashes.slice(0, 256))));
    expect(toHex(tile.subarray(32))).toBe(toHex(rootFromLeafHashes(leafHashes.slice(256, 512))));
    expect(toHex(tileHashes(read, { level: 0, index: 2, width: 3 }))).toBe(
      leafHashes
        .slice(512)
        .map((h) => toHex(h))
        .join(''),
    );
  });

  it('reads nodes of height 8·L for a level-L tile', () => {
    const calls: Array<[number, number]> = [];
    const read: NodeHashReader = (level, index) => {
      calls.push([level, index]);
      return new Uint8Array(32).fill(index);
    };
    tileHashes(read, { level: 2, index: 3, width: 2 });
    expect(calls).toEqual([
      [2 * TILE_HEIGHT, 3 * TILE_WIDTH],
      [2 * TILE_HEIGHT, 3 * TILE_WIDTH + 1],
    ]);
  });

  it('refuses a stored hash of the wrong size', () => {
    const e = thrown(() => tileHashes(() => new Uint8Array(31), { level: 0, index: 0, width: 1 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('31 bytes');
  });

  it('rebuilds roots and proofs from the tiles a log serves', () => {
    const size = 3 * TILE_WIDTH + 5;
    const { leafHashes, read } = treeOf(size);
    const fetched: string[] = [];
    const tiles = readerFromTiles((level, index, width) => {
      fetched.push(tilePath({ kind: 'hash', level, index, width }));
      return tileHashes(read, { level, index, width });
    }, size);
    expect(toHex(rootAt(tiles, size))).toBe(toHex(rootFromLeafHashes(leafHashes)));
    expect(fetched.sort()).toEqual(['tile/0/003.p/5', 'tile/1/000.p/3']);
    expect(inclusionProof(tiles, 700, size).map(toHex)).toEqual(inclusionProof(read, 700, size).map(toHex));
    // Each tile is fetched once per reader.
    expect(new Set(fetched).size).toBe(fetched.length);
  });

  it('refuses nodes that are not complete in the tree', () => {
    const { read } = treeOf(10);
    const tiles = readerFromTiles((level, index, width) => tileHashes(read, { level, index, width }), 10);
    expect(thrown(() => tiles(0, 10)).message).toContain('not complete in a tree of 10 leaves');
    expect(thrown(() => tiles(2, 2)).message).toContain('not complete');
    expect(thrown(() => tiles(4, 0)).message).toContain('not complete');
    expect(thrown(() => tiles(-1, 0)).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses a tile of the wrong length', () => {
    const tiles = readerFromTiles((_level, _index, width) => new Uint8Array(width * 32 - 1), 10);
    const e = thrown(() => tiles(0, 0));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe('tile/0/000.p/10 is 319 bytes, not 320');
  });
});

describe('entry bundles', () => {
  it('prefixes each entry with its big-endian uint16 length', () => {
    // Spec: "Entry bundles are sequences of big-endian uint16 length-prefixed log entries."
    expect(
      toHex(encodeEntryBundle([utf8('a'), new Uint8Array(0), new Uint8Array(0x0102)]).subarray(0, 7)),
    ).toBe('0001610000' + '0102');
  });

  it('round-trips entries up to the largest a bundle can carry', () => {
    const entries = [
      new Uint8Array(0),
      utf8('{"seq":0}'),
      new Uint8Array(MAX_BUNDLE_ENTRY_BYTES).fill(7),
      new Uint8Array(256).map((_, i) => i),
    ];
    const decoded = decodeEntryBundle(encodeEntryBundle(entries));
    expect(decoded.map(toHex)).toEqual(entries.map(toHex));
    const full = Array.from({ length: TILE_WIDTH }, (_, i) => utf8(String(i)));
    expect(decodeEntryBundle(encodeEntryBundle(full)).length).toBe(TILE_WIDTH);
  });

  it('refuses an entry of 65536 bytes', () => {
    const e = thrown(() => encodeEntryBundle([utf8('ok'), new Uint8Array(65536)]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('entry 1 is 65536 bytes');
    expect(e.message).toContain('cannot carry');
  });

  it('refuses bundles no tile can be', () => {
    expect(thrown(() => encodeEntryBundle([])).code).toBe('INVALID_ARGUMENT');
    const tooMany = Array.from({ length: TILE_WIDTH + 1 }, () => new Uint8Array(0));
    expect(thrown(() => encodeEntryBundle(tooMany)).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => decodeEntryBundle(new Uint8Array(0))).code).toBe('INVALID_ENCODING');
    expect(thrown(() => decodeEntryBundle(new Uint8Array(2 * (TILE_WIDTH + 1)))).message).toContain(
      'at most 256 entries',
    );
  });

  it('refuses truncated bundles', () => {
    const bundle = encodeEntryBundle([utf8('first'), utf8('second')]);
    for (let cut = 1; cut < bundle.length; cut++) {
      if (cut === 7) continue; // the end of the first entry: a well-formed one-entry bundle
      const e = thrown(() => decodeEntryBundle(bundle.subarray(0, cut)));
      expect(e.code).toBe('INVALID_ENCODING');
      expect(e.message).toContain('truncated');
    }
    expect(thrown(() => decodeEntryBundle(Uint8Array.of(0x00))).message).toContain(
      'the length of entry 0 is cut off at byte 0',
    );
    expect(thrown(() => decodeEntryBundle(Uint8Array.of(0x00, 0x02, 0x61))).message).toContain(
      'entry 0 claims 2 bytes but only 1 remain',
    );
  });
});
