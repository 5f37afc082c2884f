/**
 * VaultMesh DIDs and their documents: parsing and formatting `did:vm:<kind>:<id>`, Ed25519 keys in
 * multibase form checked against RFC 8032 and against did-jwt's own multicodec decoder, and the
 * W3C DID Core shape of a document.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base58 } from '@scure/base';
import { multibaseToBytes } from 'did-jwt';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import {
  DID_KINDS,
  decodePublicKeyMultibase,
  didDocument,
  didFrom,
  encodePublicKeyMultibase,
  formatDid,
  keyId,
  keyNumber,
  parseDid,
} from '../../src/core/identity/did.js';
import { errorOf } from '../helpers/errors.js';

/** RFC 8032 §7.1, test 1. */
const RFC8032_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
/** The same key as a did:key / Ed25519VerificationKey2020 multibase value. */
const RFC8032_MULTIBASE = 'z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw';

const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));
const multibaseOf = (bytes: readonly number[]) => `z${base58.encode(Uint8Array.from(bytes))}`;

describe('parseDid', () => {
  it.each(DID_KINDS)('reads a did:vm:%s DID into kind and id', (kind) => {
    expect(parseDid(`did:vm:${kind}:vault-02`)).toEqual({
      did: `did:vm:${kind}:vault-02`,
      kind,
      id: 'vault-02',
    });
  });

  it('keeps colons inside the id', () => {
    expect(parseDid('did:vm:service:eu:api.1')).toEqual({
      did: 'did:vm:service:eu:api.1',
      kind: 'service',
      id: 'eu:api.1',
    });
  });

  it.each([
    ['another method', 'did:web:example.com'],
    ['an unknown kind', 'did:vm:robot:r2'],
    ['no id', 'did:vm:human:'],
    ['no kind or id', 'did:vm'],
    ['a space in the id', 'did:vm:human:al ice'],
    ['an id longer than 128 characters', `did:vm:human:${'a'.repeat(129)}`],
    ['not a DID at all', 'alice'],
    ['the empty string', ''],
  ])('refuses %s with INVALID_DID naming the field', (_, text) => {
    const error = errorOf(() => parseDid(text, '--holder'));
    expect(error.code).toBe('INVALID_DID');
    expect(error.kind).toBe('input');
    expect(error.evidence).toEqual({ field: '--holder' });
    expect(error.message).toMatch(/^--holder: /);
    expect(error.hint).toContain('did:vm:<node|human|agent|service|mesh>:<id>');
  });

  it('names the field "did" when none is given', () => {
    expect(errorOf(() => parseDid('did:x:y')).evidence).toEqual({ field: 'did' });
  });
});

describe('formatDid', () => {
  it('joins a kind and an id', () => {
    expect(formatDid('agent', 'ci.runner-1')).toBe('did:vm:agent:ci.runner-1');
    expect(formatDid('human', 'a'.repeat(128))).toBe(`did:vm:human:${'a'.repeat(128)}`);
  });

  it('refuses an unknown kind, naming the type field', () => {
    const error = errorOf(() => formatDid('robot', 'r2', '--id'));
    expect(error.code).toBe('INVALID_DID');
    expect(error.evidence).toEqual({ field: 'type' });
    expect(error.hint).toBe('use --type node|human|agent|service|mesh');
  });

  it.each([
    ['empty', ''],
    ['starting with a dot', '.alice'],
    ['starting with a dash', '-alice'],
    ['with a slash', 'a/b'],
    ['with a space', 'al ice'],
    ['longer than 128 characters', 'a'.repeat(129)],
    ['non-ASCII', 'ålice'],
  ])('refuses an id %s, naming the id field', (_, id) => {
    const error = errorOf(() => formatDid('human', id, '--id'));
    expect(error.code).toBe('INVALID_DID');
    expect(error.evidence).toEqual({ field: '--id' });
    expect(error.message).toMatch(/^--id: /);
  });

  it('round-trips with parseDid', () => {
    for (const kind of DID_KINDS) {
      const parsed = parseDid(formatDid(kind, 'x-1:y.2'));
      expect([parsed.kind, parsed.id]).toEqual([kind, 'x-1:y.2']);
    }
  });
});

describe('didFrom', () => {
  it('takes a bare id as an id of the given kind', () => {
    expect(didFrom('alice', 'human', '--holder')).toBe('did:vm:human:alice');
  });

  it('takes a whole DID as it is, whatever its kind', () => {
    expect(didFrom('did:vm:agent:ci', 'human', '--holder')).toBe('did:vm:agent:ci');
  });

  it('refuses a DID of another method and a bad id, naming the field', () => {
    const other = errorOf(() => didFrom('did:web:example.com', 'human', '--holder'));
    expect([other.code, other.evidence]).toEqual(['INVALID_DID', { field: '--holder' }]);
    const bad = errorOf(() => didFrom('al/ice', 'human', '--holder'));
    expect([bad.code, bad.evidence]).toEqual(['INVALID_DID', { field: '--holder' }]);
  });
});

describe('multibase Ed25519 public keys', () => {
  it('the RFC 8032 test 1 key is the public key of its secret', () => {
    expect(toHex(ed25519.getPublicKey(fromHex(RFC8032_SECRET)))).toBe(RFC8032_PUBLIC);
  });

  it('encodes the RFC 8032 test 1 key as the z6Mk string other DID tooling uses', () => {
    const text = encodePublicKeyMultibase(fromHex(RFC8032_PUBLIC));
    expect(text).toBe(RFC8032_MULTIBASE);
    expect(text).toMatch(/^z6Mk/);
    expect(text).toHaveLength(48);
  });

  it("did-jwt's multibase decoder reads it back as the same Ed25519 key", () => {
    const decoded = multibaseToBytes(encodePublicKeyMultibase(fromHex(RFC8032_PUBLIC)));
    expect(decoded.keyType).toBe('Ed25519');
    expect(toHex(decoded.keyBytes)).toBe(RFC8032_PUBLIC);
  });

  it('decodes what it encodes', () => {
    for (let i = 0; i < 16; i++) {
      const key = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
      expect(toHex(decodePublicKeyMultibase(encodePublicKeyMultibase(key)))).toBe(toHex(key));
    }
    expect(toHex(decodePublicKeyMultibase(RFC8032_MULTIBASE))).toBe(RFC8032_PUBLIC);
  });

  const key = [...fromHex(RFC8032_PUBLIC)];
  // y = 2 has no x on edwards25519: (y^2 - 1) / (d y^2 + 1) is not a square.
  const offCurve = [2, ...new Array<number>(31).fill(0)];

  it('the off-curve bytes used below are refused by the curve itself', () => {
    expect(() => ed25519.Point.fromBytes(Uint8Array.from(offCurve))).toThrow();
  });

  it.each([
    ['another multibase prefix (base64url)', `u${Buffer.from([0xed, 0x01, ...key]).toString('base64url')}`],
    ['no prefix', RFC8032_MULTIBASE.slice(1)],
    ['characters outside base58btc', 'z6Mk0OIl'],
    ['a longer text than any key', `z${'1'.repeat(64)}`],
    ['another multicodec (secp256k1-pub)', multibaseOf([0xe7, 0x01, 0x02, ...key.slice(0, 32)])],
    ['another multicodec (x25519-pub)', multibaseOf([0xec, 0x01, ...key])],
    ['no multicodec', multibaseOf(key)],
    ['a key one byte short', multibaseOf([0xed, 0x01, ...key.slice(1)])],
    ['a key one byte long', multibaseOf([0xed, 0x01, ...key, 0])],
    ['a point not on the curve', multibaseOf([0xed, 0x01, ...offCurve])],
    ['the empty string', ''],
  ])('refuses %s with INVALID_KEY naming the field', (_, text) => {
    const error = errorOf(() => decodePublicKeyMultibase(text, '--public-key'));
    expect(error.code).toBe('INVALID_KEY');
    expect(error.kind).toBe('input');
    expect(error.evidence).toEqual({ field: '--public-key' });
    expect(error.message).toMatch(/^--public-key: /);
    expect(error.hint).toContain('z6Mk');
  });
});

describe('key ids', () => {
  it('numbers keys as <did>#key-<n> and reads the number back', () => {
    expect(keyId('did:vm:human:alice', 3)).toBe('did:vm:human:alice#key-3');
    expect(keyNumber('did:vm:human:alice#key-3')).toBe(3);
    expect(keyNumber('did:vm:human:alice#key-0')).toBeUndefined();
    expect(keyNumber('did:vm:human:alice#api')).toBeUndefined();
    expect(keyNumber('did:vm:human:alice')).toBeUndefined();
  });
});

describe('didDocument', () => {
  const did = 'did:vm:human:alice';
  const keys = [{ id: keyId(did, 1), publicKeyMultibase: RFC8032_MULTIBASE }];

  it('has the W3C DID Core fields with an Ed25519VerificationKey2020 method for every key', () => {
    const document = didDocument({
      did,
      controller: 'did:vm:node:vault-01',
      keys,
      services: [{ id: `${did}#api`, type: 'VaultMeshNode', serviceEndpoint: 'https://vault.example/' }],
    });
    expect(document).toEqual({
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/ed25519-2020/v1'],
      id: did,
      controller: 'did:vm:node:vault-01',
      verificationMethod: [
        {
          id: `${did}#key-1`,
          type: 'Ed25519VerificationKey2020',
          controller: did,
          publicKeyMultibase: RFC8032_MULTIBASE,
        },
      ],
      authentication: [`${did}#key-1`],
      assertionMethod: [`${did}#key-1`],
      capabilityInvocation: [`${did}#key-1`],
      capabilityDelegation: [`${did}#key-1`],
      service: [{ id: `${did}#api`, type: 'VaultMeshNode', serviceEndpoint: 'https://vault.example/' }],
    });
  });

  it('leaves out the controller when there is none and lists no services', () => {
    const document = didDocument({ did, keys });
    expect('controller' in document).toBe(false);
    expect(document.service).toEqual([]);
  });

  it('holds public material only: no field beyond the public key per method', () => {
    const document = didDocument({ did, keys });
    const methods = document.verificationMethod as Array<Record<string, unknown>>;
    expect(Object.keys(methods[0]!).sort()).toEqual(['controller', 'id', 'publicKeyMultibase', 'type']);
  });
});
