/** Command-line options of `node dist/bench/run.js`. */
import { parseArgs } from 'node:util';

export const DEFAULT_OUT = 'bench-results/report.json';

export interface RunOptions {
  quick: boolean;
  /** Benchmark names to run; empty means all. */
  only: string[];
  out: string;
  help: boolean;
}

export const USAGE = `usage: node dist/bench/run.js [--quick] [--only NAME[,NAME...]]... [--out FILE]

  --quick        100,000 receipts instead of 1,000,000 and shorter append runs (a smoke run)
  --only NAME    run only these benchmarks (repeatable, or comma-separated)
  --out FILE     where to write the JSON report (default ${DEFAULT_OUT})`;

export function parseOptions(argv: readonly string[], names: readonly string[]): RunOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', default: DEFAULT_OUT },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const only = values.only
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from: ${names.join(', ')}`);
  }
  return { quick: values.quick, only, out: values.out, help: values.help };
}
