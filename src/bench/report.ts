/** The shape of one benchmark result, and how it is shown. */

export type Unit = 'receipts/s' | 'ms';

export interface Measurement {
  /** What was measured, e.g. "VaultMesh emit()" or "raw writeSync + fdatasyncSync". */
  label: string;
  median: number;
  samples: number[];
}

export interface Bar {
  text: string;
  pass: boolean;
}

export interface BenchRow {
  /** The benchmark this row belongs to (the name `--only` takes). */
  benchmark: string;
  title: string;
  unit: Unit;
  vaultmesh: Measurement;
  baseline: Measurement | null;
  /** VaultMesh's speed as a multiple of the baseline's (> 1: VaultMesh is faster). */
  ratio: number | null;
  /** Null for rows reported for information only. */
  bar: Bar | null;
  notes: string[];
}

export interface RowInput {
  benchmark: string;
  title: string;
  unit: Unit;
  vaultmesh: Measurement;
  baseline?: Measurement;
  bar?: (row: { vaultmesh: number; baseline: number | null; ratio: number | null }) => Bar;
  notes?: string[];
}

/** Builds a row: the ratio follows from the unit (rates are higher-better, times lower-better). */
export function makeRow(input: RowInput): BenchRow {
  const vm = input.vaultmesh.median;
  const base = input.baseline?.median ?? null;
  const ratio = base === null ? null : input.unit === 'ms' ? base / vm : vm / base;
  return {
    benchmark: input.benchmark,
    title: input.title,
    unit: input.unit,
    vaultmesh: input.vaultmesh,
    baseline: input.baseline ?? null,
    ratio,
    bar: input.bar?.({ vaultmesh: vm, baseline: base, ratio }) ?? null,
    notes: input.notes ?? [],
  };
}

export function formatValue(value: number, unit: Unit): string {
  if (unit === 'receipts/s') return `${Math.round(value).toLocaleString('en-US')}/s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 1) return `${value.toFixed(1)} ms`;
  return `${(value * 1000).toFixed(1)} µs`;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×`;
}

export function resultText(row: BenchRow): string {
  if (row.bar === null) return 'info';
  return row.bar.pass ? 'PASS' : 'FAIL';
}

/** A plain-text table of the rows, one line each. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['benchmark', 'VaultMesh', 'baseline', 'ratio', 'bar', 'result'];
  const lines = rows.map((r) => [
    r.title,
    formatValue(r.vaultmesh.median, r.unit),
    r.baseline === null ? '—' : `${formatValue(r.baseline.median, r.unit)} (${r.baseline.label})`,
    formatRatio(r.ratio),
    r.bar?.text ?? '—',
    resultText(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(format)].join('\n');
}
