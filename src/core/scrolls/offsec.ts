import { anyBody, defineScroll } from './define.js';

export const offsec = defineScroll({
  name: 'offsec',
  title: 'OffSec',
  engineId: 'engine:offsec',
  description: 'Security incidents, red-team engagements and vulnerability tracking.',
  file: 'receipts/offsec/offsec_events.jsonl',
  rootFile: 'ROOT.offsec.txt',
  types: [
    { type: 'offsec_incident', description: 'A security incident was recorded.', body: anyBody },
    { type: 'offsec_redteam', description: 'A red-team engagement was recorded.', body: anyBody },
    { type: 'offsec_vuln_discovery', description: 'A vulnerability was discovered.', body: anyBody },
    { type: 'offsec_remediation', description: 'A remediation was applied.', body: anyBody },
    { type: 'offsec_threat_intel', description: 'Threat intelligence was ingested.', body: anyBody },
    { type: 'offsec_forensic_snapshot', description: 'A forensic snapshot was sealed.', body: anyBody },
  ],
});
