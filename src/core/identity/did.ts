/**
 * VaultMesh DIDs (`did:vm:<kind>:<id>`) and their DID documents (W3C DID Core), with Ed25519 keys
 * as `Ed25519VerificationKey2020` verification methods whose `publicKeyMultibase` is the multicodec
 * `ed25519-pub` key in base58btc (`z6Mk…`), the form other DID and VC tooling reads.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base58 } from '@scure/base';
import type { JsonObject } from '../canonical.js';
import { VaultMeshError } from '../errors.js';
import { DID_RE } from '../receipt.js';

export const DID_KINDS = ['node', 'human', 'agent', 'service', 'mesh'] as const;
export type DidKind = (typeof DID_KINDS)[number];

const ED25519_PUB_MULTICODEC = [0xed, 0x01] as const;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface ParsedDid {
  did: string;
  kind: DidKind;
  id: string;
}

/** @throws VaultMeshError INVALID_DID naming the field. */
export function parseDid(text: string, field = 'did'): ParsedDid {
  if (!DID_RE.test(text)) {
    throw new VaultMeshError('INVALID_DID', `${field}: "${text.slice(0, 80)}" is not a VaultMesh DID`, {
      hint: `expected did:vm:<${DID_KINDS.join('|')}>:<id>, e.g. did:vm:human:alice`,
      evidence: { field },
    });
  }
  const [, , kind, ...rest] = text.split(':');
  return { did: text, kind: kind as DidKind, id: rest.join(':') };
}

/** @throws VaultMeshError INVALID_DID for an unknown kind or an id that is not 1-128 of `A-Za-z0-9._:-`. */
export function formatDid(kind: string, id: string, field = 'id'): string {
  if (!(DID_KINDS as readonly string[]).includes(kind)) {
    throw new VaultMeshError('INVALID_DID', `DID kind "${kind}" is not one of ${DID_KINDS.join(', ')}`, {
      hint: `use --type ${DID_KINDS.join('|')}`,
      evidence: { field: 'type' },
    });
  }
  if (!ID_RE.test(id)) {
    throw new VaultMeshError('INVALID_DID', `${field}: "${id.slice(0, 80)}" cannot be a DID id`, {
      hint: 'use 1-128 letters, digits and . _ : - starting with a letter or digit, e.g. alice or vault-02',
      evidence: { field },
    });
  }
  return `did:vm:${kind}:${id}`;
}

/** A DID given whole or as the id of a DID of `kind`: `alice` -> `did:vm:human:alice`. */
export function didFrom(text: string, kind: DidKind, field: string): string {
  return text.startsWith('did:') ? parseDid(text, field).did : formatDid(kind, text, field);
}

export function encodePublicKeyMultibase(publicKey: Uint8Array): string {
  return `z${base58.encode(Uint8Array.from([...ED25519_PUB_MULTICODEC, ...publicKey]))}`;
}

/** @throws VaultMeshError INVALID_KEY unless the text is a `z`-base58btc multicodec Ed25519 public key. */
export function decodePublicKeyMultibase(text: string, field = 'publicKeyMultibase'): Uint8Array {
  const invalid = (why: string) =>
    new VaultMeshError('INVALID_KEY', `${field}: ${why}`, {
      hint: 'give an Ed25519 public key in multibase form (z6Mk…, 48 characters)',
      evidence: { field },
    });
  if (!text.startsWith('z') || text.length > 64) throw invalid('expected a z-prefixed base58btc key');
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(text.slice(1));
  } catch {
    throw invalid('not base58btc');
  }
  if (
    bytes.length !== 34 ||
    bytes[0] !== ED25519_PUB_MULTICODEC[0] ||
    bytes[1] !== ED25519_PUB_MULTICODEC[1]
  ) {
    throw invalid('not a multicodec ed25519-pub key (0xed01 followed by 32 bytes)');
  }
  const key = bytes.slice(2);
  if (!ed25519.utils.isValidPublicKey(key)) throw invalid('not a valid Ed25519 public key');
  return key;
}

export interface DocumentKey {
  /** The verification method id: `<did>#key-<n>`. */
  id: string;
  publicKeyMultibase: string;
}

export interface DocumentService {
  id: string;
  type: string;
  serviceEndpoint: string;
}

export function keyId(did: string, n: number): string {
  return `${did}#key-${n}`;
}

/** The number of a `…#key-<n>` id, or undefined. */
export function keyNumber(kid: string): number | undefined {
  const match = /#key-([1-9][0-9]{0,8})$/.exec(kid);
  return match === null ? undefined : Number(match[1]);
}

export function didDocument(fields: {
  did: string;
  controller?: string;
  keys: readonly DocumentKey[];
  services?: readonly DocumentService[];
}): JsonObject {
  const ids = fields.keys.map((k) => k.id);
  return {
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/ed25519-2020/v1'],
    id: fields.did,
    ...(fields.controller === undefined ? {} : { controller: fields.controller }),
    verificationMethod: fields.keys.map((k) => ({
      id: k.id,
      type: 'Ed25519VerificationKey2020',
      controller: fields.did,
      publicKeyMultibase: k.publicKeyMultibase,
    })),
    authentication: ids,
    assertionMethod: ids,
    capabilityInvocation: ids,
    capabilityDelegation: ids,
    service: (fields.services ?? []).map((s) => ({ ...s })),
  };
}
