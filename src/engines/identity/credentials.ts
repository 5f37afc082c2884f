/** `vm identity credential issue|verify|revoke|list`: VC-JWT credentials, their issue and revocation receipted. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseJson, type JsonValue } from '../../core/canonical.js';
import { parseDuration } from '../../core/duration.js';
import { VaultMeshError } from '../../core/errors.js';
import {
  checkCredentialInput,
  claimsSummary,
  credentialHash,
  credentialSignatureValid,
  readCredential,
  signCredential,
} from '../../core/identity/credential.js';
import { decodePublicKeyMultibase, parseDid } from '../../core/identity/did.js';
import { currentKeys, keyValidAt, newestKey, type CredentialRecord } from '../../core/identity/registry.js';
import { textTable } from '../../core/table.js';
import { loadDidSigner } from '../../ledger/keystore.js';
import { loadNodeSigner } from '../../ledger/node-identity.js';
import { defineOperation, type AnyOperation } from '../framework/engine.js';
import { identityAppend, IDENTITY } from './append.js';
import { activeRecord } from './dids.js';
import { didRecord, identityState } from './resolve.js';

const didText = z.string().min(1).max(200);

const issueOperation = defineOperation({
  name: 'credential issue',
  summary: 'issue a verifiable credential (VC-JWT, EdDSA) from a DID whose key the node holds',
  access: 'write',
  capability: 'admin',
  input: z.object({
    issuer: didText.optional(),
    subject: didText,
    type: z.string().min(1).max(64),
    claims: z.union([z.string().max(64 * 1024), z.record(z.string(), z.unknown())]),
    expires: z.string().optional(),
  }),
  cli: {
    options: [
      { field: 'issuer', flags: '--issuer <did>', description: "who issues it (default: the node's DID)" },
      { field: 'subject', flags: '--subject <did>', description: 'whom it is about' },
      { field: 'type', flags: '--type <type>', description: 'credential type, e.g. AuditorCredential' },
      { field: 'claims', flags: '--claims <json>', description: 'the claims, a JSON object' },
      {
        field: 'expires',
        flags: '--expires <duration>',
        description: 'valid for: 365d, 12h (default: no expiry)',
      },
    ],
  },
  async run(context, input) {
    const ledger = context.ledger;
    const issuer = input.issuer ?? ledger.identity.did;
    parseDid(issuer, '--issuer');
    parseDid(input.subject, '--subject');
    const claims = checkCredentialInput(
      input.type,
      (typeof input.claims === 'string' ? parseJson(input.claims, '--claims') : input.claims) as JsonValue,
    );
    const issuedAt = context.clock();
    const expiresAt =
      input.expires === undefined
        ? undefined
        : new Date(issuedAt.getTime() + parseDuration(input.expires, '--expires'));
    // An issuer that is not in the scroll is named as such, not as a key the node lacks.
    // The key it signs with is the DID's current one: a key file left by a rotation that never got
    // its receipt written is not part of the document.
    const didSigner =
      issuer === ledger.identity.did
        ? undefined
        : loadDidSigner(
            ledger.dataDir,
            issuer,
            newestKey(didRecord(identityState(ledger), issuer, '--issuer')),
          );
    const sign = didSigner?.sign ?? ((m: Uint8Array) => loadNodeSigner(ledger.dataDir).sign(m));
    let jwt = '';
    const id = `urn:uuid:${randomUUID()}`;
    const [receipt] = await identityAppend(ledger, (state) => {
      const record = activeRecord(state, issuer, '--issuer');
      const kid = didSigner?.kid ?? currentKeys(record)[0]!.id;
      if (!currentKeys(record).some((k) => k.id === kid)) {
        throw new VaultMeshError(
          'KEY_NOT_HELD',
          `the node's key for ${issuer} (${kid}) is not its current key`,
          {
            hint: `rotate the key with vm identity did rotate-key ${issuer}`,
            evidence: { field: '--issuer' },
          },
        );
      }
      jwt = signCredential(
        {
          id,
          type: input.type,
          issuer,
          kid,
          subject: input.subject,
          claims,
          issuedAt,
          ...(expiresAt === undefined ? {} : { expiresAt }),
        },
        sign,
      );
      return [
        {
          scroll: IDENTITY,
          type: 'identity_credential_issue',
          body: {
            credential_id: id,
            credential_type: input.type,
            issuer,
            subject: input.subject,
            issued_at: issuedAt.toISOString(),
            ...(expiresAt === undefined ? {} : { expires_at: expiresAt.toISOString() }),
            claims_summary: claimsSummary(claims),
            credential_hash: credentialHash(jwt),
            format: 'jwt_vc',
            kid,
          },
          tags: ['identity', 'credential', 'issue'],
        },
      ];
    });
    return {
      credential_id: id,
      issuer,
      subject: input.subject,
      type: input.type,
      seq: receipt!.seq,
      credential: jwt,
    };
  },
  human: (r: { credential_id: string; type: string; subject: string; seq: number; credential: string }) =>
    [`issued ${r.type} ${r.credential_id} to ${r.subject} (identity seq ${r.seq})`, r.credential].join('\n'),
});

export interface CredentialCheck {
  check: 'format' | 'issuer' | 'key' | 'signature' | 'recorded' | 'expiry' | 'revocation';
  ok: boolean;
  detail: string;
}

export interface CredentialVerdict {
  ok: boolean;
  credential_id?: string;
  issuer?: string;
  subject?: string;
  type?: string;
  /** The first check that failed. */
  reason?: CredentialCheck['check'];
  checks: CredentialCheck[];
}

/** Every check a relying party needs: signature by a key the issuer had at issuance, recorded, unexpired, unrevoked. */
export async function verifyCredential(
  ledger: Parameters<typeof identityState>[0],
  jwt: string,
  now: Date,
): Promise<CredentialVerdict> {
  const checks: CredentialCheck[] = [];
  const verdict = (extra: Partial<CredentialVerdict> = {}): CredentialVerdict => {
    const failed = checks.find((c) => !c.ok);
    return {
      ok: failed === undefined,
      ...extra,
      ...(failed === undefined ? {} : { reason: failed.check }),
      checks,
    };
  };
  let read: ReturnType<typeof readCredential>;
  try {
    read = readCredential(jwt.trim());
  } catch (error) {
    if (!(error instanceof VaultMeshError)) throw error;
    checks.push({ check: 'format', ok: false, detail: error.message });
    return verdict();
  }
  checks.push({ check: 'format', ok: true, detail: `VC-JWT ${read.type}, key ${read.kid}` });
  const about = { credential_id: read.id, issuer: read.issuer, subject: read.subject, type: read.type };
  const state = identityState(ledger);
  const issuer = state.dids[read.issuer];
  const record: CredentialRecord | undefined = state.credentials[read.id];
  if (issuer === undefined || issuer.status !== 'active') {
    checks.push({
      check: 'issuer',
      ok: false,
      detail: `${read.issuer} is ${issuer === undefined ? 'not in the Identity scroll' : `revoked (${issuer.revoked?.reason})`}`,
    });
    return verdict(about);
  }
  checks.push({ check: 'issuer', ok: true, detail: `${read.issuer} is an active DID` });
  const key = keyValidAt(issuer, read.kid, record?.issued_seq ?? Number.MAX_SAFE_INTEGER);
  if (key === undefined) {
    checks.push({
      check: 'key',
      ok: false,
      detail: `${read.kid} is not a key of ${read.issuer} at issuance`,
    });
    return verdict(about);
  }
  checks.push({ check: 'key', ok: true, detail: `${read.kid} was a key of the issuer at issuance` });
  const signed = await credentialSignatureValid(jwt.trim(), decodePublicKeyMultibase(key.publicKeyMultibase));
  checks.push({
    check: 'signature',
    ok: signed,
    detail: signed
      ? 'EdDSA signature verifies'
      : `the signature does not verify with ${read.kid}: the credential was altered or signed by another key`,
  });
  if (!signed) return verdict(about);
  const recorded =
    record !== undefined &&
    record.credential_hash === credentialHash(jwt.trim()) &&
    record.issuer === read.issuer;
  checks.push({
    check: 'recorded',
    ok: recorded,
    detail: recorded
      ? `issued at identity seq ${record.issued_seq}`
      : 'no issue receipt in the Identity scroll has this credential',
  });
  if (!recorded) return verdict(about);
  const expired = read.expiresAt !== undefined && read.expiresAt.getTime() <= now.getTime();
  const early = read.notBefore !== undefined && read.notBefore.getTime() > now.getTime() + 60_000;
  checks.push({
    check: 'expiry',
    ok: !expired && !early,
    detail: expired
      ? `expired at ${read.expiresAt!.toISOString()}`
      : early
        ? `not valid before ${read.notBefore!.toISOString()}`
        : read.expiresAt === undefined
          ? 'does not expire'
          : `valid until ${read.expiresAt.toISOString()}`,
  });
  checks.push({
    check: 'revocation',
    ok: record.revoked === undefined,
    detail:
      record.revoked === undefined
        ? 'not revoked'
        : `revoked at ${record.revoked.at}: ${record.revoked.reason}`,
  });
  return verdict(about);
}

const verifyOperation = defineOperation({
  name: 'credential verify',
  summary:
    'verify a credential: issuer key, signature, issue receipt, expiry, revocation; exit 4 when it fails',
  access: 'read',
  input: z.object({
    credential: z
      .string()
      .min(1)
      .max(64 * 1024),
  }),
  cli: { arguments: [{ field: 'credential', name: 'credential', description: 'the VC-JWT' }] },
  run: (context, input) => verifyCredential(context.ledger, input.credential, context.clock()),
  human: (v: CredentialVerdict) =>
    [
      `${v.ok ? 'valid' : `INVALID (${v.reason})`}: ${v.type ?? 'credential'} ${v.credential_id ?? ''}`.trimEnd(),
      ...v.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(10)} ${c.detail}`),
    ].join('\n'),
});

const revokeOperation = defineOperation({
  name: 'credential revoke',
  summary: 'revoke a credential: it fails verification from then on',
  access: 'write',
  capability: 'admin',
  input: z.object({ credentialId: z.string().min(1).max(200), reason: z.string().min(1).max(4096) }),
  cli: {
    arguments: [{ field: 'credentialId', name: 'credential-id' }],
    options: [{ field: 'reason', flags: '--reason <text>', description: 'why (goes into the receipt)' }],
  },
  async run(context, input) {
    const ledger = context.ledger;
    const [receipt] = await identityAppend(ledger, (state) => {
      const record = state.credentials[input.credentialId];
      if (record === undefined) {
        throw new VaultMeshError(
          'UNKNOWN_CREDENTIAL',
          `no credential ${input.credentialId} was issued on this node`,
          {
            hint: 'list them with: vm identity credential list',
            evidence: { field: 'credential-id' },
          },
        );
      }
      if (record.revoked !== undefined) {
        throw new VaultMeshError(
          'INVALID_ARGUMENT',
          `credential ${input.credentialId} was revoked already, at ${record.revoked.at}`,
          {
            hint: 'nothing to do',
            evidence: { field: 'credential-id' },
          },
        );
      }
      return [
        {
          scroll: IDENTITY,
          type: 'identity_credential_revoke',
          body: {
            credential_id: input.credentialId,
            issuer: record.issuer,
            revoked_by: ledger.identity.did,
            reason: input.reason,
          },
          tags: ['identity', 'credential', 'revoke'],
        },
      ];
    });
    return { credential_id: input.credentialId, seq: receipt!.seq };
  },
  human: (r: { credential_id: string; seq: number }) => `revoked ${r.credential_id} (identity seq ${r.seq})`,
});

const rowsOf = (records: CredentialRecord[]) => ({
  columns: ['credential_id', 'type', 'issuer', 'subject', 'issued_at', 'expires_at', 'status'],
  rows: records.map((r) => [
    r.credential_id,
    r.credential_type,
    r.issuer,
    r.subject,
    r.issued_at,
    r.expires_at ?? '',
    r.revoked === undefined ? 'issued' : 'revoked',
  ]),
});

const listOperation = defineOperation({
  name: 'credential list',
  summary: 'credentials issued on this node',
  access: 'read',
  input: z.object({ subject: didText.optional(), issuer: didText.optional() }),
  cli: {
    options: [
      { field: 'subject', flags: '--subject <did>', description: 'only about this DID' },
      { field: 'issuer', flags: '--issuer <did>', description: 'only from this DID' },
    ],
  },
  async run(context, input) {
    return Object.values(identityState(context.ledger).credentials)
      .filter((r) => input.subject === undefined || r.subject === input.subject)
      .filter((r) => input.issuer === undefined || r.issuer === input.issuer);
  },
  rows: rowsOf,
  human: (records: CredentialRecord[]) =>
    records.length === 0 ? 'no credentials issued' : textTable(rowsOf(records)),
});

export const credentialOperations: AnyOperation[] = [
  issueOperation,
  verifyOperation,
  revokeOperation,
  listOperation,
];
