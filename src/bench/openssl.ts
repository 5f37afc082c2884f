/** Native SHA-256 speed from `openssl speed`, the ceiling any tree builder could reach here. */
import { spawnSync } from 'node:child_process';

export const OPENSSL_COMMAND = ['speed', '-seconds', '2', '-bytes', '64', 'sha256'] as const;

export interface OpensslSpeed {
  command: string;
  version: string;
  /** Bytes per second hashed, in 64-byte messages. */
  bytesPerSecond: number;
  /** 64-byte messages hashed per second. */
  hashesPerSecond: number;
}

/** Undefined when openssl is missing or its output cannot be read. */
export function measureOpensslSha256(): OpensslSpeed | undefined {
  const run = spawnSync('openssl', OPENSSL_COMMAND, { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) return undefined;
  const bytesPerSecond = parseOpensslSpeed(run.stdout);
  if (bytesPerSecond === undefined) return undefined;
  const version = spawnSync('openssl', ['version'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
  return {
    command: `openssl ${OPENSSL_COMMAND.join(' ')}`,
    version,
    bytesPerSecond,
    hashesPerSecond: bytesPerSecond / 64,
  };
}

/** Reads the `sha256  299482.00k` line (thousands of bytes per second). */
export function parseOpensslSpeed(output: string): number | undefined {
  const match = /^sha256\s+([\d.]+)k\s*$/m.exec(output);
  return match === null ? undefined : Number(match[1]) * 1000;
}

/** SHA-256 compression-function calls (64-byte blocks, padding included) to hash `length` bytes. */
export function sha256Blocks(length: number): number {
  return Math.ceil((length + 9) / 64);
}
