/** Files named on the command line: every failure to read one names the flag and says what to pass. */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { VaultMeshError } from '../../core/errors.js';
import type { EngineContext } from './engine.js';

/** The absolute path of an existing regular file. @throws VaultMeshError FILE_MISSING or INVALID_ARGUMENT. */
export function userFile(context: EngineContext, file: string, flag: string, hint: string): string {
  const path = resolve(context.cwd, file);
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new VaultMeshError('FILE_MISSING', `${flag} ${file} does not exist`, { hint });
  }
  if (!isFile)
    throw new VaultMeshError('INVALID_ARGUMENT', `${flag} ${file} is not a regular file`, { hint });
  return path;
}

export function readUserFile(context: EngineContext, file: string, flag: string, hint: string): Buffer {
  const path = userFile(context, file, flag, hint);
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new VaultMeshError('IO_ERROR', `cannot read ${flag} ${file}: ${(cause as Error).message}`, {
      cause,
      hint: 'check the file permissions',
    });
  }
}
