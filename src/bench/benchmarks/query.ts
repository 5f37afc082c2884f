/** Query by type and time range on the shared data directory, against a full scan of the JSONL. */
import { BENCH_SCROLL, RARE_TYPE } from '../drafts.js';
import type { ReceiptQuery } from '../../ledger/query-index.js';
import { Ledger } from '../../ledger/ledger.js';
import { forEachLine } from '../bare-scan.js';
import type { Benchmark } from '../context.js';
import type { DataDirFixture } from '../fixtures.js';
import { makeRow } from '../report.js';
import { median, nowMs } from '../stats.js';

const QUERY_SAMPLES = 10;
const SCAN_SAMPLES = 5;
const BAR_MS = 50;
const BAR_RATIO = 20;

/** Settlements (10% of receipts) over 1% of the time span, from its middle; no limit is reached. */
function benchQuery(
  fixture: DataDirFixture,
): Required<Pick<ReceiptQuery, 'types' | 'from' | 'to' | 'limit'>> {
  const width = Math.max(1, Math.round(fixture.batches / 100));
  const first = Math.floor(fixture.batches / 2);
  const at = (batch: number) => new Date(fixture.startMs + batch * fixture.tickMs).toISOString();
  return { types: [RARE_TYPE], from: at(first), to: at(first + width), limit: 100_000 };
}

/** The baseline: read every line, JSON.parse it, keep it if it matches. */
function scan(path: string, q: ReturnType<typeof benchQuery>): number[] {
  const seqs: number[] = [];
  forEachLine(path, (line) => {
    const r = JSON.parse(line.toString('utf8')) as { seq: number; type: string; ts: string };
    if (q.types.includes(r.type) && r.ts >= q.from && r.ts < q.to && seqs.length < q.limit) seqs.push(r.seq);
  });
  return seqs;
}

export const query: Benchmark = {
  name: 'query',
  description: 'query by type and time range (SQLite index) against a full JSONL scan',
  async run(ctx) {
    const fixture = await ctx.fixture();
    const q = benchQuery(fixture);
    const ledger = Ledger.open(fixture.dir);
    const indexed: number[] = [];
    const scanned: number[] = [];
    let buildMs: number;
    let found: number[];
    try {
      ledger.resetQueryIndex(BENCH_SCROLL);
      let start = nowMs();
      found = ledger.query(BENCH_SCROLL, q).map((r) => r.seq);
      buildMs = nowMs() - start;
      ctx.log(`  index built by the first query in ${(buildMs / 1000).toFixed(1)} s`);
      for (let s = 0; s < QUERY_SAMPLES; s++) {
        start = nowMs();
        ledger.query(BENCH_SCROLL, q);
        indexed.push(nowMs() - start);
      }
      for (let s = 0; s < SCAN_SAMPLES; s++) {
        start = nowMs();
        const seqs = scan(fixture.jsonlPath, q);
        scanned.push(nowMs() - start);
        if (seqs.join() !== found.join()) throw new Error('query: the index and the scan disagree');
      }
    } finally {
      await ledger.close();
    }
    const what = `${q.types.join(',')} in [${q.from}, ${q.to}): ${found.length} of ${fixture.receipts.toLocaleString('en-US')} receipts`;
    return [
      makeRow({
        benchmark: this.name,
        title: 'query by type + time range (index built)',
        unit: 'ms',
        vaultmesh: { label: 'Ledger.query()', median: median(indexed), samples: indexed },
        baseline: { label: 'full JSONL scan', median: median(scanned), samples: scanned },
        bar: ({ vaultmesh, ratio }) => ({
          text: `≤ ${BAR_MS} ms and ≥ ${BAR_RATIO}× scan`,
          pass: vaultmesh <= BAR_MS && (ratio ?? 0) >= BAR_RATIO,
        }),
        notes: [
          `${what}; results identical to the scan's`,
          'Ledger.query time includes the index freshness check, the SQL query and reading back + JSON.parse of every match from the JSONL',
          'scan: 8 MiB readSync chunks, JSON.parse of every line, filter on type and ts',
        ],
      }),
      makeRow({
        benchmark: this.name,
        title: 'query index first build',
        unit: 'ms',
        vaultmesh: { label: 'first Ledger.query()', median: buildMs, samples: [buildMs] },
        notes: [
          `one run: the index is built (from empty) by the first query, ${Math.round((fixture.receipts / buildMs) * 1000).toLocaleString('en-US')} receipts/s`,
        ],
      }),
    ];
  },
};
