/**
 * Helpers for tests of the Console engine end to end: a real node (`vm serve` in a child process)
 * with a `[console]` configuration, a token that may append to the Console scroll, and
 * `vm console hook` run exactly as Claude Code runs it — a separate process per event, the hook
 * payload on stdin, the node's address and the token in the environment.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createToken, startServer, type RunningServer } from './node.js';
import { REPO, VM_BIN, makeTempDir, readReceipts, vmAsync, type VmResult } from './vm.js';

export const CONSOLE_FILE = 'receipts/console/console_events.jsonl';
export const FIXTURES = join(REPO, 'test/fixtures/claude-code');

export interface ConsoleReceipt {
  seq: number;
  ts: string;
  type: string;
  scroll: string;
  session_id?: string;
  tags: string[];
  body: Record<string, unknown>;
  [field: string]: unknown;
}

export interface HookResult {
  /** The exit code (null when the process was killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface HookOptions {
  /** Arguments after `vm console hook`. */
  args?: readonly string[];
  /** Environment on top of the node's (VAULTMESH_URL, VAULTMESH_TOKEN, VAULTMESH_STATE_DIR); undefined removes a variable. */
  env?: Record<string, string | undefined>;
}

/** A hook process that may still be running (a call held for approval). */
export interface RunningHook {
  child: ChildProcessWithoutNullStreams;
  result: Promise<HookResult>;
  /** Has the process ended? */
  exited(): boolean;
}

/** A payload as Claude Code sends it, or raw stdin text (for malformed input). */
export type Payload = Record<string, unknown> | string;

/** Runs `node bin/vm.js console hook ARGS` with the payload on stdin, without waiting for it. */
export function startHook(
  payload: Payload,
  env: NodeJS.ProcessEnv,
  args: readonly string[] = [],
): RunningHook {
  const child = spawn(process.execPath, [VM_BIN, 'console', 'hook', ...args], {
    cwd: REPO,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let done = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const result = new Promise<HookResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      done = true;
      resolve({ code, stdout, stderr });
    });
  });
  child.stdin.on('error', () => undefined); // a hook that refused its arguments may not read stdin
  child.stdin.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { child, result, exited: () => done };
}

/** The environment of a hook process: this one's, without any VAULTMESH_* setting of the developer's. */
export function hookEnv(base: Record<string, string>, extra: HookOptions['env'] = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('VAULTMESH_')) env[key] = value;
  }
  Object.assign(env, base);
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface ConsoleNode {
  /** The temporary directory holding everything of this node (removed by stop()). */
  root: string;
  data: string;
  /** VAULTMESH_STATE_DIR of the hooks: where they keep their per-session event count. */
  stateDir: string;
  url: string;
  did: string;
  /** A token with storage:console, as `vm console install-hooks` would issue. */
  token: string;
  server: RunningServer;
  /** Runs one hook event to completion. */
  hook(payload: Payload, options?: HookOptions): Promise<HookResult>;
  /** Starts one hook event; for calls that are held. */
  startHook(payload: Payload, options?: HookOptions): RunningHook;
  /** `vm --data DATA ARGS`. */
  vm(args: readonly string[], env?: Record<string, string>): Promise<VmResult>;
  /** `vm --data DATA --format json ARGS`, exit 0 expected, stdout parsed. */
  vmJson<T = unknown>(args: readonly string[]): Promise<T>;
  /** Every receipt of the Console scroll, read from its JSONL file. */
  receipts(): ConsoleReceipt[];
  /** The receipts of one session, in seq order. */
  sessionReceipts(sessionId: string): ConsoleReceipt[];
  /** The Console scroll file as text. */
  scrollText(): string;
  /** The hook's event-count file of a session. */
  seqFile(sessionId: string): string;
  stop(): Promise<void>;
}

/**
 * Initializes a data directory, appends `config` (TOML) to its vaultmesh.toml, issues a
 * storage:console token and starts `vm serve` on a free port.
 */
export async function startConsoleNode(prefix: string, config = ''): Promise<ConsoleNode> {
  const tmp = makeTempDir(prefix);
  const data = join(tmp.dir, 'data');
  const stateDir = join(tmp.dir, 'hook-state');
  mkdirSync(stateDir);
  const init = await vmAsync(['init', '--name', `console-${prefix}`], { data });
  if (init.status !== 0) throw new Error(`vm init failed: ${init.stderr}`);
  if (config !== '') appendFileSync(join(data, 'vaultmesh.toml'), `\n${config.trim()}\n`);
  const { token } = await createToken(data, ['storage:console'], {
    subject: 'did:vm:agent:test',
    expires: '1d',
  });
  let server: RunningServer;
  try {
    server = await startServer(data);
  } catch (e) {
    tmp.remove();
    throw e;
  }
  const base = { VAULTMESH_URL: server.url, VAULTMESH_TOKEN: token, VAULTMESH_STATE_DIR: stateDir };
  const file = join(data, CONSOLE_FILE);
  const receipts = () => (existsSync(file) ? (readReceipts(file) as ConsoleReceipt[]) : []);
  const node: ConsoleNode = {
    root: tmp.dir,
    data,
    stateDir,
    url: server.url,
    did: server.did,
    token,
    server,
    startHook: (payload, options = {}) => startHook(payload, hookEnv(base, options.env), options.args ?? []),
    hook: (payload, options = {}) =>
      startHook(payload, hookEnv(base, options.env), options.args ?? []).result,
    vm: (args, env) => vmAsync(args, { data, ...(env === undefined ? {} : { env }) }),
    async vmJson<T>(args: readonly string[]): Promise<T> {
      const result = await vmAsync(['--format', 'json', ...args], { data });
      if (result.status !== 0)
        throw new Error(`vm ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
      return JSON.parse(result.stdout) as T;
    },
    receipts,
    sessionReceipts: (sessionId) => receipts().filter((r) => r.session_id === sessionId),
    scrollText: () => (existsSync(file) ? readFileSync(file, 'utf8') : ''),
    seqFile: (sessionId) => join(stateDir, 'agent-seq', `${sessionId}.seq`),
    async stop() {
      try {
        const exit = await server.stop();
        if (exit.code !== 0) throw new Error(`vm serve exited ${String(exit.code)}: ${server.stderr()}`);
      } finally {
        tmp.remove();
      }
    },
  };
  return node;
}

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Replaces every `${NAME}` of `vars` in the strings of a JSON value. */
export function substitute<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') {
    let text: string = value;
    for (const [name, replacement] of Object.entries(vars))
      text = text.split(`\${${name}}`).join(replacement);
    return text as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => substitute(v, vars)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, substitute(v, vars)]),
    ) as T;
  }
  return value;
}

export interface FixtureEvent {
  /** The fixture file's name, e.g. `05-pre-write.json`. */
  file: string;
  payload: Record<string, unknown>;
}

/** The recorded Claude Code session in test/fixtures/claude-code, in order, placeholders filled in. */
export function loadRecordedSession(vars: Record<string, string>): FixtureEvent[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      payload: substitute(
        JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as Record<string, unknown>,
        vars,
      ),
    }));
}
