import { z } from 'zod';
import { bodyWith, defineScroll, hashRef, identifier, timestamp } from './define.js';

const sha256Ref = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');

export const remembrancer = defineScroll({
  name: 'remembrancer',
  title: 'Remembrancer',
  engineId: 'engine:remembrancer',
  description:
    'Deployment memory: which artifact was deployed as which component version, with its evidence.',
  file: 'receipts/remembrancer/deployments.jsonl',
  rootFile: 'ROOT.remembrancer.txt',
  types: [
    {
      type: 'remembrancer_deployment',
      description: 'An artifact pinned to a component version, with its evidence file and signatures.',
      body: bodyWith({
        deployment_id: identifier,
        component: identifier,
        version: identifier,
        artifact_sha256: sha256Ref,
        evidence: z.object({
          name: z.string(),
          path: z.string(),
          sha256: sha256Ref,
          bytes: z.number().int().nonnegative(),
        }),
        chain_ref: z.string().max(1024).optional(),
        signatures: z.array(
          z.object({
            alg: z.enum(['ed25519', 'openpgp']),
            path: z.string(),
            /** The node's verifier key (ed25519) or the signing key's fingerprint (openpgp). */
            key: z.string(),
          }),
        ),
        status: z.enum(['completed', 'aborted']),
        recorded_at: timestamp,
        root_hash: hashRef,
        proof_path: z.string(),
        artifacts_manifest: z.string(),
      }),
    },
  ],
});
