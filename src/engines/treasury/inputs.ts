/** Input values the Treasury operations share, each refused with what to type instead. */
import { z } from 'zod';
import { ledgerId } from '../../core/scrolls/treasury.js';
import { CURRENCIES } from '../../core/treasury/money.js';

export const accountId = ledgerId;
export const currencyInput = z.enum(CURRENCIES, { error: `expected one of ${CURRENCIES.join(', ')}` });
/** Checked against the currency's decimals when the currency is known (money.ts `parseAmount`). */
export const amountInput = z.string({
  error: 'amounts are decimal strings such as "12.50", never numbers (a number is a float)',
});
export const memoInput = z.string().max(1024, 'a memo is at most 1024 characters');
