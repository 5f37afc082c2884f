/** Labelled parsers for command-line values: a bad value names its option and how to fix it. */
import { readFileSync, statSync } from 'node:fs';
import { parseJson, type JsonValue } from '../../core/canonical.js';
import { VaultMeshError } from '../../core/errors.js';

const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** `--body JSON`, `--body @file` or `--body @-` (standard input). */
export function readBody(value: string): JsonValue {
  if (!value.startsWith('@')) return parseJson(value, '--body');
  const path = value.slice(1);
  const source = path === '-' ? 0 : path;
  try {
    if (typeof source === 'string' && statSync(source).size > MAX_INPUT_BYTES) {
      throw new VaultMeshError('BODY_TOO_LARGE', `${path} is larger than ${MAX_INPUT_BYTES} bytes`);
    }
    return parseJson(readFileSync(source, 'utf8'), `--body ${value}`);
  } catch (error) {
    if (error instanceof VaultMeshError) throw error;
    throw new VaultMeshError('INVALID_ARGUMENT', `cannot read --body ${value}: ${(error as Error).message}`, {
      hint: 'pass JSON inline, @path/to/file.json, or @- for standard input',
    });
  }
}

export function parseTags(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return value.split(',').map((t) => t.trim());
}

const DURATION_RE = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30d`, `12h`, `45m`, `90s` in milliseconds. */
export function parseDuration(value: string, name: string): number {
  const m = DURATION_RE.exec(value);
  if (m === null) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${name} "${value}" is not a duration`, {
      hint: `write a number and a unit: 90s, 45m, 12h or 30d`,
    });
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
