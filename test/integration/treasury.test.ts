/**
 * The Treasury engine end to end, through the `vm` binary: accounts opened and listed, credits and
 * debits in exact decimal amounts (every malformed or over-precise amount refused, never
 * rounded), idempotent entry ids, overdraft rules, balances and queries as a table, JSON and RFC
 * 4180 CSV; debits racing from several processes for one balance; multi-party settlements
 * proposed, signed with node-held and holder-held keys, executed all at once with their case
 * files, or refused (missing, forged, duplicate, unauthorized, revoked signatures; an overdraft at
 * execution; unbalanced or mixed-currency entries), disputed and expired; and a tampered scroll
 * that `vm verify` names. Every refusal exits with its code and leaves the data directory as it
 * was, the scroll byte for byte.
 *
 * Each block has its own data directory and runs its steps in order; the blocks run side by side
 * (every command is its own process, so they share the cores while the test waits).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad } from '@scure/base';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldAll } from '../../src/core/fold.js';
import { decodePublicKeyMultibase, encodePublicKeyMultibase } from '../../src/core/identity/did.js';
import type { Receipt } from '../../src/core/receipt.js';
import type { SettlementContract } from '../../src/core/scrolls/treasury.js';
import { approvalStatement, contractHash, disputeStatement } from '../../src/core/treasury/contract.js';
import { treasuryFold } from '../../src/core/treasury/fold.js';
import { balanceText } from '../../src/core/treasury/state.js';
import {
  assertBuilt,
  jsonError,
  makeTempDir,
  NODE_NAME,
  readReceipts,
  snapshotDataDir,
  vmAll,
  vmAsync,
  type CliError,
  type VmResult,
} from '../helpers/vm.js';

assertBuilt();

const TREASURY_FILE = 'receipts/treasury/treasury_events.jsonl';
const NODE_DID = `did:vm:node:${NODE_NAME}`;
const human = (id: string) => `did:vm:human:${id}`;
const ALICE = human('alice');
const BOB = human('bob');
const CAROL = human('carol');
const DORA = human('dora');
const ERIN = human('erin');

const temp = makeTempDir('treasury');
afterAll(() => temp.remove());

async function freshNode(name: string): Promise<string> {
  const data = join(temp.dir, name);
  const result = await vmAsync(['init', '--name', NODE_NAME], { data });
  expect(result.status, result.stderr).toBe(0);
  return data;
}

/** `vm ARGS` on `data`, human output. */
const vmText = (data: string, args: readonly string[]): Promise<VmResult> => vmAsync(args, { data });

/** `vm --format json treasury ARGS`. */
const treasury = (data: string, args: readonly string[]): Promise<VmResult> =>
  vmAsync(['--format', 'json', 'treasury', ...args], { data });

function ok<T>(result: VmResult): T {
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

const okTreasury = async <T>(data: string, args: readonly string[]): Promise<T> =>
  ok<T>(await treasury(data, args));

const scrollBytes = (data: string): Buffer => {
  const file = join(data, TREASURY_FILE);
  return existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
};

const scroll = (data: string) => readReceipts(join(data, TREASURY_FILE)) as unknown as Receipt[];

/** The balances a replay of the scroll file gives, read here rather than through the CLI. */
const balances = (data: string): Record<string, string> =>
  Object.fromEntries(
    [...foldAll(treasuryFold, scroll(data)).accounts.values()].map((a) => [a.account_id, balanceText(a)]),
  );

interface Refusal {
  /** Arguments after `vm --format json treasury`. */
  args: readonly string[];
  code: string;
  status: number;
  message?: RegExp;
}

/**
 * Runs commands that must each be refused, side by side (none of them may write, so their order
 * does not matter): each exits with its status and code, with a hint; afterwards the scroll is
 * byte-identical and nothing else in the data directory changed.
 */
async function refused(data: string, cases: readonly Refusal[]): Promise<CliError[]> {
  const before = snapshotDataDir(data);
  const bytes = scrollBytes(data);
  const results = await vmAll(
    cases.map((c) => ['--format', 'json', 'treasury', ...c.args]),
    { data },
  );
  const errors = results.map((result, i) => {
    const { args, code, status, message } = cases[i]!;
    const what = args.join(' ');
    expect(result.status, `${what}: ${result.stdout}${result.stderr}`).toBe(status);
    const error = jsonError(result);
    expect(error.code, what).toBe(code);
    if (message !== undefined) expect(error.message, what).toMatch(message);
    expect(error.hint, `${what}: ${code} has a hint`).toBeTruthy();
    return error;
  });
  expect(scrollBytes(data).equals(bytes), 'a refused command wrote to the scroll').toBe(true);
  expect(snapshotDataDir(data)).toEqual(before);
  return errors;
}

interface AccountListing {
  account_id: string;
  display_name: string;
  account_type: string;
  currency: string;
  balance: string;
  entries: number;
  opened_seq: number;
  last_seq: number;
  tags: string[];
}

interface BalanceReport {
  accounts: AccountListing[];
  totals: Record<string, string>;
  receipts: number;
  anomalies: Array<{ seq: number; type: string; code: string; message: string }>;
}

interface EntryResult {
  receipt: Receipt;
  already: boolean;
}

interface EntryRow {
  seq: number;
  ts: string;
  entry_type: string;
  entry_id: string;
  account: string;
  amount: string;
  currency: string;
  balance_after: string;
  settlement_id: string;
  memo: string;
}

/** RFC 4180: records end with CRLF; a field with a comma, quote or line break is quoted, "" is a quote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') cell += c;
      else if (text[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') {
      if (cell !== '' || wasQuoted) throw new Error(`a quote inside an unquoted field at ${i}`);
      quoted = true;
      wasQuoted = true;
    } else if (c === ',') {
      row.push(cell);
      cell = '';
      wasQuoted = false;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      wasQuoted = false;
      i++;
    } else if (c === '\r' || c === '\n') {
      throw new Error(`a line break outside quotes at ${i} that does not end a record`);
    } else {
      if (wasQuoted) throw new Error(`text after a closing quote at ${i}`);
      cell += c;
    }
  }
  if (quoted) throw new Error('an unterminated quoted field');
  if (cell !== '' || row.length > 0) throw new Error('the last record does not end with CRLF');
  return rows;
}

const sha256Hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.concurrent('accounts, entries and exact money', () => {
  let data: string;
  beforeAll(async () => {
    data = await freshNode('books');
  });

  it.sequential(
    'account open: one receipt each; list, with a type filter; opening twice is refused',
    async () => {
      const opened = await okTreasury<{ receipt: Receipt; account: AccountListing }>(data, [
        'account',
        'open',
        'ops-eur',
        '--type',
        'operational',
        '--currency',
        'EUR',
        '--name',
        'Operations (EUR)',
        '--tag',
        'ops',
        'eu',
      ]);
      expect(opened.receipt).toMatchObject({
        seq: 0,
        scroll: 'treasury',
        type: 'treasury_account_open',
        tags: ['treasury', 'account', 'operational'],
        body: {
          account_id: 'ops-eur',
          display_name: 'Operations (EUR)',
          account_type: 'operational',
          currency: 'EUR',
          tags: ['ops', 'eu'],
        },
      });
      expect(opened.account).toEqual({
        account_id: 'ops-eur',
        display_name: 'Operations (EUR)',
        account_type: 'operational',
        currency: 'EUR',
        balance: '0.00',
        entries: 0,
        opened_seq: 0,
        last_seq: 0,
        tags: ['ops', 'eu'],
      });
      const text = await vmText(data, [
        'treasury',
        'account',
        'open',
        'world',
        '--type',
        'external',
        '--currency',
        'EUR',
      ]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toMatch(
        /^account world opened: external, EUR\ntreasury seq 1 \(treasury_account_open\) blake3:[0-9a-f]{64}\n$/,
      );
      for (const [id, type, currency] of [
        ['btc-reserve', 'reserve', 'BTC'],
        ['eth-hot', 'operational', 'ETH'],
        ['jpy-petty', 'escrow', 'JPY'],
      ] as const) {
        await okTreasury(data, ['account', 'open', id, '--type', type, '--currency', currency]);
      }

      const [listed, table] = await vmAll(
        [
          ['--format', 'json', 'treasury', 'account', 'list'],
          ['treasury', 'account', 'list', '--type', 'reserve'],
        ],
        { data },
      );
      expect(
        ok<{ accounts: AccountListing[] }>(listed).accounts.map((a) => [
          a.account_id,
          a.account_type,
          a.currency,
          a.balance,
          a.opened_seq,
        ]),
      ).toEqual([
        ['ops-eur', 'operational', 'EUR', '0.00', 0],
        ['world', 'external', 'EUR', '0.00', 1],
        ['btc-reserve', 'reserve', 'BTC', '0.00000000', 2],
        ['eth-hot', 'operational', 'ETH', '0.000000000000000000', 3],
        ['jpy-petty', 'escrow', 'JPY', '0', 4],
      ]);
      expect(table.stdout.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^ACCOUNT_ID\s+ACCOUNT_TYPE\s+CURRENCY\s+BALANCE\s+ENTRIES\s+DISPLAY_NAME$/),
        expect.stringMatching(/^btc-reserve\s+reserve\s+BTC\s+0\.00000000\s+0\s+btc-reserve$/),
      ]);

      await refused(data, [
        {
          args: ['account', 'open', 'ops-eur', '--type', 'reserve', '--currency', 'EUR'],
          code: 'ACCOUNT_EXISTS',
          status: 2,
          message: /^account_id: account ops-eur is already open \(seq 0\)$/,
        },
        {
          args: ['account', 'open', 'x', '--type', 'operational', '--currency', 'DOGE'],
          code: 'INVALID_ARGUMENT',
          status: 2,
          message: /^--currency:/,
        },
      ]);
    },
  );

  it.sequential(
    'credit and debit: each receipt carries the amount as the books write it and the balance it leaves',
    async () => {
      const credited = await okTreasury<EntryResult>(data, [
        'credit',
        '--to',
        'ops-eur',
        '--amount',
        '100.5',
        '--memo',
        'seed',
        '--entry-id',
        'e-1',
      ]);
      expect(credited.already).toBe(false);
      expect(credited.receipt).toMatchObject({
        type: 'treasury_credit',
        tags: ['treasury', 'credit'],
        body: {
          entry_id: 'e-1',
          account: 'ops-eur',
          amount: '100.50',
          currency: 'EUR',
          memo: 'seed',
          balance_after: '100.50',
        },
      });
      const debited = await vmText(data, [
        'treasury',
        'debit',
        '--from',
        'ops-eur',
        '--amount',
        '0.50',
        '--memo',
        'fee',
        '--entry-id',
        'e-2',
      ]);
      expect(debited.status, debited.stderr).toBe(0);
      expect(debited.stdout).toMatch(
        /^debited: e-2: 0\.50 EUR from ops-eur, balance 100\.00\ntreasury seq \d+ \(treasury_debit\) blake3:[0-9a-f]{64}\n$/,
      );
      // Without --entry-id the engine names the entry; --currency is checked when given.
      const named = await okTreasury<EntryResult>(data, [
        'credit',
        '--to',
        'ops-eur',
        '--amount',
        '20',
        '--currency',
        'EUR',
        '--memo',
        'sales',
      ]);
      expect(named.receipt.body).toMatchObject({ amount: '20.00', balance_after: '120.00' });
      expect(String(named.receipt.body.entry_id)).toMatch(/^entry-\d{8}T\d{6}-[0-9a-f]{8}$/);
      expect(balances(data)['ops-eur']).toBe('120.00');
    },
  );

  it.sequential('money: 0.1 + 0.2 is exactly 0.30; each currency keeps its full precision', async () => {
    const first = await vmAll(
      [
        ['--format', 'json', 'treasury', 'credit', '--to', 'world', '--amount', '0.1', '--memo', 'a'],
        [
          '--format',
          'json',
          'treasury',
          'credit',
          '--to',
          'eth-hot',
          '--amount',
          '0.000000000000000001',
          '--memo',
          'wei',
        ],
        [
          '--format',
          'json',
          'treasury',
          'credit',
          '--to',
          'btc-reserve',
          '--amount',
          '0.00000001',
          '--memo',
          'sat',
        ],
        ['--format', 'json', 'treasury', 'credit', '--to', 'jpy-petty', '--amount', '1250', '--memo', 'yen'],
      ],
      { data },
    );
    expect(first.map((r) => ok<EntryResult>(r).receipt.body.amount)).toEqual([
      '0.10',
      '0.000000000000000001',
      '0.00000001',
      '1250',
    ]);
    const [second, more] = await vmAll(
      [
        ['--format', 'json', 'treasury', 'credit', '--to', 'world', '--amount', '0.2', '--memo', 'b'],
        [
          '--format',
          'json',
          'treasury',
          'credit',
          '--to',
          'eth-hot',
          '--amount',
          '123456789.999999999999999999',
          '--memo',
          'x',
        ],
      ],
      { data },
    );
    expect(ok<EntryResult>(second).receipt.body.balance_after).toBe('0.30');
    expect(ok<EntryResult>(more).receipt.body.balance_after).toBe('123456790.000000000000000000');
    expect(balances(data)).toMatchObject({
      world: '0.30',
      'eth-hot': '123456790.000000000000000000',
      'btc-reserve': '0.00000001',
      'jpy-petty': '1250',
    });
  });

  it.sequential(
    'money: an amount that is not an exact decimal of the currency is refused, naming the field',
    async () => {
      const notDecimal = /^amount: ".*" is not a decimal amount/;
      const cases: Array<[string, string, RegExp]> = [
        [
          'ops-eur',
          '12.505',
          /^amount: EUR has 2 decimal places but 12\.505 has 3; amounts are never rounded$/,
        ],
        ['ops-eur', '1e3', notDecimal],
        ['ops-eur', '-5', /^amount: an amount is never negative/],
        ['ops-eur', '0', /^amount: an entry moves money: the amount must be more than zero$/],
        ['ops-eur', '+1', notDecimal],
        ['ops-eur', ' 1', notDecimal],
        ['ops-eur', '1,5', notDecimal],
        ['ops-eur', '0x10', notDecimal],
        ['ops-eur', 'NaN', notDecimal],
        ['ops-eur', 'Infinity', notDecimal],
        ['ops-eur', '0.1+0.2', notDecimal],
        ['btc-reserve', '0.000000001', /^amount: BTC has 8 decimal places but 0\.000000001 has 9/],
        ['jpy-petty', '12.5', /^amount: JPY has no minor unit: 12\.5 must be a whole number$/],
        ['eth-hot', '0.0000000000000000001', /^amount: ETH has 18 decimal places but .* has 19/],
      ];
      const errors = await refused(data, [
        ...cases.map(([account, amount, message]) => ({
          args: ['credit', '--to', account, `--amount=${amount}`, '--memo', 'bad'],
          code: 'INVALID_ARGUMENT',
          status: 2,
          message,
        })),
        {
          args: ['credit', '--to', 'nowhere', '--amount', '1', '--memo', 'm'],
          code: 'UNKNOWN_ACCOUNT',
          status: 3,
          message: /there is no account nowhere/,
        },
        {
          args: ['credit', '--to', 'ops-eur', '--amount', '1', '--currency', 'USD', '--memo', 'm'],
          code: 'CURRENCY_MISMATCH',
          status: 2,
          message: /^account: account ops-eur keeps EUR, not USD$/,
        },
      ]);
      for (const [i, [, amount]] of cases.entries())
        expect(errors[i]!.evidence, amount).toEqual({ field: 'amount', value: amount });

      // The human form says the same on stderr, and nothing on stdout.
      const text = await vmText(data, [
        'treasury',
        'credit',
        '--to',
        'ops-eur',
        '--amount',
        '12.505',
        '--memo',
        'm',
      ]);
      expect(text.status).toBe(2);
      expect(text.stdout).toBe('');
      expect(text.stderr).toMatch(
        /^error\[INVALID_ARGUMENT\]: amount: EUR has 2 decimal places but 12\.505 has 3; amounts are never rounded\n {2}hint: .*"12\.50"\n$/,
      );
    },
  );

  it.sequential(
    'idempotency: the same entry id and content is one receipt; other content is a conflict',
    async () => {
      const entry = (amount: string, memo = 'retry', kind = 'credit', account = 'ops-eur') => [
        kind,
        kind === 'credit' ? '--to' : '--from',
        account,
        '--amount',
        amount,
        '--memo',
        memo,
        '--entry-id',
        'pay-1',
      ];
      const first = await okTreasury<EntryResult>(data, entry('5'));
      expect(first.already).toBe(false);
      const bytes = scrollBytes(data);
      // The same entry, its amount written another way: recorded once, the first receipt returned.
      const [again, text] = await Promise.all([
        treasury(data, entry('5.0')),
        vmText(data, ['treasury', ...entry('5.00')]),
      ]);
      expect(ok<EntryResult>(again)).toEqual({ receipt: first.receipt, already: true });
      expect(text.stdout).toBe(
        `already recorded: pay-1: 5.00 EUR to ops-eur, balance 125.00\ntreasury seq ${first.receipt.seq} (treasury_credit) ${first.receipt.root_hash}\n`,
      );
      expect(scrollBytes(data).equals(bytes)).toBe(true);

      const conflict = new RegExp(
        `^entry_id: entry pay-1 is already recorded \\(seq ${first.receipt.seq}\\)`,
      );
      await refused(data, [
        { args: entry('6'), code: 'ENTRY_CONFLICT', status: 2, message: conflict },
        { args: entry('5', 'retry!'), code: 'ENTRY_CONFLICT', status: 2, message: conflict },
        { args: entry('5', 'retry', 'debit'), code: 'ENTRY_CONFLICT', status: 2, message: conflict },
      ]);

      // Retries racing from several processes still record the entry once.
      const retry = [
        'credit',
        '--to',
        'ops-eur',
        '--amount',
        '1.25',
        '--memo',
        'raced',
        '--entry-id',
        'pay-2',
      ];
      const raced = await Promise.all([0, 1, 2].map(() => treasury(data, retry)));
      const results = raced.map((r) => ok<EntryResult>(r));
      expect(results.map((r) => r.already).sort()).toEqual([false, true, true]);
      expect(new Set(results.map((r) => r.receipt.seq)).size).toBe(1);
      expect(scroll(data).filter((r) => r.body.entry_id === 'pay-2')).toHaveLength(1);
      expect(balances(data)['ops-eur']).toBe('126.25');
    },
  );

  it.sequential(
    'an operational or reserve account is never overdrawn; an external one goes below zero',
    async () => {
      await refused(data, [
        {
          args: ['debit', '--from', 'ops-eur', '--amount', '126.26', '--memo', 'too much'],
          code: 'INSUFFICIENT_FUNDS',
          status: 2,
          message: /^account ops-eur holds 126\.25 EUR; a debit of 126\.26 would overdraw it$/,
        },
        {
          args: ['debit', '--from', 'btc-reserve', '--amount', '0.00000002', '--memo', 'x'],
          code: 'INSUFFICIENT_FUNDS',
          status: 2,
          message: /^account btc-reserve holds 0\.00000001 BTC; a debit of 0\.00000002 would overdraw it$/,
        },
      ]);
      const [out, all] = await vmAll(
        [
          ['--format', 'json', 'treasury', 'debit', '--from', 'world', '--amount', '250', '--memo', 'out'],
          [
            '--format',
            'json',
            'treasury',
            'debit',
            '--from',
            'jpy-petty',
            '--amount',
            '1250',
            '--memo',
            'all',
          ],
        ],
        { data },
      );
      expect(ok<EntryResult>(out).receipt.body.balance_after).toBe('-249.70');
      // Down to exactly zero is allowed.
      expect(ok<EntryResult>(all).receipt.body.balance_after).toBe('0');
    },
  );

  it.sequential(
    'balance as a table, JSON and CSV; query by account, kind and time, with RFC 4180 quoting',
    async () => {
      const memo = 'rent, "March"\nsecond line';
      await okTreasury(data, [
        'debit',
        '--from',
        'ops-eur',
        '--amount',
        '26.24',
        '--memo',
        memo,
        '--entry-id',
        'rent-3',
      ]);
      const since = scroll(data).find((r) => r.body.entry_id === 'pay-2')!.ts;
      const [report, table, one, csv, opsQuery, sinceQuery, csvQuery] = await vmAll(
        [
          ['--format', 'json', 'treasury', 'balance'],
          ['treasury', 'balance'],
          ['treasury', 'balance', 'world'],
          ['--format', 'csv', 'treasury', 'balance'],
          ['--format', 'json', 'treasury', 'query', '--account', 'ops-eur'],
          ['--format', 'json', 'treasury', 'query', '--from', since],
          ['--format', 'csv', 'treasury', 'query', '--account', 'ops-eur', '--type', 'debit'],
        ],
        { data },
      );

      const books = ok<BalanceReport>(report);
      expect(books.accounts.map((a) => [a.account_id, a.balance, a.entries])).toEqual([
        ['ops-eur', '100.01', 6],
        ['world', '-249.70', 3],
        ['btc-reserve', '0.00000001', 1],
        ['eth-hot', '123456790.000000000000000000', 2],
        ['jpy-petty', '0', 2],
      ]);
      expect(books.totals).toEqual({
        BTC: '0.00000001',
        ETH: '123456790.000000000000000000',
        EUR: '-149.69',
        JPY: '0',
      });
      expect(books.anomalies).toEqual([]);
      expect(books.receipts).toBe(scroll(data).length);
      expect(Object.fromEntries(books.accounts.map((a) => [a.account_id, a.balance]))).toEqual(
        balances(data),
      );

      const lines = table.stdout.trimEnd().split('\n');
      expect(lines.slice(0, -1).map((l) => l.trimEnd().split(/ {2,}/))).toEqual([
        ['ACCOUNT_ID', 'ACCOUNT_TYPE', 'CURRENCY', 'BALANCE', 'ENTRIES', 'DISPLAY_NAME'],
        ['ops-eur', 'operational', 'EUR', '100.01', '6', 'Operations (EUR)'],
        ['world', 'external', 'EUR', '-249.70', '3', 'world'],
        ['btc-reserve', 'reserve', 'BTC', '0.00000001', '1', 'btc-reserve'],
        ['eth-hot', 'operational', 'ETH', '123456790.000000000000000000', '2', 'eth-hot'],
        ['jpy-petty', 'escrow', 'JPY', '0', '2', 'jpy-petty'],
      ]);
      expect(lines.at(-1)).toBe(
        `totals: 0.00000001 BTC, 123456790.000000000000000000 ETH, -149.69 EUR, 0 JPY (from ${books.receipts} receipts)`,
      );
      expect(one.stdout.trimEnd().split('\n').at(-1)).toBe(
        `totals: -249.70 EUR (from ${books.receipts} receipts)`,
      );

      expect(csv.status, csv.stderr).toBe(0);
      expect(parseCsv(csv.stdout)).toEqual([
        ['account_id', 'account_type', 'currency', 'balance', 'entries', 'display_name'],
        ...books.accounts.map((a) => [
          a.account_id,
          a.account_type,
          a.currency,
          a.balance,
          String(a.entries),
          a.display_name,
        ]),
      ]);

      const opsEntries = ok<{ entries: EntryRow[] }>(opsQuery).entries;
      expect(
        opsEntries.map((e) => [e.entry_type, e.amount, e.balance_after, e.entry_id.slice(0, 6)]),
      ).toEqual([
        ['credit', '100.50', '100.50', 'e-1'],
        ['debit', '0.50', '100.00', 'e-2'],
        ['credit', '20.00', '120.00', 'entry-'],
        ['credit', '5.00', '125.00', 'pay-1'],
        ['credit', '1.25', '126.25', 'pay-2'],
        ['debit', '26.24', '100.01', 'rent-3'],
      ]);
      // --from: the entries recorded at or after that time, across accounts.
      expect(ok<{ entries: EntryRow[] }>(sinceQuery).entries.map((e) => [e.entry_id, e.account])).toEqual(
        scroll(data)
          .filter((r) => r.ts >= since && r.type !== 'treasury_account_open')
          .map((r) => [r.body.entry_id, r.body.account]),
      );
      expect(ok<{ entries: EntryRow[] }>(sinceQuery).entries.map((e) => e.entry_id)).toEqual(
        expect.arrayContaining(['pay-2', 'rent-3']),
      );

      expect(csvQuery.status, csvQuery.stderr).toBe(0);
      expect(csvQuery.stdout).toContain(',"rent, ""March""\nsecond line"\r\n');
      const [fee, rent] = opsEntries.filter((e) => e.entry_type === 'debit') as [EntryRow, EntryRow];
      expect(parseCsv(csvQuery.stdout)).toEqual([
        [
          'seq',
          'ts',
          'entry_type',
          'entry_id',
          'account',
          'amount',
          'currency',
          'balance_after',
          'settlement_id',
          'memo',
        ],
        [String(fee.seq), fee.ts, 'debit', 'e-2', 'ops-eur', '0.50', 'EUR', '100.00', '', 'fee'],
        [String(rent.seq), rent.ts, 'debit', 'rent-3', 'ops-eur', '26.24', 'EUR', '100.01', '', memo],
      ]);
    },
  );

  it.sequential(
    'an entry asked for as CSV, which it has no rows for, is refused before anything is written',
    async () => {
      const before = scrollBytes(data);
      const result = await vmText(data, [
        '--format',
        'csv',
        'treasury',
        'credit',
        '--to',
        'ops-eur',
        '--amount',
        '1',
        '--memo',
        'csv',
        '--entry-id',
        'csv-1',
      ]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^error\[USAGE\]: this command has no list result to write as CSV\n/);
      expect(scrollBytes(data).equals(before), 'the credit was recorded although the command failed').toBe(
        true,
      );
    },
  );
});

describe.concurrent('debits racing for one balance from several processes', () => {
  let data: string;
  beforeAll(async () => {
    data = await freshNode('race');
  });

  it.sequential(
    'exactly as many succeed as the balance covers, the rest are refused, and the ledger verifies',
    async () => {
      await okTreasury(data, ['account', 'open', 'pool', '--type', 'operational', '--currency', 'EUR']);
      await okTreasury(data, [
        'credit',
        '--to',
        'pool',
        '--amount',
        '30.00',
        '--memo',
        'fund',
        '--entry-id',
        'fund',
      ]);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          treasury(data, [
            'debit',
            '--from',
            'pool',
            '--amount',
            '10.00',
            '--memo',
            `racer ${i}`,
            '--entry-id',
            `race-${i}`,
          ]),
        ),
      );
      const won = results.filter((r) => r.status === 0).map((r) => JSON.parse(r.stdout) as EntryResult);
      const lost = results.filter((r) => r.status !== 0);
      expect(won).toHaveLength(3);
      expect(won.map((w) => w.receipt.body.balance_after).sort()).toEqual(['0.00', '10.00', '20.00']);
      expect(lost.map((r) => [r.status, jsonError(r).code])).toEqual(
        Array.from({ length: 5 }, () => [2, 'INSUFFICIENT_FUNDS']),
      );
      for (const r of lost)
        expect(jsonError(r).message).toBe('account pool holds 0.00 EUR; a debit of 10.00 would overdraw it');

      const debits = scroll(data).filter((r) => r.type === 'treasury_debit');
      // In scroll order each debit leaves ten less, never below zero.
      expect(debits.map((r) => r.body.balance_after)).toEqual(['20.00', '10.00', '0.00']);
      expect(debits.map((r) => r.body.entry_id).sort()).toEqual(
        won.map((w) => w.receipt.body.entry_id).sort(),
      );
      expect(balances(data)).toEqual({ pool: '0.00' });

      const [verify, report] = await vmAll(
        [
          ['verify', 'treasury', '--deep'],
          ['--format', 'json', 'treasury', 'balance'],
        ],
        { data },
      );
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/^ok {3}treasury: 5 receipts, root [0-9a-f]{64}\n/);
      expect(ok<BalanceReport>(report)).toMatchObject({ totals: { EUR: '0.00' }, anomalies: [] });
    },
  );
});

interface SettlementView {
  settlement_id: string;
  status: string;
  title: string;
  settlement_type: string;
  currency: string;
  contract_hash: string;
  statement: string;
  contract: SettlementContract;
  proposed_seq: number;
  signatures: Array<{
    signer: string;
    kid: string;
    public_key_multibase: string;
    signature: string;
    signed_at: string;
    seq: number;
  }>;
  missing_signatures: string[];
  closed?: { status: string; seq: number; at: string; reason?: string; by?: string };
  case_dir?: string;
}

interface Written {
  receipt: Receipt;
  settlement: SettlementView;
}

interface ExecuteResult extends Written {
  ok: boolean;
  already: boolean;
  case_dir?: string;
}

interface DidView {
  did: string;
  keys: Array<{ id: string; publicKeyMultibase: string }>;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

const holderSign = (secret: Uint8Array, statement: string): string =>
  base64urlnopad.encode(ed25519.sign(utf8(statement), secret));

const holds = (signature: string, statement: string, multibase: string): boolean =>
  ed25519.verify(base64urlnopad.decode(signature), utf8(statement), decodePublicKeyMultibase(multibase));

describe.concurrent('settlements', () => {
  let data: string;
  const doraSecret = ed25519.utils.randomSecretKey();
  const doraKey = encodePublicKeyMultibase(ed25519.getPublicKey(doraSecret));
  const otherSecret = ed25519.utils.randomSecretKey();
  /** Each DID's public key, as its document gives it. */
  const keys = new Map<string, string>();

  const propose = (id: string, signers: readonly string[], legs: readonly string[], ...extra: string[]) =>
    okTreasury<Written>(data, [
      'settle',
      'propose',
      '--id',
      id,
      '--title',
      `Settlement ${id}`,
      '--type',
      'vendor_payment',
      '--signer',
      ...signers,
      ...legs,
      ...extra,
    ]);
  const sign = (id: string, as: string) => okTreasury<Written>(data, ['settle', 'sign', id, '--as', as]);
  const settlementReceipts = (id: string, status?: string) =>
    scroll(data).filter(
      (r) => r.body.settlement_id === id && (status === undefined || r.body.status === status),
    );

  beforeAll(async () => {
    data = await freshNode('settle');
    const created = await vmAll(
      [
        ...['alice', 'bob', 'carol', 'erin'].map((id) => [
          '--format',
          'json',
          'identity',
          'did',
          'create',
          '--type',
          'human',
          '--id',
          id,
        ]),
        [
          '--format',
          'json',
          'identity',
          'did',
          'create',
          '--type',
          'human',
          '--id',
          'dora',
          '--public-key',
          doraKey,
        ],
        ...[
          ['ops-eur', 'operational', 'EUR'],
          ['vendor', 'operational', 'EUR'],
          ['world', 'external', 'EUR'],
          ['btc-ops', 'operational', 'BTC'],
        ].map(([id, type, currency]) => [
          '--format',
          'json',
          'treasury',
          'account',
          'open',
          id!,
          '--type',
          type!,
          '--currency',
          currency!,
        ]),
      ],
      { data },
    );
    for (const result of created.slice(0, 5)) {
      const view = ok<DidView>(result);
      keys.set(view.did, view.keys[0]!.publicKeyMultibase);
    }
    for (const result of created.slice(5)) ok(result);
    expect(keys.get(DORA)).toBe(doraKey);
    await okTreasury(data, [
      'credit',
      '--to',
      'ops-eur',
      '--amount',
      '100',
      '--memo',
      'seed',
      '--entry-id',
      'seed',
    ]);
  });

  it.sequential(
    'propose fixes the contract; it executes only once every required signer has signed',
    async () => {
      const proposed = await propose(
        's1',
        [ALICE, BOB],
        ['--debit', 'ops-eur=60', '--credit', 'vendor=60'],
        '--memo',
        'invoice 42',
      );
      const { contract } = proposed.settlement;
      expect(contract).toEqual({
        settlement_id: 's1',
        title: 'Settlement s1',
        settlement_type: 'vendor_payment',
        initiated_by: NODE_DID,
        initiated_at: expect.any(String),
        expires_at: expect.any(String),
        currency: 'EUR',
        parties: [ALICE, BOB],
        entries: [
          {
            entry_id: 's1-1',
            entry_type: 'debit',
            account: 'ops-eur',
            amount: '60.00',
            currency: 'EUR',
            memo: 'invoice 42',
          },
          {
            entry_id: 's1-2',
            entry_type: 'credit',
            account: 'vendor',
            amount: '60.00',
            currency: 'EUR',
            memo: 'invoice 42',
          },
        ],
        requires_signatures: [ALICE, BOB],
      });
      expect(contract.initiated_at <= proposed.receipt.ts).toBe(true);
      const week = Date.parse(contract.expires_at) - Date.parse(contract.initiated_at);
      expect(Math.abs(week - 7 * 86_400_000)).toBeLessThan(60_000);
      const hash = contractHash(contract);
      expect(proposed.receipt).toMatchObject({
        type: 'treasury_settlement',
        tags: ['treasury', 'settlement', 'proposed'],
        body: { settlement_id: 's1', status: 'pending_signatures', contract, contract_hash: hash },
      });
      expect(proposed.settlement).toMatchObject({
        status: 'pending_signatures',
        contract_hash: hash,
        statement: approvalStatement(hash),
        missing_signatures: [ALICE, BOB],
        signatures: [],
      });
      const before = balances(data);
      expect(before).toMatchObject({ 'ops-eur': '100.00', vendor: '0.00' });

      await refused(data, [
        {
          args: ['settle', 'execute', 's1'],
          code: 'SETTLEMENT_NOT_READY',
          status: 2,
          message: /^settlement s1 still needs the signatures of did:vm:human:alice, did:vm:human:bob$/,
        },
      ]);
      const signed = await sign('s1', ALICE);
      expect(signed.receipt).toMatchObject({
        type: 'treasury_settlement_signature',
        tags: ['treasury', 'settlement', 'signature'],
        body: {
          settlement_id: 's1',
          contract_hash: hash,
          signer: ALICE,
          kid: `${ALICE}#key-1`,
          public_key_multibase: keys.get(ALICE),
        },
      });
      expect(holds(String(signed.receipt.body.signature), approvalStatement(hash), keys.get(ALICE)!)).toBe(
        true,
      );
      expect(signed.settlement).toMatchObject({ status: 'pending_signatures', missing_signatures: [BOB] });

      await refused(data, [
        {
          args: ['settle', 'execute', 's1'],
          code: 'SETTLEMENT_NOT_READY',
          status: 2,
          message: /still needs the signatures of did:vm:human:bob$/,
        },
        {
          args: ['settle', 'sign', 's1', '--as', ALICE],
          code: 'DUPLICATE_SIGNATURE',
          status: 2,
          message: new RegExp(
            `^signer: ${ALICE} already signed settlement s1 \\(seq ${signed.receipt.seq}\\)$`,
          ),
        },
        {
          args: ['settle', 'sign', 's1', '--as', CAROL],
          code: 'UNAUTHORIZED_SIGNER',
          status: 7,
          message: /^signer: did:vm:human:carol is not among the signers settlement s1 requires$/,
        },
        {
          args: ['settle', 'sign', 's1', '--as', human('mallory')],
          code: 'UNKNOWN_DID',
          status: 3,
          message: /^as: did:vm:human:mallory is not in the Identity scroll$/,
        },
        { args: ['settle', 'sign', 'no-such', '--as', ALICE], code: 'UNKNOWN_SETTLEMENT', status: 3 },
      ]);
      expect(balances(data)).toEqual(before);
      expect((await sign('s1', BOB)).settlement).toMatchObject({
        status: 'executing',
        missing_signatures: [],
      });
    },
  );

  it.sequential(
    'execute applies every entry in one receipt with the net flow and the signatures, and writes the case',
    async () => {
      const lines = scroll(data).length;
      const executed = await okTreasury<ExecuteResult>(data, ['settle', 'execute', 's1']);
      expect(executed).toMatchObject({ ok: true, already: false });
      expect(scroll(data)).toHaveLength(lines + 1);
      expect(settlementReceipts('s1', 'completed')).toEqual([executed.receipt]);
      const view = await okTreasury<SettlementView>(data, ['settle', 'show', 's1']);
      const { body } = executed.receipt;
      expect(body).toMatchObject({
        settlement_id: 's1',
        status: 'completed',
        contract_hash: view.contract_hash,
        currency: 'EUR',
        parties: [ALICE, BOB],
        entries_count: 2,
        entries: [
          {
            entry_id: 's1-1',
            entry_type: 'debit',
            account: 'ops-eur',
            amount: '60.00',
            balance_after: '40.00',
          },
          {
            entry_id: 's1-2',
            entry_type: 'credit',
            account: 'vendor',
            amount: '60.00',
            balance_after: '60.00',
          },
        ],
        net_flow: { 'ops-eur': '-60.00', vendor: '60.00' },
        signatures_manifest: 'cases/treasury/s1/SIGNATURES.json',
      });
      const signatures = body.signatures as SettlementView['signatures'];
      expect(signatures.map((s) => [s.signer, s.kid, s.public_key_multibase])).toEqual([
        [ALICE, `${ALICE}#key-1`, keys.get(ALICE)],
        [BOB, `${BOB}#key-1`, keys.get(BOB)],
      ]);
      for (const s of signatures)
        expect(holds(s.signature, view.statement, s.public_key_multibase)).toBe(true);
      expect(balances(data)).toMatchObject({ 'ops-eur': '40.00', vendor: '60.00' });
      expect(view).toMatchObject({
        status: 'completed',
        closed: { status: 'completed', seq: executed.receipt.seq },
      });

      const caseDir = join(data, 'cases/treasury/s1');
      expect(executed.case_dir).toBe(caseDir);
      const manifest = readFileSync(join(caseDir, 'SIGNATURES.json'));
      expect(`sha256:${sha256Hex(manifest)}`).toBe(body.signatures_manifest_hash);
      expect(JSON.parse(manifest.toString('utf8'))).toEqual({
        settlement_id: 's1',
        contract_hash: view.contract_hash,
        statement: view.statement,
        requires_signatures: [ALICE, BOB],
        signatures: view.signatures,
      });
      expect(JSON.parse(readFileSync(join(caseDir, 'contract.json'), 'utf8'))).toEqual(view.contract);
      const artifacts = readFileSync(join(caseDir, 'ARTIFACTS.sha256'), 'utf8');
      expect(artifacts).toContain(`${sha256Hex(manifest)}  SIGNATURES.json\n`);
      for (const line of artifacts.trimEnd().split('\n')) {
        const [digest, name] = line.split('  ') as [string, string];
        expect(sha256Hex(readFileSync(join(caseDir, name))), name).toBe(digest);
      }
      expect(readFileSync(join(caseDir, 'PROOF.json'), 'utf8')).toContain(executed.receipt.root_hash);

      const [settled, again] = await vmAll(
        [
          ['--format', 'json', 'treasury', 'query', '--type', 'settlement'],
          ['treasury', 'settle', 'execute', 's1'],
        ],
        { data },
      );
      expect(
        ok<{ entries: EntryRow[] }>(settled).entries.map((e) => [e.entry_id, e.settlement_id, e.seq]),
      ).toEqual([
        ['s1-1', 's1', executed.receipt.seq],
        ['s1-2', 's1', executed.receipt.seq],
      ]);
      // Again: already completed, nothing new.
      const bytes = scrollBytes(data);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/^already completed: settlement s1, 2 entries applied at once\n/);
      expect(again.stdout).toContain(`treasury seq ${executed.receipt.seq} (treasury_settlement)`);
      expect(scroll(data)).toHaveLength(lines + 1);

      // The case is regenerated from the scroll when it is lost.
      rmSync(caseDir, { recursive: true, force: true });
      const rewritten = await okTreasury<ExecuteResult>(data, ['settle', 'execute', 's1']);
      expect(rewritten).toMatchObject({ ok: true, already: true, case_dir: caseDir });
      expect(rewritten.receipt).toEqual(executed.receipt);
      expect(readFileSync(join(caseDir, 'SIGNATURES.json')).equals(manifest)).toBe(true);
      expect(readFileSync(join(caseDir, 'ARTIFACTS.sha256'), 'utf8')).toBe(artifacts);
      expect(existsSync(join(caseDir, 'PROOF.json'))).toBe(true);
      expect(scrollBytes(data).equals(bytes)).toBe(true);
      expect(balances(data)).toMatchObject({ 'ops-eur': '40.00', vendor: '60.00' });
    },
  );

  it.sequential(
    "a holder's signature is checked before it is recorded: forgeries are refused, the real one accepted",
    async () => {
      const proposed = await propose('s2', [ALICE, DORA], ['--debit', 'ops-eur=10', '--credit', 'vendor=10']);
      const { statement, contract_hash: hash } = proposed.settlement;
      expect(statement).toBe(approvalStatement(hash));
      const s1Statement = approvalStatement(String(settlementReceipts('s1')[0]!.body.contract_hash));
      const forged = (signature: string): Refusal => ({
        args: ['settle', 'sign', 's2', '--as', DORA, '--signature', signature],
        code: 'SIGNATURE_INVALID',
        status: 4,
        message: /^signature: not did:vm:human:dora#key-1's Ed25519 signature of the statement$/,
      });
      await refused(data, [
        // The holder's key over another settlement's statement.
        forged(holderSign(doraSecret, s1Statement)),
        // The right statement under another key.
        forged(holderSign(otherSecret, statement)),
        {
          args: ['settle', 'sign', 's2', '--as', DORA],
          code: 'KEY_NOT_HELD',
          status: 3,
          message: /holds no private key for did:vm:human:dora/,
        },
      ]);

      const real = holderSign(doraSecret, statement);
      const signed = await okTreasury<Written>(data, [
        'settle',
        'sign',
        's2',
        '--as',
        DORA,
        '--signature',
        real,
      ]);
      expect(signed.receipt.body).toMatchObject({
        signer: DORA,
        kid: `${DORA}#key-1`,
        public_key_multibase: doraKey,
        signature: real,
      });
      await refused(data, [
        {
          args: ['settle', 'sign', 's2', '--as', DORA, '--signature', real],
          code: 'DUPLICATE_SIGNATURE',
          status: 2,
        },
      ]);
      await sign('s2', ALICE);

      // Two executions at once: the books move once.
      const both = await Promise.all([0, 1].map(() => treasury(data, ['settle', 'execute', 's2'])));
      // Both succeed: the one that lost the race answers with the other's execution.
      for (const r of both) expect(r.status, r.stderr).toBe(0);
      const done = both.map((r) => JSON.parse(r.stdout) as ExecuteResult);
      expect(done.map((d) => d.ok)).toEqual([true, true]);
      expect(done.map((d) => d.already).sort()).toEqual([false, true]);
      expect(done[0]!.receipt.seq).toBe(done[1]!.receipt.seq);
      expect(settlementReceipts('s2', 'completed')).toHaveLength(1);
      expect(settlementReceipts('s2', 'completed')[0]!.body.signatures).toEqual([
        expect.objectContaining({ signer: DORA, signature: real }),
        expect.objectContaining({ signer: ALICE }),
      ]);
      expect(balances(data)).toMatchObject({ 'ops-eur': '30.00', vendor: '70.00' });
    },
  );

  it.sequential('a signer revoked after signing stops the execution', async () => {
    await propose('s3', [ALICE, CAROL], ['--debit', 'ops-eur=5', '--credit', 'vendor=5']);
    await Promise.all([sign('s3', ALICE), sign('s3', CAROL)]);
    ok(await vmAsync(['--format', 'json', 'identity', 'did', 'revoke', CAROL, '--reason', 'left'], { data }));
    const before = balances(data);
    await refused(data, [
      {
        args: ['settle', 'execute', 's3'],
        code: 'DID_REVOKED',
        status: 2,
        message: /^signer: did:vm:human:carol is revoked and signs nothing$/,
      },
    ]);
    expect(balances(data)).toEqual(before);
    expect(settlementReceipts('s3').map((r) => r.type)).toEqual([
      'treasury_settlement',
      'treasury_settlement_signature',
      'treasury_settlement_signature',
    ]);
  });

  it.sequential(
    'all or none: an execution that would overdraw applies no entry; bad contracts are not proposed',
    async () => {
      // The first debit (external) would pass and the second overdraws: neither applies, nor the credit.
      const proposed = await propose(
        's4',
        [ALICE],
        ['--debit', 'world=5', 'ops-eur=1000', '--credit', 'vendor=1005'],
      );
      expect(proposed.settlement.contract.entries.map((e) => [e.entry_id, e.entry_type, e.account])).toEqual([
        ['s4-1', 'debit', 'world'],
        ['s4-2', 'debit', 'ops-eur'],
        ['s4-3', 'credit', 'vendor'],
      ]);
      await sign('s4', ALICE);
      const before = balances(data);
      await refused(data, [
        {
          args: ['settle', 'execute', 's4'],
          code: 'INSUFFICIENT_FUNDS',
          status: 2,
          message: /^account ops-eur holds 30\.00 EUR; a debit of 1000\.00 would overdraw it$/,
        },
      ]);
      expect(balances(data)).toEqual(before);
      expect(before).toMatchObject({ world: '0.00', 'ops-eur': '30.00', vendor: '70.00' });

      const proposal = (id: string, ...args: string[]) => [
        'settle',
        'propose',
        '--id',
        id,
        '--title',
        't',
        '--type',
        'vendor_payment',
        '--signer',
        ALICE,
        ...args,
      ];
      const legs = ['--debit', 'ops-eur=1', '--credit', 'vendor=1'];
      await refused(data, [
        {
          args: proposal('bad-1', '--debit', 'ops-eur=10', '--credit', 'vendor=11'),
          code: 'UNBALANCED_SETTLEMENT',
          status: 2,
          message: /^the entries credit 11\.00 and debit 10\.00 EUR/,
        },
        {
          args: proposal('bad-2', '--debit', 'ops-eur=10', '--credit', 'btc-ops=10'),
          code: 'CURRENCY_MISMATCH',
          status: 2,
          message: /^entries\[1\]\.account: account btc-ops keeps BTC, not EUR$/,
        },
        {
          args: proposal('bad-3', '--debit', 'ops-eur=12.505', '--credit', 'vendor=12.505'),
          code: 'INVALID_ARGUMENT',
          status: 2,
          message: /^debit\[ops-eur\]: EUR has 2 decimal places/,
        },
        {
          args: proposal('bad-4', '--debit', 'ops-eur=1', '--credit', 'nowhere=1'),
          code: 'UNKNOWN_ACCOUNT',
          status: 3,
          message: /^entries\[1\]\.account: there is no account nowhere$/,
        },
        { args: proposal('s1', ...legs), code: 'SETTLEMENT_EXISTS', status: 2 },
      ]);
      expect(
        new Set(
          scroll(data)
            .map((r) => r.body.settlement_id)
            .filter(Boolean),
        ),
      ).toEqual(new Set(['s1', 's2', 's3', 's4']));
    },
  );

  it.sequential(
    'a dispute by a party closes the settlement; past its deadline it expires and records that',
    async () => {
      // Proposed first, so that its deadline passes while the dispute is handled.
      const expiring = await propose(
        's6',
        [ALICE],
        ['--debit', 'ops-eur=1', '--credit', 'vendor=1'],
        '--expires',
        '3s',
      );
      const { expires_at: expiresAt, initiated_at: initiatedAt } = expiring.settlement.contract;
      expect(Date.parse(expiresAt) - Date.parse(initiatedAt)).toBeLessThanOrEqual(3000);

      await propose('s5', [ALICE, BOB], ['--debit', 'ops-eur=2', '--credit', 'vendor=2']);
      await sign('s5', ALICE);
      await refused(data, [
        {
          args: ['settle', 'dispute', 's5', '--as', ERIN, '--reason', 'not mine'],
          code: 'UNAUTHORIZED_SIGNER',
          status: 7,
          message: /^dispute\.signer: did:vm:human:erin is neither a party nor a signer of settlement s5$/,
        },
      ]);
      const disputed = await okTreasury<Written>(data, [
        'settle',
        'dispute',
        's5',
        '--as',
        BOB,
        '--reason',
        'wrong invoice',
      ]);
      expect(disputed.receipt.body).toMatchObject({
        settlement_id: 's5',
        status: 'disputed',
        reason: 'wrong invoice',
        dispute: { signer: BOB, kid: `${BOB}#key-1`, public_key_multibase: keys.get(BOB) },
      });
      const { signature } = disputed.receipt.body.dispute as { signature: string };
      expect(
        holds(
          signature,
          disputeStatement(disputed.settlement.contract_hash, 'wrong invoice'),
          keys.get(BOB)!,
        ),
      ).toBe(true);
      expect(disputed.settlement).toMatchObject({
        status: 'disputed',
        closed: { status: 'disputed', seq: disputed.receipt.seq, reason: 'wrong invoice', by: BOB },
      });
      const before = balances(data);
      await refused(data, [
        {
          args: ['settle', 'execute', 's5'],
          code: 'SETTLEMENT_CLOSED',
          status: 2,
          message: new RegExp(`^settlement s5 is disputed \\(seq ${disputed.receipt.seq}\\)$`),
        },
      ]);

      const deadline = Date.parse(expiresAt);
      while (Date.now() <= deadline + 100)
        await new Promise((r) => setTimeout(r, deadline + 150 - Date.now()));
      // Past its deadline it lists as expired before any receipt says so.
      const [disputedList, expiredList] = await vmAll(
        [
          ['--format', 'json', 'treasury', 'settle', 'list', '--status', 'disputed'],
          ['--format', 'json', 'treasury', 'settle', 'list', '--status', 'expired'],
        ],
        { data },
      );
      expect(
        ok<{ settlements: SettlementView[] }>(disputedList).settlements.map((s) => s.settlement_id),
      ).toEqual(['s5']);
      expect(
        ok<{ settlements: SettlementView[] }>(expiredList).settlements.map((s) => [
          s.settlement_id,
          s.closed,
        ]),
      ).toEqual([['s6', undefined]]);
      await refused(data, [
        {
          args: ['settle', 'sign', 's6', '--as', ALICE],
          code: 'SETTLEMENT_EXPIRED',
          status: 2,
          message: new RegExp(`^settlement s6 expired at ${expiresAt.replace(/\./g, '\\.')}$`),
        },
      ]);
      const lines = scroll(data).length;
      const expired = await treasury(data, ['settle', 'execute', 's6']);
      expect(expired.status, expired.stderr).toBe(4);
      const result = JSON.parse(expired.stdout) as ExecuteResult;
      expect(result).toMatchObject({ ok: false, already: false, settlement: { status: 'expired' } });
      expect(result.receipt).toMatchObject({
        type: 'treasury_settlement',
        tags: ['treasury', 'settlement', 'expired'],
        body: { settlement_id: 's6', status: 'expired', expires_at: expiresAt },
      });
      expect(scroll(data)).toHaveLength(lines + 1);
      expect(balances(data)).toEqual(before);
      expect(existsSync(join(data, 'cases/treasury/s6'))).toBe(false);
      await refused(data, [
        {
          args: ['settle', 'execute', 's6'],
          code: 'SETTLEMENT_CLOSED',
          status: 2,
          message: new RegExp(`^settlement s6 is expired \\(seq ${result.receipt.seq}\\)$`),
        },
      ]);
    },
  );

  it.sequential("a single entry never takes a settled entry's id", async () => {
    // s1-2 is the credit settlement s1 applied: a credit with the same content is another entry.
    await refused(data, [
      {
        args: ['credit', '--to', 'vendor', '--amount', '60', '--memo', 'invoice 42', '--entry-id', 's1-2'],
        code: 'ENTRY_CONFLICT',
        status: 2,
        message: /settlement s1/,
      },
    ]);
  });

  it.sequential('an entry id names one entry, even when a pending settlement names it first', async () => {
    await propose('s7', [ALICE], ['--debit', 'ops-eur=1', '--credit', 'vendor=1'], '--memo', 'same');
    await sign('s7', ALICE);
    const credit = await treasury(data, [
      'credit',
      '--to',
      'vendor',
      '--amount',
      '1',
      '--memo',
      'same',
      '--entry-id',
      's7-2',
    ]);
    const execute = await treasury(data, ['settle', 'execute', 's7']);
    const refusals = [credit, execute].filter((r) => r.status !== 0);
    expect(refusals, 'the credit or the execution is refused').toHaveLength(1);
    expect(jsonError(refusals[0]!).code).toBe('ENTRY_CONFLICT');
    // Every entry the scroll records, single or settled: s7-2 is one of them, once.
    const ids = scroll(data).flatMap((r) =>
      r.type === 'treasury_settlement' && r.body.status === 'completed'
        ? (r.body.entries as Array<{ entry_id: string }>).map((e) => e.entry_id)
        : r.type === 'treasury_credit' || r.type === 'treasury_debit'
          ? [String(r.body.entry_id)]
          : [],
    );
    expect(ids.filter((id) => id === 's7-2')).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it.sequential('leaves a ledger that verifies, whose books have no anomalies', async () => {
    const [verify, report] = await vmAll(
      [
        ['verify', '--deep'],
        ['--format', 'json', 'treasury', 'balance'],
      ],
      { data },
    );
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok {3}treasury: \d+ receipts/m);
    expect(verify.stdout).toMatch(/^ok {3}identity: \d+ receipts/m);
    expect(ok<BalanceReport>(report).anomalies).toEqual([]);
  });
});

describe.concurrent('a tampered Treasury scroll', () => {
  let data: string;
  beforeAll(async () => {
    data = await freshNode('tamper');
  });

  it.sequential('vm verify fails naming the altered line, and the altered entry moves no money', async () => {
    await okTreasury(data, ['account', 'open', 'ops-eur', '--type', 'operational', '--currency', 'EUR']);
    await okTreasury(data, [
      'credit',
      '--to',
      'ops-eur',
      '--amount',
      '100.50',
      '--memo',
      'seed',
      '--entry-id',
      'c-1',
    ]);
    await okTreasury(data, [
      'credit',
      '--to',
      'ops-eur',
      '--amount',
      '20',
      '--memo',
      'more',
      '--entry-id',
      'c-2',
    ]);

    const file = join(data, TREASURY_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[1]).toContain('"amount":"100.50"');
    lines[1] = lines[1]!.replace('"amount":"100.50"', '"amount":"900.50"');
    writeFileSync(file, lines.join('\n'));

    const [all, one, report] = await vmAll(
      [['verify'], ['--format', 'json', 'verify', 'treasury'], ['--format', 'json', 'treasury', 'balance']],
      { data },
    );
    expect(all.status).toBe(4);
    expect(all.stdout).toMatch(/^FAIL treasury: 3 receipts/m);
    expect(all.stdout).toMatch(
      /^ {5}LINE_CORRUPT: line 2 \(seq 1\): root_hash does not match the body \(the body was altered\)$/m,
    );
    expect(all.stdout).toMatch(/^ok {3}identity: /m);
    expect(one.status).toBe(4);
    const verified = JSON.parse(one.stdout) as {
      ok: boolean;
      scrolls: Array<{ scroll: string; ok: boolean; findings: Array<{ code: string; evidence: object }> }>;
    };
    expect(verified.ok).toBe(false);
    expect(verified.scrolls.map((s) => [s.scroll, s.ok])).toEqual([['treasury', false]]);
    expect(verified.scrolls[0]!.findings[0]).toMatchObject({
      code: 'LINE_CORRUPT',
      evidence: { line: 2, seq: 1 },
    });

    // The books read the altered entry as breaking the rules: it moves no money, and neither does
    // the next one, whose recorded balance no longer follows.
    const books = ok<BalanceReport>(report);
    expect(books.anomalies.map((a) => [a.seq, a.type, a.code])).toEqual([
      [1, 'treasury_credit', 'BALANCE_MISMATCH'],
      [2, 'treasury_credit', 'BALANCE_MISMATCH'],
    ]);
    expect(books.accounts.map((a) => [a.account_id, a.balance])).toEqual([['ops-eur', '0.00']]);

    // vm treasury audit names them too, and fails (exit 4); as CSV, one row each.
    const [audit, auditCsv] = await vmAll(
      [
        ['treasury', 'audit'],
        ['--format', 'csv', 'treasury', 'audit'],
      ],
      { data },
    );
    expect(audit.status).toBe(4);
    expect(audit.stdout).toMatch(/^FAIL: 3 receipts, 2 break the rules and move no money\n/);
    expect(audit.stdout).toMatch(/^1 +treasury_credit +BALANCE_MISMATCH +balance_after: /m);
    expect(auditCsv.status).toBe(4);
    expect(parseCsv(auditCsv.stdout).map((r) => r.slice(0, 3))).toEqual([
      ['seq', 'type', 'code'],
      ['1', 'treasury_credit', 'BALANCE_MISMATCH'],
      ['2', 'treasury_credit', 'BALANCE_MISMATCH'],
    ]);
  });
});
