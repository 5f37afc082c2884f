/** The JSON report: the machine, the shared data directory, and every row with its samples. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataDirFixture } from './fixtures.js';
import type { MachineInfo } from './machine.js';
import type { BenchRow } from './report.js';

export interface ReportInput {
  quick: boolean;
  machine: MachineInfo;
  loadAverage1m: { start: number; end: number };
  receipts: number;
  fixture: DataDirFixture | undefined;
  rows: BenchRow[];
  totalMs: number;
}

export function buildReport(input: ReportInput) {
  const withBar = input.rows.filter((r) => r.bar !== null);
  const failed = withBar.filter((r) => r.bar?.pass === false).map((r) => r.title);
  const f = input.fixture;
  return {
    generatedAt: new Date().toISOString(),
    mode: input.quick ? 'quick' : 'full',
    machine: input.machine,
    loadAverage1m: input.loadAverage1m,
    scale: { receipts: input.receipts },
    fixture:
      f === undefined
        ? null
        : {
            receipts: f.receipts,
            jsonlBytes: f.jsonlBytes,
            averageLineBytes: round(f.jsonlBytes / f.receipts, 1),
            generateMs: Math.round(f.generateMs),
            generateReceiptsPerSecond: Math.round((f.receipts / f.generateMs) * 1000),
          },
    ratioDefinition:
      "VaultMesh's speed as a multiple of the baseline's: rate/rate, or time(baseline)/time(VaultMesh)",
    benchmarks: input.rows,
    summary: { bars: withBar.length, passed: withBar.length - failed.length, failed },
    totalSeconds: round(input.totalMs / 1000, 1),
  };
}

export type Report = ReturnType<typeof buildReport>;

/** Writes the report, creating its directory; returns the absolute path. */
export function writeReport(path: string, report: Report): string {
  const out = resolve(path);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  return out;
}

export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
