/** Temporary directories under os.tmpdir(), removed when done (or at exit, if a run is cut short). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vaultmesh-bench-${prefix}-`));
  live.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await work(dir);
  } finally {
    removeTempDir(dir);
  }
}

export function removeAllTempDirs(): void {
  for (const dir of live) removeTempDir(dir);
}
