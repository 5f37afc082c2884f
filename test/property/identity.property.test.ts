/**
 * Properties of the Identity engine's pure parts: multibase keys round-trip; any claims survive a
 * credential's signing and reading; no single-character change to a signed credential or to a
 * capability token is ever accepted.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import type { JsonObject } from '../../src/core/canonical.js';
import { CAPABILITIES, formatToken, verifyToken, type TokenClaims } from '../../src/core/capability-token.js';
import { VaultMeshError } from '../../src/core/errors.js';
import {
  credentialSignatureValid,
  readCredential,
  signCredential,
} from '../../src/core/identity/credential.js';
import { decodePublicKeyMultibase, encodePublicKeyMultibase } from '../../src/core/identity/did.js';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const secret = ed25519.utils.randomSecretKey();
const publicKey = ed25519.getPublicKey(secret);
const signer = { sign: (message: Uint8Array) => ed25519.sign(message, secret) };
const verifier = {
  verify: (message: Uint8Array, signature: Uint8Array) => ed25519.verify(signature, message, publicKey),
};

const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 });
const claimName = fc.string({ minLength: 1, maxLength: 16 }).filter((k) => k !== 'id' && k !== '__proto__');
const claims = fc
  .dictionary(claimName, fc.jsonValue({ maxDepth: 3 }), { minKeys: 1, maxKeys: 8 })
  .map((c) => JSON.parse(JSON.stringify(c)) as JsonObject);
const second = fc.integer({ min: 1_700_000_000, max: 2_000_000_000 });

/** `text` with the character at `at` replaced by another from `alphabet`. */
function mutate(text: string, at: number, pick: number, alphabet: string): string {
  const others = [...alphabet].filter((c) => c !== text[at]);
  return `${text.slice(0, at)}${others[pick % others.length]!}${text.slice(at + 1)}`;
}

describe('multibase keys', () => {
  it('every Ed25519 public key round-trips through its z6Mk form', () => {
    fc.assert(
      fc.property(secretKey, (s) => {
        const key = ed25519.getPublicKey(s);
        const text = encodePublicKeyMultibase(key);
        expect(text.startsWith('z6Mk')).toBe(true);
        expect(toHex(decodePublicKeyMultibase(text))).toBe(toHex(key));
      }),
      { numRuns: 200 },
    );
  });
});

describe('credentials', () => {
  const draftOf = (c: JsonObject, issuedAt: number, ttl: number | undefined) => ({
    id: 'urn:uuid:0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
    type: 'PropertyCredential',
    issuer: 'did:vm:human:alice',
    kid: 'did:vm:human:alice#key-1',
    subject: 'did:vm:agent:ci',
    claims: c,
    issuedAt: new Date(issuedAt * 1000),
    ...(ttl === undefined ? {} : { expiresAt: new Date((issuedAt + ttl) * 1000) }),
  });

  it('signing then reading gives back the same claims, issuer, subject and times', async () => {
    await fc.assert(
      fc.asyncProperty(
        claims,
        second,
        fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: undefined }),
        async (c, issuedAt, ttl) => {
          const draft = draftOf(c, issuedAt, ttl);
          const jwt = signCredential(draft, signer.sign);
          const read = readCredential(jwt);
          expect(read.claims).toEqual(c);
          expect([read.id, read.type, read.issuer, read.subject, read.kid]).toEqual([
            draft.id,
            draft.type,
            draft.issuer,
            draft.subject,
            draft.kid,
          ]);
          expect(read.notBefore).toEqual(draft.issuedAt);
          expect(read.expiresAt).toEqual(draft.expiresAt);
          expect(await credentialSignatureValid(jwt, publicKey)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  /** Fails format (CREDENTIAL_INVALID) or signature: never both readable and verifying. */
  async function refused(jwt: string): Promise<void> {
    let readable = true;
    try {
      readCredential(jwt);
    } catch (error) {
      expect(error).toBeInstanceOf(VaultMeshError);
      expect((error as VaultMeshError).code).toBe('CREDENTIAL_INVALID');
      readable = false;
    }
    if (readable) expect(await credentialSignatureValid(jwt, publicKey)).toBe(false);
  }

  it('any one character changed in the header or payload fails format or signature', async () => {
    await fc.assert(
      fc.asyncProperty(claims, fc.nat(), fc.nat(), async (c, position, pick) => {
        const jwt = signCredential(draftOf(c, 1_800_000_000, 3600), signer.sign);
        const signed = jwt.lastIndexOf('.');
        await refused(mutate(jwt, position % signed, pick, `${BASE64URL}.`));
      }),
      { numRuns: 300 },
    );
  });

  it('any one character changed in the signature fails it, the unused bits of the last one too', async () => {
    const jwt = signCredential(draftOf({ role: 'auditor' }, 1_800_000_000, 3600), signer.sign);
    const start = jwt.lastIndexOf('.') + 1;
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), async (position, pick) => {
        await refused(mutate(jwt, start + (position % (jwt.length - start)), pick, BASE64URL));
      }),
      { numRuns: 1000 },
    );
  });

  it('every other last character of the signature fails', async () => {
    const jwt = signCredential(draftOf({ role: 'auditor' }, 1_800_000_000, 3600), signer.sign);
    for (let pick = 0; pick < BASE64URL.length - 1; pick++)
      await refused(mutate(jwt, jwt.length - 1, pick, BASE64URL));
  });
});

describe('capability tokens', () => {
  const grant = fc.record(
    {
      capability: fc.constantFrom(...CAPABILITIES),
      scroll: fc.stringMatching(/^[a-z][a-z0-9-]{0,31}$/),
    },
    { requiredKeys: ['capability'] },
  );
  const tokenClaims: fc.Arbitrary<TokenClaims> = fc
    .record({
      id: fc.stringMatching(/^[a-z0-9-]{8,64}$/),
      sub: fc.string({ minLength: 1, maxLength: 200 }),
      iss: fc.string({ minLength: 1, maxLength: 200 }),
      grants: fc.array(grant, { minLength: 1, maxLength: 32 }),
      iat: second,
      ttl: fc.integer({ min: 1, max: 31_622_400 }),
      kid: fc.option(fc.string({ minLength: 1, maxLength: 300 }), { nil: undefined }),
      sourceIp: fc.option(fc.array(fc.ipV4(), { minLength: 1, maxLength: 32 }), { nil: undefined }),
    })
    .map(({ iat, ttl, kid, sourceIp, ...rest }) => ({
      v: 1 as const,
      ...rest,
      iat: new Date(iat * 1000).toISOString(),
      exp: new Date((iat + ttl) * 1000).toISOString(),
      ...(kid === undefined ? {} : { kid }),
      ...(sourceIp === undefined ? {} : { constraints: { source_ip: sourceIp } }),
    }));
  const before = (claims: TokenClaims) => new Date(Date.parse(claims.exp) - 1);

  it('a token with any grants verifies to the claims it was made from', () => {
    fc.assert(
      fc.property(tokenClaims, (claims) => {
        const token = formatToken(claims, signer);
        expect(token.startsWith('vmt1.')).toBe(true);
        expect(verifyToken(token, verifier, before(claims))).toEqual(claims);
      }),
      { numRuns: 200 },
    );
  });

  it('any one character changed anywhere fails with TOKEN_INVALID', () => {
    fc.assert(
      fc.property(tokenClaims, fc.nat(), fc.nat(), (claims, position, pick) => {
        const token = formatToken(claims, signer);
        const changed = mutate(token, position % token.length, pick, `${BASE64URL}.`);
        let code: string | undefined;
        try {
          verifyToken(changed, verifier, before(claims));
        } catch (error) {
          if (!(error instanceof VaultMeshError)) throw error;
          code = error.code;
        }
        expect(code).toBe('TOKEN_INVALID');
      }),
      { numRuns: 300 },
    );
  });
});
