/** A deployment record's contract: which artifact a component version is, and who will sign it. */
import { z } from 'zod';

/** Starts and ends with a letter or digit, so `<component>@<version>` never holds `..`. */
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?$/;

export const componentName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/,
    'expected 1-64 letters, digits and . _ + - (e.g. vaultmesh-api)',
  );
export const versionName = z.string().regex(SEGMENT, 'expected a version such as 1.4.2 or 2026.11.23-rc1');
export const artifactDigest = z
  .string()
  .transform((s) =>
    s
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, ''),
  )
  .pipe(
    z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 digest: 64 hex digits, optionally prefixed sha256:'),
  )
  .transform((hex) => `sha256:${hex}`);

export const SIGNATURE_FILES = { ed25519: 'artifact.sig', openpgp: 'artifact.asc' } as const;

export const deploymentContractSchema = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  sequential: z.literal(true).default(true),
  created_at: z.iso.datetime({ offset: true }).optional(),
  component: componentName,
  version: versionName,
  artifact_sha256: artifactDigest,
  artifact_name: z.string().max(255).optional(),
  chain_ref: z.string().min(1).max(1024).optional(),
  /** The keys that sign the artifact: the node's verifier key, an OpenPGP fingerprint. */
  signers: z.array(z.object({ alg: z.enum(['ed25519', 'openpgp']), key: z.string().min(1) })).max(2),
  stages: z
    .array(z.object({ id: z.enum(['evidence', 'signatures']), order: z.number().int(), title: z.string() }))
    .length(2),
});

export type DeploymentContract = z.infer<typeof deploymentContractSchema>;

export function deploymentId(component: string, version: string): string {
  return `${component}@${version}`;
}
