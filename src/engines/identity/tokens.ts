/**
 * Capability tokens as the Identity scroll keeps them. A token is signed by the DID that grants it:
 * the node (with its own key) or any DID the node holds a key for, which may grant only what it
 * holds itself through grants that lead back to the node. Issuing records an
 * `identity_capability_grant` receipt (the token's id, holder, grants, granter, key, expiry and
 * hash, never the token); revoking an `identity_capability_revoke`. A token is honoured only while
 * the scroll shows it granted and not revoked, its signing key current and its granter's authority intact.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomUUID } from 'node:crypto';
import { toHex, utf8 } from '../../core/bytes.js';
import {
  allows,
  formatToken,
  readTokenClaims,
  verifyToken,
  type Grant,
  type TokenClaims,
  type TokenVerifier,
} from '../../core/capability-token.js';
import { VaultMeshError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import {
  currentKeys,
  newestKey,
  type GrantRecord,
  type IdentityState,
} from '../../core/identity/registry.js';
import { decodePublicKeyMultibase } from '../../core/identity/did.js';
import type { Receipt } from '../../core/receipt.js';
import { loadDidSigner } from '../../ledger/keystore.js';
import type { Ledger } from '../../ledger/ledger.js';
import { loadNodeSigner } from '../../ledger/node-identity.js';
import { identityAppend, IDENTITY } from './append.js';
import { didRecord, identityState } from './resolve.js';

const MAX_TTL_MS = 366 * 24 * 60 * 60 * 1000;
/** How far a grant may be handed on from the node: node -> admin -> team lead -> agent. */
const MAX_DELEGATION_DEPTH = 4;

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
  seq: number;
}

export interface TokenRequest {
  subject: string;
  grants: readonly Grant[];
  ttlMs: number;
  /** The granting DID; the node's own when absent. */
  grantedBy?: string;
  constraints?: TokenClaims['constraints'];
}

const live = (record: GrantRecord, now: Date) =>
  record.revoked === undefined && Date.parse(record.expires_at) > now.getTime();

/**
 * Whether `did` may grant `grant` now: the node may grant anything; any other active DID only what
 * a live grant to it allows, given by a granter that may grant it in turn.
 */
export function mayGrant(
  state: IdentityState,
  node: string,
  did: string,
  grant: Grant,
  now: Date,
  depth = 0,
): boolean {
  if (did === node) return true;
  if (depth >= MAX_DELEGATION_DEPTH || state.dids[did]?.status !== 'active') return false;
  return Object.values(state.grants).some(
    (record) =>
      record.subject === did &&
      live(record, now) &&
      allows(record.grants as Grant[], grant.capability, grant.scroll) &&
      grantedWithAuthority(state, node, record, now, depth + 1),
  );
}

function grantedWithAuthority(
  state: IdentityState,
  node: string,
  record: GrantRecord,
  now: Date,
  depth = 0,
): boolean {
  const granter = record.granted_by ?? node;
  return (record.grants as Grant[]).every((g) => mayGrant(state, node, granter, g, now, depth));
}

export async function issueToken(ledger: Ledger, request: TokenRequest, now: Date): Promise<IssuedToken> {
  if (!Number.isSafeInteger(request.ttlMs) || request.ttlMs <= 0 || request.ttlMs > MAX_TTL_MS) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--expires must be between 1 second and 366 days', {
      hint: 'e.g. --expires 30d, --expires 12h',
    });
  }
  const node = ledger.identity.did;
  const granter = request.grantedBy ?? node;
  // A granter that is not in the scroll is named as such, not as a key the node lacks.
  const didSigner =
    granter === node
      ? undefined
      : loadDidSigner(
          ledger.dataDir,
          granter,
          newestKey(didRecord(identityState(ledger), granter, '--granted-by')),
        );
  const signer = didSigner ?? loadNodeSigner(ledger.dataDir);
  let issued: { token: string; claims: TokenClaims } | undefined;
  const [receipt] = await identityAppend(ledger, (state) => {
    const kid = didSigner?.kid;
    if (kid !== undefined) {
      const record = state.dids[granter];
      if (record?.status !== 'active' || !currentKeys(record).some((k) => k.id === kid)) {
        throw new VaultMeshError(
          'FORBIDDEN',
          `--granted-by ${granter} has no current key ${kid} to sign with`,
          {
            hint: 'an active DID with a key kept by this node can grant (see vm identity did show)',
            evidence: { field: '--granted-by' },
          },
        );
      }
      for (const grant of request.grants) {
        if (!mayGrant(state, node, granter, grant, now)) {
          throw new VaultMeshError(
            'FORBIDDEN',
            `${granter} does not hold ${grant.capability}${grant.scroll === undefined ? '' : `:${grant.scroll}`} itself, so cannot grant it`,
            {
              hint: `the node (or a DID holding it) must grant ${granter} that capability first`,
              evidence: { field: '--capability' },
            },
          );
        }
      }
    }
    const claims: TokenClaims = {
      v: 1,
      id: randomUUID(),
      sub: request.subject,
      iss: granter,
      grants: [...request.grants],
      iat: now.toISOString(),
      exp: new Date(now.getTime() + request.ttlMs).toISOString(),
      ...(kid === undefined ? {} : { kid }),
      ...(request.constraints === undefined ? {} : { constraints: request.constraints }),
    };
    const token = formatToken(claims, signer);
    issued = { token, claims };
    return [
      {
        scroll: IDENTITY,
        type: 'identity_capability_grant',
        body: {
          token_id: claims.id,
          subject: claims.sub,
          grants: claims.grants,
          granted_by: granter,
          ...(kid === undefined ? {} : { kid }),
          issued_at: claims.iat,
          expires_at: claims.exp,
          token_sha256: tokenHash(token),
          ...(request.constraints === undefined ? {} : { constraints: request.constraints }),
        },
        tags: ['capability', 'grant', ...new Set(claims.grants.map((g) => g.capability))],
      },
    ];
  });
  return { ...issued!, seq: receipt!.seq };
}

function tokenHash(token: string): string {
  return `sha256:${toHex(sha256(utf8(token)))}`;
}

export async function revokeToken(ledger: Ledger, id: string, reason: string): Promise<Receipt> {
  let existing: number | undefined;
  const appended = await identityAppend(ledger, (state) => {
    const record = state.grants[id];
    if (record === undefined) {
      throw new VaultMeshError('NOT_RECORDED', `no token ${id} was granted on this node`, {
        hint: 'list the tokens with: vm token list (or vm identity capability list)',
        evidence: { field: 'token_id' },
      });
    }
    existing = record.revoked?.seq;
    if (existing !== undefined) return [];
    return [
      {
        scroll: IDENTITY,
        type: 'identity_capability_revoke',
        body: { token_id: id, reason },
        tags: ['capability', 'revoke'],
      },
    ];
  });
  if (appended[0] !== undefined) return appended[0];
  const log = ledger.reader(IDENTITY);
  try {
    return JSON.parse(log.readLine(existing!)) as Receipt;
  } finally {
    log.close();
  }
}

function didVerifier(state: IdentityState, claims: TokenClaims): TokenVerifier {
  const record = state.dids[claims.iss];
  const key = record === undefined ? undefined : currentKeys(record).find((k) => k.id === claims.kid);
  if (key === undefined) {
    throw new VaultMeshError(
      'TOKEN_INVALID',
      `token ${claims.id} is signed by ${claims.kid ?? claims.iss}, which is not a current key of an active DID`,
      {
        hint: 'the granting DID was revoked or rotated its key: ask for a new token',
      },
    );
  }
  const publicKey = decodePublicKeyMultibase(key.publicKeyMultibase);
  return { verify: (message, signature) => ed25519.verify(signature, message, publicKey, { zip215: false }) };
}

/**
 * The claims of a token granted on this node and still honoured.
 * @throws VaultMeshError TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED.
 */
export function checkToken(ledger: Ledger, token: string, now: Date): TokenClaims {
  const node = ledger.identity.did;
  const state = identityState(ledger);
  const unverified = readTokenClaims(token);
  const claims = verifyToken(
    token,
    unverified.iss === node ? ledger.identity.verifier : didVerifier(state, unverified),
    now,
  );
  const record = state.grants[claims.id];
  if (record === undefined || record.token_sha256 !== tokenHash(token)) {
    throw new VaultMeshError('TOKEN_INVALID', `token ${claims.id} was never recorded as granted`, {
      hint: 'tokens are valid only when their grant is in the Identity scroll (vm token create)',
    });
  }
  if (record.revoked !== undefined) {
    throw new VaultMeshError('TOKEN_REVOKED', `token ${claims.id} was revoked at ${record.revoked.at}`, {
      hint: 'ask the node operator for a new token',
    });
  }
  if (!grantedWithAuthority(state, node, record, now)) {
    throw new VaultMeshError(
      'TOKEN_REVOKED',
      `token ${claims.id}: ${claims.iss} no longer holds what it granted`,
      {
        hint: "the granter's own grant expired or was revoked: ask for a new token",
      },
    );
  }
  return claims;
}

export interface TokenListing {
  id: string;
  subject: string;
  grants: Grant[];
  granted_by: string;
  expires_at: string;
  revoked: boolean;
  constraints?: TokenClaims['constraints'];
}

export function listTokens(ledger: Ledger): TokenListing[] {
  const node = ledger.identity.did;
  return Object.values(identityState(ledger).grants).map((r) => ({
    id: r.token_id,
    subject: r.subject,
    grants: r.grants as Grant[],
    granted_by: r.granted_by ?? node,
    expires_at: r.expires_at,
    revoked: r.revoked !== undefined,
    ...(r.constraints === undefined ? {} : { constraints: r.constraints as TokenClaims['constraints'] }),
  }));
}
