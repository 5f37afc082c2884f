/** The baseline for appends: the same bytes, written and fdatasync'ed with nothing else around them. */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { nowMs } from './stats.js';

/**
 * Each element of `warmUp` (untimed) and of `batches` (timed) is one write + one fdatasync.
 * Returns the elapsed milliseconds of the timed part.
 */
export function rawAppendMs(path: string, warmUp: readonly Buffer[], batches: readonly Buffer[]): number {
  const fd = openSync(path, 'a', 0o644);
  try {
    for (const bytes of warmUp) writeAndSync(fd, bytes);
    const start = nowMs();
    for (const bytes of batches) writeAndSync(fd, bytes);
    return nowMs() - start;
  } finally {
    closeSync(fd);
  }
}

function writeAndSync(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
  fdatasyncSync(fd);
}
