/**
 * The Identity fold over hand-made receipts: DIDs created, rotated and revoked with the history of
 * their keys, credentials issued and revoked, capability grants and revocations, and the anomalies
 * noted (never thrown) for receipts the rules would have refused; and the delegation rule read off
 * the folded grants.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonObject } from '../../src/core/canonical.js';
import { foldAll } from '../../src/core/fold.js';
import { blake3Tagged } from '../../src/core/hash.js';
import { didDocument, keyId } from '../../src/core/identity/did.js';
import {
  currentKeys,
  identityFold,
  keyValidAt,
  type IdentityState,
} from '../../src/core/identity/registry.js';
import type { Receipt } from '../../src/core/receipt.js';
import { mayGrant } from '../../src/engines/identity/tokens.js';

const NODE = 'did:vm:node:vault-01';
const ALICE = 'did:vm:human:alice';
const AGENT = 'did:vm:agent:ci';
const KEY_A = 'z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw';
const KEY_B = 'z6MkjbQYhsWWmL7ca8N6FrQq2pQYQD25cY6VRXVoKrdte9MK';
const HASH = (c: string) => `sha256:${c.repeat(64)}`;
const ts = (seq: number) => new Date(Date.UTC(2026, 11, 1, 9, 0, seq)).toISOString();

/** A receipt as the ledger would seal it at `seq`, for the fold (which reads only the envelope and body). */
function receipt(seq: number, type: string, body: JsonObject): Receipt {
  return {
    body,
    issuer: NODE,
    root_hash: blake3Tagged(canonicalJson(body)),
    scroll: 'identity',
    seq,
    tags: ['identity'],
    ts: ts(seq),
    type,
    v: 1,
  };
}

function documentBody(did: string, n: number, publicKeyMultibase: string) {
  const document = didDocument({ did, keys: [{ id: keyId(did, n), publicKeyMultibase }] });
  return { did_document: document, did_document_hash: blake3Tagged(canonicalJson(document)) };
}

const create = (seq: number, did: string, key = KEY_A, custody = 'node_keystore') =>
  receipt(seq, 'identity_did_create', {
    did,
    did_type: did.split(':')[2]!,
    created_by: NODE,
    initial_keys: [keyId(did, 1)],
    key_custody: custody,
    ...documentBody(did, 1, key),
  });

const rotate = (seq: number, did: string, n: number, key: string, custody = 'node_keystore') =>
  receipt(seq, 'identity_did_rotate', {
    did,
    previous_keys: [keyId(did, n - 1)],
    new_key: keyId(did, n),
    rotated_by: NODE,
    key_custody: custody,
    ...documentBody(did, n, key),
  });

const revokeDid = (seq: number, did: string) =>
  receipt(seq, 'identity_did_revoke', { did, revoked_by: NODE, reason: 'left the team' });

const issue = (seq: number, id: string) =>
  receipt(seq, 'identity_credential_issue', {
    credential_id: id,
    credential_type: 'AuditorCredential',
    issuer: ALICE,
    subject: AGENT,
    issued_at: ts(seq),
    expires_at: ts(seq + 3600),
    claims_summary: { role: `blake3:${'1'.repeat(64)}` },
    credential_hash: HASH('a'),
    format: 'jwt_vc',
    kid: keyId(ALICE, 1),
  });

const revokeCredential = (seq: number, id: string) =>
  receipt(seq, 'identity_credential_revoke', {
    credential_id: id,
    issuer: ALICE,
    revoked_by: NODE,
    reason: 'superseded',
  });

const grant = (seq: number, id: string, subject: string, grantedBy?: string) =>
  receipt(seq, 'identity_capability_grant', {
    token_id: id,
    subject,
    grants: [{ capability: 'storage', scroll: 'treasury' }],
    issued_at: ts(seq),
    expires_at: ts(seq + 86_400),
    token_sha256: HASH('b'),
    ...(grantedBy === undefined ? {} : { granted_by: grantedBy, kid: keyId(grantedBy, 1) }),
    constraints: { source_ip: ['127.0.0.1'] },
  });

const revokeGrant = (seq: number, id: string) =>
  receipt(seq, 'identity_capability_revoke', { token_id: id, reason: 'rotated out' });

const fold = (receipts: Receipt[]): IdentityState => foldAll(identityFold, receipts);

describe('identity fold: DIDs', () => {
  it('a create records the DID with its document, key, custody and seq', () => {
    const state = fold([create(0, NODE, KEY_B, 'node'), create(1, ALICE)]);
    expect(Object.keys(state.dids)).toEqual([NODE, ALICE]);
    const alice = state.dids[ALICE]!;
    expect(alice).toMatchObject({
      did: ALICE,
      kind: 'human',
      status: 'active',
      key_custody: 'node_keystore',
      created_seq: 1,
      created_at: ts(1),
      updated_seq: 1,
      keys: [{ id: keyId(ALICE, 1), publicKeyMultibase: KEY_A, added_seq: 1 }],
    });
    expect(alice.document.id).toBe(ALICE);
    expect(alice.document_hash).toBe(blake3Tagged(canonicalJson(alice.document)));
    expect(alice.keys[0]!.retired_seq).toBeUndefined();
    expect(state.dids[NODE]!.key_custody).toBe('node');
    expect(state.anomalies).toEqual([]);
  });

  it('a controller given at creation is kept', () => {
    const body = { ...create(1, AGENT).body, controller: ALICE };
    const state = fold([create(0, ALICE), receipt(1, 'identity_did_create', body)]);
    expect(state.dids[AGENT]!.controller).toBe(ALICE);
    expect(state.dids[ALICE]!.controller).toBeUndefined();
  });

  it('a rotation retires the old key at the rotation seq and adds the new one', () => {
    const state = fold([create(0, ALICE), rotate(4, ALICE, 2, KEY_B, 'holder')]);
    const alice = state.dids[ALICE]!;
    expect(alice.keys).toEqual([
      { id: keyId(ALICE, 1), publicKeyMultibase: KEY_A, added_seq: 0, retired_seq: 4 },
      { id: keyId(ALICE, 2), publicKeyMultibase: KEY_B, added_seq: 4 },
    ]);
    expect(currentKeys(alice).map((k) => k.id)).toEqual([keyId(ALICE, 2)]);
    expect(alice.key_custody).toBe('holder');
    expect(alice.updated_seq).toBe(4);
    expect(alice.created_seq).toBe(0);
    expect((alice.document.verificationMethod as JsonObject[])[0]!.publicKeyMultibase).toBe(KEY_B);
  });

  it('keyValidAt: the old key before the rotation, the new key from it on', () => {
    const alice = fold([create(0, ALICE), rotate(4, ALICE, 2, KEY_B)]).dids[ALICE]!;
    const old = keyId(ALICE, 1);
    const next = keyId(ALICE, 2);
    expect(keyValidAt(alice, old, 0)?.publicKeyMultibase).toBe(KEY_A);
    expect(keyValidAt(alice, old, 3)?.publicKeyMultibase).toBe(KEY_A);
    expect(keyValidAt(alice, old, 4)).toBeUndefined();
    expect(keyValidAt(alice, old, 9)).toBeUndefined();
    expect(keyValidAt(alice, next, 3)).toBeUndefined();
    expect(keyValidAt(alice, next, 4)?.publicKeyMultibase).toBe(KEY_B);
    expect(keyValidAt(alice, next, Number.MAX_SAFE_INTEGER)?.publicKeyMultibase).toBe(KEY_B);
    expect(keyValidAt(alice, `${AGENT}#key-1`, 3)).toBeUndefined();
  });

  it('a revocation retires every key at its seq and records the reason', () => {
    const state = fold([create(0, ALICE), rotate(2, ALICE, 2, KEY_B), revokeDid(5, ALICE)]);
    const alice = state.dids[ALICE]!;
    expect(alice.status).toBe('revoked');
    expect(alice.revoked).toEqual({ seq: 5, at: ts(5), reason: 'left the team' });
    expect(alice.keys.map((k) => [k.id, k.retired_seq])).toEqual([
      [keyId(ALICE, 1), 2],
      [keyId(ALICE, 2), 5],
    ]);
    expect(currentKeys(alice)).toEqual([]);
    expect(keyValidAt(alice, keyId(ALICE, 2), 4)?.publicKeyMultibase).toBe(KEY_B);
    expect(keyValidAt(alice, keyId(ALICE, 2), 5)).toBeUndefined();
    expect(alice.updated_seq).toBe(5);
  });
});

describe('identity fold: credentials and grants', () => {
  it('an issued credential is recorded, and its revocation after it', () => {
    const issued = fold([create(0, ALICE), issue(1, 'urn:uuid:c1')]);
    expect(issued.credentials['urn:uuid:c1']).toEqual({
      credential_id: 'urn:uuid:c1',
      credential_type: 'AuditorCredential',
      issuer: ALICE,
      subject: AGENT,
      kid: keyId(ALICE, 1),
      issued_seq: 1,
      issued_at: ts(1),
      expires_at: ts(3601),
      credential_hash: HASH('a'),
    });
    const revoked = fold([create(0, ALICE), issue(1, 'urn:uuid:c1'), revokeCredential(2, 'urn:uuid:c1')]);
    expect(revoked.credentials['urn:uuid:c1']!.revoked).toEqual({ seq: 2, at: ts(2), reason: 'superseded' });
    expect(revoked.anomalies).toEqual([]);
  });

  it('a grant is recorded with its granter, key and constraints, and its revocation after it', () => {
    const state = fold([create(0, ALICE), grant(1, 'tok-1', ALICE), grant(2, 'tok-2', AGENT, ALICE)]);
    expect(state.grants['tok-1']).toEqual({
      token_id: 'tok-1',
      subject: ALICE,
      grants: [{ capability: 'storage', scroll: 'treasury' }],
      issued_at: ts(1),
      expires_at: ts(86_401),
      token_sha256: HASH('b'),
      constraints: { source_ip: ['127.0.0.1'] },
      seq: 1,
    });
    expect(state.grants['tok-2']).toMatchObject({ granted_by: ALICE, kid: keyId(ALICE, 1), seq: 2 });
    const revoked = fold([grant(1, 'tok-1', ALICE), revokeGrant(3, 'tok-1'), revokeGrant(4, 'tok-1')]);
    // A second revocation of a revoked token changes nothing: the first one stands.
    expect(revoked.grants['tok-1']!.revoked).toEqual({ seq: 3, at: ts(3), reason: 'rotated out' });
    expect(revoked.anomalies).toEqual([]);
  });
});

describe('identity fold: receipts that break the rules are noted, never thrown', () => {
  it('a second create of a DID is an anomaly and leaves the first record as it was', () => {
    const state = fold([create(0, ALICE), create(1, ALICE, KEY_B)]);
    expect(state.anomalies).toEqual([
      { seq: 1, type: 'identity_did_create', problem: `${ALICE} was created before` },
    ]);
    expect(state.dids[ALICE]!.keys.map((k) => k.publicKeyMultibase)).toEqual([KEY_A]);
    expect(state.dids[ALICE]!.created_seq).toBe(0);
  });

  it('a rotation of an unknown DID, or of a revoked one, is an anomaly', () => {
    const state = fold([
      rotate(0, AGENT, 2, KEY_B),
      create(1, ALICE),
      revokeDid(2, ALICE),
      rotate(3, ALICE, 2, KEY_B),
    ]);
    expect(state.anomalies).toEqual([
      { seq: 0, type: 'identity_did_rotate', problem: `${AGENT} is not an active DID` },
      { seq: 3, type: 'identity_did_rotate', problem: `${ALICE} is not an active DID` },
    ]);
    expect(state.dids[AGENT]).toBeUndefined();
    expect(state.dids[ALICE]!.keys).toHaveLength(1);
  });

  it('a revocation of an unknown or revoked DID is an anomaly', () => {
    const state = fold([revokeDid(0, AGENT), create(1, ALICE), revokeDid(2, ALICE), revokeDid(3, ALICE)]);
    expect(state.anomalies.map((a) => [a.seq, a.type])).toEqual([
      [0, 'identity_did_revoke'],
      [3, 'identity_did_revoke'],
    ]);
    expect(state.dids[ALICE]!.revoked!.seq).toBe(2);
  });

  it('a credential issued twice, and revocations of unknown or revoked credentials, are anomalies', () => {
    const state = fold([
      issue(0, 'urn:uuid:c1'),
      issue(1, 'urn:uuid:c1'),
      revokeCredential(2, 'urn:uuid:nope'),
      revokeCredential(3, 'urn:uuid:c1'),
      revokeCredential(4, 'urn:uuid:c1'),
    ]);
    expect(state.anomalies).toEqual([
      { seq: 1, type: 'identity_credential_issue', problem: 'credential urn:uuid:c1 was issued before' },
      { seq: 2, type: 'identity_credential_revoke', problem: 'credential urn:uuid:nope is not revocable' },
      { seq: 4, type: 'identity_credential_revoke', problem: 'credential urn:uuid:c1 is not revocable' },
    ]);
    expect(state.credentials['urn:uuid:c1']!.issued_seq).toBe(0);
    expect(state.credentials['urn:uuid:c1']!.revoked!.seq).toBe(3);
  });

  it('a token granted twice, and the revocation of a token never granted, are anomalies', () => {
    const state = fold([grant(0, 'tok-1', ALICE), grant(1, 'tok-1', AGENT), revokeGrant(2, 'tok-9')]);
    expect(state.anomalies).toEqual([
      { seq: 1, type: 'identity_capability_grant', problem: 'token tok-1 was granted before' },
      { seq: 2, type: 'identity_capability_revoke', problem: 'token tok-9 was never granted' },
    ]);
    expect(state.grants['tok-1']!.subject).toBe(ALICE);
    expect(state.grants['tok-9']).toBeUndefined();
  });

  it('a create or rotation without a DID document object is an anomaly, not a throw', () => {
    const bare = Object.fromEntries(
      Object.entries(create(0, ALICE).body).filter(([field]) => field !== 'did_document'),
    ) as JsonObject;
    const state = fold([
      receipt(0, 'identity_did_create', bare),
      receipt(1, 'identity_did_create', { ...bare, did_document: null }),
      create(2, ALICE),
      receipt(3, 'identity_did_rotate', { ...rotate(3, ALICE, 2, KEY_B).body, did_document: 'x' }),
    ]);
    expect(state.anomalies).toEqual([
      { seq: 0, type: 'identity_did_create', problem: `${ALICE} has no DID document` },
      { seq: 1, type: 'identity_did_create', problem: `${ALICE} has no DID document` },
      { seq: 3, type: 'identity_did_rotate', problem: `${ALICE} has no DID document` },
    ]);
    expect(state.dids[ALICE]!.created_seq).toBe(2);
    expect(currentKeys(state.dids[ALICE]!).map((k) => k.publicKeyMultibase)).toEqual([KEY_A]);
  });

  it('auth events, authz decisions and malformed bodies change no record and never throw', () => {
    const receipts = [
      create(0, ALICE),
      receipt(1, 'identity_auth_event', { result: 'failure' }),
      receipt(2, 'identity_authz_decision', { decision: 'deny', action: 'POST /v1/receipts' }),
      receipt(3, 'identity_did_rotate', {}),
      receipt(4, 'identity_capability_revoke', {}),
    ];
    const state = fold(receipts);
    expect(state.dids[ALICE]!.updated_seq).toBe(0);
    expect(state.anomalies.map((a) => a.seq)).toEqual([3, 4]);
  });
});

describe('identity fold: cached state equals the fold from scratch', () => {
  it('encode/decode round-trips, and folding on from a decoded prefix gives the same state', () => {
    const receipts = [
      create(0, NODE, KEY_B, 'node'),
      create(1, ALICE),
      grant(2, 'tok-1', ALICE),
      issue(3, 'urn:uuid:c1'),
      rotate(4, ALICE, 2, KEY_B),
      revokeCredential(5, 'urn:uuid:c1'),
      revokeGrant(6, 'tok-1'),
      revokeDid(7, ALICE),
    ];
    const whole = fold(receipts);
    const prefix = fold(receipts.slice(0, 4));
    const resumed = identityFold.decode(JSON.parse(JSON.stringify(identityFold.encode(prefix))));
    for (const r of receipts.slice(4)) identityFold.apply(resumed, r);
    expect(resumed).toEqual(whole);
    expect(identityFold.initial()).toEqual({ dids: {}, credentials: {}, grants: {}, anomalies: [] });
  });
});

describe('delegation: who may grant what, from the folded grants', () => {
  const NOW = new Date(ts(100));
  const hands = ['d1', 'd2', 'd3', 'd4', 'd5'].map((id) => `did:vm:human:${id}`);
  /** node -> d1 -> d2 -> d3 -> d4 -> d5, each handing on admin. */
  const chain = (): Receipt[] => [
    create(0, NODE, KEY_B, 'node'),
    ...hands.map((did, i) => create(i + 1, did)),
    ...hands.map((did, i) =>
      receipt(10 + i, 'identity_capability_grant', {
        ...grant(10 + i, `tok-${i + 1}`, did, i === 0 ? undefined : hands[i - 1]).body,
        grants: [{ capability: 'admin' }],
      }),
    ),
  ];
  const storage = { capability: 'storage' as const, scroll: 'treasury' };

  it('a grant reaches at most four hands from the node', () => {
    const state = fold(chain());
    expect(mayGrant(state, NODE, NODE, storage, NOW)).toBe(true);
    expect(hands.map((did) => mayGrant(state, NODE, did, storage, NOW))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it('a revoked grant, a revoked DID or an expired grant cuts every hand after it', () => {
    const revokedGrant = fold([...chain(), revokeGrant(20, 'tok-2')]);
    expect(hands.map((did) => mayGrant(revokedGrant, NODE, did, storage, NOW))).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    const revokedDid = fold([...chain(), revokeDid(20, hands[2]!)]);
    expect(hands.map((did) => mayGrant(revokedDid, NODE, did, storage, NOW))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
    const later = new Date(ts(10 + 86_400 + 1));
    expect(mayGrant(fold(chain()), NODE, hands[0]!, storage, later)).toBe(false);
  });

  it('a DID may grant only what its own grants allow', () => {
    const state = fold([create(0, ALICE), grant(1, 'tok-1', ALICE)]);
    expect(mayGrant(state, NODE, ALICE, storage, NOW)).toBe(true);
    expect(mayGrant(state, NODE, ALICE, { capability: 'storage', scroll: 'mesh' }, NOW)).toBe(false);
    expect(mayGrant(state, NODE, ALICE, { capability: 'admin' }, NOW)).toBe(false);
    expect(mayGrant(state, NODE, AGENT, storage, NOW)).toBe(false);
  });
});
