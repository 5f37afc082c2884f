/** DID resolution against the Identity scroll: the document and keys a DID has now. */
import type { JsonObject } from '../../core/canonical.js';
import { VaultMeshError } from '../../core/errors.js';
import { decodePublicKeyMultibase, parseDid } from '../../core/identity/did.js';
import {
  currentKeys,
  identityFold,
  type DidRecord,
  type IdentityState,
} from '../../core/identity/registry.js';
import { foldedState } from '../../ledger/fold-cache.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { ScrollLog } from '../../ledger/scroll-log.js';

export interface DidKey {
  /** The verification method id, e.g. `did:vm:human:alice#key-1`. */
  id: string;
  /** The 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface ResolvedDid {
  did: string;
  status: 'active' | 'revoked';
  /** The keys that sign validly now (none once revoked). */
  keys: DidKey[];
  document: JsonObject;
  record: DidRecord;
}

/** The Identity scroll's state, as `log` shows it (inside a checked append) or as it is now. */
export function identityState(ledger: Ledger, log?: ScrollLog): IdentityState {
  return foldedState(ledger, identityFold, log).state;
}

/** @throws VaultMeshError INVALID_DID or UNKNOWN_DID. */
export function didRecord(state: IdentityState, did: string, field = 'did'): DidRecord {
  parseDid(did, field);
  const record = state.dids[did];
  if (record === undefined) {
    throw new VaultMeshError('UNKNOWN_DID', `${field}: ${did} is not in the Identity scroll`, {
      hint: 'create it with: vm identity did create --type <kind> --id <id> (list them with vm identity did list)',
      evidence: { field, did },
    });
  }
  return record;
}

export function resolved(record: DidRecord): ResolvedDid {
  return {
    did: record.did,
    status: record.status,
    keys: currentKeys(record).map((k) => ({
      id: k.id,
      publicKey: decodePublicKeyMultibase(k.publicKeyMultibase),
    })),
    document: record.document,
    record,
  };
}

/** @throws VaultMeshError INVALID_DID or UNKNOWN_DID. */
export function resolveDid(ledger: Ledger, did: string, field = 'did'): ResolvedDid {
  return resolved(didRecord(identityState(ledger), did, field));
}
