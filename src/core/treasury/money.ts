/**
 * Exact money (DESIGN §2): amounts travel as decimal strings and are held as bigint counts of the
 * currency's minor unit (cents, satoshi, wei). A float never touches an amount, so 0.1 + 0.2 is
 * 0.3 here; a string with more decimals than the currency has is refused, never rounded.
 */
import { VaultMeshError } from '../errors.js';

/** Decimal places of each currency the books keep: ISO 4217 exponents, and the chains' own units. */
export const CURRENCY_EXPONENTS = {
  EUR: 2,
  USD: 2,
  GBP: 2,
  CHF: 2,
  JPY: 0,
  BTC: 8,
  ETH: 18,
} as const;

export type Currency = keyof typeof CURRENCY_EXPONENTS;
export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as Currency[];

/** Amounts above this many major units are refused: no treasury holds 10^24 of anything. */
const MAX_INTEGER_DIGITS = 24;
const DECIMAL_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(CURRENCY_EXPONENTS, code);
}

/** @throws VaultMeshError INVALID_ARGUMENT naming the field, for a code the books do not keep. */
export function currencyOf(code: string, field = 'currency'): Currency {
  if (isCurrency(code)) return code;
  throw new VaultMeshError(
    'INVALID_ARGUMENT',
    `${field}: ${JSON.stringify(code)} is not a currency the books keep`,
    {
      hint: `use one of ${CURRENCIES.join(', ')}`,
      evidence: { field, value: code },
    },
  );
}

/** Why `text` is not an amount of `currency`, or the amount in minor units. Zero is an amount here. */
export function readAmount(text: string, currency: Currency): bigint | string {
  const exponent = CURRENCY_EXPONENTS[currency];
  const example = exponent === 0 ? '1250' : `12.${'5'.padEnd(exponent, '0')}`;
  if (text.startsWith('-'))
    return `an amount is never negative (the entry's kind says which way money moves)`;
  const match = DECIMAL_RE.exec(text);
  if (match === null) {
    return `${JSON.stringify(text)} is not a decimal amount: write digits with at most one ".", e.g. "${example}" (no sign, exponent, spaces or arithmetic)`;
  }
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    return exponent === 0
      ? `${currency} has no minor unit: ${text} must be a whole number`
      : `${currency} has ${exponent} decimal places but ${text} has ${fraction.length}; amounts are never rounded`;
  }
  if (whole.length > MAX_INTEGER_DIGITS)
    return `${text} is larger than any treasury amount (at most ${MAX_INTEGER_DIGITS} digits before the point)`;
  return BigInt(whole + fraction.padEnd(exponent, '0'));
}

/**
 * A positive amount of `currency` in minor units.
 * @throws VaultMeshError INVALID_ARGUMENT naming `field` and showing a well-formed amount.
 */
export function parseAmount(value: unknown, currency: Currency, field = 'amount'): bigint {
  if (typeof value !== 'string') {
    throw new VaultMeshError(
      'INVALID_ARGUMENT',
      `${field}: amounts are decimal strings, not ${typeof value === 'number' ? 'numbers (a number is a float)' : typeof value}`,
      {
        hint: `give it as a string, e.g. "${formatAmount(1250n, currency)}"`,
        evidence: { field },
      },
    );
  }
  const amount = readAmount(value, currency);
  const problem =
    typeof amount === 'string'
      ? amount
      : amount === 0n
        ? 'an entry moves money: the amount must be more than zero'
        : undefined;
  if (problem !== undefined) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${field}: ${problem}`, {
      hint: `give a positive ${currency} amount with at most ${CURRENCY_EXPONENTS[currency]} decimal places, e.g. "${formatAmount(1250n, currency)}"`,
      evidence: { field, value },
    });
  }
  return amount as bigint;
}

/** Minor units as the decimal string of the currency's exponent: 1250n EUR is "12.50"; -5n is "-0.05". */
export function formatAmount(minor: bigint, currency: Currency): string {
  const exponent = CURRENCY_EXPONENTS[currency];
  const sign = minor < 0n ? '-' : '';
  const digits = (minor < 0n ? -minor : minor).toString().padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/** Reads an amount as `formatAmount` writes it (signed, exactly the exponent's decimals), or undefined. */
export function parseFormatted(text: string, currency: Currency): bigint | undefined {
  const negative = text.startsWith('-');
  const magnitude = readAmount(negative ? text.slice(1) : text, currency);
  if (
    typeof magnitude !== 'bigint' ||
    formatAmount(magnitude, currency) !== (negative ? text.slice(1) : text)
  )
    return undefined;
  if (negative && magnitude === 0n) return undefined;
  return negative ? -magnitude : magnitude;
}
