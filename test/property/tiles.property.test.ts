import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { isVaultMeshError } from '../../src/core/errors.js';
import { consistencyProof, defaultTreeHasher, inclusionProof, rootAt } from '../../src/core/merkle.js';
import type { NodeHashReader } from '../../src/core/merkle.js';
import {
  TILE_WIDTH,
  decodeEntryBundle,
  encodeEntryBundle,
  parseTilePath,
  readerFromTiles,
  tileHashes,
  tilePath,
  tileWidthAt,
} from '../../src/core/tiles.js';
import type { TileRef } from '../../src/core/tiles.js';

/** Past 65,536 (a full level-2 tile's span) so that every tiling case, level 2 included, is reached. */
const MAX_SIZE = 70_000;

/**
 * Every node of the largest tree, computed once: the log is append-only, so a node complete in a
 * smaller tree is the same node here.
 */
const LEVELS: Uint8Array[][] = (() => {
  // Distinct, cheap stand-ins for leaf hashes: the tree code never looks inside them.
  const leaves = Array.from({ length: MAX_SIZE }, (_, i) => {
    const h = new Uint8Array(32);
    const view = new DataView(h.buffer);
    for (let w = 0; w < 8; w++) view.setUint32(4 * w, Math.imul(i + 1, 0x9e3779b1 + w));
    return h;
  });
  const levels: Uint8Array[][] = [leaves];
  for (let below: Uint8Array[] = leaves; below.length >= 2;) {
    const level: Uint8Array[] = [];
    for (let i = 0; i + 1 < below.length; i += 2) {
      level.push(defaultTreeHasher.hashChildren(below[i]!, below[i + 1]!));
    }
    levels.push(level);
    below = level;
  }
  return levels;
})();

/** The node store of a tree of `size` leaves; asking for a node not yet complete is a bug. */
function directReader(size: number): NodeHashReader {
  return (level, index) => {
    if ((index + 1) * 2 ** level > size)
      throw new Error(`node (${level}, ${index}) is not complete at ${size}`);
    return LEVELS[level]![index]!;
  };
}

/** A tiles client reading what a log of `size` leaves would serve, checking it only asks for served tiles. */
function tilesReader(size: number): NodeHashReader {
  const direct = directReader(size);
  return readerFromTiles((level, index, width) => {
    expect(width).toBe(tileWidthAt(size, level, index));
    expect(width).toBeGreaterThan(0);
    return tileHashes(direct, { level, index, width });
  }, size);
}

const treeSize = fc.oneof(
  fc.integer({ min: 0, max: MAX_SIZE }),
  fc.constantFrom(0, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, MAX_SIZE),
  // Around tile boundaries, where widths change.
  fc
    .tuple(fc.integer({ min: 1, max: Math.floor(MAX_SIZE / TILE_WIDTH) }), fc.integer({ min: -2, max: 2 }))
    .map(([k, d]) => k * TILE_WIDTH + d),
);

const hex = (hashes: Uint8Array[]): string[] => hashes.map(toHex);

describe('tiles carry everything a verifier needs', () => {
  it('roots computed through tiles equal roots from the node store', () => {
    fc.assert(
      fc.property(treeSize, (size) => {
        expect(toHex(rootAt(tilesReader(size), size))).toBe(toHex(rootAt(directReader(size), size)));
      }),
      { numRuns: 150 },
    );
  });

  it('inclusion and consistency proofs through tiles equal the direct ones', () => {
    const sizeAndIndex = treeSize
      .filter((size) => size > 0)
      .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(size)));
    fc.assert(
      fc.property(sizeAndIndex, ([size, index, oldSize]) => {
        const tiles = tilesReader(size);
        const direct = directReader(size);
        expect(hex(inclusionProof(tiles, index, size))).toEqual(hex(inclusionProof(direct, index, size)));
        expect(hex(consistencyProof(tiles, oldSize, size))).toEqual(
          hex(consistencyProof(direct, oldSize, size)),
        );
      }),
      { numRuns: 150 },
    );
  });
});

const tileRef: fc.Arbitrary<TileRef> = fc.oneof(
  fc.record({
    kind: fc.constant('hash' as const),
    level: fc.integer({ min: 0, max: 63 }),
    index: fc.oneof(fc.nat(1_000_000), fc.maxSafeNat()),
    width: fc.integer({ min: 1, max: TILE_WIDTH }),
  }),
  fc.record({
    kind: fc.constant('entries' as const),
    index: fc.oneof(fc.nat(1_000_000), fc.maxSafeNat()),
    width: fc.integer({ min: 1, max: TILE_WIDTH }),
  }),
);

/** Strings that are mostly tile-path-shaped, so parsing gets past its first checks. */
const pathLike = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'tile',
          'entries',
          '0',
          '1',
          '63',
          '64',
          '00',
          'x000',
          'x001',
          '000',
          '999',
          '.p',
          '',
        ),
        fc.stringMatching(/^x?[0-9]{1,4}(\.p)?$/),
        fc.string({ maxLength: 5 }),
      ),
      { maxLength: 9 },
    )
    .map((segments) => segments.join('/')),
  tileRef.map((t) => tilePath(t)),
);

describe('tile paths', () => {
  it('round-trip every tile', () => {
    fc.assert(
      fc.property(tileRef, (tile) => {
        expect(parseTilePath(tilePath(tile))).toEqual(tile);
      }),
      { numRuns: 500 },
    );
  });

  it('accept only canonical spellings, and fail only with INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(pathLike, (path) => {
        let tile: TileRef;
        try {
          tile = parseTilePath(path);
        } catch (e) {
          expect(isVaultMeshError(e, 'INVALID_ARGUMENT')).toBe(true);
          return;
        }
        expect(tilePath(tile)).toBe(path);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('entry bundles', () => {
  it('round-trip', () => {
    const entries = fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: TILE_WIDTH });
    fc.assert(
      fc.property(entries, (list) => {
        expect(decodeEntryBundle(encodeEntryBundle(list)).map(toHex)).toEqual(list.map(toHex));
      }),
      { numRuns: 100 },
    );
  });

  it('decoding arbitrary bytes fails only with INVALID_ENCODING', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        let entries: Uint8Array[];
        try {
          entries = decodeEntryBundle(bytes);
        } catch (e) {
          expect(isVaultMeshError(e, 'INVALID_ENCODING')).toBe(true);
          return;
        }
        expect(toHex(encodeEntryBundle(entries))).toBe(toHex(bytes));
      }),
      { numRuns: 1000 },
    );
  });
});
