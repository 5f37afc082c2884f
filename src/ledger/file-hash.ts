/** SHA-256 of a file read in chunks, so a multi-gigabyte capture costs one buffer, not its size. */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

export interface FileDigest {
  /** `sha256:<hex>` */
  sha256: string;
  hex: string;
  bytes: number;
}

/** With `sync`, the file is also fsynced: used on copies that must be durable before they are referenced. */
export function sha256File(path: string, options: { sync?: boolean } = {}): FileDigest {
  const fd = openSync(path, options.sync ? 'r+' : 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let bytes = 0;
    for (let n; (n = readSync(fd, buffer, 0, CHUNK, null)) > 0; bytes += n)
      hash.update(buffer.subarray(0, n));
    if (options.sync) fsyncSync(fd);
    const hex = hash.digest('hex');
    return { sha256: `sha256:${hex}`, hex, bytes };
  } finally {
    closeSync(fd);
  }
}
