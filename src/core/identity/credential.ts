/**
 * W3C Verifiable Credentials as VC-JWT (VC Data Model 1.1, §6.3.1 JWT encoding): an EdDSA JWS
 * whose payload carries `iss`, `sub`, `jti`, `nbf`, `exp` and the credential under `vc`. Signing
 * needs only an Ed25519 signer, so private keys stay in the keystore; verification is jose's.
 */
import { base64urlnopad } from '@scure/base';
import { compactVerify, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import { toHex, utf8 } from '../bytes.js';
import { canonicalJson, type JsonObject, type JsonValue } from '../canonical.js';
import { VaultMeshError } from '../errors.js';
import { blake3Tagged, sha256 } from '../hash.js';

export const VC_CONTEXT = 'https://www.w3.org/2018/credentials/v1';
const TYPE_RE = /^[A-Z][A-Za-z0-9]{0,63}$/;
const MAX_CLAIMS_BYTES = 16 * 1024;

export interface CredentialDraft {
  id: string;
  type: string;
  issuer: string;
  kid: string;
  subject: string;
  claims: JsonObject;
  issuedAt: Date;
  expiresAt?: Date;
}

/** @throws VaultMeshError INVALID_ARGUMENT naming the field. */
export function checkCredentialInput(type: string, claims: JsonValue): JsonObject {
  if (!TYPE_RE.test(type)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `--type "${type}" is not a credential type`, {
      hint: 'use a PascalCase name such as EmployeeCredential or AuditorCredential',
      evidence: { field: 'type' },
    });
  }
  if (
    claims === null ||
    typeof claims !== 'object' ||
    Array.isArray(claims) ||
    Object.keys(claims).length === 0
  ) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--claims must be a JSON object with at least one claim', {
      hint: `e.g. --claims '{"role":"auditor","team":"security"}'`,
      evidence: { field: 'claims' },
    });
  }
  if ('id' in claims) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--claims.id: the subject id is set by --subject', {
      hint: 'remove "id" from the claims',
      evidence: { field: 'claims.id' },
    });
  }
  if (canonicalJson(claims).length > MAX_CLAIMS_BYTES) {
    throw new VaultMeshError('INVALID_ARGUMENT', `--claims is larger than ${MAX_CLAIMS_BYTES} bytes`, {
      hint: 'keep claims small; put documents elsewhere and claim their hash',
      evidence: { field: 'claims' },
    });
  }
  return claims;
}

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/** The compact JWS of a credential, signed by `sign` (Ed25519 over the JWS signing input). */
export function signCredential(draft: CredentialDraft, sign: (message: Uint8Array) => Uint8Array): string {
  const header = { alg: 'EdDSA', typ: 'JWT', kid: draft.kid };
  const payload = {
    iss: draft.issuer,
    sub: draft.subject,
    jti: draft.id,
    nbf: seconds(draft.issuedAt),
    iat: seconds(draft.issuedAt),
    ...(draft.expiresAt === undefined ? {} : { exp: seconds(draft.expiresAt) }),
    vc: {
      '@context': [VC_CONTEXT],
      type: ['VerifiableCredential', draft.type],
      issuer: draft.issuer,
      issuanceDate: draft.issuedAt.toISOString(),
      ...(draft.expiresAt === undefined ? {} : { expirationDate: draft.expiresAt.toISOString() }),
      credentialSubject: { id: draft.subject, ...draft.claims },
    },
  };
  const input = `${base64urlnopad.encode(utf8(JSON.stringify(header)))}.${base64urlnopad.encode(utf8(JSON.stringify(payload)))}`;
  return `${input}.${base64urlnopad.encode(sign(utf8(input)))}`;
}

/** What the receipt keeps of the claims: each name with the hash of its value, never the value. */
export function claimsSummary(claims: JsonObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(claims).map(([name, value]) => [name, blake3Tagged(canonicalJson(value))]),
  );
}

export function credentialHash(jwt: string): string {
  return `sha256:${toHex(sha256(utf8(jwt)))}`;
}

export interface CredentialClaims {
  id: string;
  type: string;
  issuer: string;
  subject: string;
  kid: string;
  expiresAt?: Date;
  notBefore?: Date;
  claims: JsonObject;
}

const malformed = (why: string) =>
  new VaultMeshError('CREDENTIAL_INVALID', `the credential is not a VC-JWT: ${why}`, {
    hint: 'pass the credential exactly as vm identity credential issue printed it',
    evidence: { check: 'format' },
  });

/** Reads a VC-JWT without trusting it: which issuer and key to verify it against. */
export function readCredential(jwt: string): CredentialClaims {
  if (jwt.length > 64 * 1024) throw malformed('too long');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(jwt);
    payload = decodeJwt(jwt);
  } catch {
    throw malformed('not a compact JWS with a JSON payload');
  }
  const vc = payload.vc as { type?: unknown; credentialSubject?: unknown } | undefined;
  const types = Array.isArray(vc?.type) ? vc.type : [];
  const subject = vc?.credentialSubject;
  if (header.alg !== 'EdDSA') throw malformed(`alg is ${String(header.alg)}, expected EdDSA`);
  if (typeof header.kid !== 'string') throw malformed('the header names no kid');
  if (typeof payload.iss !== 'string' || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') {
    throw malformed('iss, sub and jti are required');
  }
  if (types[0] !== 'VerifiableCredential' || typeof types[1] !== 'string')
    throw malformed('vc.type is not [VerifiableCredential, <type>]');
  if (subject === null || typeof subject !== 'object' || Array.isArray(subject))
    throw malformed('vc.credentialSubject is not an object');
  const { id: subjectId, ...claims } = subject as JsonObject;
  if (subjectId !== payload.sub) throw malformed('vc.credentialSubject.id differs from sub');
  return {
    id: payload.jti,
    type: types[1],
    issuer: payload.iss,
    subject: payload.sub,
    kid: header.kid,
    ...(payload.exp === undefined ? {} : { expiresAt: new Date(payload.exp * 1000) }),
    ...(payload.nbf === undefined ? {} : { notBefore: new Date(payload.nbf * 1000) }),
    claims,
  };
}

/** Whether the JWS signature is the Ed25519 key's (jose); the claims' times are checked by the caller. */
export async function credentialSignatureValid(jwt: string, publicKey: Uint8Array): Promise<boolean> {
  // jose decodes base64url leniently: without this strict decode, 15 other last characters of the
  // signature would verify too, and one credential would have 16 texts.
  try {
    base64urlnopad.decode(jwt.split('.')[2] ?? '');
  } catch {
    return false;
  }
  const key = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: base64urlnopad.encode(publicKey) }, 'EdDSA');
  try {
    await compactVerify(jwt, key, { algorithms: ['EdDSA'] });
    return true;
  } catch {
    return false;
  }
}
