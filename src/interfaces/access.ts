/**
 * Who may do what, for every interface that serves callers it does not trust (HTTP, MCP): a
 * caller presents a bearer token or nothing; reads may be open; every write needs a capability.
 * Each refusal is recorded as an `identity_authz_decision` receipt, so the Identity scroll shows who
 * was turned away, from what, and why.
 */
import { allows, type Capability, type TokenClaims } from '../core/capability-token.js';
import { VaultMeshError, isVaultMeshError } from '../core/errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { randomUUID } from 'node:crypto';
import { blake3Tagged } from '../core/hash.js';
import type { ReceiptDraft } from '../core/receipt.js';
import { checkToken } from '../engines/identity/tokens.js';

export interface Need {
  capability: Capability;
  scroll?: string;
}

export interface Caller {
  /** Absent for an anonymous caller. */
  claims?: TokenClaims;
  /** Where the request came from, for the decision receipt: `http 127.0.0.1`, `mcp stdio`. */
  origin: string;
}

export interface AccessOptions {
  /** `open`: anyone may read; `token`: reads need a token with `read` (or any grant for that scroll). */
  reads: 'open' | 'token';
  clock?: () => Date;
}

/**
 * A token that passed is trusted for this long before its grant and revocation are looked up
 * again: a revocation takes effect within a second, and a busy client does not pay two index
 * queries per request.
 */
const RECHECK_MS = 1000;
const MAX_CACHED_TOKENS = 10_000;

export class Access {
  private readonly clock: () => Date;
  private readonly recent = new Map<string, { claims: TokenClaims; until: number }>();
  /** Tokens whose first successful use this process has recorded. */
  private readonly seen = new Set<string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly options: AccessOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  /**
   * The caller behind a credential (or an anonymous one): `authorization` is an HTTP
   * Authorization header value or a bare token. A credential that fails is refused and recorded,
   * even when the request would have been allowed anonymously: a bad credential is a signal.
   * `admit` runs before a refusal is recorded and may throw (a rate limit), so that a flood of bad
   * credentials cannot make the node write without bound.
   */
  async authenticate(
    authorization: string | undefined,
    origin: string,
    action: string,
    admit: () => void = () => undefined,
  ): Promise<Caller> {
    if (authorization === undefined) return { origin };
    // A bare token (MCP over stdio) or an HTTP `Bearer` credential; any other scheme is refused.
    const bearer = /^(?:Bearer )?([\x21-\x7e]+)$/.exec(authorization)?.[1];
    const now = this.clock();
    const cached = bearer === undefined ? undefined : this.recent.get(bearer);
    if (
      cached !== undefined &&
      cached.until > now.getTime() &&
      Date.parse(cached.claims.exp) > now.getTime()
    ) {
      return { claims: cached.claims, origin };
    }
    try {
      if (bearer === undefined) {
        throw new VaultMeshError('TOKEN_INVALID', 'the credential is not "Bearer <token>"', {
          hint: 'send Authorization: Bearer <token>',
        });
      }
      const claims = checkToken(this.ledger, bearer, now);
      if (this.recent.size >= MAX_CACHED_TOKENS) this.recent.clear();
      this.recent.set(bearer, { claims, until: now.getTime() + RECHECK_MS });
      if (!this.seen.has(claims.id)) {
        if (this.seen.size >= MAX_CACHED_TOKENS) this.seen.clear();
        this.seen.add(claims.id);
        await this.ledger.emit([this.authEvent(origin, claims.sub, 'success', claims.id)]);
      }
      return { claims, origin };
    } catch (error) {
      if (isVaultMeshError(error)) {
        admit();
        const result =
          error.code === 'TOKEN_EXPIRED' ? 'expired' : error.code === 'TOKEN_REVOKED' ? 'denied' : 'failure';
        await this.record({ origin }, action, undefined, error, this.authEvent(origin, 'unknown', result));
      }
      throw error;
    }
  }

  /** A credential presented: one `identity_auth_event`, with the caller's address hashed. */
  private authEvent(
    origin: string,
    subject: string,
    result: 'success' | 'failure' | 'denied' | 'expired',
    tokenId?: string,
  ): ReceiptDraft {
    return {
      scroll: 'identity',
      type: 'identity_auth_event',
      body: {
        auth_event_id: randomUUID(),
        subject,
        target: this.ledger.identity.did,
        method: 'token',
        result,
        mfa_verified: false,
        ...originFields(origin),
        ...(tokenId === undefined ? {} : { credential_used: tokenId }),
      },
      tags: ['auth', result],
    };
  }

  /** @throws VaultMeshError UNAUTHENTICATED (no token where one is needed) or FORBIDDEN. */
  async authorize(caller: Caller, need: Need, action: string): Promise<void> {
    if (need.capability === 'read' && this.options.reads === 'open') return;
    if (caller.claims === undefined) {
      const error = new VaultMeshError('UNAUTHENTICATED', `${action} needs a bearer token`, {
        hint: `${caller.origin.startsWith('mcp stdio') ? 'start vm mcp with VAULTMESH_TOKEN=<token>' : 'send Authorization: Bearer <token>'}; the operator issues one with vm token create --grant ${grantText(need)}`,
      });
      await this.record(caller, action, need, error);
      throw error;
    }
    const bound = caller.claims.constraints?.source_ip;
    if (bound !== undefined && !bound.includes(addressOf(caller.origin) ?? '')) {
      const error = new VaultMeshError(
        'FORBIDDEN',
        `token ${caller.claims.id} may be used only from ${bound.join(', ')}, and this request came from another address`,
        { hint: 'use the token from an address it names, or ask for one without that constraint' },
      );
      await this.record(caller, action, need, error);
      throw error;
    }
    const granted =
      allows(caller.claims.grants, need.capability, need.scroll) ||
      // Whoever may write a scroll may read it.
      (need.capability === 'read' && allows(caller.claims.grants, 'storage', need.scroll));
    if (!granted) {
      const error = new VaultMeshError(
        'FORBIDDEN',
        `token ${caller.claims.id} (${caller.claims.sub}) lacks ${grantText(need)} for ${action}`,
        { hint: `ask the operator for a token with --grant ${grantText(need)}` },
      );
      await this.record(caller, action, need, error);
      throw error;
    }
    // Administrative acts (granting, revoking, creating DIDs) are recorded when allowed, too.
    if (need.capability === 'admin') {
      await this.ledger.emit([
        {
          scroll: 'identity',
          type: 'identity_authz_decision',
          body: {
            decision: 'allow',
            action,
            ...originFields(caller.origin),
            required: grantText(need),
            token_id: caller.claims.id,
            subject: caller.claims.sub,
          },
          tags: ['authz', 'allow'],
        },
      ]);
    }
  }

  private async record(
    caller: Caller,
    action: string,
    need: Need | undefined,
    error: VaultMeshError,
    ...also: ReceiptDraft[]
  ) {
    await this.ledger.emit([
      ...also,
      {
        scroll: 'identity',
        type: 'identity_authz_decision',
        body: {
          decision: 'deny',
          action,
          code: error.code,
          reason: error.message,
          ...originFields(caller.origin),
          ...(need === undefined ? {} : { required: grantText(need) }),
          ...(caller.claims === undefined ? {} : { token_id: caller.claims.id, subject: caller.claims.sub }),
        },
        tags: ['authz', 'deny'],
      },
    ]);
  }
}

/** Where a call came from, as receipts keep it: the kind of channel, and the address only hashed. */
function originFields(origin: string): { origin_kind: string; source_ip_hash?: string } {
  const address = addressOf(origin);
  return {
    origin_kind: origin.split(' ')[0] ?? origin,
    ...(address === undefined ? {} : { source_ip_hash: blake3Tagged(address) }),
  };
}

/** `http 127.0.0.1` -> `127.0.0.1` (an IPv4 address seen through IPv6 as itself); none for stdio. */
function addressOf(origin: string): string | undefined {
  const [kind, address] = origin.split(' ');
  return kind === 'http' && address !== undefined ? address.replace(/^::ffff:(?=\d+\.)/, '') : undefined;
}

function grantText(need: Need): string {
  return need.scroll === undefined ? need.capability : `${need.capability}:${need.scroll}`;
}
