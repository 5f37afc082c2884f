/**
 * RFC 8785 (JCS) canonical JSON. Serialization is the `canonicalize` library's; what this module
 * adds is the refusal of values that would not survive a round trip unchanged (non-finite numbers,
 * integers beyond 2^53, undefined, functions), so a hash over the canonical bytes always means
 * the same document.
 */
import canonicalize from 'canonicalize';
import { VaultMeshError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Canonical JSON text of a value already checked by {@link assertJson}.
 * @throws VaultMeshError INVALID_BODY for strings RFC 8785 cannot serialize (lone surrogates).
 */
export function canonicalJson(value: JsonValue): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (cause) {
    throw new VaultMeshError(
      'INVALID_BODY',
      `cannot be written as RFC 8785 JSON: ${(cause as Error).message}`,
      {
        cause,
        hint: 'strings must be valid Unicode: no unpaired surrogate escapes such as \\ud800',
      },
    );
  }
  if (text === undefined)
    throw new VaultMeshError('INTERNAL', 'canonicalize returned nothing for a JSON value');
  return text;
}

/**
 * Checks that `value` is plain JSON whose canonical form hashes reproducibly.
 * @throws VaultMeshError INVALID_BODY naming the JSON path of the first offending value.
 */
export function assertJson(value: unknown, path = '$'): asserts value is JsonValue {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      throw new VaultMeshError(
        'INVALID_BODY',
        `${path} holds an unpaired surrogate and is not valid Unicode`,
        {
          hint: 'strings must be valid Unicode: no lone \\ud800-\\udfff escapes',
        },
      );
    }
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new VaultMeshError('INVALID_BODY', `${path} is not a finite number`);
    }
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new VaultMeshError('INVALID_BODY', `${path} is an integer beyond 2^53 and would lose precision`, {
        hint: 'write large integers and money amounts as decimal strings, e.g. "12345678901234567890"',
      });
    }
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => assertJson(item, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) assertJson(item, `${path}.${key}`);
    return;
  }
  throw new VaultMeshError('INVALID_BODY', `${path} is not a JSON value (${typeof value})`);
}

/**
 * Parses JSON text from outside, refusing duplicate-free-but-lossy values as {@link assertJson} does.
 * @throws VaultMeshError INVALID_JSON with the parser's message and the field name.
 */
export function parseJson(text: string, field = 'JSON'): JsonValue {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new VaultMeshError('INVALID_JSON', `${field} is not valid JSON: ${(cause as Error).message}`, {
      cause,
      hint: 'pass a JSON object, e.g. --body \'{"key":"value"}\' or --body @file.json',
    });
  }
  assertJson(value);
  return value;
}
