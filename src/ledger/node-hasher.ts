/**
 * RFC 6962 hashing for Node: leaves with node:crypto (native, SHA extensions), interior nodes with
 * a reused hash-wasm hasher, whose per-call cost on 65-byte inputs is about 40% lower.
 */
import { hash } from 'node:crypto';
import { createSHA256 } from 'hash-wasm';
import { rfc6962Hasher, type TreeHasher } from '../core/merkle.js';

export const nodeSha256 = (data: Uint8Array): Uint8Array => hash('sha256', data, 'buffer');

const shortInputHasher = await createSHA256();

function shortInputSha256(data: Uint8Array): Uint8Array {
  shortInputHasher.init();
  shortInputHasher.update(data);
  return shortInputHasher.digest('binary');
}

export const nodeTreeHasher: TreeHasher = rfc6962Hasher(nodeSha256, shortInputSha256);

const LEAF_PREFIX = Buffer.from([0]);

/**
 * Leaf hash of `data[start, end)` where `data[start - 1]` may be overwritten: the byte before a
 * line (its predecessor's newline) is borrowed for the 0x00 prefix so no copy is made.
 */
export function leafHashInPlace(data: Buffer, start: number, end: number): Buffer {
  if (start === 0) return hash('sha256', Buffer.concat([LEAF_PREFIX, data.subarray(0, end)]), 'buffer');
  const saved = data[start - 1]!;
  data[start - 1] = 0;
  const digest = hash('sha256', data.subarray(start - 1, end), 'buffer');
  data[start - 1] = saved;
  return digest;
}
