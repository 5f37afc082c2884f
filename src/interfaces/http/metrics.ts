/** Prometheus metrics of a node: appends and their durable-write latency, scroll sizes, HTTP latencies. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SCROLLS } from '../../core/scrolls/index.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { BatchObserver } from '../../ledger/scroll-log.js';

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly appends = new Counter({
    name: 'vaultmesh_appends_total',
    help: 'Receipts appended durably, by scroll.',
    labelNames: ['scroll'],
    registers: [this.registry],
  });
  private readonly batchSync = new Histogram({
    name: 'vaultmesh_append_sync_seconds',
    help: 'Time to write and fdatasync one group-commit batch.',
    labelNames: ['scroll'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'vaultmesh_append_batch_receipts',
    help: 'Receipts per group-commit batch.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly http = new Histogram({
    name: 'vaultmesh_http_request_duration_seconds',
    help: 'HTTP request latency by route and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'vaultmesh_process_' });
  }

  readonly onBatch: BatchObserver = (scroll, receipts, syncSeconds) => {
    this.appends.inc({ scroll }, receipts);
    this.batchSync.observe({ scroll }, syncSeconds);
    this.batchSize.observe(receipts);
  };

  /** Seconds since each backend last anchored (absent until it has), read when scraped. */
  watchAnchors(status: () => Array<{ backend: string; age_seconds: number | null }>): void {
    new Gauge({
      name: 'vaultmesh_anchor_age_seconds',
      help: 'Seconds since the last successful anchor, by backend.',
      labelNames: ['backend'],
      registers: [this.registry],
      collect() {
        for (const s of status()) if (s.age_seconds !== null) this.set({ backend: s.backend }, s.age_seconds);
      },
    });
  }

  /** Scroll sizes and checkpoint ages are read when scraped, so they are never stale. */
  watch(ledger: Ledger): void {
    new Gauge({
      name: 'vaultmesh_scroll_receipts',
      help: 'Receipts in each scroll.',
      labelNames: ['scroll'],
      registers: [this.registry],
      collect() {
        for (const s of SCROLLS) this.set({ scroll: s.name }, ledger.status(s.name).size);
      },
    });
    new Gauge({
      name: 'vaultmesh_checkpoint_lag_receipts',
      help: 'Receipts appended since the last signed checkpoint, by scroll.',
      labelNames: ['scroll'],
      registers: [this.registry],
      collect() {
        for (const s of SCROLLS) {
          const status = ledger.status(s.name);
          this.set({ scroll: s.name }, status.size - (status.checkpointSize ?? 0));
        }
      },
    });
  }
}
