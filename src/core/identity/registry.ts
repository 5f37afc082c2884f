/**
 * The Identity scroll folded into what it says now: every DID with its document and the history
 * of its keys, every credential with its revocation, every capability grant with its revocation.
 * Nothing here is stored apart from the scroll; `vm identity` and the node read it through the
 * ledger's fold cache.
 */
import type { JsonObject, JsonValue } from '../canonical.js';
import type { ScrollFold } from '../fold.js';
import type { Receipt } from '../receipt.js';

export interface KeyRecord {
  id: string;
  publicKeyMultibase: string;
  /** Seq of the receipt that added the key. */
  added_seq: number;
  /** Seq of the rotation or revocation after which the key signs nothing valid. */
  retired_seq?: number;
}

export type KeyCustody = 'node' | 'node_keystore' | 'holder';

export interface DidRecord {
  did: string;
  kind: string;
  controller?: string;
  status: 'active' | 'revoked';
  /** `node`: the node's own log key; `node_keystore`: kept by the node for the DID; `holder`: held elsewhere. */
  key_custody: KeyCustody;
  document: JsonObject;
  document_hash: string;
  keys: KeyRecord[];
  created_seq: number;
  created_at: string;
  updated_seq: number;
  revoked?: { seq: number; at: string; reason: string };
}

export interface CredentialRecord {
  credential_id: string;
  credential_type: string;
  issuer: string;
  subject: string;
  kid: string;
  issued_seq: number;
  issued_at: string;
  expires_at?: string;
  credential_hash: string;
  revoked?: { seq: number; at: string; reason: string };
}

export interface GrantRecord {
  token_id: string;
  subject: string;
  grants: Array<{ capability: string; scroll?: string }>;
  granted_by?: string;
  kid?: string;
  issued_at: string;
  expires_at: string;
  token_sha256: string;
  constraints?: Record<string, unknown>;
  seq: number;
  revoked?: { seq: number; at: string; reason: string };
}

export interface IdentityState {
  dids: Record<string, DidRecord>;
  credentials: Record<string, CredentialRecord>;
  grants: Record<string, GrantRecord>;
  /** Receipts the rules would have refused (possible only through the trusted in-process API). */
  anomalies: Array<{ seq: number; type: string; problem: string }>;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const custody = (v: unknown): KeyCustody => (v === 'node' || v === 'holder' ? v : 'node_keystore');

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

function documentKeys(document: JsonObject): Array<{ id: string; publicKeyMultibase: string }> {
  const methods = Array.isArray(document.verificationMethod) ? document.verificationMethod : [];
  return methods.flatMap((m) =>
    isObject(m) && typeof m.id === 'string' && typeof m.publicKeyMultibase === 'string'
      ? [{ id: m.id, publicKeyMultibase: m.publicKeyMultibase }]
      : [],
  );
}

function applyDocument(record: DidRecord, receipt: Receipt, document: JsonObject): void {
  const next = documentKeys(document);
  for (const key of record.keys) {
    if (key.retired_seq === undefined && !next.some((k) => k.id === key.id)) key.retired_seq = receipt.seq;
  }
  for (const key of next) {
    if (!record.keys.some((k) => k.id === key.id)) record.keys.push({ ...key, added_seq: receipt.seq });
  }
  record.document = document;
  record.document_hash = str(receipt.body.did_document_hash);
  record.updated_seq = receipt.seq;
}

function revocation(receipt: Receipt) {
  return { seq: receipt.seq, at: receipt.ts, reason: str(receipt.body.reason) };
}

export const identityFold: ScrollFold<IdentityState> = {
  id: 'identity',
  scroll: 'identity',
  version: 1,
  initial: () => ({ dids: {}, credentials: {}, grants: {}, anomalies: [] }),
  apply(state, receipt) {
    const body = receipt.body;
    const anomaly = (problem: string) =>
      state.anomalies.push({ seq: receipt.seq, type: receipt.type, problem });
    switch (receipt.type) {
      case 'identity_did_create': {
        const did = str(body.did);
        if (state.dids[did] !== undefined) return anomaly(`${did} was created before`);
        if (!isObject(body.did_document)) return anomaly(`${did} has no DID document`);
        const record: DidRecord = {
          did,
          kind: str(body.did_type),
          ...(typeof body.controller === 'string' ? { controller: body.controller } : {}),
          status: 'active',
          key_custody: custody(body.key_custody),
          document: {},
          document_hash: '',
          keys: [],
          created_seq: receipt.seq,
          created_at: receipt.ts,
          updated_seq: receipt.seq,
        };
        applyDocument(record, receipt, body.did_document);
        state.dids[did] = record;
        return;
      }
      case 'identity_did_rotate': {
        const record = state.dids[str(body.did)];
        if (record === undefined || record.status !== 'active')
          return anomaly(`${str(body.did)} is not an active DID`);
        if (!isObject(body.did_document)) return anomaly(`${record.did} has no DID document`);
        record.key_custody = custody(body.key_custody);
        applyDocument(record, receipt, body.did_document);
        return;
      }
      case 'identity_did_revoke': {
        const record = state.dids[str(body.did)];
        if (record === undefined || record.status !== 'active')
          return anomaly(`${str(body.did)} is not an active DID`);
        record.status = 'revoked';
        record.revoked = revocation(receipt);
        for (const key of record.keys) key.retired_seq ??= receipt.seq;
        record.updated_seq = receipt.seq;
        return;
      }
      case 'identity_credential_issue': {
        const id = str(body.credential_id);
        if (state.credentials[id] !== undefined) return anomaly(`credential ${id} was issued before`);
        state.credentials[id] = {
          credential_id: id,
          credential_type: str(body.credential_type),
          issuer: str(body.issuer),
          subject: str(body.subject),
          kid: str(body.kid),
          issued_seq: receipt.seq,
          issued_at: str(body.issued_at),
          ...(typeof body.expires_at === 'string' ? { expires_at: body.expires_at } : {}),
          credential_hash: str(body.credential_hash),
        };
        return;
      }
      case 'identity_credential_revoke': {
        const record = state.credentials[str(body.credential_id)];
        if (record === undefined || record.revoked !== undefined)
          return anomaly(`credential ${str(body.credential_id)} is not revocable`);
        record.revoked = revocation(receipt);
        return;
      }
      case 'identity_capability_grant': {
        const id = str(body.token_id);
        if (state.grants[id] !== undefined) return anomaly(`token ${id} was granted before`);
        state.grants[id] = {
          token_id: id,
          subject: str(body.subject),
          grants: Array.isArray(body.grants) ? (body.grants as GrantRecord['grants']) : [],
          ...(typeof body.granted_by === 'string' ? { granted_by: body.granted_by } : {}),
          ...(typeof body.kid === 'string' ? { kid: body.kid } : {}),
          issued_at: str(body.issued_at),
          expires_at: str(body.expires_at),
          token_sha256: str(body.token_sha256),
          ...(body.constraints !== undefined
            ? { constraints: body.constraints as Record<string, unknown> }
            : {}),
          seq: receipt.seq,
        };
        return;
      }
      case 'identity_capability_revoke': {
        const record = state.grants[str(body.token_id)];
        if (record === undefined) return anomaly(`token ${str(body.token_id)} was never granted`);
        record.revoked ??= revocation(receipt);
        return;
      }
      default:
        return;
    }
  },
  encode: (state) => state as unknown as JsonValue,
  decode: (value) => value as unknown as IdentityState,
};

/** The keys of a DID that sign validly now. */
export function currentKeys(record: DidRecord): KeyRecord[] {
  return record.status === 'active' ? record.keys.filter((k) => k.retired_seq === undefined) : [];
}

/** The id of the DID's newest current key, if it has one. */
export function newestKey(record: DidRecord): string | undefined {
  return currentKeys(record).at(-1)?.id;
}

/** Whether `kid` was a key of the DID when the receipt at `seq` was written. */
export function keyValidAt(record: DidRecord, kid: string, seq: number): KeyRecord | undefined {
  return record.keys.find(
    (k) => k.id === kid && k.added_seq <= seq && (k.retired_seq === undefined || k.retired_seq > seq),
  );
}
