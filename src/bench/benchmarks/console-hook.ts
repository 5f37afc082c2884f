/**
 * The cost of one Console hook invocation, as an agent pays it: a fresh `node bin/vm.js console
 * hook` process per event, delivering to a running node (`vm serve`), against a fresh `node -e 0`
 * given the same stdin, interleaved in the same run. Measured on a fresh session and again once the
 * session holds about 2,000 receipts, since the engine derives the session's state from its
 * receipts on every event. The events in between are delivered over HTTP from this process, and
 * their latency at the start and the end of the session is reported too.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { toConsoleEvent } from '../../interfaces/hooks/claude-code.js';
import type { Benchmark } from '../context.js';
import { createBenchToken, startNodeProcess, vmSync, VM_BIN } from '../node-process.js';
import { makeRow, type BenchRow } from '../report.js';
import { median, nowMs } from '../stats.js';
import { withTempDir } from '../temp.js';

const BAR_EXTRA_MS = 80;
const LONG_SESSION_RECEIPTS = 2000;
/** Events delivered over HTTP whose latency is compared, at each end of the long session. */
const LATENCY_WINDOW = 50;

/** Nearest-rank percentile. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const r1 = (ms: number) => Math.round(ms * 10) / 10;

interface Setup {
  url: string;
  token: string;
  tokenFile: string;
  project: string;
  env: NodeJS.ProcessEnv;
}

/** A Claude Code hook payload of the session, as Claude Code writes it to the hook's stdin. */
function payload(setup: Setup, session: string, event: string, fields: Record<string, unknown> = {}) {
  return {
    session_id: session,
    transcript_path: join(setup.project, 'transcript.jsonl'),
    cwd: setup.project,
    permission_mode: 'default',
    hook_event_name: event,
    ...fields,
  };
}

/**
 * The i-th event of the measured mix, in a cycle of four: Bash `ls` before and after, then an Edit
 * of a project file before and after. None is held by the default contract.
 */
function toolPayload(setup: Setup, session: string, i: number) {
  const n = Math.floor(i / 4);
  const file = join(setup.project, 'notes.txt');
  const bash = { tool_name: 'Bash', tool_input: { command: 'ls' }, tool_use_id: `${session}-ls-${n}` };
  const edit = {
    tool_name: 'Edit',
    tool_input: { file_path: file, old_string: 'a', new_string: 'b' },
    tool_use_id: `${session}-edit-${n}`,
  };
  switch (i % 4) {
    case 0:
      return payload(setup, session, 'PreToolUse', bash);
    case 1:
      return payload(setup, session, 'PostToolUse', { ...bash, tool_response: { stdout: '', exit_code: 0 } });
    case 2:
      return payload(setup, session, 'PreToolUse', edit);
    default:
      return payload(setup, session, 'PostToolUse', { ...edit, tool_response: { filePath: file } });
  }
}

function spawnMs(args: readonly string[], input: string, env: NodeJS.ProcessEnv, what: string): number {
  const start = nowMs();
  const run = spawnSync(process.execPath, args, { input, env, encoding: 'utf8' });
  const ms = nowMs() - start;
  // A hook that could not deliver exits 1 (or answers deny) quickly: that would be a fast wrong sample.
  if (run.status !== 0 || run.stdout !== '' || run.stderr !== '') {
    throw new Error(`console-hook: ${what} failed (exit ${run.status}): ${run.stdout}${run.stderr}`);
  }
  return ms;
}

function hookArgs(setup: Setup): string[] {
  return [VM_BIN, 'console', 'hook', '--node', setup.url, '--token-file', setup.tokenFile, '--wait', '150'];
}

/** `samples` hook processes and as many `node -e 0`, alternating which goes first. */
function measure(setup: Setup, session: string, samples: number): { hook: number[]; node: number[] } {
  const hook: number[] = [];
  const node: number[] = [];
  const args = hookArgs(setup);
  for (let i = 0; i < samples; i++) {
    const input = JSON.stringify(toolPayload(setup, session, i));
    const runHook = () => hook.push(spawnMs(args, input, setup.env, 'vm console hook'));
    const runNode = () => node.push(spawnMs(['-e', '0'], input, setup.env, 'node -e 0'));
    if (i % 2 === 0) {
      runHook();
      runNode();
    } else {
      runNode();
      runHook();
    }
  }
  return { hook, node };
}

/**
 * One request on a connection of its own, as the hook makes it: this process blocks in spawnSync
 * for long stretches, and a pooled keep-alive connection would be closed by the node meanwhile.
 */
function http(setup: Setup, method: 'GET' | 'POST', path: string, body?: string) {
  return new Promise<{ status: number; json: unknown }>((resolve, reject) => {
    const req = request(
      new URL(path, setup.url),
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${setup.token}`,
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            });
          } catch (error) {
            reject(error as Error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Delivers one hook payload straight to the node over HTTP, as the hook would; returns its latency. */
async function post(setup: Setup, body: unknown): Promise<number> {
  const event = toConsoleEvent(body, { now: new Date(), storeContent: false });
  const start = nowMs();
  const { status, json } = await http(setup, 'POST', '/v1/console/events', JSON.stringify(event));
  const ms = nowMs() - start;
  if (status !== 200 || (json as { decision?: string }).decision !== 'allow') {
    throw new Error(`console-hook: the node answered ${status} ${JSON.stringify(json)}`);
  }
  return ms;
}

async function sessionReceipts(setup: Setup, session: string): Promise<number> {
  const { status, json } = await http(setup, 'GET', `/v1/console/sessions/${session}`);
  const receipts = (json as { receipts?: unknown }).receipts;
  if (status !== 200 || typeof receipts !== 'number') {
    throw new Error(`console-hook: no state for session ${session}: ${JSON.stringify(json)}`);
  }
  return receipts;
}

function hookRow(
  name: string,
  title: string,
  runs: { hook: number[]; node: number[] },
  receipts: { before: number; after: number },
): BenchRow {
  const hookMedian = median(runs.hook);
  const nodeMedian = median(runs.node);
  return makeRow({
    benchmark: name,
    title,
    unit: 'ms',
    vaultmesh: { label: 'node bin/vm.js console hook', median: hookMedian, samples: runs.hook },
    baseline: { label: 'node -e 0', median: nodeMedian, samples: runs.node },
    bar: ({ vaultmesh, baseline }) => ({
      text: `≤ baseline + ${BAR_EXTRA_MS} ms (median)`,
      pass: vaultmesh <= (baseline ?? 0) + BAR_EXTRA_MS,
    }),
    notes: [
      `+${r1(hookMedian - nodeMedian)} ms at the median, +${r1(percentile(runs.hook, 90) - percentile(runs.node, 90))} ms at p90`,
      `hook p90 ${r1(percentile(runs.hook, 90))} ms, node -e 0 p90 ${r1(percentile(runs.node, 90))} ms`,
      `${runs.hook.length} fresh processes each, interleaved (order alternating), same stdin; Bash ls and Edit, PreToolUse and PostToolUse in turn`,
      `session of ${receipts.before} receipts before, ${receipts.after} after`,
    ],
  });
}

export const consoleHook: Benchmark = {
  name: 'console-hook',
  description: 'one vm console hook process per agent event, delivered to vm serve, against node -e 0',
  async run(ctx) {
    const samples = ctx.quick ? 20 : 40;
    return withTempDir('console-hook', async (dir) => {
      const data = join(dir, 'data');
      vmSync(data, ['init', '--name', 'bench']);
      const token = createBenchToken(data, 'did:vm:agent:bench', 'storage:console');
      const tokenFile = join(dir, 'hook.token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const project = join(dir, 'project');
      mkdirSync(project);
      writeFileSync(join(project, 'notes.txt'), 'a\n');
      const env: NodeJS.ProcessEnv = { ...process.env, VAULTMESH_STATE_DIR: join(dir, 'state') };
      delete env.VAULTMESH_TOKEN;
      delete env.VAULTMESH_TOKEN_FILE;
      delete env.VAULTMESH_URL;
      const node = await startNodeProcess(data);
      const setup: Setup = { url: node.url, token, tokenFile, project, env };
      try {
        const start = (session: string) =>
          post(setup, payload(setup, session, 'SessionStart', { source: 'startup', model: 'bench' }));

        ctx.log('console-hook: a fresh session');
        await start('bench-fresh');
        // One untimed run of each: the first spawn pays for cold file caches.
        spawnMs(hookArgs(setup), JSON.stringify(toolPayload(setup, 'bench-warm', 0)), env, 'hook');
        spawnMs(['-e', '0'], '', env, 'node -e 0');
        const freshBefore = await sessionReceipts(setup, 'bench-fresh');
        const fresh = measure(setup, 'bench-fresh', samples);
        const freshAfter = await sessionReceipts(setup, 'bench-fresh');

        ctx.log(`console-hook: filling a session to ${LONG_SESSION_RECEIPTS} receipts over HTTP`);
        await start('bench-long');
        const latencies: number[] = [];
        const fillStarted = nowMs();
        // Tool use ids of their own, apart from those the measured hooks send next.
        for (let i = 0; latencies.length + 1 < LONG_SESSION_RECEIPTS; i++) {
          latencies.push(await post(setup, toolPayload(setup, 'bench-long', i + 1_000_000)));
        }
        const fillSeconds = (nowMs() - fillStarted) / 1000;
        const longBefore = await sessionReceipts(setup, 'bench-long');
        ctx.log(`console-hook: a session of ${longBefore} receipts`);
        const long = measure(setup, 'bench-long', samples);
        const longAfter = await sessionReceipts(setup, 'bench-long');

        const early = latencies.slice(0, LATENCY_WINDOW);
        const late = latencies.slice(-LATENCY_WINDOW);
        return [
          hookRow(this.name, 'console hook, fresh session', fresh, {
            before: freshBefore,
            after: freshAfter,
          }),
          hookRow(this.name, `console hook, session of ~${LONG_SESSION_RECEIPTS} receipts`, long, {
            before: longBefore,
            after: longAfter,
          }),
          makeRow({
            benchmark: this.name,
            title: `console event over HTTP at ~${LONG_SESSION_RECEIPTS} receipts (no process)`,
            unit: 'ms',
            vaultmesh: {
              label: `POST /v1/console/events, last ${LATENCY_WINDOW} of the session`,
              median: median(late),
              samples: late,
            },
            baseline: {
              label: `same, first ${LATENCY_WINDOW} events of the session`,
              median: median(early),
              samples: early,
            },
            notes: [
              `from the bench process, one event at a time, each on a new connection as the hook makes it; p90 ${r1(percentile(late, 90))} ms against ${r1(percentile(early, 90))} ms`,
              `${latencies.length} events filled the session in ${fillSeconds.toFixed(1)} s`,
            ],
          }),
        ];
      } finally {
        await node.stop();
      }
    });
  },
};
