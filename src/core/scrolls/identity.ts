import { z } from 'zod';
import { CAPABILITIES } from '../capability-token.js';
import { bodyWith, defineScroll, did, hashRef, identifier, timestamp } from './define.js';

const RESERVED = 'written by the Identity engine and the node: vm identity, vm token';

const documentHash = { did_document: z.record(z.string(), z.unknown()), did_document_hash: hashRef };
const grant = z.strictObject({
  capability: z.enum(CAPABILITIES),
  scroll: z.string().optional(),
});

export const identity = defineScroll({
  name: 'identity',
  title: 'Identity',
  engineId: 'engine:identity',
  description: 'DIDs, verifiable credentials, capabilities, authentication and authorization.',
  file: 'receipts/identity/identity_events.jsonl',
  rootFile: 'ROOT.identity.txt',
  types: [
    {
      type: 'identity_did_create',
      description: 'A DID was created, with its DID document (public keys only).',
      body: bodyWith({
        did,
        did_type: z.string(),
        controller: did.optional(),
        created_by: did,
        initial_keys: z.array(z.string()).min(1),
        key_custody: z.enum(['node', 'node_keystore', 'holder']),
        ...documentHash,
      }),
      reserved: RESERVED,
    },
    {
      type: 'identity_did_rotate',
      description: 'A DID replaced its key; the DID document after the change.',
      body: bodyWith({
        did,
        previous_keys: z.array(z.string()),
        new_key: z.string(),
        rotated_by: did,
        key_custody: z.enum(['node', 'node_keystore', 'holder']),
        ...documentHash,
      }),
      reserved: RESERVED,
    },
    {
      type: 'identity_did_revoke',
      description: 'A DID was revoked: its keys sign nothing valid from here on.',
      body: bodyWith({ did, revoked_by: did, reason: z.string().min(1) }),
      reserved: RESERVED,
    },
    {
      type: 'identity_credential_issue',
      description: 'A verifiable credential (VC-JWT) was issued; claims are kept as hashes.',
      body: bodyWith({
        credential_id: z.string().min(1),
        credential_type: z.string().min(1),
        issuer: did,
        subject: did,
        issued_at: timestamp,
        expires_at: timestamp.optional(),
        claims_summary: z.record(z.string(), hashRef),
        credential_hash: hashRef,
        format: z.literal('jwt_vc'),
        kid: z.string(),
      }),
      reserved: RESERVED,
    },
    {
      type: 'identity_credential_revoke',
      description: 'A verifiable credential was revoked.',
      body: bodyWith({
        credential_id: z.string().min(1),
        issuer: did,
        revoked_by: did,
        reason: z.string().min(1),
      }),
      reserved: RESERVED,
    },
    {
      type: 'identity_capability_grant',
      description: 'A capability token was granted (its hash, never the token).',
      body: bodyWith({
        token_id: identifier,
        subject: z.string().min(1),
        grants: z.array(grant).min(1),
        issued_at: timestamp,
        expires_at: timestamp,
        token_sha256: hashRef,
        granted_by: did.optional(),
        kid: z.string().optional(),
        constraints: z.record(z.string(), z.unknown()).optional(),
      }),
      reserved: RESERVED,
    },
    {
      type: 'identity_capability_revoke',
      description: 'A capability token was revoked.',
      body: bodyWith({ token_id: identifier, reason: z.string().min(1) }),
      reserved: RESERVED,
    },
    {
      type: 'identity_auth_event',
      description: 'A caller presented a credential: who, to what, how, and the result.',
      body: bodyWith({
        auth_event_id: identifier,
        subject: z.string(),
        target: did,
        method: z.enum(['ssh_key', 'password', 'certificate', 'token', 'passkey', 'mfa']),
        result: z.enum(['success', 'failure', 'denied', 'expired']),
        source_ip_hash: hashRef.optional(),
        mfa_verified: z.boolean(),
      }),
      reserved: RESERVED,
    },
    {
      type: 'identity_authz_decision',
      description: 'An authorization decision: an action allowed or refused, and why.',
      body: bodyWith({ decision: z.enum(['allow', 'deny']), action: z.string().min(1) }),
      reserved: RESERVED,
    },
  ],
});
