/** What every benchmark receives, and what it must provide. */
import type { DataDirFixture } from './fixtures.js';
import type { BenchRow } from './report.js';

export interface BenchContext {
  /** `--quick`: smaller data and fewer iterations, for a smoke run. */
  quick: boolean;
  /**
   * The shared data directory (1,000,000 receipts, or 100,000 with --quick), generated on first
   * use and removed at the end of the run.
   */
  fixture(): Promise<DataDirFixture>;
  log(message: string): void;
}

export interface Benchmark {
  /** The name `--only` takes. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
