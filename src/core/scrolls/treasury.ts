import { z } from 'zod';
import { bodyWith, currency, decimalAmount, defineScroll, identifier } from './define.js';

const entry = {
  entry_id: identifier,
  account: identifier,
  amount: decimalAmount,
  currency,
  memo: z.string(),
};

const RESERVED = 'reserved to the Treasury engine, which checks the books; it is not in this release yet';

export const treasury = defineScroll({
  name: 'treasury',
  title: 'Treasury',
  engineId: 'engine:treasury',
  description: 'Credits, debits and multi-party settlements, in exact decimal amounts.',
  file: 'receipts/treasury/treasury_events.jsonl',
  rootFile: 'ROOT.treasury.txt',
  types: [
    {
      type: 'treasury_credit',
      description: 'Money into an account.',
      body: bodyWith(entry),
      reserved: RESERVED,
    },
    {
      type: 'treasury_debit',
      description: 'Money out of an account.',
      body: bodyWith(entry),
      reserved: RESERVED,
    },
    {
      type: 'treasury_settlement',
      description: 'A signed settlement between parties, applied atomically.',
      body: bodyWith({ settlement_id: identifier, status: z.string().min(1) }),
      reserved: RESERVED,
    },
  ],
});
