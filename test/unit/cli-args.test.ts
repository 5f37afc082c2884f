import { describe, expect, it } from 'vitest';
import { parseTags } from '../../src/interfaces/cli/args.js';
import { parseCount, parseTime, parseWhere } from '../../src/interfaces/params.js';
import { codeOf } from '../helpers/errors.js';

describe('command-line value parsers', () => {
  it('reads --where values as JSON when they look like JSON, else as text', () => {
    expect(parseWhere('account=ops')).toEqual({ path: 'account', value: 'ops', text: 'ops' });
    expect(parseWhere('flags.urgent=true')).toEqual({ path: 'flags.urgent', value: true, text: 'true' });
    expect(parseWhere('amount=1.50')).toEqual({ path: 'amount', value: 1.5, text: '1.50' });
    expect(parseWhere('memo=a=b')).toEqual({ path: 'memo', value: 'a=b', text: 'a=b' });
    for (const bad of ['account', '=x', 'a b=1', "x'); DROP TABLE receipts;--=1", '.a=1']) {
      expect(codeOf(() => parseWhere(bad))).toBe('INVALID_WHERE');
    }
  });

  it('reads times and dates; a --to date covers the whole day', () => {
    expect(parseTime('2026-11-23', '--from')).toBe('2026-11-23T00:00:00.000Z');
    expect(parseTime('2026-11-23', '--to', true)).toBe('2026-11-24T00:00:00.000Z');
    expect(parseTime('2026-11-23T07:00:00+01:00', '--from')).toBe('2026-11-23T06:00:00.000Z');
    expect(parseTime('2026-11-23T07:00', '--from')).toBe('2026-11-23T07:00:00.000Z');
    expect(parseTime('2028-02-29', '--from')).toBe('2028-02-29T00:00:00.000Z');
    for (const bad of [
      'yesterday',
      '23/11/2026',
      '2026-13-01',
      '2026-02-30',
      '2026-11-23T24:00:00Z',
      '2026-11-23 07:00',
    ])
      expect(codeOf(() => parseTime(bad, '--from'))).toBe('INVALID_TIME');
  });

  it('reads counts strictly', () => {
    expect(parseCount('0', 'seq')).toBe(0);
    expect(parseCount('42', 'seq')).toBe(42);
    for (const bad of ['-1', '1.5', '01', 'abc', '', '99999999999999999'])
      expect(codeOf(() => parseCount(bad, 'seq'))).toBe('INVALID_ARGUMENT');
  });

  it('splits tags', () => {
    expect(parseTags('a, b,c')).toEqual(['a', 'b', 'c']);
    expect(parseTags(undefined)).toEqual([]);
  });
});
