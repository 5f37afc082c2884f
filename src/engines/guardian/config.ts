/**
 * The `[guardian]` table of vaultmesh.toml: the schedule and the backends, each a list so that
 * several TSAs, calendar sets or chains can be configured side by side.
 *
 *   [guardian]
 *   interval = "10m"          # vm serve anchors on this schedule (absent: only on demand)
 *   [[guardian.rfc3161]]
 *   name = "freetsa"
 *   url = "https://freetsa.org/tsr"
 *   ca_cert_path = "tsa/cacert.pem"
 */
import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { VaultMeshError } from '../../core/errors.js';
import { loadNodeSigner } from '../../ledger/node-identity.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { AnchorBackend } from './backend.js';
import { createEthereumBackend, ethereumConfigSchema } from './backends/ethereum.js';
import { createLocalBackend } from './backends/local.js';
import { createOtsBackend, otsConfigSchema } from './backends/ots.js';
import { createRfc3161Backend, rfc3161ConfigSchema } from './backends/rfc3161.js';

const duration = (name: string) =>
  z.string().transform((value, ctx) => {
    try {
      return parseDuration(value, name);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 10m, 12h or 1d' });
      return z.NEVER;
    }
  });

export const guardianConfigSchema = z.strictObject({
  interval: duration('guardian.interval').optional(),
  stale_after: duration('guardian.stale_after').default(60 * 60 * 1000),
  timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
  attempts: z.number().int().min(1).max(10).default(3),
  retry_delay_ms: z.number().int().min(0).max(600_000).default(1000),
  local: z.boolean().default(true),
  rfc3161: z.array(rfc3161ConfigSchema).default([]),
  ots: z.array(otsConfigSchema).default([]),
  ethereum: z.array(ethereumConfigSchema).default([]),
});
export type GuardianConfig = z.infer<typeof guardianConfigSchema>;

export function guardianConfig(ledger: Ledger): GuardianConfig {
  const parsed = guardianConfigSchema.safeParse(ledger.identity.config.guardian ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VaultMeshError(
      'INVALID_CONFIG',
      `${ledger.dataDir.configFile}: guardian.${issue.path.join('.')}: ${issue.message}`,
      {
        hint: 'fix the [guardian] table; docs/guardian.md lists every setting',
        evidence: { key: `guardian.${issue.path.join('.')}` },
      },
    );
  }
  return parsed.data;
}

/** Every configured backend, named uniquely; paths in the config are relative to the data directory. */
export function configuredBackends(
  ledger: Ledger,
  config: GuardianConfig,
  clock: () => Date,
): AnchorBackend[] {
  const base = ledger.dataDir.root;
  const backends: AnchorBackend[] = [
    ...(config.local
      ? [createLocalBackend(loadNodeSigner(ledger.dataDir), ledger.identity.verifier, clock)]
      : []),
    ...config.rfc3161.map((c) => createRfc3161Backend(c, base)),
    ...config.ots.map((c) => createOtsBackend(c)),
    ...config.ethereum.map((c) => createEthereumBackend(c, base)),
  ];
  const seen = new Set<string>();
  for (const backend of backends) {
    if (seen.has(backend.name)) {
      throw new VaultMeshError('INVALID_CONFIG', `two guardian backends are named "${backend.name}"`, {
        hint: 'give every [[guardian.*]] entry its own name',
      });
    }
    seen.add(backend.name);
  }
  return backends;
}
