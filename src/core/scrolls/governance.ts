import { anyBody, defineScroll } from './define.js';

export const governance = defineScroll({
  name: 'governance',
  title: 'Governance',
  engineId: 'engine:governance',
  description: 'Constitutional rules: proposals, votes, ratifications, amendments, enforcement.',
  file: 'receipts/governance/governance_events.jsonl',
  rootFile: 'ROOT.governance.txt',
  types: [
    { type: 'gov_proposal', description: 'A proposal was submitted.', body: anyBody },
    { type: 'gov_vote', description: 'A vote was cast.', body: anyBody },
    { type: 'gov_ratification', description: 'A proposal was ratified.', body: anyBody },
    { type: 'gov_amendment', description: 'The constitution was amended.', body: anyBody },
    { type: 'gov_executive_order', description: 'An executive order was issued.', body: anyBody },
    { type: 'gov_violation', description: 'A violation was recorded.', body: anyBody },
    { type: 'gov_enforcement', description: 'An enforcement action was taken.', body: anyBody },
  ],
});
