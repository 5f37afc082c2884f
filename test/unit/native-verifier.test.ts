import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, parseSignerKey, parseVerifierKey } from '../../src/core/note.js';
import { nativeVerifier } from '../../src/ledger/node-identity.js';

describe('the native Ed25519 verifier', () => {
  const { skey, vkey } = generateNoteKey('vaultmesh.local/test', new Uint8Array(32).fill(7));
  const signer = parseSignerKey(skey);
  const portable = parseVerifierKey(vkey);
  const native = nativeVerifier(portable);

  it('keeps the key name and id, and agrees with the portable verifier (property)', () => {
    expect([native.name, native.keyId]).toEqual([portable.name, portable.keyId]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.nat(63), fc.nat(7), (message, byte, bit) => {
        const signature = signer.sign(message);
        expect(native.verify(message, signature)).toBe(true);
        const flipped = signature.slice();
        flipped[byte]! ^= 1 << bit;
        expect(native.verify(message, flipped)).toBe(portable.verify(message, flipped));
        expect(native.verify(message, flipped)).toBe(false);
        expect(native.verify(message, signature.subarray(0, 63))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
