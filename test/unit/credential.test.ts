/**
 * Verifiable credentials as VC-JWT: signed with an Ed25519 key (@noble/curves), read back without
 * trust, verified by jose; every malformed credential refused as CREDENTIAL_INVALID (format), and
 * the receipt's claims summary holding hashes of the values, never the values.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.js';
import { canonicalJson, type JsonObject } from '../../src/core/canonical.js';
import { blake3Tagged } from '../../src/core/hash.js';
import {
  VC_CONTEXT,
  checkCredentialInput,
  claimsSummary,
  credentialHash,
  credentialSignatureValid,
  readCredential,
  signCredential,
  type CredentialDraft,
} from '../../src/core/identity/credential.js';
import { errorOf } from '../helpers/errors.js';

const issuerSecret = ed25519.utils.randomSecretKey();
const issuerKey = ed25519.getPublicKey(issuerSecret);
const otherSecret = ed25519.utils.randomSecretKey();
const sign = (secret: Uint8Array) => (message: Uint8Array) => ed25519.sign(message, secret);

const ISSUED = new Date('2026-12-01T09:00:00.000Z');
const EXPIRES = new Date('2027-12-01T09:00:00.000Z');
const CLAIMS: JsonObject = { role: 'auditor', level: 3, teams: ['security', 'ops'], lead: false };

const draft: CredentialDraft = {
  id: 'urn:uuid:8d5e7f4a-1f1c-4a5b-9a3e-0c2b3d4e5f60',
  type: 'AuditorCredential',
  issuer: 'did:vm:human:alice',
  kid: 'did:vm:human:alice#key-1',
  subject: 'did:vm:agent:ci',
  claims: CLAIMS,
  issuedAt: ISSUED,
  expiresAt: EXPIRES,
};

const b64json = (value: unknown) => base64urlnopad.encode(utf8(JSON.stringify(value)));
const decoded = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

/** A compact JWS of any header and payload, signed with `secret` like a credential would be. */
function jws(header: unknown, payload: unknown, secret = issuerSecret): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${base64urlnopad.encode(ed25519.sign(utf8(input), secret))}`;
}

const signed = signCredential(draft, sign(issuerSecret));
const [headerPart, payloadPart] = signed.split('.') as [string, string, string];
const header = decoded(headerPart);
const payload = decoded(payloadPart) as Record<string, unknown> & { vc: Record<string, unknown> };

describe('signCredential', () => {
  it('writes an EdDSA JWT naming the key, with the VC Data Model 1.1 JWT claims', () => {
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: draft.kid });
    expect(payload).toEqual({
      iss: draft.issuer,
      sub: draft.subject,
      jti: draft.id,
      nbf: ISSUED.getTime() / 1000,
      iat: ISSUED.getTime() / 1000,
      exp: EXPIRES.getTime() / 1000,
      vc: {
        '@context': [VC_CONTEXT],
        type: ['VerifiableCredential', 'AuditorCredential'],
        issuer: draft.issuer,
        issuanceDate: ISSUED.toISOString(),
        expirationDate: EXPIRES.toISOString(),
        credentialSubject: { id: draft.subject, ...CLAIMS },
      },
    });
  });

  it('leaves out exp and expirationDate for a credential that does not expire', () => {
    const forever: CredentialDraft = { ...draft };
    delete forever.expiresAt;
    const jwt = signCredential(forever, sign(issuerSecret));
    const body = decoded(jwt.split('.')[1]!) as { exp?: number; vc: Record<string, unknown> };
    expect(body.exp).toBeUndefined();
    expect(body.vc.expirationDate).toBeUndefined();
    expect(readCredential(jwt).expiresAt).toBeUndefined();
  });
});

describe('readCredential and credentialSignatureValid', () => {
  it('reads back who issued it, with which key, about whom, and the claims', () => {
    expect(readCredential(signed)).toEqual({
      id: draft.id,
      type: 'AuditorCredential',
      issuer: draft.issuer,
      subject: draft.subject,
      kid: draft.kid,
      expiresAt: EXPIRES,
      notBefore: ISSUED,
      claims: CLAIMS,
    });
  });

  it("verifies with the issuer's key", async () => {
    expect(await credentialSignatureValid(signed, issuerKey)).toBe(true);
  });

  it('fails when a claim was changed after signing', async () => {
    const changed = {
      ...payload,
      vc: { ...payload.vc, credentialSubject: { id: draft.subject, ...CLAIMS, role: 'admin' } },
    };
    const tampered = `${headerPart}.${b64json(changed)}.${signed.split('.')[2]!}`;
    expect(readCredential(tampered).claims.role).toBe('admin');
    expect(await credentialSignatureValid(tampered, issuerKey)).toBe(false);
  });

  it('fails when another key signed it', async () => {
    const forged = signCredential(draft, sign(otherSecret));
    expect(readCredential(forged).kid).toBe(draft.kid);
    expect(await credentialSignatureValid(forged, issuerKey)).toBe(false);
    expect(await credentialSignatureValid(signed, ed25519.getPublicKey(otherSecret))).toBe(false);
  });

  it('fails when the signature is cut or swapped for another credential’s', async () => {
    const other = signCredential({ ...draft, id: 'urn:uuid:other' }, sign(issuerSecret));
    const swapped = `${headerPart}.${payloadPart}.${other.split('.')[2]!}`;
    expect(await credentialSignatureValid(swapped, issuerKey)).toBe(false);
    expect(await credentialSignatureValid(`${headerPart}.${payloadPart}.`, issuerKey)).toBe(false);
  });

  it('fails when the signature text differs only in the unused low bits of its last character', async () => {
    // 64 bytes take 86 base64url characters: the last one carries 2 bits of signature and 4 that must be 0.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const signature = signed.split('.')[2]!;
    const last = alphabet.indexOf(signature.at(-1)!);
    expect(last % 16).toBe(0);
    const sameBits = `${signature.slice(0, -1)}${alphabet[last + 1]!}`;
    expect(await credentialSignatureValid(`${headerPart}.${payloadPart}.${sameBits}`, issuerKey)).toBe(false);
  });

  const vc = payload.vc;
  it.each([
    ['not a JWS', 'not-a-jwt'],
    ['two parts only', `${headerPart}.${payloadPart}`],
    ['a payload that is not JSON', `${headerPart}.${base64urlnopad.encode(utf8('{oops'))}.AAAA`],
    ['longer than 64 KiB', `${headerPart}.${'A'.repeat(64 * 1024)}.AAAA`],
    ['alg ES256', jws({ ...header, alg: 'ES256' }, payload)],
    ['alg none', jws({ alg: 'none', kid: draft.kid }, payload)],
    ['no kid', jws({ alg: 'EdDSA', typ: 'JWT' }, payload)],
    ['a kid that is not a string', jws({ ...header, kid: 7 }, payload)],
    ['no iss', jws(header, { ...payload, iss: undefined })],
    ['no sub', jws(header, { ...payload, sub: undefined })],
    ['no jti', jws(header, { ...payload, jti: undefined })],
    ['no vc', jws(header, { ...payload, vc: undefined })],
    ['vc.type without VerifiableCredential', jws(header, { ...payload, vc: { ...vc, type: ['X', 'Y'] } })],
    [
      'vc.type with no second type',
      jws(header, { ...payload, vc: { ...vc, type: ['VerifiableCredential'] } }),
    ],
    ['vc.credentialSubject an array', jws(header, { ...payload, vc: { ...vc, credentialSubject: [] } })],
    ['vc.credentialSubject null', jws(header, { ...payload, vc: { ...vc, credentialSubject: null } })],
    [
      'sub differing from credentialSubject.id',
      jws(header, { ...payload, vc: { ...vc, credentialSubject: { id: 'did:vm:agent:other', role: 'x' } } }),
    ],
    [
      'credentialSubject without an id',
      jws(header, { ...payload, vc: { ...vc, credentialSubject: { role: 'x' } } }),
    ],
  ])('refuses %s as CREDENTIAL_INVALID (format)', (_, jwt) => {
    const error = errorOf(() => readCredential(jwt));
    expect(error.code).toBe('CREDENTIAL_INVALID');
    expect(error.kind).toBe('verification');
    expect(error.evidence).toEqual({ check: 'format' });
    expect(error.message).toMatch(/^the credential is not a VC-JWT: /);
    expect(error.hint).toContain('vm identity credential issue');
  });
});

describe('claimsSummary and credentialHash', () => {
  it('keeps each claim name with the BLAKE3 of its canonical value', () => {
    expect(claimsSummary(CLAIMS)).toEqual({
      role: blake3Tagged(canonicalJson('auditor')),
      level: blake3Tagged(canonicalJson(3)),
      teams: blake3Tagged(canonicalJson(['security', 'ops'])),
      lead: blake3Tagged(canonicalJson(false)),
    });
  });

  it('never contains a claim value', () => {
    const secretish: JsonObject = {
      ssn: '078-05-1120',
      address: { street: 'Rue de la Paix 12', city: 'Paris' },
    };
    const text = JSON.stringify(claimsSummary(secretish));
    for (const value of ['078-05-1120', 'Rue de la Paix', 'Paris']) expect(text).not.toContain(value);
    expect(Object.keys(claimsSummary(secretish))).toEqual(['ssn', 'address']);
  });

  it('hashes equal values alike whatever their key order, and different values apart', () => {
    expect(claimsSummary({ a: { x: 1, y: 2 } })).toEqual(claimsSummary({ a: { y: 2, x: 1 } }));
    expect(claimsSummary({ a: 'x' }).a).not.toBe(claimsSummary({ a: 'y' }).a);
  });

  it('the credential hash is the SHA-256 of the JWT text', () => {
    expect(credentialHash(signed)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(credentialHash(signed)).not.toBe(credentialHash(signCredential(draft, sign(otherSecret))));
  });
});

describe('checkCredentialInput', () => {
  it('accepts a PascalCase type and an object of claims', () => {
    expect(checkCredentialInput('EmployeeCredential', CLAIMS)).toBe(CLAIMS);
  });

  it.each([
    ['a lower-case type', 'auditor', CLAIMS, 'type'],
    ['a type with a dash', 'Auditor-Credential', CLAIMS, 'type'],
    ['a type longer than 64 characters', `A${'a'.repeat(64)}`, CLAIMS, 'type'],
    ['claims that are an array', 'AuditorCredential', ['x'], 'claims'],
    ['claims that are a string', 'AuditorCredential', 'role', 'claims'],
    ['claims that are null', 'AuditorCredential', null, 'claims'],
    ['no claims', 'AuditorCredential', {}, 'claims'],
    ['claims with an id', 'AuditorCredential', { id: 'did:vm:human:eve', role: 'x' }, 'claims.id'],
    ['claims over 16 KiB', 'AuditorCredential', { blob: 'x'.repeat(16 * 1024) }, 'claims'],
  ])('refuses %s as INVALID_ARGUMENT naming the field', (_, type, claims, field) => {
    const error = errorOf(() => checkCredentialInput(type, claims));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.evidence).toEqual({ field });
    expect(error.hint).toBeDefined();
  });
});
