/**
 * Capability tokens as the ledger keeps them: issuing one records an `identity_capability_grant`
 * receipt (the token's id, holder, grants, expiry and hash, never the token itself), revoking one an
 * `identity_capability_revoke`. A token is honoured only while the Identity scroll shows it granted
 * and not revoked, so the scroll is the one list of who may do what.
 */
import { randomUUID } from 'node:crypto';
import { sha256 } from '../core/hash.js';
import { toHex, utf8 } from '../core/bytes.js';
import { formatToken, verifyToken, type Grant, type TokenClaims } from '../core/capability-token.js';
import { VaultMeshError } from '../core/errors.js';
import type { Receipt } from '../core/receipt.js';
import type { Ledger } from './ledger.js';
import { loadNodeSigner } from './node-identity.js';

const MAX_TTL_MS = 366 * 24 * 60 * 60 * 1000;

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
  seq: number;
}

export async function issueToken(
  ledger: Ledger,
  request: { subject: string; grants: readonly Grant[]; ttlMs: number },
  now: Date,
): Promise<IssuedToken> {
  if (!Number.isSafeInteger(request.ttlMs) || request.ttlMs <= 0 || request.ttlMs > MAX_TTL_MS) {
    throw new VaultMeshError('INVALID_ARGUMENT', '--expires must be between 1 second and 366 days', {
      hint: 'e.g. --expires 30d, --expires 12h',
    });
  }
  const claims: TokenClaims = {
    v: 1,
    id: randomUUID(),
    sub: request.subject,
    iss: ledger.identity.did,
    grants: [...request.grants],
    iat: now.toISOString(),
    exp: new Date(now.getTime() + request.ttlMs).toISOString(),
  };
  const token = formatToken(claims, loadNodeSigner(ledger.dataDir));
  const [appended] = await ledger.emit([
    {
      scroll: 'identity',
      type: 'identity_capability_grant',
      body: {
        token_id: claims.id,
        subject: claims.sub,
        grants: claims.grants,
        issued_at: claims.iat,
        expires_at: claims.exp,
        token_sha256: `sha256:${toHex(sha256(utf8(token)))}`,
      },
      tags: ['capability', 'grant'],
    },
  ]);
  await ledger.publish('identity');
  return { token, claims, seq: appended!.receipt.seq };
}

function grantReceipt(ledger: Ledger, id: string): Receipt | undefined {
  return ledger.query('identity', {
    types: ['identity_capability_grant'],
    where: [{ path: 'token_id', value: id, text: id }],
    limit: 1,
  })[0];
}

function revocation(ledger: Ledger, id: string): Receipt | undefined {
  return ledger.query('identity', {
    types: ['identity_capability_revoke'],
    where: [{ path: 'token_id', value: id, text: id }],
    limit: 1,
  })[0];
}

export async function revokeToken(ledger: Ledger, id: string, reason: string): Promise<Receipt> {
  if (grantReceipt(ledger, id) === undefined) {
    throw new VaultMeshError('NOT_RECORDED', `no token ${id} was issued by this node`, {
      hint: 'list the tokens with: vm token list',
    });
  }
  const existing = revocation(ledger, id);
  if (existing !== undefined) return existing;
  const [appended] = await ledger.emit([
    {
      scroll: 'identity',
      type: 'identity_capability_revoke',
      body: { token_id: id, reason },
      tags: ['capability', 'revoke'],
    },
  ]);
  await ledger.publish('identity');
  return appended!.receipt;
}

/**
 * The claims of a token this node issued and has not revoked.
 * @throws VaultMeshError TOKEN_INVALID, TOKEN_EXPIRED or TOKEN_REVOKED.
 */
export function checkToken(ledger: Ledger, token: string, now: Date): TokenClaims {
  const claims = verifyToken(token, ledger.identity.verifier, now);
  if (grantReceipt(ledger, claims.id) === undefined) {
    throw new VaultMeshError('TOKEN_INVALID', `token ${claims.id} was never recorded as granted`, {
      hint: 'tokens are valid only when their grant is in the Identity scroll (vm token create)',
    });
  }
  const revoked = revocation(ledger, claims.id);
  if (revoked !== undefined) {
    throw new VaultMeshError('TOKEN_REVOKED', `token ${claims.id} was revoked at ${revoked.ts}`, {
      hint: 'ask the node operator for a new token',
    });
  }
  return claims;
}

export interface TokenListing {
  id: string;
  subject: string;
  grants: Grant[];
  expires_at: string;
  revoked: boolean;
}

export function listTokens(ledger: Ledger): TokenListing[] {
  const revoked = new Set(
    ledger
      .query('identity', { types: ['identity_capability_revoke'], limit: Number.MAX_SAFE_INTEGER })
      .map((r) => String(r.body.token_id)),
  );
  return ledger
    .query('identity', { types: ['identity_capability_grant'], limit: Number.MAX_SAFE_INTEGER })
    .map((r) => ({
      id: String(r.body.token_id),
      subject: String(r.body.subject),
      grants: r.body.grants as Grant[],
      expires_at: String(r.body.expires_at),
      revoked: revoked.has(String(r.body.token_id)),
    }));
}
