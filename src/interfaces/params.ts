/**
 * Parsers for the values callers send every interface (command-line flags, HTTP query parameters):
 * a bad value names the parameter as the caller wrote it and says how to fix it.
 */
import { VaultMeshError } from '../core/errors.js';
import type { WhereClause } from '../ledger/query-index.js';

export function parseCount(value: string, name: string): number {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${name} must be a whole number, got "${value}"`, {
      hint: `write ${name} in decimal digits, e.g. 0 or 42`,
    });
  }
  return Number(value);
}

const WHERE_RE = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)=(.*)$/s;

/** `field=value`; the value is JSON when it reads as a number, true, false, null or "quoted", else text. */
export function parseWhere(value: string, name = '--where'): WhereClause {
  const m = WHERE_RE.exec(value);
  if (m === null) {
    throw new VaultMeshError('INVALID_WHERE', `${name} "${value}" is not field=value`, {
      hint: `name a body field (dots for nesting) then = then a value, e.g. ${name} account=ops`,
    });
  }
  const raw = m[2]!;
  let parsed: WhereClause['value'] = raw;
  if (/^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null|".*")$/s.test(raw)) {
    const json = JSON.parse(raw) as unknown;
    if (typeof json === 'string' || typeof json === 'number' || typeof json === 'boolean' || json === null)
      parsed = json;
  }
  return { path: m[1]!, value: parsed, text: typeof parsed === 'string' ? parsed : raw };
}

const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An ISO 8601 time (UTC unless it carries an offset) or a date; with `endOfDay` a date means the
 * start of the next day (so `--to 2026-11-30` includes the 30th). Impossible dates are refused,
 * not rolled over.
 */
export function parseTime(value: string, name: string, endOfDay = false): string {
  const m = TIME_RE.exec(value);
  const invalid = () =>
    new VaultMeshError('INVALID_TIME', `${name} "${value}" is not a valid date or ISO 8601 time`, {
      hint: 'use 2026-11-23 or 2026-11-23T07:00:00Z',
    });
  if (m === null) throw invalid();
  const [year, month, day, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((p) => (p === undefined ? undefined : Number(p)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth || hour > 23 || minute > 59 || second > 59)
    throw invalid();
  const dateOnly = m[4] === undefined;
  const ms = Date.parse(dateOnly ? `${value}T00:00:00Z` : m[8] === undefined ? `${value}Z` : value);
  if (Number.isNaN(ms)) throw invalid();
  return new Date(endOfDay && dateOnly ? ms + 24 * 60 * 60 * 1000 : ms).toISOString();
}
