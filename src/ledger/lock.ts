/**
 * One writer per scroll across processes. The lock is a directory created atomically by
 * proper-lockfile, whose mtime is refreshed while held; a holder killed with SIGKILL leaves a lock
 * that goes stale after STALE_MS and is then taken over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { VaultMeshError } from '../core/errors.js';

const STALE_MS = 5_000;

export async function withLock<T>(lockPath: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  const release = await acquire(lockPath, timeoutMs);
  try {
    return await work();
  } finally {
    await release();
  }
}

async function acquire(lockPath: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  for (;;) {
    try {
      return await lockfile.lock(lockPath, { lockfilePath: lockPath, realpath: false, stale: STALE_MS });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new VaultMeshError(
          'IO_ERROR',
          `cannot take the writer lock ${lockPath}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (Date.now() >= deadline) {
        throw new VaultMeshError('LOCK_TIMEOUT', `another writer held ${lockPath} for over ${timeoutMs} ms`, {
          hint: 'retry; if no VaultMesh process is running, the lock goes stale within 5 s of its holder dying',
        });
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }
}
