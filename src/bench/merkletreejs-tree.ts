/**
 * merkletreejs as a baseline, given RFC 6962 domain separation: its leaves arrive as 0x00‖line and
 * are hashed by `hashLeaves`, and its concatenator puts 0x01 in front of every pair. A lone last
 * node of a level is promoted unhashed (its default, duplicateOdd: false).
 */
import { hash } from 'node:crypto';
import { MerkleTree } from 'merkletreejs';

const NODE_PREFIX = Buffer.from([0x01]);

export function merkletreejsRoot(prefixedLeaves: Buffer[]): Buffer {
  const tree = new MerkleTree(prefixedLeaves, (data: Buffer) => hash('sha256', data, 'buffer'), {
    hashLeaves: true,
    concatenator: (pair: Buffer[]) => Buffer.concat([NODE_PREFIX, ...pair]),
  });
  return tree.getRoot();
}

/**
 * Each line of `data` preceded by 0x00, as views into one copy of it (built once, untimed: a head
 * start for merkletreejs, which then has no prefix to add).
 */
export function prefixedLeaves(data: Buffer, lines: readonly Buffer[]): Buffer[] {
  const copy = Buffer.alloc(data.length + 1);
  data.copy(copy, 1);
  return lines.map((line) => {
    const start = line.byteOffset - data.byteOffset;
    copy[start] = 0x00; // was the previous line's newline
    return copy.subarray(start, start + 1 + line.length);
  });
}
