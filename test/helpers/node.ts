/**
 * Helpers for tests of the HTTP API: run the real `vm serve` in a child process on a free port,
 * change the `[http]` settings of a data directory, issue capability tokens with the real CLI, and
 * send requests whose path must reach the server exactly as written (fetch normalizes `..`).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { formatConfig, loadConfig, type NodeConfig } from '../../src/ledger/config.js';
import { REPO, VM_BIN, vmAsync } from './vm.js';

export interface RunningServer {
  url: string;
  did: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything the server logged so far (pino JSON lines). */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM (once) and waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `vm --data DIR --format json serve --port 0` and resolves once it printed its URL. */
export function startServer(data: string, timeoutMs = 15_000): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.VAULTMESH_DATA;
  const child = spawn(
    process.execPath,
    [VM_BIN, '--data', data, '--format', 'json', 'serve', '--port', '0'],
    {
      cwd: REPO,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = () => {
    if (stopping === undefined) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      stopping = exited;
    }
    return stopping;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vm serve did not print its URL within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      let parsed: { url: string; did: string };
      try {
        parsed = JSON.parse(stdout) as { url: string; did: string };
      } catch {
        return; // not all of it yet
      }
      clearTimeout(timer);
      resolve({ url: parsed.url, did: parsed.did, child, stderr: () => stderr, exited, stop });
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`vm serve exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
}

/** Rewrites `<data>/vaultmesh.toml` with these `[http]` settings (validated as the node will). */
export function setHttpConfig(data: string, http: Partial<NodeConfig['http']>): void {
  const file = join(data, 'vaultmesh.toml');
  const config = loadConfig(file);
  writeFileSync(file, formatConfig({ ...config, http: { ...config.http, ...http } }));
}

export interface IssuedToken {
  token: string;
  id: string;
  /** Expiry, in ms since the epoch. */
  exp: number;
}

/** `vm --format json token create --subject SUBJECT --grant G... --expires E` on `data`. */
export async function createToken(
  data: string,
  grants: readonly string[],
  options: { expires?: string; subject?: string } = {},
): Promise<IssuedToken> {
  const result = await vmAsync(
    [
      '--format',
      'json',
      'token',
      'create',
      '--subject',
      options.subject ?? 'http-test',
      ...grants.flatMap((g) => ['--grant', g]),
      '--expires',
      options.expires ?? '1h',
    ],
    { data },
  );
  if (result.status !== 0) throw new Error(`vm token create exited ${result.status}: ${result.stderr}`);
  const issued = JSON.parse(result.stdout) as { token: string; claims: { id: string; exp: string } };
  return { token: issued.token, id: issued.claims.id, exp: Date.parse(issued.claims.exp) };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request on a connection of its own (closed once the answer is in), with the path sent byte for
 * byte, without the URL normalization fetch applies; a refused upload cannot disturb other requests.
 * With `incomplete`, the body is written but the request is never finished (its headers declare a
 * longer body): the answer must come from the headers alone.
 */
export function rawRequest(
  base: string,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    incomplete?: boolean;
  } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          req.destroy();
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.incomplete === true) req.write(options.body ?? '');
    else req.end(options.body);
  });
}

/** A GET whose path is sent byte for byte (see rawRequest). */
export const rawGet = (
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> => rawRequest(base, path, { headers });
