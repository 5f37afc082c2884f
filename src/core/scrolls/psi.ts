import { anyBody, defineScroll } from './define.js';

export const psi = defineScroll({
  name: 'psi',
  title: 'PsiField',
  engineId: 'engine:psi',
  description: 'Phase transitions, emergence events and transmutations of the Psi-Field.',
  file: 'receipts/psi/psi_events.jsonl',
  rootFile: 'ROOT.psi.txt',
  types: [
    { type: 'psi_phase_transition', description: 'A phase transition.', body: anyBody },
    { type: 'psi_emergence_event', description: 'An emergence event.', body: anyBody },
    { type: 'psi_transmutation', description: 'A transmutation.', body: anyBody },
    { type: 'psi_resonance', description: 'A resonance.', body: anyBody },
    { type: 'psi_integration', description: 'An integration.', body: anyBody },
    { type: 'psi_oracle_insight', description: 'An oracle insight.', body: anyBody },
  ],
});
