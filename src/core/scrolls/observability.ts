import { anyBody, defineScroll } from './define.js';

export const observability = defineScroll({
  name: 'observability',
  title: 'Observability',
  engineId: 'engine:observability',
  description: 'Metrics, logs, traces, alerts and SLO reports.',
  file: 'receipts/observability/observability_events.jsonl',
  rootFile: 'ROOT.observability.txt',
  types: [
    { type: 'obs_metric_snapshot', description: 'A metrics snapshot.', body: anyBody },
    { type: 'obs_log_batch', description: 'A batch of log records, by hash.', body: anyBody },
    { type: 'obs_trace_complete', description: 'A completed trace.', body: anyBody },
    { type: 'obs_alert_fired', description: 'An alert fired.', body: anyBody },
    { type: 'obs_alert_resolved', description: 'An alert was resolved.', body: anyBody },
    { type: 'obs_slo_report', description: 'An SLO report.', body: anyBody },
    { type: 'obs_anomaly_detected', description: 'An anomaly was detected.', body: anyBody },
  ],
});
