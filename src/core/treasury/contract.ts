/**
 * A settlement's contract and its signatures. The contract is fixed when it is proposed; its hash
 * is the blake3 of its RFC 8785 canonical JSON, and every signer signs a statement naming that
 * hash (domain-separated, so a settlement signature can never pass for any other signed thing).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { canonicalJson, type JsonValue } from '../canonical.js';
import { blake3Tagged } from '../hash.js';
import { decodePublicKeyMultibase } from '../identity/did.js';
import type { SettlementContract, SignatureRecord } from '../scrolls/treasury.js';

export function contractHash(contract: SettlementContract): string {
  return blake3Tagged(canonicalJson(contract as unknown as JsonValue));
}

/** The bytes a signer signs to approve the settlement whose contract hashes to `hash`. */
export function approvalStatement(hash: string): string {
  return `vaultmesh/treasury/settlement/v1 approve ${hash}`;
}

/** The bytes a party signs to dispute it, naming the reason by its hash. */
export function disputeStatement(hash: string, reason: string): string {
  return `vaultmesh/treasury/settlement/v1 dispute ${hash} ${blake3Tagged(reason)}`;
}

/** Whether `record.signature` is the Ed25519 signature of `statement` under the record's own key. */
export function signatureHolds(record: SignatureRecord, statement: string): boolean {
  try {
    const key = decodePublicKeyMultibase(record.public_key_multibase);
    const signature = base64urlnopad.decode(record.signature);
    return ed25519.verify(signature, new TextEncoder().encode(statement), key, { zip215: false });
  } catch {
    return false;
  }
}

/** The signature fields alone, without what a record adds (the seq it was recorded at). */
export function signatureFields({
  signer,
  kid,
  public_key_multibase,
  signature,
  signed_at,
}: SignatureRecord): SignatureRecord {
  return { signer, kid, public_key_multibase, signature, signed_at };
}

export function encodeSignature(signature: Uint8Array): string {
  return base64urlnopad.encode(signature);
}
