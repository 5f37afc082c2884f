/**
 * `vm treasury credit|debit|balance|query`: single entries, each an idempotent receipt keyed by
 * its entry id, and the balances and entries the scroll derives.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { refusal } from '../../core/fold.js';
import type { Receipt } from '../../core/receipt.js';
import { identifier } from '../../core/scrolls/define.js';
import { ledgerId } from '../../core/scrolls/treasury.js';
import { textTable, type TableRows } from '../../core/table.js';
import { treasuryFold } from '../../core/treasury/fold.js';
import { currencyOf, formatAmount, parseAmount, type Currency } from '../../core/treasury/money.js';
import { planEntry } from '../../core/treasury/plan.js';
import { accountViolation, type EntryKind } from '../../core/treasury/rules.js';
import type { TreasuryAccount, TreasuryState } from '../../core/treasury/state.js';
import type { EngineContext } from '../framework/engine.js';
import { defineOperation } from '../framework/engine.js';
import { anomalyRows } from '../framework/folded.js';
import { timeBound, timeInput } from '../framework/operations.js';
import { accountListing, accountRows, type AccountListing } from './accounts.js';
import { accountId, amountInput, currencyInput, memoInput } from './inputs.js';
import { currentBooks, receiptAt, receiptSummary, recordBooks } from './ledger.js';

export interface EntryResult {
  receipt: Receipt;
  /** True when the entry id was already recorded with this content: nothing new was written. */
  already: boolean;
}

function newEntryId(at: string): string {
  return `entry-${at.replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(4).toString('hex')}`;
}

/** The books' refusal of an account they do not keep. */
function unknownAccount(state: TreasuryState, account: string, currency = 'EUR') {
  return refusal(accountViolation(state, account, currency, 'account')!);
}

async function recordEntry(
  context: EngineContext,
  kind: EntryKind,
  input: z.infer<typeof entryInput>,
): Promise<EntryResult> {
  let recorded: number | undefined;
  const { receipts } = await recordBooks(context, (books, at) => {
    const account = books.accounts.get(input.account);
    if (account === undefined) throw unknownAccount(books, input.account, input.currency);
    const currency = currencyOf(input.currency ?? account.currency);
    const planned = planEntry(
      books,
      kind,
      {
        entry_id: input.entryId ?? newEntryId(at),
        account: input.account,
        amount: parseAmount(input.amount, currency, 'amount'),
        currency,
        memo: input.memo,
      },
      at,
      input.tag,
    );
    if ('recorded' in planned) {
      recorded = planned.recorded.seq;
      return [];
    }
    return [planned.draft];
  });
  return recorded === undefined
    ? { receipt: receipts[0]!, already: false }
    : { receipt: receiptAt(context, recorded), already: true };
}

const entryInput = z.object({
  account: accountId,
  amount: amountInput,
  currency: currencyInput.optional(),
  memo: memoInput,
  entryId: ledgerId.optional(),
  tag: z.array(identifier).optional(),
});

const entryOptions = (direction: 'to' | 'from') => [
  {
    field: 'account',
    flags: `--${direction} <account>`,
    description: direction === 'to' ? 'the account credited' : 'the account debited',
  },
  { field: 'amount', flags: '--amount <decimal>', description: 'exact decimal amount, e.g. 12.50' },
  {
    field: 'currency',
    flags: '--currency <code>',
    description: "the account's currency (checked when given)",
  },
  { field: 'memo', flags: '--memo <text>', description: 'what the money is for' },
  {
    field: 'entryId',
    flags: '--entry-id <id>',
    description: 'idempotency key: the same entry again is recorded once (default: a new id)',
  },
  { field: 'tag', flags: '--tag <tags...>', description: 'labels of the receipt, e.g. payroll q4' },
];

const entryDone =
  (verb: string) =>
  ({ receipt, already }: EntryResult) =>
    [
      `${already ? 'already recorded' : verb}: ${String(receipt.body.entry_id)}: ${String(receipt.body.amount)} ${String(receipt.body.currency)} ${verb === 'credited' ? 'to' : 'from'} ${String(receipt.body.account)}, balance ${String(receipt.body.balance_after)}`,
      receiptSummary(receipt),
    ].join('\n');

export const credit = defineOperation({
  name: 'credit',
  summary: 'record money into an account',
  access: 'write',
  input: entryInput,
  cli: { options: entryOptions('to') },
  run: (context, input) => recordEntry(context, 'credit', input),
  human: entryDone('credited'),
});

export const debit = defineOperation({
  name: 'debit',
  summary: 'record money out of an account (refused if it would overdraw a non-external account)',
  access: 'write',
  input: entryInput,
  cli: { options: entryOptions('from') },
  run: (context, input) => recordEntry(context, 'debit', input),
  human: entryDone('debited'),
});

export interface BalanceReport {
  accounts: AccountListing[];
  /** Per currency, the sum over every account: what the entries from outside the books add up to. */
  totals: Record<string, string>;
  receipts: number;
  anomalies: TreasuryState['anomalies'];
}

function totalsOf(accounts: readonly TreasuryAccount[]): Record<string, string> {
  const sums = new Map<Currency, bigint>();
  for (const a of accounts) sums.set(a.currency, (sums.get(a.currency) ?? 0n) + a.balance);
  return Object.fromEntries(
    [...sums].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, s]) => [c, formatAmount(s, c)]),
  );
}

/** The fold of the scroll's receipts up to the first one recorded at or after `bound`. */
function booksBefore(context: EngineContext, bound: string): TreasuryState {
  const log = context.ledger.reader('treasury');
  try {
    const state = treasuryFold.initial();
    for (const { line } of log.readLines(0, log.size)) {
      const receipt = JSON.parse(line) as Receipt;
      if (receipt.ts >= bound) break;
      treasuryFold.apply(state, receipt);
    }
    return state;
  } finally {
    log.close();
  }
}

export const balance = defineOperation({
  name: 'balance',
  summary: 'balances derived from the scroll: one account, or all with totals per currency',
  access: 'read',
  input: z.object({ account: accountId.optional(), asOf: timeInput.optional() }),
  cli: {
    arguments: [{ field: 'account', name: 'account', optional: true, description: 'one account' }],
    options: [
      {
        field: 'asOf',
        flags: '--as-of <date>',
        description: 'the books as they stood before this time (YYYY-MM-DD means the end of that day)',
      },
    ],
  },
  async run(context, input): Promise<BalanceReport> {
    const state =
      input.asOf === undefined
        ? currentBooks(context).state
        : booksBefore(context, timeBound(input.asOf, true));
    const kept = [...state.accounts.values()].filter(
      (a) => input.account === undefined || a.account_id === input.account,
    );
    if (input.account !== undefined && kept.length === 0) throw unknownAccount(state, input.account);
    return {
      accounts: kept.map(accountListing),
      totals: totalsOf(kept),
      receipts: state.size,
      anomalies: state.anomalies,
    };
  },
  human: ({ accounts, totals, receipts, anomalies }) =>
    [
      accounts.length === 0 ? 'no accounts' : textTable(accountRows(accounts)),
      `totals: ${
        Object.entries(totals)
          .map(([c, s]) => `${s} ${c}`)
          .join(', ') || 'none'
      } (from ${receipts} receipts)`,
      ...(anomalies.length === 0
        ? []
        : [`${anomalies.length} receipt(s) break the rules and move no money: see vm treasury audit`]),
    ].join('\n'),
  rows: ({ accounts }) => accountRows(accounts),
});

export interface EntryRow {
  seq: number;
  ts: string;
  entry_type: EntryKind;
  entry_id: string;
  account: string;
  amount: string;
  currency: string;
  balance_after: string;
  settlement_id: string;
  memo: string;
}

/** The entries a receipt records: one for a credit or debit, every entry of a completed settlement. */
function entriesOf(receipt: Receipt): EntryRow[] {
  const base = { seq: receipt.seq, ts: receipt.ts };
  const b = receipt.body as Record<string, unknown>;
  if (receipt.type === 'treasury_credit' || receipt.type === 'treasury_debit') {
    return [
      {
        ...base,
        entry_type: receipt.type === 'treasury_credit' ? 'credit' : 'debit',
        entry_id: String(b.entry_id),
        account: String(b.account),
        amount: String(b.amount),
        currency: String(b.currency),
        balance_after: String(b.balance_after),
        settlement_id: '',
        memo: String(b.memo),
      },
    ];
  }
  if (receipt.type !== 'treasury_settlement' || b.status !== 'completed') return [];
  return (b.entries as Record<string, string>[]).map((e) => ({
    ...base,
    entry_type: e.entry_type as EntryKind,
    entry_id: e.entry_id!,
    account: e.account!,
    amount: e.amount!,
    currency: e.currency!,
    balance_after: e.balance_after!,
    settlement_id: String(b.settlement_id),
    memo: e.memo!,
  }));
}

const ENTRY_TYPES = ['credit', 'debit', 'settlement'] as const;

export const query = defineOperation({
  name: 'query',
  summary: 'entries (credits, debits, settled entries) by account, time and kind',
  access: 'read',
  input: z.object({
    account: accountId.optional(),
    from: timeInput.optional(),
    to: timeInput.optional(),
    type: z.enum(ENTRY_TYPES).optional(),
    tag: z.array(identifier).optional(),
    limit: z.coerce.number().int().min(1).max(100_000).default(1000),
  }),
  cli: {
    options: [
      { field: 'account', flags: '--account <account>', description: 'entries of this account' },
      { field: 'from', flags: '--from <date>', description: 'recorded at or after (YYYY-MM-DD or ISO time)' },
      { field: 'to', flags: '--to <date>', description: 'recorded before; a date includes that day' },
      { field: 'type', flags: '--type <kind>', description: 'credit, debit or settlement' },
      { field: 'tag', flags: '--tag <tags...>', description: "receipts' tags that must all be present" },
      { field: 'limit', flags: '--limit <n>', description: 'at most n entries, oldest first (default 1000)' },
    ],
  },
  async run(context, input): Promise<{ entries: EntryRow[] }> {
    const window = {
      ...(input.from === undefined ? {} : { from: timeBound(input.from, false) }),
      ...(input.to === undefined ? {} : { to: timeBound(input.to, true) }),
      ...(input.tag === undefined ? {} : { tags: input.tag }),
    };
    const text = (path: string, value: string) => ({ path, value, text: value });
    // Single entries through the query index (account and kind are body fields it knows); the
    // entries of completed settlements are nested, so those receipts are read and filtered here.
    const single =
      input.type === 'settlement'
        ? []
        : context.ledger.query('treasury', {
            types:
              input.type === undefined ? ['treasury_credit', 'treasury_debit'] : [`treasury_${input.type}`],
            ...window,
            ...(input.account === undefined ? {} : { where: [text('account', input.account)] }),
            limit: input.limit,
          });
    const settled = context.ledger.query('treasury', {
      types: ['treasury_settlement'],
      ...window,
      where: [text('status', 'completed')],
      limit: Number.MAX_SAFE_INTEGER,
    });
    const entries = [...single, ...settled]
      .sort((a, b) => a.seq - b.seq)
      .flatMap(entriesOf)
      .filter(
        (e) =>
          (input.account === undefined || e.account === input.account) &&
          (input.type === undefined || input.type === 'settlement' || e.entry_type === input.type),
      )
      .slice(0, input.limit);
    return { entries };
  },
  human: ({ entries }) =>
    entries.length === 0 ? 'no entries' : `${entries.length} entries\n${textTable(entryRows(entries))}`,
  rows: ({ entries }) => entryRows(entries),
});

function entryRows(entries: readonly EntryRow[]): TableRows {
  return {
    columns: [
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
    rows: entries.map((e) => [
      String(e.seq),
      e.ts,
      e.entry_type,
      e.entry_id,
      e.account,
      e.amount,
      e.currency,
      e.balance_after,
      e.settlement_id,
      e.memo,
    ]),
  };
}

export interface AuditReport {
  ok: boolean;
  receipts: number;
  anomalies: TreasuryState['anomalies'];
}

export const audit = defineOperation({
  name: 'audit',
  summary: 'receipts in the scroll that break the rules of the books (written around the engine)',
  access: 'read',
  input: z.object({}),
  cli: {},
  async run(context): Promise<AuditReport> {
    const { state } = currentBooks(context);
    return { ok: state.anomalies.length === 0, receipts: state.size, anomalies: state.anomalies };
  },
  human: (r) =>
    [
      `${r.ok ? 'ok' : 'FAIL'}: ${r.receipts} receipts, ${r.anomalies.length} break the rules and move no money`,
      ...(r.anomalies.length === 0 ? [] : [textTable(anomalyRows(r.anomalies))]),
    ].join('\n'),
  rows: (r) => anomalyRows(r.anomalies),
});
