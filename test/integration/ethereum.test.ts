/**
 * The Ethereum anchor backend against a real EVM chain (ganache, in a child process on 127.0.0.1):
 * anchoring with and without confirmations to wait for, online verification and each way it
 * refuses (another digest, a forged tx hash, a reorganization), key file permissions, a node of
 * another chain refused before anything is sent, and an RPC endpoint that is down or never answers.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnchorBackend, AnchorEvidence, EvidenceFile } from '../../src/engines/guardian/backend.js';
import {
  createEthereumBackend,
  ethereumConfigSchema,
  type EthereumConfig,
} from '../../src/engines/guardian/backends/ethereum.js';
import { freePort, startGanache, type Ganache } from '../helpers/ganache.js';

const CHAIN_ID = 1337;
const TAG = '564d3031';

let ganache: Ganache;
let rpcUrl: string;
let dir: string;
let sender: string;
let privateKey: string;

const rpc = <T = unknown>(method: string, params: unknown[] = []): Promise<T> =>
  ganache.rpc<T>(method, params);

const blockNumber = async (): Promise<number> => Number(await rpc<string>('eth_blockNumber'));
const nonce = async (): Promise<number> =>
  Number(await rpc<string>('eth_getTransactionCount', [sender, 'latest']));
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function backend(overrides: Partial<EthereumConfig> = {}): AnchorBackend {
  const config = ethereumConfigSchema.parse({
    name: 'ganache',
    rpc_url: rpcUrl,
    chain_id: CHAIN_ID,
    key_path: 'eth.key',
    confirmations: 0,
    timeout_ms: 10_000,
    poll_ms: 50,
  });
  return createEthereumBackend({ ...config, ...overrides }, dir);
}

const digest = (): Uint8Array => new Uint8Array(randomBytes(32));
const signal = (): AbortSignal => AbortSignal.timeout(20_000);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function txRecord(evidence: AnchorEvidence): Record<string, unknown> {
  const file = evidence.files.find((f) => f.name === 'tx.json');
  if (file === undefined) throw new Error('no tx.json');
  return JSON.parse(Buffer.from(file.bytes).toString('utf8')) as Record<string, unknown>;
}

function withRecord(evidence: AnchorEvidence, change: Record<string, unknown>): EvidenceFile[] {
  const record = { ...txRecord(evidence), ...change };
  return [{ name: 'tx.json', bytes: new TextEncoder().encode(JSON.stringify(record)) }];
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await promise;
  } catch (e) {
    return e as { code: string; message: string; hint?: string };
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaultmesh-it-ethereum-'));
  ganache = await startGanache({ chainId: CHAIN_ID });
  ({ rpcUrl, sender, privateKey } = ganache);
  ganache.writeKeyFile(join(dir, 'eth.key'));
});

afterAll(async () => {
  await ganache?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ethereum backend: configuration', () => {
  it('fills defaults and refuses malformed fields', () => {
    const config = ethereumConfigSchema.parse({
      name: 'mainnet-1',
      rpc_url: 'https://rpc.example.org',
      chain_id: 1,
      key_path: 'keys/eth.key',
    });
    expect(config).toMatchObject({ confirmations: 1, timeout_ms: 60_000, poll_ms: 500 });
    const base = { name: 'x', rpc_url: 'http://127.0.0.1:8545', chain_id: 1, key_path: 'k' };
    for (const bad of [
      { ...base, rpc_url: 'ws://127.0.0.1:8545' },
      { ...base, name: 'Upper' },
      { ...base, chain_id: 0 },
      { ...base, confirmations: 101 },
      { ...base, to: '0x1234' },
      { ...base, extra: true },
    ]) {
      expect(ethereumConfigSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('names the endpoint without the credentials an RPC URL may carry', () => {
    const config = ethereumConfigSchema.parse({
      name: 'x',
      rpc_url: 'https://user:secret@rpc.example.org/v1',
      chain_id: 1,
      key_path: 'k',
    });
    expect(createEthereumBackend(config, dir).endpoint).toBe('https://rpc.example.org/v1');
  });
});

describe('ethereum backend: anchoring', () => {
  it('anchors a digest in a 0-value transaction tagged VM01, and verifies it', async () => {
    const b = backend();
    expect(b).toMatchObject({ kind: 'ethereum', name: 'ganache', endpoint: rpcUrl });
    const d = digest();
    const evidence = await b.submit({ digest: d, signal: signal() });

    expect(evidence.status).toBe('confirmed');
    const record = txRecord(evidence);
    expect(record).toMatchObject({ chain_id: CHAIN_ID, data: `0x${TAG}${hex(d)}` });
    expect(String(record.from).toLowerCase()).toBe(sender);
    expect(String(record.to).toLowerCase()).toBe(sender);
    expect(evidence.summary).toEqual({
      chain_id: CHAIN_ID,
      tx_hash: record.tx_hash,
      block_number: record.block_number,
      block_hash: record.block_hash,
      from: record.from,
      confirmations: 0,
    });
    expect(JSON.stringify(evidence)).not.toContain(privateKey.slice(2));

    const tx = await rpc<{ input: string; value: string; to: string; blockHash: string }>(
      'eth_getTransactionByHash',
      [record.tx_hash],
    );
    expect(tx).toMatchObject({ input: `0x${TAG}${hex(d)}`, value: '0x0', to: sender });
    expect(tx.blockHash).toBe(record.block_hash);
    const block = await rpc<{ timestamp: string }>('eth_getBlockByHash', [record.block_hash, false]);
    const time = new Date(Number(block.timestamp) * 1000).toISOString();
    expect(evidence.time).toBe(time);

    const verified = await b.verify(d, evidence.files, signal());
    expect(verified).toEqual({
      final: true,
      detail: `Ethereum chain ${CHAIN_ID}: tx ${String(record.tx_hash)} in block ${String(record.block_number)} (${String(record.block_hash)}), 0 confirmations`,
      time,
    });
  });

  it('waits for the configured confirmations before it answers', async () => {
    const b = backend({ confirmations: 2 });
    const d = digest();
    const before = await blockNumber();
    let settled = false;
    const submitted = b.submit({ digest: d, signal: signal() }).finally(() => (settled = true));

    while ((await blockNumber()) === before) await sleep(20);
    await sleep(200);
    expect(settled).toBe(false);
    await rpc('evm_mine');
    await sleep(200);
    expect(settled).toBe(false);
    await rpc('evm_mine');
    const evidence = await submitted;

    expect(evidence.summary.confirmations).toBe(2);
    expect(evidence.summary.block_number).toBe(before + 1);
    const verified = await b.verify(d, evidence.files, signal());
    expect(verified.final).toBe(true);
    expect(verified.detail).toMatch(/, 2 confirmations$/);

    const stricter = await backend({ confirmations: 5 }).verify(d, evidence.files, signal());
    expect(stricter.final).toBe(false);
    expect(stricter.detail).toMatch(/2 confirmations of 5 required$/);
  });

  it('gives up waiting for confirmations at the timeout, naming the transaction sent', async () => {
    const started = Date.now();
    const error = await failure(
      backend({ confirmations: 1, timeout_ms: 800 }).submit({ digest: digest(), signal: signal() }),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/no answer within 800 ms \(transaction 0x[0-9a-f]{64} was sent\)$/);
  });
});

describe('ethereum backend: verification refuses what does not hold', () => {
  let anchored: { digest: Uint8Array; evidence: AnchorEvidence };

  beforeAll(async () => {
    const d = digest();
    anchored = { digest: d, evidence: await backend().submit({ digest: d, signal: signal() }) };
  });

  it('refuses another digest', async () => {
    const error = await failure(backend().verify(digest(), anchored.evidence.files, signal()));
    expect(error).toMatchObject({
      code: 'BUNDLE_INVALID',
      message: 'the transaction carries another digest',
    });
  });

  it('refuses a transaction hash the chain does not know', async () => {
    const forged = withRecord(anchored.evidence, { tx_hash: `0x${hex(digest())}` });
    const error = await failure(backend().verify(anchored.digest, forged, signal()));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toMatch(/^transaction not found on chain 1337: 0x/);
  });

  it('refuses a tx.json whose sender or block does not match the chain', async () => {
    const otherSender = withRecord(anchored.evidence, { from: '0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0' });
    expect(await failure(backend().verify(anchored.digest, otherSender, signal()))).toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringMatching(/^the transaction was sent by 0x/),
    });
    const genesis = await rpc<{ hash: string }>('eth_getBlockByNumber', ['0x0', false]);
    const otherBlock = withRecord(anchored.evidence, { block_number: 0, block_hash: genesis.hash });
    expect(await failure(backend().verify(anchored.digest, otherBlock, signal()))).toMatchObject({
      code: 'BUNDLE_INVALID',
      message: expect.stringMatching(/not in block 0 as tx\.json records$/),
    });
    expect(await failure(backend().verify(anchored.digest, [], signal()))).toMatchObject({
      code: 'BUNDLE_INVALID',
      message: 'the evidence has no tx.json',
    });
  });

  it('refuses an anchor whose block a reorganization replaced', async () => {
    const snapshot = await rpc<string>('evm_snapshot');
    const d = digest();
    const evidence = await backend().submit({ digest: d, signal: signal() });
    await backend().verify(d, evidence.files, signal());

    await rpc('evm_revert', [snapshot]);
    await rpc('evm_mine');
    await rpc('evm_mine');
    const error = await failure(backend().verify(d, evidence.files, signal()));
    expect(error.code).toBe('BUNDLE_INVALID');
    expect(error.message).toBe(
      `the block ${String(txRecord(evidence).block_number)} no longer has hash ${String(txRecord(evidence).block_hash)} (reorganized)`,
    );
  });
});

describe('ethereum backend: refusals before anything is sent', () => {
  it('refuses a key file others can read, and one without a key', async () => {
    writeFileSync(join(dir, 'open.key'), `${privateKey}\n`);
    chmodSync(join(dir, 'open.key'), 0o644);
    const before = await nonce();
    const error = await failure(
      backend({ key_path: 'open.key' }).submit({ digest: digest(), signal: signal() }),
    );
    expect(error).toMatchObject({
      code: 'INVALID_KEY',
      message: `${join(dir, 'open.key')} is readable by others (mode 644)`,
    });
    expect(error.hint).toBe(`restrict it with: chmod 600 ${join(dir, 'open.key')}`);

    writeFileSync(join(dir, 'garbage.key'), 'not-a-key-but-a-secret\n', { mode: 0o600 });
    const garbage = await failure(
      backend({ key_path: 'garbage.key' }).submit({ digest: digest(), signal: signal() }),
    );
    expect(garbage.code).toBe('INVALID_KEY');
    expect(JSON.stringify({ ...garbage, message: garbage.message })).not.toContain('secret');

    const missing = await failure(
      backend({ key_path: 'none.key' }).submit({ digest: digest(), signal: signal() }),
    );
    expect(missing.code).toBe('INVALID_KEY');
    expect(await nonce()).toBe(before);
  });

  it('refuses a node of another chain without sending anything', async () => {
    const before = await nonce();
    const blocks = await blockNumber();
    const error = await failure(backend({ chain_id: 1 }).submit({ digest: digest(), signal: signal() }));
    expect(error).toMatchObject({
      code: 'INVALID_CONFIG',
      message: `${rpcUrl} serves chain 1337, but backend ganache is configured for chain 1`,
    });
    expect(await nonce()).toBe(before);
    expect(await blockNumber()).toBe(blocks);
  });

  it('refuses a digest that is not 32 bytes', async () => {
    const error = await failure(backend().submit({ digest: new Uint8Array(31), signal: signal() }));
    expect(error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('ethereum backend: an endpoint that is down', () => {
  it('names the URL when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const error = await failure(
      backend({ rpc_url: url, timeout_ms: 2000 }).submit({ digest: digest(), signal: signal() }),
    );
    expect(Date.now() - started).toBeLessThan(2500);
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toBe(
      `reading the chain id at ${url} failed: HTTP request failed. (fetch failed): ECONNREFUSED`,
    );
  });

  it('stops at timeout_ms when the endpoint accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const url = `http://127.0.0.1:${address.port}`;
    try {
      const started = Date.now();
      const submitError = await failure(
        backend({ rpc_url: url, timeout_ms: 1000 }).submit({ digest: digest(), signal: signal() }),
      );
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(2500);
      expect(submitError).toMatchObject({
        code: 'IO_ERROR',
        message: `reading the chain id at ${url}: no answer within 1000 ms`,
      });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((done) => silent.close(done));
    }
  });
});
