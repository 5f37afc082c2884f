/**
 * Names that become path segments (run ids, case ids, components, attached file names). They are
 * checked before any path is built from them, so `..`, separators and control characters can never
 * reach the file system.
 */
import { VaultMeshError } from './errors.js';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;
// sha256sum writes names holding a backslash or newline in an escaped form that `-c` reads back
// differently on older coreutils, so such names are refused rather than escaped.
const FILE_NAME_RE = /^[^\\/\p{Cc}]{1,255}$/u;

/** @throws VaultMeshError INVALID_ID naming the field when `value` cannot be a path segment. */
export function assertSafeId(value: string, field: string): string {
  if (!ID_RE.test(value) || value.includes('..')) {
    throw new VaultMeshError('INVALID_ID', `${field} "${value}" is not a valid id`, {
      hint: 'use 1-128 letters, digits and . _ @ + - (starting with a letter or digit, no "..")',
    });
  }
  return value;
}

/** @throws VaultMeshError INVALID_ID when `name` cannot be stored as one file name in a case directory. */
export function assertSafeFileName(name: string, field: string): string {
  if (!FILE_NAME_RE.test(name) || name === '.' || name === '..' || name.startsWith('-')) {
    throw new VaultMeshError('INVALID_ID', `${field} "${name}" cannot be stored as a file name`, {
      hint: 'rename the file: no slashes, backslashes or control characters, not starting with "-"',
    });
  }
  return name;
}
