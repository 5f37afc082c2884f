/**
 * One writer per scroll across processes. The lock is a directory: `mkdir` either creates it or
 * fails, atomically, on every local filesystem. The holder refreshes its mtime while it holds it, so
 * a holder killed with SIGKILL leaves a lock that goes stale after STALE_MS and is taken over.
 *
 * This is the protocol of proper-lockfile, done with synchronous calls: a batch holds the lock for
 * about one fsync, and the library's asynchronous round trips cost more than the fsync itself.
 */
import { mkdirSync, renameSync, rmdirSync, statSync, utimesSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { VaultMeshError } from '../core/errors.js';

export const STALE_MS = 5_000;
const REFRESH_MS = 1_000;

export async function withLock<T>(lockPath: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  await acquire(lockPath, timeoutMs);
  const refresh = setInterval(() => touch(lockPath), REFRESH_MS);
  refresh.unref();
  try {
    return await work();
  } finally {
    clearInterval(refresh);
    rmdirSync(lockPath);
  }
}

async function acquire(lockPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  for (;;) {
    try {
      mkdirSync(lockPath);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new VaultMeshError(
          'IO_ERROR',
          `cannot take the writer lock ${lockPath}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    if (takeOverIfStale(lockPath)) continue;
    if (Date.now() >= deadline) {
      throw new VaultMeshError('LOCK_TIMEOUT', `another writer held ${lockPath} for over ${timeoutMs} ms`, {
        hint: `retry; if no VaultMesh process is running, the lock goes stale ${STALE_MS / 1000} s after its holder died`,
      });
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 50);
  }
}

/** Moves a lock whose holder stopped refreshing it out of the way; only one contender's rename wins. */
function takeOverIfStale(lockPath: string): boolean {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(lockPath).mtimeMs;
  } catch {
    return true; // released meanwhile: try again at once
  }
  if (Date.now() - mtimeMs <= STALE_MS) return false;
  const aside = `${lockPath}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(lockPath, aside);
    rmdirSync(aside);
  } catch {
    // Another contender took it over first; the next mkdir decides.
  }
  return true;
}

function touch(lockPath: string): void {
  const now = new Date();
  try {
    utimesSync(lockPath, now, now);
  } catch {
    // The lock vanished: the next release reports it.
  }
}
