/**
 * Exact money: amounts are decimal strings read into bigint counts of the currency's minor unit
 * and written back with exactly the currency's decimals. Every currency exponent the books keep is
 * covered (EUR 2, JPY 0, BTC 8, ETH 18); what is not a well-formed positive amount is refused with
 * INVALID_ARGUMENT naming the field, and never rounded.
 */
import { describe, expect, it } from 'vitest';
import {
  CURRENCIES,
  CURRENCY_EXPONENTS,
  currencyOf,
  formatAmount,
  isCurrency,
  parseAmount,
  parseFormatted,
  readAmount,
  type Currency,
} from '../../src/core/treasury/money.js';
import { errorOf } from '../helpers/errors.js';

/** Per currency: text, its minor units, and the text formatAmount writes for them. */
const EXACT: Record<'EUR' | 'JPY' | 'BTC' | 'ETH', Array<[string, bigint, string]>> = {
  EUR: [
    ['100.50', 10050n, '100.50'],
    ['100.5', 10050n, '100.50'],
    ['100', 10000n, '100.00'],
    ['0.01', 1n, '0.01'],
    ['0.1', 10n, '0.10'],
    ['12', 1200n, '12.00'],
    ['999999999999999999999999.99', 99999999999999999999999999n, '999999999999999999999999.99'],
  ],
  JPY: [
    ['1250', 1250n, '1250'],
    ['1', 1n, '1'],
    ['100000000', 100000000n, '100000000'],
  ],
  BTC: [
    ['0.00000001', 1n, '0.00000001'],
    ['1', 100000000n, '1.00000000'],
    ['21000000', 2100000000000000n, '21000000.00000000'],
    ['0.5', 50000000n, '0.50000000'],
    ['1.23456789', 123456789n, '1.23456789'],
  ],
  ETH: [
    ['0.000000000000000001', 1n, '0.000000000000000001'],
    ['1', 10n ** 18n, '1.000000000000000000'],
    ['1.5', 15n * 10n ** 17n, '1.500000000000000000'],
    ['123456789.123456789123456789', 123456789123456789123456789n, '123456789.123456789123456789'],
  ],
};

describe('currencies', () => {
  it('keeps the ISO 4217 exponents and the chains’ own units', () => {
    expect(CURRENCY_EXPONENTS).toMatchObject({ EUR: 2, USD: 2, GBP: 2, CHF: 2, JPY: 0, BTC: 8, ETH: 18 });
    expect(CURRENCIES).toEqual(['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'BTC', 'ETH']);
  });

  it('currencyOf takes the codes the books keep and refuses others, naming the field', () => {
    for (const code of CURRENCIES) {
      expect(currencyOf(code)).toBe(code);
      expect(isCurrency(code)).toBe(true);
    }
    for (const bad of ['eur', 'EURO', 'XAU', '', ' EUR', 'toString', '__proto__', 'constructor']) {
      expect(isCurrency(bad), bad).toBe(false);
      const error = errorOf(() => currencyOf(bad, 'entries[0].currency'));
      expect(error.code, bad).toBe('INVALID_ARGUMENT');
      expect(error.message).toBe(
        `entries[0].currency: ${JSON.stringify(bad)} is not a currency the books keep`,
      );
      expect(error.hint).toBe('use one of EUR, USD, GBP, CHF, JPY, BTC, ETH');
      expect(error.evidence).toEqual({ field: 'entries[0].currency', value: bad });
    }
    expect(errorOf(() => currencyOf('XAU')).message).toMatch(/^currency: "XAU"/);
  });
});

describe.each(Object.keys(EXACT) as Array<keyof typeof EXACT>)('%s amounts', (currency) => {
  const exponent = CURRENCY_EXPONENTS[currency];

  it('reads decimal strings into exact minor units and writes them back with every decimal', () => {
    for (const [text, minor, formatted] of EXACT[currency]) {
      expect(readAmount(text, currency), text).toBe(minor);
      expect(parseAmount(text, currency), text).toBe(minor);
      expect(formatAmount(minor, currency), text).toBe(formatted);
      expect(parseFormatted(formatted, currency), formatted).toBe(minor);
      expect(parseFormatted(`-${formatted}`, currency), formatted).toBe(-minor);
      expect(formatAmount(-minor, currency)).toBe(`-${formatted}`);
    }
  });

  it('formats zero and the smallest unit with the exponent’s decimals', () => {
    const zero = exponent === 0 ? '0' : `0.${'0'.repeat(exponent)}`;
    const one = exponent === 0 ? '1' : `0.${'0'.repeat(exponent - 1)}1`;
    expect(formatAmount(0n, currency)).toBe(zero);
    expect(formatAmount(1n, currency)).toBe(one);
    expect(formatAmount(-1n, currency)).toBe(`-${one}`);
    expect(parseFormatted(zero, currency)).toBe(0n);
    expect(readAmount('0', currency)).toBe(0n);
  });

  it('refuses one decimal more than the currency has, never rounding it', () => {
    const tooFine = `1.${'0'.repeat(exponent)}1`;
    expect(typeof readAmount(tooFine, currency)).toBe('string');
    const error = errorOf(() => parseAmount(tooFine, currency, 'debit[ops]'));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/^debit\[ops\]: /);
    expect(error.message).toContain(
      exponent === 0
        ? `${currency} has no minor unit: ${tooFine} must be a whole number`
        : `${currency} has ${exponent} decimal places but ${tooFine} has ${exponent + 1}; amounts are never rounded`,
    );
    // Trailing zeros beyond the exponent are decimals too: refused, not trimmed.
    expect(typeof readAmount(`1.${'0'.repeat(exponent + 1)}`, currency)).toBe('string');
  });

  it('parseFormatted reads only what formatAmount writes', () => {
    const full = formatAmount(1250n, currency);
    expect(parseFormatted(full, currency)).toBe(1250n);
    const notFormatAmount =
      exponent === 0 ? ['12.5', '012', '-0', '+1250', ''] : ['12.5', '12', '-0.' + '0'.repeat(exponent), ''];
    const padded = exponent === 0 ? `${full}.0` : `${full}0`;
    for (const text of [...notFormatAmount, padded, ` ${full}`, `--${full}`, '-'])
      expect(parseFormatted(text, currency), JSON.stringify(text)).toBeUndefined();
  });
});

describe('0.1 + 0.2', () => {
  it('is 0.30 in bigint minor units, where floats make it 0.30000000000000004', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    const sum = parseAmount('0.1', 'EUR') + parseAmount('0.2', 'EUR');
    expect(sum).toBe(30n);
    expect(formatAmount(sum, 'EUR')).toBe('0.30');
    expect(sum).toBe(parseAmount('0.3', 'EUR'));
    const wei = parseAmount('0.1', 'ETH') + parseAmount('0.2', 'ETH');
    expect(formatAmount(wei, 'ETH')).toBe('0.300000000000000000');
  });

  it('adds ten thousand cents to exactly 100.00', () => {
    let total = 0n;
    for (let i = 0; i < 10_000; i++) total += parseAmount('0.01', 'EUR');
    expect(formatAmount(total, 'EUR')).toBe('100.00');
  });
});

describe('refusals', () => {
  const refusal = (value: unknown, currency: Currency = 'EUR', field = 'amount') => {
    const error = errorOf(() => parseAmount(value, currency, field));
    expect(error.code, String(value)).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(`${field}: `), error.message).toBe(true);
    return error;
  };

  it('refuses what is not plain digits with at most one point', () => {
    for (const text of [
      '',
      ' ',
      '1e3',
      '1E3',
      '1e-2',
      '+1',
      '1.',
      '.5',
      '01',
      '00.50',
      '1 000',
      ' 12.50',
      '12.50 ',
      '12.50\n',
      '1,50',
      '1_000',
      '0x10',
      'Infinity',
      'NaN',
      '1.2.3',
      '1+1',
      '١٢',
      '１２',
    ]) {
      const error = refusal(text, 'EUR', 'credit[ops-eur]');
      expect(error.message).toBe(
        `credit[ops-eur]: ${JSON.stringify(text)} is not a decimal amount: write digits with at most one ".", e.g. "12.50" (no sign, exponent, spaces or arithmetic)`,
      );
      expect(error.evidence).toEqual({ field: 'credit[ops-eur]', value: text });
    }
  });

  it('shows an example in the currency’s own decimals', () => {
    expect(refusal('x', 'JPY').message).toContain('e.g. "1250"');
    expect(refusal('x', 'BTC').message).toContain('e.g. "12.50000000"');
    expect(refusal('x', 'ETH').message).toContain(`e.g. "12.5${'0'.repeat(17)}"`);
    expect(refusal('x', 'BTC').hint).toBe(
      'give a positive BTC amount with at most 8 decimal places, e.g. "0.00001250"',
    );
  });

  it('refuses a sign: the entry’s kind says which way money moves', () => {
    for (const text of ['-1', '-0.01', '-0'])
      expect(refusal(text).message).toBe(
        "amount: an amount is never negative (the entry's kind says which way money moves)",
      );
  });

  it('refuses zero: an entry moves money', () => {
    for (const [text, currency] of [
      ['0', 'EUR'],
      ['0.00', 'EUR'],
      ['0.0', 'BTC'],
      ['0', 'JPY'],
      [`0.${'0'.repeat(18)}`, 'ETH'],
    ] as const)
      expect(refusal(text, currency).message).toBe(
        'amount: an entry moves money: the amount must be more than zero',
      );
  });

  it('refuses an amount larger than any treasury holds', () => {
    const most = '9'.repeat(24);
    expect(parseAmount(most, 'EUR')).toBe(BigInt(`${most}00`));
    expect(parseAmount(most, 'ETH')).toBe(BigInt(most) * 10n ** 18n);
    for (const currency of ['EUR', 'JPY', 'BTC', 'ETH'] as const) {
      const text = `1${'0'.repeat(24)}`;
      expect(refusal(text, currency).message).toBe(
        `amount: ${text} is larger than any treasury amount (at most 24 digits before the point)`,
      );
    }
    expect(refusal(`${'9'.repeat(1000)}.5`).message).toMatch(/larger than any treasury amount/);
  });

  it('refuses numbers, saying a number is a float, and every other non-string', () => {
    for (const value of [0.1, 100, 12.5, Number.NaN, 1e21]) {
      const error = refusal(value, 'EUR', 'debit[vendor]');
      expect(error.message).toBe(
        'debit[vendor]: amounts are decimal strings, not numbers (a number is a float)',
      );
      expect(error.hint).toBe('give it as a string, e.g. "12.50"');
      expect(error.evidence).toEqual({ field: 'debit[vendor]' });
    }
    expect(refusal(10050n).message).toBe('amount: amounts are decimal strings, not bigint');
    expect(refusal(undefined).message).toBe('amount: amounts are decimal strings, not undefined');
    expect(refusal(true).message).toBe('amount: amounts are decimal strings, not boolean');
    expect(refusal({ amount: '1.00' }).message).toBe('amount: amounts are decimal strings, not object');
    expect(refusal(100, 'JPY').hint).toBe('give it as a string, e.g. "1250"');
  });

  it('names the default field "amount"', () => {
    expect(errorOf(() => parseAmount('1.001', 'EUR')).message).toMatch(/^amount: EUR has 2 decimal places/);
  });
});
