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

const ISO_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `--expires 30d` (from `now`) or `--expires 2027-01-01T00:00:00Z`, as an ISO time. */
export function expiryTime(value: string, now: Date): string {
  if (ISO_TIME_RE.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  if (!/^[0-9]+[a-z]$/.test(value)) {
    throw new VaultMeshError('INVALID_ARGUMENT', `--expires "${value}" is neither a time nor a duration`, {
      hint: 'write an ISO time such as 2027-01-01T00:00:00Z, or a duration: 90s, 45m, 12h, 30d',
    });
  }
  return new Date(now.getTime() + parseDuration(value, '--expires')).toISOString();
}
