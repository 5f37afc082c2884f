/**
 * Capability tokens: bearer credentials the node signs, naming who holds them and what they may do.
 * A token is `vmt1.<payload>.<signature>`, both base64url: the payload is the JCS of the claims, and
 * the signature is Ed25519 by the node key over `vaultmesh-token@v1\n` followed by the payload text,
 * so a token signature can never be taken for a checkpoint or note signature.
 */
import { base64urlnopad } from '@scure/base';
import { z } from 'zod';
import { fromUtf8, utf8 } from './bytes.js';
import { canonicalJson } from './canonical.js';
import { VaultMeshError } from './errors.js';

export const CAPABILITIES = ['read', 'storage', 'anchor', 'compute', 'oracle', 'admin', 'federate'] as const;
export type Capability = (typeof CAPABILITIES)[number];

const PREFIX = 'vmt1';
const DOMAIN = 'vaultmesh-token@v1\n';
const MAX_TOKEN_CHARS = 8192;

const grantSchema = z.strictObject({
  capability: z.enum(CAPABILITIES),
  /** A scroll name, or absent for every scroll. */
  scroll: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional(),
});
export type Grant = z.infer<typeof grantSchema>;

const claimsSchema = z.strictObject({
  v: z.literal(1),
  id: z.string().regex(/^[a-z0-9-]{8,64}$/),
  sub: z.string().min(1).max(200),
  iss: z.string().min(1).max(200),
  grants: z.array(grantSchema).min(1).max(32),
  iat: z.iso.datetime(),
  exp: z.iso.datetime(),
  /** The key of `iss` that signed, when `iss` is a DID other than the node's. */
  kid: z.string().min(1).max(300).optional(),
  constraints: z
    .strictObject({
      /** The caller's address must be one of these. */
      source_ip: z.array(z.string().min(1).max(64)).min(1).max(32).optional(),
    })
    .optional(),
});
export type TokenClaims = z.infer<typeof claimsSchema>;

export interface TokenSigner {
  sign(message: Uint8Array): Uint8Array;
}
export interface TokenVerifier {
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export function formatToken(claims: TokenClaims, signer: TokenSigner): string {
  const payload = base64urlnopad.encode(utf8(canonicalJson(claimsSchema.parse(claims))));
  const signature = signer.sign(utf8(DOMAIN + payload));
  return `${PREFIX}.${payload}.${base64urlnopad.encode(signature)}`;
}

const invalid = (why: string) =>
  new VaultMeshError('TOKEN_INVALID', `the bearer token is not valid: ${why}`, {
    hint: 'use a token issued by this node (vm token create), copied whole',
  });

interface TokenParts {
  payload: string;
  signature: Uint8Array;
  claims: TokenClaims;
}

function splitToken(text: string): TokenParts {
  if (text.length > MAX_TOKEN_CHARS) throw invalid('too long');
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw invalid(`expected ${PREFIX}.<payload>.<signature>`);
  const [, payload, signature] = parts as [string, string, string];
  let sig: Uint8Array;
  let json: unknown;
  try {
    sig = base64urlnopad.decode(signature);
    json = JSON.parse(fromUtf8(base64urlnopad.decode(payload)));
  } catch {
    throw invalid('not base64url JSON');
  }
  const parsed = claimsSchema.safeParse(json);
  if (!parsed.success) throw invalid(`claims: ${parsed.error.issues[0]!.path.join('.')}`);
  return { payload, signature: sig, claims: parsed.data };
}

/**
 * The claims a token says it has, before anything is verified: who signed it (`iss`, `kid`) is what
 * tells the verifier which key to check it with.
 * @throws VaultMeshError TOKEN_INVALID.
 */
export function readTokenClaims(text: string): TokenClaims {
  return splitToken(text).claims;
}

/**
 * Checks a token's form, signature and validity period. Revocation is the ledger's business.
 * @throws VaultMeshError TOKEN_INVALID or TOKEN_EXPIRED.
 */
export function verifyToken(text: string, verifier: TokenVerifier, now: Date): TokenClaims {
  const { payload, signature, claims } = splitToken(text);
  if (!verifier.verify(utf8(DOMAIN + payload), signature)) throw invalid('the signature does not verify');
  if (Date.parse(claims.exp) <= now.getTime()) {
    throw new VaultMeshError('TOKEN_EXPIRED', `token ${claims.id} expired at ${claims.exp}`, {
      hint: 'ask the node operator for a new token (vm token create)',
    });
  }
  return claims;
}

/** Whether the grants allow `capability` on `scroll`; `admin` allows everything. */
export function allows(grants: readonly Grant[], capability: Capability, scroll?: string): boolean {
  return grants.some(
    (g) =>
      g.capability === 'admin' ||
      (g.capability === capability && (g.scroll === undefined || g.scroll === scroll)),
  );
}

/** `storage`, `storage:treasury`, `anchor`: the command-line form of a grant. */
export function parseGrant(text: string): Grant {
  const [capability, scroll, extra] = text.split(':');
  const parsed = grantSchema.safeParse({ capability, ...(scroll === undefined ? {} : { scroll }) });
  if (!parsed.success || extra !== undefined) {
    throw new VaultMeshError('INVALID_ARGUMENT', `--grant "${text}" is not <capability>[:<scroll>]`, {
      hint: `capabilities: ${CAPABILITIES.join(', ')}; e.g. --grant storage:treasury or --grant anchor`,
    });
  }
  return parsed.data;
}

export function formatGrant(grant: Grant): string {
  return grant.scroll === undefined ? grant.capability : `${grant.capability}:${grant.scroll}`;
}
