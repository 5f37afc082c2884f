/**
 * Crash safety: a writer process appending through the Ledger API is killed with SIGKILL in the
 * middle of its run (sometimes with a torn, half-written last line added by hand, as a crash inside
 * write() leaves). When the scroll is opened again every receipt that was acknowledged is still
 * there, intact; the unfinished tail is cut and kept under index/<scroll>/torn-*.bin; and the
 * scroll verifies.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OBSERVABILITY_FILE,
  assertBuilt,
  entryBody,
  initNode,
  makeTempDir,
  parseAcks,
  readReceipts,
  vm,
  vmAsync,
  workerArgs,
  writeWorker,
  type Ack,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

const TORN = '{"body":{"x';

interface CrashScenario {
  name: string;
  /** SIGKILL the writer once it has acknowledged at least this many receipts. */
  killAfter: number;
  /** Append a half-written line by hand after the kill. */
  tornTail: boolean;
  /** What opens the scroll for writing again. */
  reopen: 'emit' | 'checkpoint';
}

const SCENARIOS: CrashScenario[] = [
  {
    name: 'killed after 300 acks, torn tail, reopened by vm emit',
    killAfter: 300,
    tornTail: true,
    reopen: 'emit',
  },
  { name: 'killed after 700 acks, reopened by vm emit', killAfter: 700, tornTail: false, reopen: 'emit' },
  {
    name: 'killed after 150 acks, torn tail, reopened by vm checkpoint',
    killAfter: 150,
    tornTail: true,
    reopen: 'checkpoint',
  },
];

interface CrashOutcome {
  data: string;
  acks: Ack[];
  signal: NodeJS.Signals | null;
  /** The JSONL right after the kill (and the hand-made torn tail). */
  afterCrash: Buffer;
  verifyBefore: VmResult;
  reopened: VmResult;
}

/** Runs a worker until it has acknowledged `killAfter` receipts, then SIGKILLs it. */
function runAndKill(
  script: string,
  data: string,
  scenario: CrashScenario,
): Promise<{ acks: Ack[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      workerArgs(script, {
        dataDir: data,
        count: 1_000_000,
        batchSizes: [1, 2, 5, 3, 8],
        parallel: 3,
        prefix: `k${scenario.killAfter}`,
        publishEvery: 64,
      }),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let lines = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (const c of chunk) if (c === '\n') lines++;
      if (lines >= scenario.killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL')
        reject(new Error(`worker ended with ${code ?? signal} before the kill: ${stderr}`));
      // Only whole lines are acknowledgements (each batch's acks go out in one small atomic write).
      else resolvePromise({ acks: parseAcks(stdout.slice(0, stdout.lastIndexOf('\n') + 1)), signal });
    });
  });
}

const outcomes = new Map<string, CrashOutcome>();
let tmp: ReturnType<typeof makeTempDir>;

beforeAll(async () => {
  tmp = makeTempDir('crash');
  const script = writeWorker(tmp.dir);
  // The scenarios run side by side in their own data directories: after a SIGKILL the next writer
  // waits for the dead holder's lock to go stale, and those waits overlap.
  await Promise.all(
    SCENARIOS.map(async (scenario, i) => {
      const data = join(tmp.dir, `data-${i}`);
      initNode(data);
      const { acks, signal } = await runAndKill(script, data, scenario);
      const file = join(data, OBSERVABILITY_FILE);
      if (scenario.tornTail) appendFileSync(file, TORN);
      const afterCrash = readFileSync(file);
      const verifyBefore = await vmAsync(['--format', 'json', 'verify', 'observability'], { data });
      const reopened =
        scenario.reopen === 'emit'
          ? await vmAsync(
              [
                'emit',
                'observability',
                'obs_metric_snapshot',
                '--body',
                JSON.stringify(entryBody('after-crash')),
              ],
              {
                data,
              },
            )
          : await vmAsync(['checkpoint', 'observability'], { data });
      outcomes.set(scenario.name, { data, acks, signal, afterCrash, verifyBefore, reopened });
    }),
  );
}, 120_000);
afterAll(() => tmp?.remove());

function tornFiles(data: string): string[] {
  const dir = join(data, 'index/observability');
  return readdirSync(dir).filter((name) => /^torn-\d+\.bin$/.test(name));
}

describe.each(SCENARIOS)('a writer $name', (scenario) => {
  const outcome = (): CrashOutcome => outcomes.get(scenario.name)!;

  it('was killed mid-run, after acknowledging receipts', () => {
    const { acks, signal } = outcome();
    expect(signal).toBe('SIGKILL');
    expect(acks.length).toBeGreaterThanOrEqual(scenario.killAfter);
  });

  it('an unfinished tail is not tampering: vm verify passes before the repair and notes it', () => {
    const { verifyBefore, afterCrash } = outcome();
    const report = JSON.parse(verifyBefore.stdout) as { ok: boolean; scrolls: { tornBytes: number }[] };
    expect(verifyBefore.status, verifyBefore.stdout).toBe(0);
    expect(report.ok).toBe(true);
    const tail = afterCrash.length - (afterCrash.lastIndexOf(0x0a) + 1);
    expect(report.scrolls[0]!.tornBytes).toBe(tail);
    if (scenario.tornTail) expect(tail).toBeGreaterThanOrEqual(TORN.length);
  });

  it(`reopening with vm ${scenario.reopen} succeeds and cuts the unfinished tail into torn-*.bin`, () => {
    const { data, afterCrash, reopened } = outcome();
    expect(reopened.status, reopened.stderr).toBe(0);
    const file = join(data, OBSERVABILITY_FILE);
    const now = readFileSync(file);
    expect(now[now.length - 1]).toBe(0x0a);
    const complete = afterCrash.lastIndexOf(0x0a) + 1;
    // Everything complete before the repair is still there, byte for byte.
    expect(now.subarray(0, complete).equals(afterCrash.subarray(0, complete))).toBe(true);
    if (complete < afterCrash.length) {
      expect(tornFiles(data)).toEqual([`torn-${complete}.bin`]);
      expect(
        readFileSync(join(data, 'index/observability', `torn-${complete}.bin`)).equals(
          afterCrash.subarray(complete),
        ),
      ).toBe(true);
    }
    if (scenario.reopen === 'emit') {
      // The new receipt starts right where the cut was made.
      expect(now.length).toBeGreaterThan(complete);
      const last = JSON.parse(now.subarray(complete).toString('utf8')) as { body: { entry_id: string } };
      expect(last.body.entry_id).toBe('after-crash');
      expect(reopened.stdout).toMatch(/^recorded observability seq \d+ /);
    } else {
      expect(now.length).toBe(complete);
    }
  });

  if (scenario.tornTail) {
    it(`vm ${scenario.reopen} tells the user on stderr that it repaired the scroll`, () => {
      const { afterCrash, reopened } = outcome();
      const cut = afterCrash.length - (afterCrash.lastIndexOf(0x0a) + 1);
      expect(reopened.stderr).toContain(
        `repaired observability: cut an unfinished last line of ${cut} bytes`,
      );
      expect(reopened.stderr).toContain('index/observability');
    });
  }

  it('every acknowledged receipt is in the file, at its seq, intact', () => {
    const { data, acks } = outcome();
    const receipts = readReceipts(join(data, OBSERVABILITY_FILE));
    receipts.forEach((r, i) => expect(r.seq).toBe(i));
    const seen = new Set<number>();
    for (const ack of acks) {
      expect(seen.has(ack.seq), `seq ${ack.seq} acknowledged twice`).toBe(false);
      seen.add(ack.seq);
      const receipt = receipts[ack.seq];
      expect(receipt, `acknowledged seq ${ack.seq} is missing`).toBeDefined();
      expect(receipt).toMatchObject({
        seq: ack.seq,
        root_hash: ack.root_hash,
        body: { entry_id: ack.id, account: `k${scenario.killAfter}` },
      });
    }
  });

  it('vm verify --deep passes after the repair, and the checkpoint covers the whole scroll', () => {
    const { data } = outcome();
    const verify = vm(['verify', 'observability', '--deep'], { data });
    expect(verify.status, verify.stdout).toBe(0);
    expect(verify.stdout).not.toContain('unfinished');
    const lines = readReceipts(join(data, OBSERVABILITY_FILE)).length;
    const cp = JSON.parse(vm(['--format', 'json', 'checkpoint', 'observability'], { data }).stdout) as {
      size: number;
    };
    expect(cp.size).toBe(lines);
    expect(existsSync(join(data, 'index/observability/ends.bin'))).toBe(true);
  });
});
