/** Bare chunked reads of a JSONL file, calling `onLine` with a view of each line (no newline). */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 8 * 1024 * 1024;

export function forEachLine(path: string, onLine: (line: Buffer) => void): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(CHUNK);
  let filled = 0;
  let lines = 0;
  try {
    for (;;) {
      const got = readSync(fd, buf, filled, buf.length - filled, null);
      if (got === 0) break;
      const data = buf.subarray(0, filled + got);
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
        onLine(data.subarray(start, nl));
        lines++;
        start = nl + 1;
      }
      if (start === 0 && data.length === buf.length)
        throw new Error(`${path}: a line is over ${CHUNK} bytes`);
      filled = data.copy(buf, 0, start);
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}
