import { anyBody, defineScroll } from './define.js';

export const federation = defineScroll({
  name: 'federation',
  title: 'Federation',
  engineId: 'engine:federation',
  description: 'Cross-mesh trust, witness verification and cross-anchoring.',
  file: 'receipts/federation/federation_events.jsonl',
  rootFile: 'ROOT.federation.txt',
  types: [
    { type: 'fed_trust_proposal', description: 'A trust relationship was proposed.', body: anyBody },
    { type: 'fed_trust_established', description: 'A trust relationship was established.', body: anyBody },
    { type: 'fed_trust_revoked', description: 'A trust relationship was revoked.', body: anyBody },
    { type: 'fed_witness_event', description: 'A peer witnessed a checkpoint.', body: anyBody },
    { type: 'fed_cross_anchor', description: 'Roots were anchored across meshes.', body: anyBody },
    { type: 'fed_schema_sync', description: 'Receipt schemas were synchronized.', body: anyBody },
  ],
});
