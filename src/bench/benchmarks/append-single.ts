/** Durable append, one receipt per emit() call, each awaited: one fdatasync per receipt. */
import { compareAppends } from '../append-compare.js';
import type { Benchmark } from '../context.js';
import { makeRow } from '../report.js';
import { median } from '../stats.js';

const WARM_UP_CALLS = 20;
const SAMPLES = 5;
const BAR_RATIO = 0.8;

export const appendSingle: Benchmark = {
  name: 'append-single',
  description: 'durable append, one fsync per receipt',
  async run(ctx) {
    const calls = ctx.quick ? 300 : 2000;
    const rates = await compareAppends(ctx, { warmUpCalls: WARM_UP_CALLS, calls, perCall: 1 }, SAMPLES);
    return [
      makeRow({
        benchmark: this.name,
        title: 'durable append, 1 fsync per receipt',
        unit: 'receipts/s',
        vaultmesh: { label: 'Ledger.emit() x1', median: median(rates.vaultmesh), samples: rates.vaultmesh },
        baseline: {
          label: 'raw write+fdatasync per line',
          median: median(rates.baseline),
          samples: rates.baseline,
        },
        bar: ({ ratio }) => ({ text: `≥ ${BAR_RATIO}× baseline`, pass: (ratio ?? 0) >= BAR_RATIO }),
        notes: [
          `${calls} emit() calls of one draft each, awaited one after the other, after ${WARM_UP_CALLS} untimed warm-up calls, on a fresh data dir`,
          'baseline writes the same lines, one writeSync + fdatasyncSync per line',
        ],
      }),
    ];
  },
};
