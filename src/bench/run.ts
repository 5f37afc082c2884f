/**
 * `npm run bench`: runs the benchmarks, each against its baseline in the same process, prints a
 * table and writes a JSON report. Exits 1 when a bar is missed, 2 when the harness itself fails.
 */
import { loadavg } from 'node:os';
import { BENCHMARKS } from './benchmarks/index.js';
import type { BenchContext } from './context.js';
import { generateDataDir, type DataDirFixture } from './fixtures.js';
import { describeMachine, machineInfo } from './machine.js';
import { parseOptions, USAGE, type RunOptions } from './options.js';
import { formatTable, type BenchRow } from './report.js';
import { buildReport, round, writeReport } from './report-file.js';
import { nowMs } from './stats.js';
import { makeTempDir, removeAllTempDirs } from './temp.js';

const FULL_SCALE = 1_000_000;
const QUICK_SCALE = 100_000;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function runAll(options: RunOptions): Promise<void> {
  const started = nowMs();
  const machine = machineInfo();
  const receipts = options.quick ? QUICK_SCALE : FULL_SCALE;
  const selected = BENCHMARKS.filter((b) => options.only.length === 0 || options.only.includes(b.name));
  const loadAtStart = loadavg()[0]!;
  log(`VaultMesh bench (${options.quick ? 'quick' : 'full'}) on ${describeMachine(machine)}`);
  if (loadAtStart > 0.5 * machine.cores) {
    log(`warning: load average is ${loadAtStart.toFixed(2)}; other processes will skew the results`);
  }

  let fixture: Promise<DataDirFixture> | undefined;
  let fixtureDone: DataDirFixture | undefined;
  const ctx: BenchContext = {
    quick: options.quick,
    log,
    fixture: () =>
      (fixture ??= (async () => {
        log(`generating the shared data dir: ${receipts.toLocaleString('en-US')} receipts via Ledger.emit()`);
        fixtureDone = await generateDataDir(makeTempDir('data'), receipts, log);
        log(`  done in ${(fixtureDone.generateMs / 1000).toFixed(1)} s`);
        return fixtureDone;
      })()),
  };

  const rows: BenchRow[] = [];
  try {
    for (const benchmark of selected) {
      log(`${benchmark.name}: ${benchmark.description}`);
      const t = nowMs();
      rows.push(...(await benchmark.run(ctx)));
      log(`  ${benchmark.name} took ${((nowMs() - t) / 1000).toFixed(1)} s`);
    }
  } finally {
    removeAllTempDirs();
  }

  const report = buildReport({
    quick: options.quick,
    machine,
    loadAverage1m: { start: round(loadAtStart, 2), end: round(loadavg()[0]!, 2) },
    receipts,
    fixture: fixtureDone,
    rows,
    totalMs: nowMs() - started,
  });
  const out = writeReport(options.out, report);
  const { bars, passed } = report.summary;
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  process.stdout.write(
    `${passed} of ${bars} bars met; report written to ${out} (${report.totalSeconds} s)\n`,
  );
  if (passed < bars) process.exitCode = 1;
}

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      removeAllTempDirs();
      process.exit(130);
    });
  }
  let options: RunOptions;
  try {
    options = parseOptions(
      process.argv.slice(2),
      BENCHMARKS.map((b) => b.name),
    );
  } catch (error) {
    log(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    const list = BENCHMARKS.map((b) => `  ${b.name.padEnd(16)} ${b.description}`).join('\n');
    process.stdout.write(`${USAGE}\n\nbenchmarks:\n${list}\n`);
    return;
  }
  try {
    await runAll(options);
  } catch (error) {
    log(`bench failed: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 2;
  }
}

await main();
