/**
 * Hash functions and self-describing hash strings (`blake3:<hex>`, `sha256:<hex>`).
 * Pure and browser-safe: BLAKE3 comes from hash-wasm (WebAssembly, compiled once at load),
 * SHA-256 from @noble/hashes. Node-side code may inject a faster SHA-256 where it matters.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createBLAKE3 } from 'hash-wasm';
import { fromHex, toHex } from './bytes.js';
import { VaultMeshError } from './errors.js';

export type HashAlgorithm = 'blake3' | 'sha256';

/** A SHA-256 implementation; the default is @noble/hashes, Node code may pass node:crypto. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

export const sha256: Sha256 = (data) => nobleSha256(data);

const blake3Hasher = await createBLAKE3();

export function blake3(data: Uint8Array | string): Uint8Array {
  blake3Hasher.init();
  blake3Hasher.update(data);
  return blake3Hasher.digest('binary');
}

export function formatHash(algorithm: HashAlgorithm, digest: Uint8Array): string {
  return `${algorithm}:${toHex(digest)}`;
}

/** `blake3:<hex>` of the given bytes (or the UTF-8 bytes of a string). */
export function blake3Tagged(data: Uint8Array | string): string {
  blake3Hasher.init();
  blake3Hasher.update(data);
  return `blake3:${blake3Hasher.digest('hex')}`;
}

export interface ParsedHash {
  algorithm: HashAlgorithm;
  digest: Uint8Array;
}

const TAGGED_RE = /^(blake3|sha256):([0-9a-f]{64})$/;

/** Parses `alg:<64 lower-case hex digits>`; anything else is refused with the field's name. */
export function parseHash(text: string, field = 'hash'): ParsedHash {
  const m = TAGGED_RE.exec(text);
  if (m === null) {
    throw new VaultMeshError(
      'INVALID_HASH',
      `${field} must look like blake3:<64 hex digits> or sha256:<64 hex digits>`,
      {
        hint: 'hash strings name their algorithm, then a colon, then 64 lower-case hex digits',
        evidence: { field, value: text.length > 100 ? `${text.slice(0, 100)}…` : text },
      },
    );
  }
  return { algorithm: m[1] as HashAlgorithm, digest: fromHex(m[2]!, field, 32) };
}
