/**
 * The `[console]` table of vaultmesh.toml:
 *
 *   [console]
 *   store_content = false            # prompts and command lines are kept as hashes only
 *   approver = "did:vm:human:karol"  # who `vm console approve` acts as, unless --approver says otherwise
 *   [console.constraints]            # the contract of sessions no `vm console spawn` started
 *   require_approval_for = ["git_push", "file_delete", "Bash(npm publish:*)"]
 *   max_files_modified = 50
 *   approval_timeout_seconds = 120
 */
import { userInfo } from 'node:os';
import { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import { constraintsSchema } from '../../core/console/policy.js';
import { did } from '../../core/scrolls/define.js';
import type { Ledger } from '../../ledger/ledger.js';

const consoleConfigSchema = z.strictObject({
  store_content: z.boolean().default(false),
  approver: did.optional(),
  constraints: constraintsSchema.prefault({}),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export function consoleConfig(ledger: Ledger): ConsoleConfig {
  const parsed = consoleConfigSchema.safeParse(ledger.identity.config.console ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = `console.${issue.path.join('.')}`;
    throw new VaultMeshError('INVALID_CONFIG', `${ledger.dataDir.configFile}: ${key}: ${issue.message}`, {
      hint: 'fix the [console] table; docs/console.md lists every setting',
      evidence: { key },
    });
  }
  return parsed.data;
}

/** The DID a person at this terminal acts as: the configured approver, else one named after the OS user. */
export function localPersonDid(config: ConsoleConfig): string {
  if (config.approver !== undefined) return config.approver;
  const name = userInfo().username.replace(/[^A-Za-z0-9._-]/g, '-') || 'operator';
  return `did:vm:human:${name}`;
}
