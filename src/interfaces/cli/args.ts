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
