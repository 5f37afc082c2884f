/** Requests per minute per caller, as a token bucket: bursts up to the minute's budget, then a steady rate. */
import { VaultMeshError } from '../../core/errors.js';

interface Bucket {
  tokens: number;
  at: number;
}

const MAX_BUCKETS = 100_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** @throws VaultMeshError RATE_LIMITED with the wait in its evidence. */
  take(key: string): void {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens < 1) {
      const waitMs = Math.ceil((1 - bucket.tokens) / this.perMs);
      throw new VaultMeshError('RATE_LIMITED', `more than ${this.perMinute} requests a minute`, {
        hint: `wait ${Math.ceil(waitMs / 1000)} s, or ask the operator to raise http.rate_limit_per_minute`,
        evidence: { retryAfterMs: waitMs },
      });
    }
    bucket.tokens -= 1;
    // Refilled buckets are forgotten first, so that many one-off callers cannot exhaust memory.
    if (!this.buckets.has(key) && this.buckets.size >= MAX_BUCKETS) this.evictFull(now);
    this.buckets.set(key, bucket);
  }

  private evictFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.perMinute) this.buckets.delete(key);
    }
    if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
