/** Durations as operators write them in flags and config: `90s`, `45m`, `12h`, `30d`. */
import { VaultMeshError } from './errors.js';

const DURATION_RE = /^([1-9][0-9]{0,6})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30d`, `12h`, `45m`, `90s` in milliseconds. */
export function parseDuration(value: string, name: string): number {
  const m = DURATION_RE.exec(value);
  if (m === null) {
    throw new VaultMeshError('INVALID_ARGUMENT', `${name} "${value}" is not a duration`, {
      hint: `write a number and a unit: 90s, 45m, 12h or 30d`,
    });
  }
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
