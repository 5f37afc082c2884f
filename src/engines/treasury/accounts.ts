/** `vm treasury account open|list`: the accounts the books keep, each in one currency. */
import { z } from 'zod';
import type { Receipt } from '../../core/receipt.js';
import { identifier } from '../../core/scrolls/define.js';
import { ACCOUNT_TYPES } from '../../core/scrolls/treasury.js';
import { textTable, type TableRows } from '../../core/table.js';
import { planAccountOpen } from '../../core/treasury/plan.js';
import { balanceText, type TreasuryAccount } from '../../core/treasury/state.js';
import { defineOperation } from '../framework/engine.js';
import { accountId, currencyInput } from './inputs.js';
import { currentBooks, receiptSummary, recordBooks } from './ledger.js';

export interface AccountListing {
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

export function accountListing(account: TreasuryAccount): AccountListing {
  return {
    account_id: account.account_id,
    display_name: account.display_name,
    account_type: account.account_type,
    currency: account.currency,
    balance: balanceText(account),
    entries: account.entries,
    opened_seq: account.opened_seq,
    last_seq: account.last_seq,
    tags: account.tags,
  };
}

export function accountRows(accounts: readonly AccountListing[]): TableRows {
  return {
    columns: ['account_id', 'account_type', 'currency', 'balance', 'entries', 'display_name'],
    rows: accounts.map((a) => [
      a.account_id,
      a.account_type,
      a.currency,
      a.balance,
      String(a.entries),
      a.display_name,
    ]),
  };
}

export const accountOpen = defineOperation({
  name: 'account open',
  summary: 'open an account: operational, reserve, escrow or external, in one currency',
  access: 'write',
  capability: 'admin',
  input: z.object({
    account: accountId,
    type: z.enum(ACCOUNT_TYPES),
    currency: currencyInput,
    name: z.string().min(1).max(256).optional(),
    tag: z.array(identifier).optional(),
  }),
  cli: {
    arguments: [{ field: 'account', name: 'account-id', description: 'e.g. ops-eur' }],
    options: [
      { field: 'type', flags: '--type <type>', description: ACCOUNT_TYPES.join(', ') },
      { field: 'currency', flags: '--currency <code>', description: 'EUR, USD, GBP, CHF, JPY, BTC or ETH' },
      { field: 'name', flags: '--name <name>', description: 'display name (default: the id)' },
      { field: 'tag', flags: '--tag <tags...>', description: 'labels of the account' },
    ],
  },
  async run(context, input): Promise<{ receipt: Receipt; account: AccountListing }> {
    const body = {
      account_id: input.account,
      display_name: input.name ?? input.account,
      account_type: input.type,
      currency: input.currency,
      tags: input.tag ?? [],
    };
    const { receipts, state } = await recordBooks(context, (books, at) => [planAccountOpen(books, body, at)]);
    return { receipt: receipts[0]!, account: accountListing(state.accounts.get(input.account)!) };
  },
  human: ({ receipt, account }) =>
    [
      `account ${account.account_id} opened: ${account.account_type}, ${account.currency}`,
      receiptSummary(receipt),
    ].join('\n'),
});

export const accountList = defineOperation({
  name: 'account list',
  summary: 'the accounts, with their balances',
  access: 'read',
  input: z.object({ type: z.enum(ACCOUNT_TYPES).optional() }),
  cli: { options: [{ field: 'type', flags: '--type <type>', description: 'only accounts of this type' }] },
  async run(context, input): Promise<{ accounts: AccountListing[] }> {
    const { state } = currentBooks(context);
    const accounts = [...state.accounts.values()]
      .filter((a) => input.type === undefined || a.account_type === input.type)
      .map(accountListing);
    return { accounts };
  },
  human: ({ accounts }) => (accounts.length === 0 ? 'no accounts' : textTable(accountRows(accounts))),
  rows: ({ accounts }) => accountRows(accounts),
});
