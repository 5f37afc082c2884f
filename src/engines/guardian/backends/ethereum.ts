/**
 * The Ethereum anchor: a 0-value transaction whose calldata is the tag `VM01` and the digest. The
 * block that includes it dates the digest, and every node of the chain keeps the proof. Checking it
 * means asking the chain again (tx, receipt, block hash, depth), so verification is online.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  BaseError,
  BlockNotFoundError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  isAddress,
  isAddressEqual,
  type Address,
  type Block,
  type Hex,
  type HttpTransport,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { z } from 'zod';
import { toHex, utf8 } from '../../../core/bytes.js';
import { VaultMeshError } from '../../../core/errors.js';
import type { AnchorBackend, AnchorEvidence, EvidenceFile, VerifiedAnchor } from '../backend.js';

/** 'VM01' in ASCII: lets anyone scanning a chain tell VaultMesh anchors from other calldata. */
const ANCHOR_TAG = '564d3031';
const TX_FILE = 'tx.json';
const PRIVATE_KEY_RE = /^0x[0-9a-fA-F]{64}$/;

const addressSchema = z
  .string()
  .refine((a) => isAddress(a), 'an address: 0x and 40 hex digits (checksummed if mixed-case)');

export const ethereumConfigSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and - (up to 32 characters)'),
  rpc_url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }),
  chain_id: z.number().int().positive(),
  /** A file holding the sender's private key (0x and 64 hex digits), mode 0600; relative to the config. */
  key_path: z.string().min(1),
  /** Blocks mined on top of the transaction's block before the anchor counts; 0: included is enough. */
  confirmations: z.number().int().min(0).max(100).default(1),
  timeout_ms: z.number().int().min(100).max(3_600_000).default(60_000),
  /** Where the anchor goes; by default the sender itself, so no contract or third party is involved. */
  to: addressSchema.optional(),
  poll_ms: z.number().int().min(10).max(60_000).default(500),
});

export type EthereumConfig = z.output<typeof ethereumConfigSchema>;

const hash32Schema = z.string().regex(/^0x[0-9a-f]{64}$/, '0x and 64 lower-case hex digits');

/** `tx.json`: where to find the anchor again. */
const txRecordSchema = z.strictObject({
  chain_id: z.number().int().positive(),
  tx_hash: hash32Schema,
  block_number: z.number().int().min(0),
  block_hash: hash32Schema,
  from: addressSchema,
  to: addressSchema,
  data: z.string().regex(/^0x(?:[0-9a-f]{2})*$/, '0x and lower-case hex'),
});

type TxRecord = z.output<typeof txRecordSchema>;

export function createEthereumBackend(config: EthereumConfig, baseDir: string): AnchorBackend {
  const endpoint = withoutCredentials(config.rpc_url);
  const keyPath = resolve(baseDir, config.key_path);
  const chain = defineChain({
    id: config.chain_id,
    name: `chain ${config.chain_id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [config.rpc_url] } },
  });

  /**
   * One submission or verification: its RPC calls share the caller's signal and one deadline, and
   * every failure becomes an IO_ERROR naming the endpoint and what was being done.
   */
  function openSession(callerSignal: AbortSignal) {
    const deadline = AbortSignal.timeout(config.timeout_ms);
    const signal = AbortSignal.any([callerSignal, deadline]);
    const transport = http(config.rpc_url, { timeout: config.timeout_ms, fetchOptions: { signal } });
    // cacheTime 0: viem would otherwise answer block-number polls from a seconds-old cache.
    const client: PublicClient<HttpTransport> = createPublicClient({ chain, transport, cacheTime: 0 });

    const stopped = (what: string, cause?: unknown): VaultMeshError =>
      deadline.aborted
        ? new VaultMeshError('IO_ERROR', `${what} at ${endpoint}: no answer within ${config.timeout_ms} ms`, {
            cause,
            hint: `check that ${endpoint} is reachable, or raise timeout_ms of backend ${config.name}`,
          })
        : new VaultMeshError('IO_ERROR', `${what} at ${endpoint} was aborted`, { cause });

    async function rpc<T>(what: string, call: () => Promise<T>): Promise<T> {
      if (signal.aborted) throw stopped(what);
      try {
        return await untilAborted(call(), signal);
      } catch (cause) {
        if (cause instanceof VaultMeshError) throw cause;
        if (signal.aborted) throw stopped(what, cause);
        throw new VaultMeshError('IO_ERROR', `${what} at ${endpoint} failed: ${describeError(cause)}`, {
          cause,
          hint: `check that ${endpoint} is an Ethereum JSON-RPC endpoint and reachable`,
        });
      }
    }

    async function pause(what: string): Promise<void> {
      try {
        await new Promise<void>((done, fail) => {
          const onAbort = (): void => {
            clearTimeout(timer);
            fail(signal.reason);
          };
          const timer = setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            done();
          }, config.poll_ms);
          signal.addEventListener('abort', onAbort, { once: true });
        });
      } catch (cause) {
        throw stopped(what, cause);
      }
    }

    async function assertChain(): Promise<void> {
      const id = await rpc('reading the chain id', () => client.getChainId());
      if (id !== config.chain_id) {
        throw new VaultMeshError(
          'INVALID_CONFIG',
          `${endpoint} serves chain ${id}, but backend ${config.name} is configured for chain ${config.chain_id}`,
          {
            hint: `point rpc_url at a node of chain ${config.chain_id}, or correct chain_id`,
            evidence: { configured: config.chain_id, served: id },
          },
        );
      }
    }

    return { client, transport, signal, rpc, pause, assertChain };
  }

  type Session = ReturnType<typeof openSession>;

  /** Polls until the receipt is `confirmations` blocks deep and its block is still canonical. */
  async function awaitConfirmations(
    session: Session,
    hash: Hex,
  ): Promise<{ receipt: TransactionReceipt; block: Block; depth: bigint }> {
    const { client, rpc } = session;
    for (;;) {
      const receipt = await rpc(`reading the receipt of ${hash}`, () =>
        orUndefined(client.getTransactionReceipt({ hash }), TransactionReceiptNotFoundError),
      );
      if (receipt !== undefined) {
        if (receipt.status !== 'success') {
          throw new VaultMeshError(
            'IO_ERROR',
            `transaction ${hash} reverted in block ${receipt.blockNumber} of chain ${config.chain_id}`,
            { hint: 'set `to` to an account, or to a contract that accepts plain calls with data' },
          );
        }
        const tip = await rpc('reading the block number', () => client.getBlockNumber());
        const depth = tip - receipt.blockNumber;
        if (depth >= BigInt(config.confirmations)) {
          const block = await rpc(`reading block ${receipt.blockNumber}`, () =>
            orUndefined(client.getBlock({ blockNumber: receipt.blockNumber }), BlockNotFoundError),
          );
          // A reorganization between the receipt and this read moves the transaction: look again.
          if (block?.hash === receipt.blockHash) return { receipt, block, depth };
        }
      }
      await session.pause(`waiting for ${config.confirmations} confirmations of ${hash}`);
    }
  }

  return {
    kind: 'ethereum',
    name: config.name,
    endpoint,

    async submit({ digest, signal }): Promise<AnchorEvidence> {
      const data = anchorData(digest);
      const account = loadAccount(keyPath);
      const to = config.to === undefined ? account.address : getAddress(config.to);
      const session = openSession(signal);
      await session.assertChain();

      const wallet = createWalletClient({ account, chain, transport: session.transport, cacheTime: 0 });
      const hash = await session.rpc(`sending the anchor transaction from ${account.address}`, () =>
        wallet.sendTransaction({ account, chain, to, value: 0n, data }),
      );

      let confirmed: Awaited<ReturnType<typeof awaitConfirmations>>;
      try {
        confirmed = await awaitConfirmations(session, hash);
      } catch (e) {
        if (!(e instanceof VaultMeshError)) throw e;
        // Once sent, the transaction may still land: whoever retries needs its hash.
        throw new VaultMeshError(e.code, `${e.message} (transaction ${hash} was sent)`, {
          cause: e,
          hint: e.hint,
          evidence: { chain_id: config.chain_id, tx_hash: hash, from: account.address },
        });
      }
      const { receipt, block, depth } = confirmed;
      const record: TxRecord = {
        chain_id: config.chain_id,
        tx_hash: hash,
        block_number: Number(receipt.blockNumber),
        block_hash: receipt.blockHash,
        from: account.address,
        to,
        data,
      };
      return {
        status: 'confirmed',
        files: [{ name: TX_FILE, bytes: utf8(`${JSON.stringify(record, null, 2)}\n`) }],
        summary: {
          chain_id: record.chain_id,
          tx_hash: record.tx_hash,
          block_number: record.block_number,
          block_hash: record.block_hash,
          from: record.from,
          confirmations: Number(depth),
        },
        time: blockTime(block),
      };
    },

    async verify(digest, files, signal): Promise<VerifiedAnchor> {
      const data = anchorData(digest);
      const record = readRecord(files);
      if (record.chain_id !== config.chain_id) {
        throw new VaultMeshError(
          'INVALID_CONFIG',
          `the anchor is on chain ${record.chain_id}, but backend ${config.name} is configured for chain ${config.chain_id}`,
          { hint: `verify it with a backend whose rpc_url serves chain ${record.chain_id}` },
        );
      }
      const session = openSession(signal);
      const { client, rpc } = session;
      await session.assertChain();

      const hash = record.tx_hash as Hex;
      const n = BigInt(record.block_number);
      const block = await rpc(`reading block ${n}`, () =>
        orUndefined(client.getBlock({ blockNumber: n }), BlockNotFoundError),
      );
      if (block === undefined) {
        throw invalid(`the chain no longer reaches block ${n} (reorganized)`, {
          block_number: record.block_number,
        });
      }
      if (block.hash !== record.block_hash) {
        throw invalid(`the block ${n} no longer has hash ${record.block_hash} (reorganized)`, {
          block_number: record.block_number,
          recorded: record.block_hash,
          current: block.hash,
        });
      }
      const tx = await rpc(`reading transaction ${hash}`, () =>
        orUndefined(client.getTransaction({ hash }), TransactionNotFoundError),
      );
      if (tx === undefined) {
        throw invalid(`transaction not found on chain ${config.chain_id}: ${hash}`, { tx_hash: hash });
      }
      if (tx.input.toLowerCase() !== data) {
        throw invalid('the transaction carries another digest', { expected: data, actual: tx.input });
      }
      if (record.data !== data) {
        throw invalid('tx.json records other data than the transaction carries', {
          recorded: record.data,
          actual: data,
        });
      }
      if (!isAddressEqual(tx.from, record.from as Address)) {
        throw invalid(`the transaction was sent by ${tx.from}, not by ${record.from} as tx.json records`);
      }
      if (tx.to === null || !isAddressEqual(tx.to, record.to as Address)) {
        throw invalid(
          `the transaction went to ${tx.to ?? 'no address'}, not to ${record.to} as tx.json records`,
        );
      }
      if (tx.blockHash !== record.block_hash) {
        throw invalid(
          `the transaction is in block ${tx.blockNumber ?? '(none: pending)'}, not in block ${n} as tx.json records`,
        );
      }
      const receipt = await rpc(`reading the receipt of ${hash}`, () =>
        orUndefined(client.getTransactionReceipt({ hash }), TransactionReceiptNotFoundError),
      );
      if (receipt === undefined) throw invalid(`the node has no receipt for transaction ${hash}`);
      if (receipt.status !== 'success') throw invalid(`transaction ${hash} reverted`);

      const tip = await rpc('reading the block number', () => client.getBlockNumber());
      const depth = tip - n;
      const final = depth >= BigInt(config.confirmations);
      const detail =
        `Ethereum chain ${config.chain_id}: tx ${hash} in block ${n} (${block.hash}), ${depth} confirmations` +
        (final ? '' : ` of ${config.confirmations} required`);
      return { final, detail, time: blockTime(block) };
    },
  };
}

function anchorData(digest: Uint8Array): Hex {
  if (digest.length !== 32) {
    throw new VaultMeshError('INVALID_ARGUMENT', `the digest must be 32 bytes, got ${digest.length}`);
  }
  return `0x${ANCHOR_TAG}${toHex(digest)}`;
}

/** The key lives in memory only for one submission and never appears in a message. */
function loadAccount(path: string): PrivateKeyAccount {
  const hint = `write the account's private key (0x and 64 hex digits) to ${path} with mode 0600`;
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8').trim();
  } catch (cause) {
    throw new VaultMeshError('INVALID_KEY', `cannot read the Ethereum key at ${path}`, { cause, hint });
  }
  if ((mode & 0o077) !== 0) {
    throw new VaultMeshError(
      'INVALID_KEY',
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)})`,
      { hint: `restrict it with: chmod 600 ${path}` },
    );
  }
  if (!PRIVATE_KEY_RE.test(text)) {
    throw new VaultMeshError('INVALID_KEY', `${path} does not hold a private key of 0x and 64 hex digits`, {
      hint,
    });
  }
  try {
    return privateKeyToAccount(text as Hex);
  } catch {
    // No cause: the library's error could quote the key.
    throw new VaultMeshError('INVALID_KEY', `${path} does not hold a valid secp256k1 private key`, { hint });
  }
}

function readRecord(files: readonly EvidenceFile[]): TxRecord {
  const file = files.find((f) => f.name === TX_FILE);
  if (file === undefined) throw invalid(`the evidence has no ${TX_FILE}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
  } catch (cause) {
    throw new VaultMeshError('BUNDLE_INVALID', `${TX_FILE} is not JSON`, { cause });
  }
  const parsed = txRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    throw invalid(`${TX_FILE} is malformed${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

function invalid(message: string, evidence?: Record<string, unknown>): VaultMeshError {
  return new VaultMeshError('BUNDLE_INVALID', message, evidence === undefined ? {} : { evidence });
}

function blockTime(block: Block): string {
  return new Date(Number(block.timestamp) * 1000).toISOString();
}

/** RPC URLs often carry credentials; receipts and messages name the endpoint without them. */
function withoutCredentials(rpcUrl: string): string {
  const url = new URL(rpcUrl);
  if (url.username === '' && url.password === '') return rpcUrl;
  url.username = '';
  url.password = '';
  return url.href;
}

async function orUndefined<T>(
  call: Promise<T>,
  notFound: abstract new (...args: never[]) => Error,
): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof notFound) return undefined;
    throw e;
  }
}

/** viem retries with backoff after a timeout; the deadline must end the wait at once. */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((done, fail) => {
    const onAbort = (): void => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(done, fail).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describeError(e: unknown): string {
  const text =
    e instanceof BaseError
      ? e.details
        ? `${e.shortMessage} (${e.details})`
        : e.shortMessage
      : e instanceof Error
        ? e.message
        : String(e);
  const code = systemErrorCode(e);
  return code === undefined ? text : `${text}: ${code}`;
}

/** fetch reports "fetch failed" and hides ECONNREFUSED, ENOTFOUND... some causes down. */
function systemErrorCode(e: unknown): string | undefined {
  for (let cause = e, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
  }
  return undefined;
}
