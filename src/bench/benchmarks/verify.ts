/** `vm verify` (verifyScroll, default mode) on the shared data directory, against a bare read + hash. */
import { BENCH_SCROLL } from '../drafts.js';
import { hash } from 'node:crypto';
import { getScroll } from '../../core/scrolls/index.js';
import { Ledger } from '../../ledger/ledger.js';
import { verifyScroll } from '../../ledger/verify.js';
import { forEachLine } from '../bare-scan.js';
import type { Benchmark } from '../context.js';
import { makeRow } from '../report.js';
import { median, nowMs } from '../stats.js';

const SAMPLES = 5;
const BAR_RATIO = 0.5;

export const verify: Benchmark = {
  name: 'verify',
  description: 'vm verify (verifyScroll, default mode) against reading the JSONL and hashing each line',
  async run(ctx) {
    const fixture = await ctx.fixture();
    const ledger = Ledger.open(fixture.dir);
    const vaultmesh: number[] = [];
    const baseline: number[] = [];
    try {
      for (let s = 0; s < SAMPLES; s++) {
        let start = nowMs();
        const result = await verifyScroll(ledger, getScroll(BENCH_SCROLL));
        vaultmesh.push((fixture.receipts / (nowMs() - start)) * 1000);
        if (!result.ok || result.lines !== fixture.receipts) {
          throw new Error(`verify: the fixture did not verify: ${JSON.stringify(result.findings[0])}`);
        }
        start = nowMs();
        const lines = forEachLine(fixture.jsonlPath, (line) => hash('sha256', line, 'buffer'));
        baseline.push((lines / (nowMs() - start)) * 1000);
        ctx.log(`  sample ${s + 1}/${SAMPLES}`);
      }
    } finally {
      await ledger.close();
    }
    return [
      makeRow({
        benchmark: this.name,
        title: `vm verify, ${fixture.receipts.toLocaleString('en-US')} receipts`,
        unit: 'receipts/s',
        vaultmesh: { label: 'verifyScroll()', median: median(vaultmesh), samples: vaultmesh },
        baseline: { label: 'bare read + SHA-256 per line', median: median(baseline), samples: baseline },
        bar: ({ ratio }) => ({ text: `≥ ${BAR_RATIO}× bare`, pass: (ratio ?? 0) >= BAR_RATIO }),
        notes: [
          'verifyScroll recomputes every leaf and the root, compares with the sidecar, the signed checkpoint and the ROOT file',
          'baseline: 8 MiB readSync chunks, one node:crypto SHA-256 per line, nothing else; warm page cache for both',
        ],
      }),
    ];
  },
};
