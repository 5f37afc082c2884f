/** Node configuration: `vaultmesh.toml` in the data directory, validated field by field. */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'smol-toml';
import { z } from 'zod';
import { VaultMeshError } from '../core/errors.js';
import { DEFAULT_MAX_BODY_BYTES } from '../core/receipt.js';

export const NODE_NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const configSchema = z.strictObject({
  node: z.strictObject({
    name: z.string().regex(NODE_NAME_RE, 'lower-case letters, digits, . _ - (up to 63 characters)'),
    origin: z
      .string()
      .regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII without spaces')
      .refine((o) => !o.includes('+'), 'must not contain "+" (it separates fields of a verifier key)'),
  }),
  ledger: z
    .strictObject({
      max_body_bytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024)
        .default(DEFAULT_MAX_BODY_BYTES),
      lock_timeout_ms: z.number().int().min(100).max(600_000).default(15_000),
    })
    .prefault({}),
  /** Validated by the Guardian itself (engines/guardian/config.ts), which knows its backends. */
  guardian: z.record(z.string(), z.unknown()).optional(),
  /** Validated by the Console engine (engines/console/config.ts). */
  console: z.record(z.string(), z.unknown()).optional(),
  http: z
    .strictObject({
      host: z.string().min(1).max(255).default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(9110),
      /** `open`: anyone who can reach the node may read; `token`: reads need a token too. */
      reads: z.enum(['open', 'token']).default('open'),
      max_request_bytes: z
        .number()
        .int()
        .min(1024)
        .max(64 * 1024 * 1024)
        .default(4 * 1024 * 1024),
      /** Requests per minute per credential (or per address, for callers without one). */
      rate_limit_per_minute: z.number().int().min(1).max(10_000_000).default(60_000),
      /** How often checkpoints are signed for scrolls that grew. */
      publish_interval_ms: z.number().int().min(100).max(3_600_000).default(1000),
    })
    .prefault({}),
});

export type NodeConfig = z.infer<typeof configSchema>;

export function defaultConfig(name: string): NodeConfig {
  return configSchema.parse({ node: { name, origin: `vaultmesh.local/${name}` } });
}

export function nodeDid(config: NodeConfig): string {
  return `did:vm:node:${config.node.name}`;
}

export function formatConfig(config: NodeConfig): string {
  return `# VaultMesh node configuration (see docs/operations.md)\n${stringify(config)}\n`;
}

/** @throws VaultMeshError INVALID_CONFIG naming the file, the key and what is expected. */
export function loadConfig(path: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new VaultMeshError('NOT_INITIALIZED', `cannot read ${path}`, {
      cause,
      hint: 'create a data directory with: vm init',
    });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (cause) {
    throw new VaultMeshError('INVALID_CONFIG', `${path} is not valid TOML: ${(cause as Error).message}`, {
      cause,
    });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VaultMeshError('INVALID_CONFIG', `${path}: ${issue.path.join('.')}: ${issue.message}`, {
      hint: 'fix the value in the file; docs/operations.md lists every setting',
      evidence: { file: path, key: issue.path.join('.') },
    });
  }
  return parsed.data;
}
