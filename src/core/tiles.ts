/**
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): a scroll published as static, immutable, cacheable
 * files instead of a proof API, so that existing transparency-log clients and monitors can check it.
 *
 * A tile at level L is a run of up to 256 consecutive hashes of perfect subtrees of height 8·L — which
 * are exactly nodes the node store already holds — and an entry bundle carries the entries those
 * level-0 hashes commit to. Every other node a verifier needs is rebuilt by hashing inside one tile,
 * which {@link readerFromTiles} does.
 *
 * Paths are relative to the log's URL prefix. Parsing is strict because paths arrive from untrusted
 * URLs: each tile has exactly one accepted spelling, the one {@link tilePath} writes.
 */
import { VaultMeshError } from './errors.js';
import { HASH_SIZE, defaultTreeHasher } from './merkle.js';
import type { NodeHashReader, TreeHasher } from './merkle.js';

/** Levels of the tree a tile spans: a level-L tile holds nodes of height 8·L. */
export const TILE_HEIGHT = 8;
/** Hashes (or entries) in a full tile: 2^TILE_HEIGHT. */
export const TILE_WIDTH = 256;
/** The spec allows levels 0..63: enough for any 64-bit tree size. */
export const MAX_TILE_LEVEL = 63;
/** Entry bundles prefix each entry with a big-endian uint16 length, which caps the entry size. */
export const MAX_BUNDLE_ENTRY_BYTES = 0xffff;

/** A tile or entry bundle; `width` is 1..256, and 256 is a full tile (no `.p/<W>` suffix). */
export type TileRef =
  | { kind: 'hash'; level: number; index: number; width: number }
  | { kind: 'entries'; index: number; width: number };

/**
 * Returns the bytes of tile (level, index) cut at `width` hashes, as the log served it for the tree
 * size the reader was made for.
 */
export type TileFetcher = (level: number, index: number, width: number) => Uint8Array;

/**
 * Longer than any canonical tile path (`tile/entries/` + six index elements + `.p/255` is 47
 * characters), so hostile input is refused before it is split.
 */
const MAX_PATH_LENGTH = 64;
const LEVEL_RE = /^(?:0|[1-9][0-9]?)$/;
const WIDTH_RE = /^[1-9][0-9]{0,2}$/;
const INNER_ELEMENT_RE = /^x[0-9]{3}$/;
const LAST_ELEMENT_RE = /^[0-9]{3}$/;

/**
 * The spec's spelling of a tile index: zero-padded 3-digit path elements, all but the last prefixed
 * with `x`, so that a tile file never shares its name with a directory (1234067 → `x001/x234/067`).
 */
export function encodeTileIndex(n: number): string {
  checkCount(n, 'tile index');
  const digits = String(n);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const elements: string[] = [];
  for (let i = 0; i < padded.length; i += 3) elements.push(padded.slice(i, i + 3));
  return elements.map((e, i) => (i < elements.length - 1 ? `x${e}` : e)).join('/');
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(tile: TileRef): string {
  if (tile.kind === 'hash') checkLevel(tile.level);
  checkWidth(tile.width);
  const base = tile.kind === 'hash' ? `tile/${tile.level}` : 'tile/entries';
  const suffix = tile.width === TILE_WIDTH ? '' : `.p/${tile.width}`;
  return `${base}/${encodeTileIndex(tile.index)}${suffix}`;
}

/**
 * The tile a path names. Throws `INVALID_ARGUMENT` naming the offending part for anything but the
 * canonical spelling: leading zeros or a leading `x000` element, a missing or stray `x`, a level
 * above 63, a `.p/<W>` width outside 1..255, an index beyond 2^53 − 1, empty or extra elements.
 */
export function parseTilePath(path: string): TileRef {
  const bad = (what: string): VaultMeshError =>
    new VaultMeshError(
      'INVALID_ARGUMENT',
      `tile path ${JSON.stringify(path.slice(0, MAX_PATH_LENGTH))} ${what}`,
      {
        hint: 'tile paths look like tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], e.g. tile/0/x001/x234/067.p/8',
      },
    );
  if (path.length > MAX_PATH_LENGTH)
    throw bad(`is longer than any tile path (${MAX_PATH_LENGTH} characters)`);
  const segments = path.split('/');
  if (segments[0] !== 'tile') throw bad('does not start with "tile/"');
  if (segments.includes('')) throw bad('has an empty element (a doubled, leading or trailing "/")');
  if (segments.length < 3) throw bad('has no tile index');

  const levelText = segments[1]!;
  let level: number | undefined;
  if (levelText !== 'entries') {
    level = Number(levelText);
    if (!LEVEL_RE.test(levelText) || level > MAX_TILE_LEVEL) {
      throw bad(
        `has level "${levelText}", not "entries" or a decimal integer from 0 to ${MAX_TILE_LEVEL} without leading zeros`,
      );
    }
  }

  const elements = segments.slice(2);
  let width = TILE_WIDTH;
  const partialAt = elements.findIndex((e) => e.endsWith('.p'));
  if (partialAt !== -1) {
    if (partialAt === elements.length - 1) throw bad('ends in ".p" without a width');
    if (partialAt !== elements.length - 2) throw bad('has elements after ".p/<W>"');
    const widthText = elements.pop()!;
    width = Number(widthText);
    if (!WIDTH_RE.test(widthText) || width >= TILE_WIDTH) {
      throw bad(
        `has partial width "${widthText}", not a decimal integer from 1 to 255 without leading zeros`,
      );
    }
    elements[partialAt] = elements[partialAt]!.slice(0, -2);
  }

  let index = 0;
  elements.forEach((element, i) => {
    const last = i === elements.length - 1;
    if (!(last ? LAST_ELEMENT_RE : INNER_ELEMENT_RE).test(element)) {
      throw bad(
        last
          ? `has last index element "${element}", not exactly 3 digits without an "x"`
          : `has index element "${element}", not "x" followed by 3 digits`,
      );
    }
    index = index * 1000 + Number(element.slice(last ? 0 : 1));
  });
  if (elements.length > 1 && elements[0] === 'x000') throw bad('has a leading "x000" index element');
  if (!Number.isSafeInteger(index)) throw bad(`has an index above ${Number.MAX_SAFE_INTEGER}`);

  return level === undefined ? { kind: 'entries', index, width } : { kind: 'hash', level, index, width };
}

/**
 * How many hashes tile (level, index) holds for a tree of `treeSize` leaves: 256 for a full tile,
 * the spec's floor(s / 256^L) mod 256 for the partial one, 0 for a tile that must not be served.
 * Entry bundles follow level 0.
 */
export function tileWidthAt(treeSize: number, level: number, index: number): number {
  checkCount(treeSize, 'treeSize');
  checkLevel(level);
  checkCount(index, 'tile index');
  const nodes = Math.floor(treeSize / TILE_WIDTH ** level);
  return Math.min(TILE_WIDTH, Math.max(0, nodes - index * TILE_WIDTH));
}

/**
 * The bytes of a hash tile, read straight from the node store. The caller picks a width no larger
 * than {@link tileWidthAt} gives for the published tree size: the reader is only asked for complete
 * nodes. Throws `INVALID_ARGUMENT` for a bad level, index or width, or a stored hash of the wrong size.
 */
export function tileHashes(
  read: NodeHashReader,
  tile: { level: number; index: number; width: number },
): Uint8Array {
  checkLevel(tile.level);
  checkCount(tile.index, 'tile index');
  checkWidth(tile.width);
  const first = tile.index * TILE_WIDTH;
  if (!Number.isSafeInteger(first + tile.width - 1)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `tile index ${tile.index} is beyond any tree of safe size`);
  }
  const height = TILE_HEIGHT * tile.level;
  const out = new Uint8Array(tile.width * HASH_SIZE);
  for (let i = 0; i < tile.width; i++) {
    const hash = read(height, first + i);
    if (hash.length !== HASH_SIZE) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `node store returned ${hash.length} bytes for node (level ${height}, index ${first + i}), not ${HASH_SIZE}`,
      );
    }
    out.set(hash, i * HASH_SIZE);
  }
  return out;
}

/**
 * An entry bundle: each entry as a big-endian uint16 length and its bytes. Throws `INVALID_ARGUMENT`
 * for an entry longer than 65535 bytes, which tiles cannot carry, and for a bundle that is empty or
 * holds more than 256 entries, which no tile is.
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  checkBundleCount(entries.length, 'INVALID_ARGUMENT');
  let length = 0;
  entries.forEach((entry, i) => {
    if (entry.length > MAX_BUNDLE_ENTRY_BYTES) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `entry ${i} is ${entry.length} bytes; tlog-tiles entry bundles cannot carry an entry longer than ${MAX_BUNDLE_ENTRY_BYTES} bytes`,
        { hint: 'the bundle format prefixes each entry with a 16-bit length' },
      );
    }
    length += 2 + entry.length;
  });
  const out = new Uint8Array(length);
  let offset = 0;
  for (const entry of entries) {
    out[offset] = entry.length >>> 8;
    out[offset + 1] = entry.length & 0xff;
    out.set(entry, offset + 2);
    offset += 2 + entry.length;
  }
  return out;
}

/**
 * The entries of a bundle, as fresh arrays. Throws `INVALID_ENCODING` when a length prefix or an
 * entry is cut off, or when the bundle is empty or holds more than 256 entries.
 */
export function decodeEntryBundle(bytes: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    checkBundleCount(entries.length + 1, 'INVALID_ENCODING');
    if (bytes.length - offset < 2) {
      throw new VaultMeshError(
        'INVALID_ENCODING',
        `entry bundle is truncated: the length of entry ${entries.length} is cut off at byte ${offset}`,
      );
    }
    const length = (bytes[offset]! << 8) | bytes[offset + 1]!;
    offset += 2;
    if (bytes.length - offset < length) {
      throw new VaultMeshError(
        'INVALID_ENCODING',
        `entry bundle is truncated: entry ${entries.length} claims ${length} bytes but only ${bytes.length - offset} remain`,
      );
    }
    entries.push(bytes.slice(offset, offset + length));
    offset += length;
  }
  checkBundleCount(entries.length, 'INVALID_ENCODING');
  return entries;
}

/**
 * A node reader over a tiled log of `treeSize` leaves, as a tiles client builds one: node (h, i) comes
 * from the tile at level floor(h / 8), hashed up h mod 8 levels inside that tile. Each tile is fetched
 * once per reader, since the nodes a proof needs cluster in a few tiles. The reader throws
 * `INVALID_ARGUMENT` for a node that is not complete in the tree and for a tile of the wrong length;
 * wrong hashes surface when the result is checked against a signed root.
 */
export function readerFromTiles(
  fetchTile: TileFetcher,
  treeSize: number,
  hasher: TreeHasher = defaultTreeHasher,
): NodeHashReader {
  checkCount(treeSize, 'treeSize');
  const tiles = new Map<string, Uint8Array>();
  const tileAt = (level: number, index: number): Uint8Array => {
    const key = `${level}/${index}`;
    let tile = tiles.get(key);
    if (tile === undefined) {
      const width = tileWidthAt(treeSize, level, index);
      tile = fetchTile(level, index, width);
      if (tile.length !== width * HASH_SIZE) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `${tilePath({ kind: 'hash', level, index, width })} is ${tile.length} bytes, not ${width * HASH_SIZE}`,
          { hint: 'a tile holds exactly width × 32 bytes; the log served a truncated or padded tile' },
        );
      }
      tiles.set(key, tile);
    }
    return tile;
  };
  return (height, index) => {
    checkCount(height, 'height');
    checkCount(index, 'index');
    if ((index + 1) * 2 ** height > treeSize) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        `node (level ${height}, index ${index}) is not complete in a tree of ${treeSize} leaves`,
      );
    }
    const level = Math.floor(height / TILE_HEIGHT);
    const span = 2 ** (height % TILE_HEIGHT);
    // span divides 256, so the tile hashes under the node never straddle two tiles.
    const first = index * span;
    const tile = tileAt(level, Math.floor(first / TILE_WIDTH));
    const offset = (first % TILE_WIDTH) * HASH_SIZE;
    let nodes: Uint8Array[] = [];
    for (let k = 0; k < span; k++) {
      nodes.push(tile.subarray(offset + k * HASH_SIZE, offset + (k + 1) * HASH_SIZE));
    }
    while (nodes.length > 1) {
      const parents: Uint8Array[] = [];
      for (let k = 0; k < nodes.length; k += 2) parents.push(hasher.hashChildren(nodes[k]!, nodes[k + 1]!));
      nodes = parents;
    }
    return nodes[0]!.slice();
  };
}

function checkBundleCount(count: number, code: 'INVALID_ARGUMENT' | 'INVALID_ENCODING'): void {
  if (count === 0) {
    throw new VaultMeshError(code, 'an entry bundle holds at least one entry', {
      hint: 'tiles with no entries are never served',
    });
  }
  if (count > TILE_WIDTH) {
    throw new VaultMeshError(code, `an entry bundle holds at most ${TILE_WIDTH} entries`);
  }
}

function checkCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `${name} must be a non-negative safe integer, got ${value}`,
      {
        evidence: { parameter: name, value: String(value) },
      },
    );
  }
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `tile level must be an integer from 0 to ${MAX_TILE_LEVEL}, got ${level}`,
    );
  }
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `tile width must be an integer from 1 to ${TILE_WIDTH}, got ${width}`,
    );
  }
}
