/**
 * Who may do what, for every interface that serves callers it does not trust (HTTP, MCP): a
 * caller presents a bearer token or nothing; reads may be open; every write needs a capability.
 * Each refusal is recorded as an `identity_authz_decision` receipt, so the Identity scroll shows who
 * was turned away, from what, and why.
 */
import { allows, type Capability, type TokenClaims } from '../core/capability-token.js';
import { VaultMeshError, isVaultMeshError } from '../core/errors.js';
import type { Ledger } from '../ledger/ledger.js';
import { checkToken } from '../ledger/tokens.js';

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
      return { claims, origin };
    } catch (error) {
      if (isVaultMeshError(error)) {
        admit();
        await this.record({ origin }, action, undefined, error);
      }
      throw error;
    }
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
  }

  private async record(caller: Caller, action: string, need: Need | undefined, error: VaultMeshError) {
    await this.ledger.emit([
      {
        scroll: 'identity',
        type: 'identity_authz_decision',
        body: {
          decision: 'deny',
          action,
          code: error.code,
          reason: error.message,
          origin: caller.origin,
          ...(need === undefined ? {} : { required: grantText(need) }),
          ...(caller.claims === undefined ? {} : { token_id: caller.claims.id, subject: caller.claims.sub }),
        },
        tags: ['authz', 'deny'],
      },
    ]);
  }
}

function grantText(need: Need): string {
  return need.scroll === undefined ? need.capability : `${need.capability}:${need.scroll}`;
}
