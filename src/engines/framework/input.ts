/** Input validation shared by every generated interface: one message that names the field. */
import type { z } from 'zod';
import { VaultMeshError } from '../../core/errors.js';
import type { AnyOperation } from './engine.js';

/** `contract.stages.0.id: Invalid input` — the first problem, with its path. */
export function zodProblem(error: z.ZodError, root?: string): string {
  const issue = error.issues[0]!;
  const path = [...(root === undefined ? [] : [root]), ...issue.path.map(String)].join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/**
 * Parses raw input for an operation. `label` turns a field name into what the user typed for it
 * (`--reason` on the command line, the JSON field name over HTTP).
 */
export function parseOperationInput(
  operation: AnyOperation,
  raw: Record<string, unknown>,
  label: (field: string) => string,
): unknown {
  const parsed = operation.input.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const [field, ...rest] = issue.path.map(String);
  const where = field === undefined ? 'input' : [label(field), ...rest].join('.');
  throw new VaultMeshError('INVALID_ARGUMENT', `${where}: ${issue.message}`, {
    hint: `see the arguments of ${operation.name} with --help`,
  });
}
