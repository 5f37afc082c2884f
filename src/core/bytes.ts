/** Byte encodings with labelled, strict decoding: a bad value names the field it came from. */
import { base64 } from '@scure/base';
import { VaultMeshError } from './errors.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, refusing invalid sequences rather than replacing them. */
export function fromUtf8(bytes: Uint8Array, field = 'text'): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new VaultMeshError('INVALID_ENCODING', `${field} is not valid UTF-8`, { cause });
  }
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Lower-case hex only, so that every value has exactly one spelling. */
export function fromHex(hex: string, field = 'hex', expectedLength?: number): Uint8Array {
  if (!HEX_RE.test(hex)) {
    throw new VaultMeshError(
      'INVALID_ENCODING',
      `${field} is not lower-case hex with an even number of digits`,
      {
        hint: 'write bytes as lower-case hexadecimal, two digits per byte',
      },
    );
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  checkLength(out, field, expectedLength);
  return out;
}

export function toBase64(bytes: Uint8Array): string {
  return base64.encode(bytes);
}

/** Standard, padded base64 (RFC 4648 §4), as the C2SP formats use. */
export function fromBase64(text: string, field = 'base64', expectedLength?: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = base64.decode(text);
  } catch (cause) {
    throw new VaultMeshError('INVALID_ENCODING', `${field} is not valid padded base64`, { cause });
  }
  checkLength(out, field, expectedLength);
  return out;
}

function checkLength(bytes: Uint8Array, field: string, expected: number | undefined): void {
  if (expected !== undefined && bytes.length !== expected) {
    throw new VaultMeshError('INVALID_ENCODING', `${field} must be ${expected} bytes, got ${bytes.length}`);
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

/** concatBytes for any number of parts: a large proof has too many to spread as arguments. */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
