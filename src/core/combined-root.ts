/**
 * The combined root (DESIGN §4): one RFC 6962 tree over every scroll's head, so that one anchor
 * covers all scrolls. Each leaf is the JCS object {root, scroll, size} with the root as a
 * `sha256:<hex>` string; leaves are sorted by scroll name, so any two nodes agree on the tree.
 */
import { canonicalJson } from './canonical.js';
import { toHex, utf8 } from './bytes.js';
import { defaultTreeHasher, inclusionProof, rootFromLeafHashes, type TreeHasher } from './merkle.js';

export interface ScrollHead {
  scroll: string;
  size: number;
  root: Uint8Array;
}

export function combinedLeaf(head: ScrollHead): string {
  return canonicalJson({ root: `sha256:${toHex(head.root)}`, scroll: head.scroll, size: head.size });
}

function sortedHeads(heads: readonly ScrollHead[]): ScrollHead[] {
  return [...heads].sort((a, b) => (a.scroll < b.scroll ? -1 : a.scroll > b.scroll ? 1 : 0));
}

export function combinedRoot(
  heads: readonly ScrollHead[],
  hasher: TreeHasher = defaultTreeHasher,
): Uint8Array {
  return rootFromLeafHashes(
    sortedHeads(heads).map((h) => hasher.hashLeaf(utf8(combinedLeaf(h)))),
    hasher,
  );
}

/** The inclusion proof of one scroll's head in the combined tree, with its leaf index. */
export function combinedInclusion(
  heads: readonly ScrollHead[],
  scroll: string,
  hasher: TreeHasher = defaultTreeHasher,
): { index: number; size: number; leaf: string; proof: Uint8Array[] } | undefined {
  const sorted = sortedHeads(heads);
  const index = sorted.findIndex((h) => h.scroll === scroll);
  if (index < 0) return undefined;
  const leaves = sorted.map((h) => hasher.hashLeaf(utf8(combinedLeaf(h))));
  const read = (level: number, i: number): Uint8Array => {
    if (level === 0) return leaves[i]!;
    return hasher.hashChildren(read(level - 1, 2 * i), read(level - 1, 2 * i + 1));
  };
  return {
    index,
    size: sorted.length,
    leaf: combinedLeaf(sorted[index]!),
    proof: inclusionProof(read, index, sorted.length, hasher),
  };
}
