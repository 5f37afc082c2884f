/** Child processes for the HTTP benchmarks: a VaultMesh node (`vm serve`) or the bare baseline server. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const VM_BIN = fileURLToPath(new URL('../../bin/vm.js', import.meta.url));
const BARE_HTTP = fileURLToPath(new URL('./bare-http.js', import.meta.url));

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function firstUrl(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
      if (m !== null) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited ${code} before listening: ${err}`)));
  });
}

async function started(child: ChildProcess, what: string): Promise<ServerProcess> {
  const url = await firstUrl(child, what);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url,
    child,
    stop(signal = 'SIGTERM') {
      child.kill(signal);
      return exited;
    },
  };
}

export function vmSync(dataDir: string, args: readonly string[]): string {
  const run = spawnSync(process.execPath, [VM_BIN, '--data', dataDir, ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`vm ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

/** A token for the benchmark's client, issued by `vm token create` on the data directory. */
export function createBenchToken(dataDir: string, subject: string, grant: string): string {
  const out = vmSync(dataDir, [
    '--format',
    'json',
    'token',
    'create',
    '--subject',
    subject,
    '--grant',
    grant,
  ]);
  return (JSON.parse(out) as { token: string }).token;
}

export function startNodeProcess(dataDir: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [VM_BIN, '--data', dataDir, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(child, 'vm serve');
}

export function startBareServer(): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BARE_HTTP], { stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, 'bare server');
}
