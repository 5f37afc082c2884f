/**
 * Signatures bound to DIDs: a settlement signature is made with a key the Identity scroll lists
 * for the signer now — by the node, from its keystore, or by the holder elsewhere and handed in —
 * and checked again against the Identity scroll when the settlement executes.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { VaultMeshError } from '../../core/errors.js';
import { encodePublicKeyMultibase } from '../../core/identity/did.js';
import type { SignatureRecord } from '../../core/scrolls/treasury.js';
import { encodeSignature } from '../../core/treasury/contract.js';
import { loadDidSigner } from '../../ledger/keystore.js';
import type { Ledger } from '../../ledger/ledger.js';
import { loadNodeSigner } from '../../ledger/node-identity.js';
import { resolveDid, type DidKey, type ResolvedDid } from '../identity/resolve.js';

/** @throws VaultMeshError UNKNOWN_DID, INVALID_DID or DID_REVOKED naming `field`. */
export function activeDid(ledger: Ledger, did: string, field: string): ResolvedDid {
  const resolved = resolveDid(ledger, did, field);
  if (resolved.status !== 'active') {
    throw new VaultMeshError('DID_REVOKED', `${field}: ${did} is revoked and signs nothing`, {
      hint: 'name an active DID (vm identity did list)',
      evidence: { field, did },
    });
  }
  return resolved;
}

const sameKey = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function nodeHeldSigner(ledger: Ledger, resolved: ResolvedDid, kid: string | undefined) {
  const signer =
    resolved.did === ledger.identity.did
      ? loadNodeSigner(ledger.dataDir)
      : loadDidSigner(ledger.dataDir, resolved.did, kid ?? resolved.keys.at(-1)?.id);
  const key = resolved.keys.find((k) => sameKey(k.publicKey, signer.publicKey));
  if (key === undefined || (kid !== undefined && key.id !== kid)) {
    throw new VaultMeshError(
      'KEY_NOT_HELD',
      `this node holds no current key of ${resolved.did}${kid === undefined ? '' : ` (${kid})`}`,
      {
        hint: 'the key was rotated away or is held by the holder: have them sign and pass --signature',
        evidence: { did: resolved.did },
      },
    );
  }
  return { key, sign: (bytes: Uint8Array) => signer.sign(bytes) };
}

function givenKey(resolved: ResolvedDid, kid: string | undefined, field: string): DidKey {
  const key = kid === undefined ? resolved.keys.at(-1) : resolved.keys.find((k) => k.id === kid);
  if (key === undefined) {
    throw new VaultMeshError(
      'UNKNOWN_SIGNER',
      `${field}: ${kid ?? resolved.did} is not a current key of ${resolved.did}`,
      {
        hint: `sign with one of: ${resolved.keys.map((k) => k.id).join(', ') || 'none (the DID has no key)'}`,
        evidence: { field, did: resolved.did },
      },
    );
  }
  return key;
}

/**
 * The DID's signature of `statement`: made here with a key the node holds, or — when `signature`
 * is given — the holder's, checked before it is accepted.
 * @throws VaultMeshError SIGNATURE_INVALID when a given signature does not verify.
 */
export function signStatement(
  ledger: Ledger,
  request: { as: string; kid?: string | undefined; signature?: string | undefined },
  statement: string,
  signedAt: string,
): SignatureRecord {
  const resolved = activeDid(ledger, request.as, 'as');
  const bytes = new TextEncoder().encode(statement);
  let key: DidKey;
  let signature: string;
  if (request.signature === undefined) {
    const held = nodeHeldSigner(ledger, resolved, request.kid);
    key = held.key;
    signature = encodeSignature(held.sign(bytes));
  } else {
    key = givenKey(resolved, request.kid, 'kid');
    let raw: Uint8Array | undefined;
    try {
      raw = base64urlnopad.decode(request.signature);
    } catch {
      raw = undefined;
    }
    if (raw?.length !== 64 || !ed25519.verify(raw, bytes, key.publicKey, { zip215: false })) {
      throw new VaultMeshError(
        'SIGNATURE_INVALID',
        `signature: not ${key.id}'s Ed25519 signature of the statement`,
        {
          hint: `sign the exact bytes "${statement}" with ${key.id} and pass the 64-byte signature in base64url`,
          evidence: { field: 'signature', kid: key.id },
        },
      );
    }
    signature = request.signature;
  }
  return {
    signer: resolved.did,
    kid: key.id,
    public_key_multibase: encodePublicKeyMultibase(key.publicKey),
    signature,
    signed_at: signedAt,
  };
}

/**
 * Checks a recorded signature's key against the Identity scroll now: the signer still active and
 * the key still theirs.
 * @throws VaultMeshError DID_REVOKED or UNKNOWN_SIGNER.
 */
export function checkSignerNow(ledger: Ledger, signature: SignatureRecord): void {
  const resolved = activeDid(ledger, signature.signer, 'signer');
  const key = resolved.keys.find((k) => k.id === signature.kid);
  if (key === undefined || encodePublicKeyMultibase(key.publicKey) !== signature.public_key_multibase) {
    throw new VaultMeshError(
      'UNKNOWN_SIGNER',
      `${signature.signer} signed with ${signature.kid}, which is no longer a key of theirs`,
      {
        hint: 'the key was rotated or revoked since: dispute the settlement and propose it again',
        evidence: { signer: signature.signer, kid: signature.kid },
      },
    );
  }
}
