/** `vm --version` cold start: a fresh Node process each time, against `node -e 0`. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from '../context.js';
import { makeRow } from '../report.js';
import { median, nowMs } from '../stats.js';

const SAMPLES = 10;
const BAR_EXTRA_MS = 120;
const VM_BIN = fileURLToPath(new URL('../../../bin/vm.js', import.meta.url));

function spawnMs(args: readonly string[]): number {
  const start = nowMs();
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = nowMs() - start;
  if (run.status !== 0) throw new Error(`cold-start: node ${args.join(' ')} failed: ${run.stderr}`);
  return ms;
}

export const coldStart: Benchmark = {
  name: 'cold-start',
  description: 'vm --version cold start against node -e 0',
  async run() {
    const vm: number[] = [];
    const node: number[] = [];
    spawnMs([VM_BIN, '--version']);
    spawnMs(['-e', '0']);
    for (let s = 0; s < SAMPLES; s++) {
      vm.push(spawnMs([VM_BIN, '--version']));
      node.push(spawnMs(['-e', '0']));
    }
    return [
      makeRow({
        benchmark: this.name,
        title: 'vm --version cold start',
        unit: 'ms',
        vaultmesh: { label: 'node bin/vm.js --version', median: median(vm), samples: vm },
        baseline: { label: 'node -e 0', median: median(node), samples: node },
        bar: ({ vaultmesh, baseline }) => ({
          text: `≤ baseline + ${BAR_EXTRA_MS} ms`,
          pass: vaultmesh <= (baseline ?? 0) + BAR_EXTRA_MS,
        }),
        notes: [`median of ${SAMPLES} spawns each, interleaved, after one untimed spawn of each`],
      }),
    ];
  },
};
