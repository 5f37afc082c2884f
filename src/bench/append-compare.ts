/** Runs append samples: VaultMesh's emit() calls, then the raw baseline on the same bytes. */
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { timeEmits, type EmitPlan } from './emit-sample.js';
import { rawAppendMs } from './raw-append.js';
import { withTempDir } from './temp.js';

export interface AppendRates {
  /** Receipts per second, one value per sample. */
  vaultmesh: number[];
  baseline: number[];
}

export async function compareAppends(
  ctx: BenchContext,
  plan: EmitPlan,
  samples: number,
): Promise<AppendRates> {
  const rates: AppendRates = { vaultmesh: [], baseline: [] };
  for (let s = 0; s < samples; s++) {
    await withTempDir('append', async (dir) => {
      const sample = await timeEmits(dir, plan);
      rates.vaultmesh.push((sample.receipts / sample.ms) * 1000);
      const rawMs = rawAppendMs(join(dir, 'raw.jsonl'), sample.warmUpBatches, sample.batches);
      rates.baseline.push((sample.receipts / rawMs) * 1000);
    });
    ctx.log(`  sample ${s + 1}/${samples}`);
  }
  return rates;
}
