/** Durable append with group commit: 1,000 drafts per emit() call, one write + fdatasync each. */
import { compareAppends } from '../append-compare.js';
import type { Benchmark } from '../context.js';
import { makeRow } from '../report.js';
import { median } from '../stats.js';

const PER_CALL = 1000;
const WARM_UP_CALLS = 2;
const SAMPLES = 5;
const BAR_RATE = 50_000;

export const appendGroup: Benchmark = {
  name: 'append-group',
  description: 'durable append, group commit (batches of 1,000 per emit call)',
  async run(ctx) {
    const calls = ctx.quick ? 20 : 100;
    const rates = await compareAppends(
      ctx,
      { warmUpCalls: WARM_UP_CALLS, calls, perCall: PER_CALL },
      SAMPLES,
    );
    return [
      makeRow({
        benchmark: this.name,
        title: 'durable append, group commit (1,000/emit)',
        unit: 'receipts/s',
        vaultmesh: { label: 'Ledger.emit()', median: median(rates.vaultmesh), samples: rates.vaultmesh },
        baseline: {
          label: 'raw writeSync+fdatasyncSync',
          median: median(rates.baseline),
          samples: rates.baseline,
        },
        bar: ({ vaultmesh: rate }) => ({
          text: `≥ ${BAR_RATE.toLocaleString('en-US')} receipts/s`,
          pass: rate >= BAR_RATE,
        }),
        notes: [
          `${calls} awaited emit() calls of ${PER_CALL} drafts per sample, after ${WARM_UP_CALLS} untimed warm-up calls, on a fresh data dir; only the emit() calls are timed`,
          'VaultMesh time includes draft validation, line sealing, the writer lock, write + fdatasync and the tree sidecar update',
          'baseline writes the same bytes (read back from the scroll file), one writeSync + fdatasyncSync per batch, to a file in the same temp dir',
        ],
      }),
    ];
  },
};
