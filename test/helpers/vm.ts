/**
 * Shared helpers for the integration tests: run the real `vm` binary (bin/vm.js over dist/) in
 * child processes, make and remove temporary data directories, and drive the Ledger API from a
 * child process to build large scrolls quickly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
export const VM_BIN = join(REPO, 'bin/vm.js');
export const LEDGER_JS = join(REPO, 'dist/ledger/ledger.js');
/** The scroll file of `observability`, whose types take any JSON object: the tests' generic data. */
export const OBSERVABILITY_FILE = 'receipts/observability/observability_events.jsonl';
export const NODE_NAME = 'vault-01';

/** The CLI runs from dist/: fail early with the fix instead of with a confusing import error. */
export function assertBuilt(): void {
  for (const file of [LEDGER_JS, join(REPO, 'dist/interfaces/cli/main.js')]) {
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: build first with npx tsc -p tsconfig.build.json`);
    }
  }
}

/** A fresh directory under the system temp dir; call `remove()` when done. */
export function makeTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `vaultmesh-it-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface VmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface VmOptions {
  /** Passed as --data; omit to test $VAULTMESH_DATA or commands that take no data directory. */
  data?: string;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (extra.VAULTMESH_DATA === undefined) delete env.VAULTMESH_DATA;
  return env;
}

function vmArgs(args: readonly string[], options: VmOptions): string[] {
  return [VM_BIN, ...(options.data === undefined ? [] : ['--data', options.data]), ...args];
}

/** Runs `vm ARGS` to completion. */
export function vm(args: readonly string[], options: VmOptions = {}): VmResult {
  const result = spawnSync(process.execPath, vmArgs(args, options), {
    encoding: 'utf8',
    input: options.input ?? '',
    env: childEnv(options.env),
    cwd: options.cwd ?? REPO,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error !== undefined) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs `vm ARGS` without blocking the test process (for concurrent writers). */
export function vmAsync(args: readonly string[], options: VmOptions = {}): Promise<VmResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, vmArgs(args, options), {
      env: childEnv(options.env),
      cwd: options.cwd ?? REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ status: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `vm --format json ARGS`, expects exit 0 and returns the parsed stdout. */
export function vmJson<T = unknown>(args: readonly string[], options: VmOptions = {}): T {
  const result = vm(['--format', 'json', ...args], options);
  if (result.status !== 0) {
    throw new Error(`vm ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

export interface CliError {
  code: string;
  message: string;
  hint?: string;
  evidence?: Record<string, unknown>;
}

/** The error a `--format json` run printed on stderr. */
export function jsonError(result: VmResult): CliError {
  const parsed = JSON.parse(result.stderr) as { error: CliError };
  return parsed.error;
}

export function initNode(data: string, name = NODE_NAME): VmResult {
  const result = vm(['init', '--name', name], { data });
  if (result.status !== 0) throw new Error(`vm init failed: ${result.stderr}`);
  return result;
}

/** A ledger-entry-shaped body: it passes the treasury_credit schema, and is plain data elsewhere. */
export interface EntryBody {
  entry_id: string;
  account: string;
  amount: string;
  currency: string;
  memo: string;
  balance_after: string;
  [extra: string]: unknown;
}

export function entryBody(id: string, extra: Partial<EntryBody> = {}): EntryBody {
  return {
    entry_id: id,
    account: 'ops',
    amount: '12.50',
    currency: 'EUR',
    memo: 'm',
    balance_after: '12.50',
    ...extra,
  };
}

/**
 * A valid `oracle_answer` body (compliance scroll): a typed type that the generic append paths
 * accept, for the checks of body schemas.
 */
export function answerBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    question: 'Are export logs kept for a year?',
    model_id: 'oracle-test',
    citations_used: ['policy/retention.md'],
    compliance_flags: { retention: true },
    answer_hash: `sha256:${'ab'.repeat(32)}`,
    ...extra,
  };
}

/** The receipts of a JSONL file; throws unless the file ends with a newline and every line is JSON. */
export function readReceipts(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`${file} does not end with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`${file} line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
      }
    });
}

export function sha256File(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : '(absent)';
}

/**
 * A fingerprint of everything a failed command must not change: scroll files, checkpoints, ROOT
 * files, sidecars, keys and config. The query index (a derived cache) and the lock are left out.
 */
export function snapshotDataDir(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (rel.startsWith('index/query.sqlite') || name === 'writer.lock') continue;
      if (statSync(path).isDirectory()) walk(path);
      else out[rel] = sha256File(path);
    }
  };
  if (!existsSync(root)) return out;
  if (statSync(root).isDirectory()) walk(root);
  else out['.'] = sha256File(root);
  return out;
}

/** Configuration of the Ledger API worker (see WORKER_SOURCE). */
export interface WorkerConfig {
  dataDir: string;
  scroll?: string;
  /** Receipt type of every draft (default obs_metric_snapshot); the body is entry-shaped. */
  type?: string;
  /** How many receipts to append in all. */
  count: number;
  /** Batch sizes, used in turn. */
  batchSizes: number[];
  /** Concurrent emit loops inside the process (exercises group commit). */
  parallel?: number;
  /** Prefix of entry ids and the account, tag of every receipt. */
  prefix: string;
  /** Publish a checkpoint each time this many more receipts were acknowledged. */
  publishEvery?: number;
}

/** One acknowledged receipt, as the worker reports it on stdout. */
export interface Ack {
  seq: number;
  id: string;
  root_hash: string;
}

/**
 * A child process that appends entry-shaped receipts (to the observability scroll unless told
 * otherwise) through the Ledger API and, after each acknowledged emit, writes one JSON line per
 * receipt ({seq,id,root_hash}) to stdout with a synchronous write, so that every line the parent
 * reads was acknowledged before it was written.
 */
const WORKER_SOURCE = `
import { writeSync } from 'node:fs';
const cfg = JSON.parse(process.argv[2]);
const { Ledger } = await import(cfg.ledgerUrl);
const ledger = Ledger.open(cfg.dataDir);
const scroll = cfg.scroll ?? 'observability';
const type = cfg.type ?? 'obs_metric_snapshot';
let next = 0;
let turn = 0;
let acked = 0;
async function loop() {
  while (next < cfg.count) {
    const size = Math.min(cfg.batchSizes[turn++ % cfg.batchSizes.length], cfg.count - next);
    const drafts = [];
    for (let i = 0; i < size; i++) {
      const id = cfg.prefix + '-' + next++;
      drafts.push({
        scroll,
        type,
        body: { entry_id: id, account: cfg.prefix, amount: String(next) + '.00', currency: 'EUR', memo: 'memo of ' + id },
        tags: [cfg.prefix],
      });
    }
    const appended = await ledger.emit(drafts);
    let text = '';
    for (const a of appended) text += JSON.stringify({ seq: a.receipt.seq, id: a.receipt.body.entry_id, root_hash: a.receipt.root_hash }) + '\\n';
    writeSync(1, text);
    const before = acked;
    acked += appended.length;
    if (cfg.publishEvery && Math.floor(acked / cfg.publishEvery) > Math.floor(before / cfg.publishEvery)) {
      await ledger.publish(scroll);
    }
  }
}
await Promise.all(Array.from({ length: cfg.parallel ?? 1 }, loop));
await ledger.close();
`;

/** Writes the worker script into `dir` and returns its path. */
export function writeWorker(dir: string): string {
  const path = join(dir, 'ledger-worker.mjs');
  writeFileSync(path, WORKER_SOURCE);
  return path;
}

export function workerArgs(script: string, config: WorkerConfig): string[] {
  return [script, JSON.stringify({ ...config, ledgerUrl: pathToFileURL(LEDGER_JS).href })];
}

export function parseAcks(stdout: string): Ack[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Ack);
}

/** Runs a worker to completion; returns its acknowledgements. */
export function runWorker(script: string, config: WorkerConfig): Promise<Ack[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, workerArgs(script, config), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(parseAcks(stdout));
      else reject(new Error(`worker ${config.prefix} exited ${code}: ${stderr}`));
    });
  });
}

/**
 * Runs several independent `vm` commands, `concurrency` at a time (each is its own process, so
 * this uses the other cores while the test waits); results come back in the order given.
 */
export async function vmAll<const C extends readonly (readonly string[])[]>(
  calls: C,
  options: VmOptions = {},
  concurrency = 3,
): Promise<{ -readonly [K in keyof C]: VmResult }> {
  const results: VmResult[] = new Array<VmResult>(calls.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < calls.length) {
      const i = next++;
      results[i] = await vmAsync(calls[i]!, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, calls.length) }, lane));
  return results as { -readonly [K in keyof C]: VmResult };
}
