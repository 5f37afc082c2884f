/** Results go to stdout in the chosen format; logs and errors go to stderr. */
import { stringify as toYaml } from 'yaml';
import { VaultMeshError, type ErrorKind } from '../../core/errors.js';
import { csv, type TableRows } from '../../core/table.js';

/** `table` is the human form by its seed name; `csv` is for commands whose result is a list. */
export type OutputFormat = 'human' | 'table' | 'json' | 'yaml' | 'csv';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['human', 'table', 'json', 'yaml', 'csv'];

/** Exit statuses, documented in docs/operations.md. */
export const EXIT_CODES: Record<ErrorKind, number> = {
  internal: 1,
  usage: 2,
  input: 2,
  not_found: 3,
  verification: 4,
  denied: 7,
  io: 5,
  busy: 6,
};

/** Refused before the command runs, so that a write is never done and then reported as failed. */
export function csvUnsupported(): VaultMeshError {
  return new VaultMeshError('USAGE', 'this command has no list result to write as CSV', {
    hint: 'use --format json or yaml for it; csv is for listings such as vm treasury query',
  });
}

export function emitResult<T>(
  format: OutputFormat,
  result: T,
  human: (r: T) => string,
  rows?: (r: T) => TableRows,
): void {
  let text: string;
  if (format === 'csv') {
    if (rows === undefined) throw csvUnsupported();
    text = csv(rows(result));
  } else if (format === 'json') text = JSON.stringify(result, null, 2);
  else if (format === 'yaml') text = toYaml(result).trimEnd();
  else text = human(result);
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function reportError(format: OutputFormat, error: VaultMeshError): number {
  if (format === 'human' || format === 'table' || format === 'csv') {
    let text = `error[${error.code}]: ${error.message}\n`;
    if (error.hint !== undefined) text += `  hint: ${error.hint}\n`;
    process.stderr.write(text);
  } else {
    const body = { error: error.toJSON() };
    process.stderr.write(format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : toYaml(body));
  }
  return EXIT_CODES[error.kind];
}
