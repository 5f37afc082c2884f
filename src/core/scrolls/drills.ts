import { z } from 'zod';
import { bodyWith, count, defineScroll, hashRef, identifier, stringList, timestamp } from './define.js';

export const drills = defineScroll({
  name: 'drills',
  title: 'Drills',
  engineId: 'engine:drills',
  description: 'Security drills and exercises: plan, run, seal.',
  file: 'receipts/drills/drill_runs.jsonl',
  rootFile: 'ROOT.drills.txt',
  types: [
    {
      type: 'security_drill_run',
      description: 'A sealed security drill with its stages, domains and evidence manifest.',
      body: bodyWith({
        drill_id: identifier,
        title: z.string().optional(),
        prompt: z.string(),
        timestamp_started: timestamp,
        timestamp_completed: timestamp.optional(),
        status: z.enum(['pending', 'in_progress', 'completed', 'aborted']),
        abort_reason: z.string().optional(),
        stages_total: count,
        stages_completed: count,
        domains: stringList,
        workflows: stringList,
        severity: z.string().optional(),
        /** blake3 of the case's ARTIFACTS.sha256, which pins contract, state and every output. */
        root_hash: hashRef.optional(),
        proof_path: z.string().optional(),
        artifacts_manifest: z.string().optional(),
      }),
    },
  ],
});
