import { z } from 'zod';
import { bodyWith, count, defineScroll, identifier, timestamp } from './define.js';

const sha256Ref = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>');
const anchorId = identifier;
const backend = {
  anchor_id: anchorId,
  backend: z.string().min(1),
  kind: z.enum(['local', 'rfc3161', 'ots', 'ethereum']),
  endpoint: z.string(),
  combined_root: sha256Ref,
};

export const guardian = defineScroll({
  name: 'guardian',
  title: 'Guardian',
  engineId: 'engine:guardian',
  description: 'Anchor cycles: roots submitted to outside time and peers, failures and divergences.',
  file: 'receipts/guardian/anchor_events.jsonl',
  rootFile: 'ROOT.guardian.txt',
  types: [
    {
      type: 'anchor_success',
      description: 'A backend anchored the combined root of the scrolls (evidence kept under anchors/).',
      body: bodyWith({
        ...backend,
        status: z.enum(['confirmed', 'pending']),
        scrolls: count,
        evidence: z.array(z.object({ name: z.string(), sha256: sha256Ref })),
        time: timestamp.optional(),
        attempts: count,
      }),
    },
    {
      type: 'anchor_failure',
      description: 'A backend failed to anchor the combined root; the others were not held back.',
      body: bodyWith({ ...backend, code: z.string(), error: z.string(), attempts: count }),
    },
    {
      type: 'anchor_divergence',
      description: 'A scroll no longer extends what was anchored before: its history was rewritten.',
      body: bodyWith({
        scroll: z.string(),
        anchor_id: anchorId,
        anchored_size: count,
        anchored_root: sha256Ref,
        current_size: count,
        reason: z.string(),
      }),
    },
    {
      type: 'anchor_upgrade',
      description: 'Pending evidence of an anchor was completed (an OpenTimestamps attestation).',
      body: bodyWith({
        ...backend,
        status: z.enum(['confirmed', 'pending']),
        evidence: z.array(z.object({ name: z.string(), sha256: sha256Ref })),
      }),
    },
  ],
});
