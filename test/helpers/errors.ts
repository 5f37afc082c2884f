import { VaultMeshError, type ErrorCode } from '../../src/core/errors.js';

/** The VaultMeshError `fn` throws; anything else (or nothing) fails the test. */
export function errorOf(fn: () => unknown): VaultMeshError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VaultMeshError) return e;
    throw e;
  }
  throw new Error('expected a VaultMeshError');
}

export const codeOf = (fn: () => unknown): ErrorCode => errorOf(fn).code;
