/**
 * A real EVM chain for tests: ganache@7 in a child process on 127.0.0.1 (instant mining, the
 * deterministic wallet), with a JSON-RPC helper and the first funded account's key written to a
 * file as the Ethereum backend reads it (0x-hex, mode 0600).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A port nothing listens on right now (a server was bound to it and closed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Ganache {
  rpcUrl: string;
  chainId: number;
  /** The first funded account (lower-case 0x address) and its 0x-hex private key. */
  sender: string;
  privateKey: string;
  /** One JSON-RPC call; throws with the node's message on an error answer. */
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** Writes the private key to `path` as the Ethereum backend expects it (mode 0600). */
  writeKeyFile(path: string): void;
  /** What ganache wrote on stderr. */
  log(): string;
  /** Stops ganache and removes its directory. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export async function startGanache(options: { chainId?: number; timeoutMs?: number } = {}): Promise<Ganache> {
  const chainId = options.chainId ?? 1337;
  const dir = mkdtempSync(join(tmpdir(), 'vaultmesh-it-ganache-'));
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('ganache/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { bin: { ganache: string } };
  const port = await freePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const keysPath = join(dir, 'ganache-keys.json');
  let stderr = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(dirname(manifestPath), manifest.bin.ganache),
      '--server.host',
      '127.0.0.1',
      '--server.port',
      String(port),
      '--wallet.deterministic',
      '--wallet.accountKeysPath',
      keysPath,
      '--chain.chainId',
      String(chainId),
      '--miner.blockTime',
      '0',
      '--logging.quiet',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  }

  try {
    const timeoutMs = options.timeoutMs ?? 30_000;
    for (let started = Date.now(); ; await sleep(100)) {
      if (child.exitCode !== null) throw new Error(`ganache exited: ${stderr}`);
      if (Date.now() - started > timeoutMs) throw new Error(`ganache did not answer: ${stderr}`);
      try {
        if (Number(await rpc<string>('eth_chainId')) === chainId) break;
      } catch {
        // not listening yet
      }
    }
    const keys = JSON.parse(readFileSync(keysPath, 'utf8')) as { private_keys: Record<string, string> };
    const first = Object.entries(keys.private_keys)[0];
    if (first === undefined) throw new Error('ganache wrote no keys');
    const [sender, privateKey] = first;
    return {
      rpcUrl,
      chainId,
      sender,
      privateKey,
      rpc,
      writeKeyFile(path) {
        writeFileSync(path, `${privateKey}\n`, { mode: 0o600 });
        chmodSync(path, 0o600);
      },
      log: () => stderr,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
