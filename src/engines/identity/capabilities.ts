/** `vm identity capability grant|check|list|revoke`: capability tokens signed by the granting DID. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { allows, CAPABILITIES, formatGrant, type Grant } from '../../core/capability-token.js';
import { parseDuration } from '../../core/duration.js';
import { VaultMeshError } from '../../core/errors.js';
import { parseDid } from '../../core/identity/did.js';
import { getScroll } from '../../core/scrolls/index.js';
import { textTable } from '../../core/table.js';
import { defineOperation, type AnyOperation } from '../framework/engine.js';
import { identityState } from './resolve.js';
import { checkToken, issueToken, listTokens, mayGrant, revokeToken, type TokenListing } from './tokens.js';

const didText = z.string().min(1).max(200);

function grantOf(capability: Grant['capability'], scroll: string | undefined): Grant {
  return { capability, ...(scroll === undefined ? {} : { scroll: getScroll(scroll).name }) };
}

function sourceIps(values: readonly string[]): string[] | undefined {
  if (values.length === 0) return undefined;
  for (const [i, ip] of values.entries()) {
    if (isIP(ip) === 0) {
      throw new VaultMeshError('INVALID_ARGUMENT', `--source-ip ${ip} is not an IP address`, {
        hint: 'e.g. --source-ip 127.0.0.1 10.1.2.3',
        evidence: { field: `source_ip.${i}` },
      });
    }
  }
  return [...values];
}

const grantOperation = defineOperation({
  name: 'capability grant',
  summary: 'grant a DID a capability: a token signed by the granting DID (shown once)',
  access: 'write',
  capability: 'admin',
  input: z.object({
    holder: didText,
    capability: z.enum(CAPABILITIES),
    scroll: z.string().min(1).max(32).optional(),
    expires: z.string().default('30d'),
    grantedBy: didText.optional(),
    sourceIp: z.array(z.string().min(1).max(64)).max(32).default([]),
  }),
  cli: {
    options: [
      { field: 'holder', flags: '--holder <did>', description: 'who receives it' },
      { field: 'capability', flags: '--capability <capability>', description: CAPABILITIES.join(' | ') },
      {
        field: 'scroll',
        flags: '--scroll <scroll>',
        description: 'only on this scroll (default: every scroll)',
      },
      {
        field: 'expires',
        flags: '--expires <duration>',
        description: 'lifetime: 30d, 12h, 45m (default 30d)',
      },
      {
        field: 'grantedBy',
        flags: '--granted-by <did>',
        description: "who grants it (default: the node's DID)",
      },
      {
        field: 'sourceIp',
        flags: '--source-ip <addresses...>',
        description: 'constraint: usable only from these addresses',
      },
    ],
  },
  async run(context, input) {
    parseDid(input.holder, '--holder');
    if (input.grantedBy !== undefined) parseDid(input.grantedBy, '--granted-by');
    const constraints = sourceIps(input.sourceIp);
    const issued = await issueToken(
      context.ledger,
      {
        subject: input.holder,
        grants: [grantOf(input.capability, input.scroll)],
        ttlMs: parseDuration(input.expires, '--expires'),
        ...(input.grantedBy === undefined ? {} : { grantedBy: input.grantedBy }),
        ...(constraints === undefined ? {} : { constraints: { source_ip: constraints } }),
      },
      context.clock(),
    );
    return {
      token_id: issued.claims.id,
      holder: issued.claims.sub,
      granted_by: issued.claims.iss,
      grants: issued.claims.grants,
      expires_at: issued.claims.exp,
      seq: issued.seq,
      token: issued.token,
    };
  },
  human: (r: {
    token_id: string;
    holder: string;
    granted_by: string;
    grants: Grant[];
    expires_at: string;
    seq: number;
    token: string;
  }) =>
    [
      `token ${r.token_id} for ${r.holder}: ${r.grants.map(formatGrant).join(', ')}, granted by ${r.granted_by}, until ${r.expires_at}`,
      `(recorded as identity seq ${r.seq}; the token is not stored anywhere: keep it now)`,
      r.token,
    ].join('\n'),
});

interface CheckResult {
  ok: boolean;
  holder: string;
  capability: string;
  scroll?: string;
  /** The live tokens that carry it, with the authority behind them intact. */
  via: string[];
  reason?: string;
}

const checkOperation = defineOperation({
  name: 'capability check',
  summary: 'does a DID (or a token) hold a capability now? exit 4 when not',
  access: 'read',
  input: z.object({
    holder: didText.optional(),
    token: z.string().min(1).max(8192).optional(),
    capability: z.enum(CAPABILITIES),
    scroll: z.string().min(1).max(32).optional(),
  }),
  cli: {
    options: [
      { field: 'holder', flags: '--holder <did>', description: 'the DID to check' },
      { field: 'token', flags: '--token <token>', description: 'or check this token' },
      { field: 'capability', flags: '--capability <capability>', description: CAPABILITIES.join(' | ') },
      { field: 'scroll', flags: '--scroll <scroll>', description: 'on this scroll' },
    ],
  },
  async run(context, input): Promise<CheckResult> {
    const grant = grantOf(input.capability, input.scroll);
    const now = context.clock();
    const base = {
      capability: input.capability,
      ...(grant.scroll === undefined ? {} : { scroll: grant.scroll }),
    };
    if (input.token !== undefined) {
      try {
        const claims = checkToken(context.ledger, input.token, now);
        const ok = allows(claims.grants, grant.capability, grant.scroll);
        return {
          ok,
          holder: claims.sub,
          ...base,
          via: ok ? [claims.id] : [],
          ...(ok ? {} : { reason: `the token grants ${claims.grants.map(formatGrant).join(', ')}` }),
        };
      } catch (error) {
        if (error instanceof VaultMeshError && error.kind === 'denied') {
          return { ok: false, holder: 'unknown', ...base, via: [], reason: error.message };
        }
        throw error;
      }
    }
    if (input.holder === undefined) {
      throw new VaultMeshError(
        'INVALID_ARGUMENT',
        'say whose capability to check: --holder <did> or --token <token>',
        {
          hint: 'e.g. vm identity capability check --holder did:vm:agent:ci --capability storage --scroll treasury',
        },
      );
    }
    parseDid(input.holder, '--holder');
    const state = identityState(context.ledger);
    const node = context.ledger.identity.did;
    const ok = mayGrant(state, node, input.holder, grant, now);
    const via = Object.values(state.grants)
      .filter(
        (r) =>
          r.subject === input.holder &&
          r.revoked === undefined &&
          Date.parse(r.expires_at) > now.getTime() &&
          allows(r.grants as Grant[], grant.capability, grant.scroll),
      )
      .map((r) => r.token_id);
    return {
      ok,
      holder: input.holder,
      ...base,
      via: ok ? via : [],
      ...(ok ? {} : { reason: 'no live grant of it, with its granter still holding it' }),
    };
  },
  human: (r: CheckResult) =>
    r.ok
      ? `${r.holder} HAS ${r.capability}${r.scroll === undefined ? '' : ` on ${r.scroll}`} (tokens: ${r.via.join(', ')})`
      : `${r.holder} does NOT have ${r.capability}${r.scroll === undefined ? '' : ` on ${r.scroll}`}: ${r.reason}`,
});

const rowsOf = (tokens: TokenListing[]) => ({
  columns: ['token_id', 'holder', 'grants', 'granted_by', 'expires_at', 'status'],
  rows: tokens.map((t) => [
    t.id,
    t.subject,
    t.grants.map(formatGrant).join(' '),
    t.granted_by,
    t.expires_at,
    t.revoked ? 'revoked' : 'granted',
  ]),
});

const listOperation = defineOperation({
  name: 'capability list',
  summary: 'capability tokens granted on this node, with their holders and state',
  access: 'read',
  input: z.object({ holder: didText.optional() }),
  cli: { options: [{ field: 'holder', flags: '--holder <did>', description: 'only tokens of this holder' }] },
  async run(context, input) {
    return listTokens(context.ledger).filter((t) => input.holder === undefined || t.subject === input.holder);
  },
  rows: rowsOf,
  human: (tokens: TokenListing[]) => (tokens.length === 0 ? 'no tokens granted' : textTable(rowsOf(tokens))),
});

const revokeOperation = defineOperation({
  name: 'capability revoke',
  summary: 'revoke a capability token; it is refused from then on (and so is what it granted on)',
  access: 'write',
  capability: 'admin',
  input: z.object({ tokenId: z.string().min(1).max(64), reason: z.string().min(1).max(4096) }),
  cli: {
    arguments: [{ field: 'tokenId', name: 'token-id' }],
    options: [{ field: 'reason', flags: '--reason <text>', description: 'why (goes into the receipt)' }],
  },
  async run(context, input) {
    const receipt = await revokeToken(context.ledger, input.tokenId, input.reason);
    return { token_id: input.tokenId, seq: receipt.seq, revoked_at: receipt.ts };
  },
  human: (r: { token_id: string; seq: number }) => `revoked token ${r.token_id} (identity seq ${r.seq})`,
});

export const capabilityOperations: AnyOperation[] = [
  grantOperation,
  checkOperation,
  listOperation,
  revokeOperation,
];
