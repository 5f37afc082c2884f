import { z } from 'zod';
import { anyBody, bodyWith, defineScroll } from './define.js';

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
      description: 'A combined root was anchored by a backend.',
      body: bodyWith({ backend: z.string().min(1) }),
    },
    {
      type: 'anchor_failure',
      description: 'A backend failed to anchor the combined root.',
      body: bodyWith({ backend: z.string().min(1), error: z.string() }),
    },
    {
      type: 'anchor_divergence',
      description: 'A scroll no longer extends what was anchored before.',
      body: anyBody,
    },
  ],
});
