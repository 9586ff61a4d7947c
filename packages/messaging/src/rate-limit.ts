import type { RateLimitOptions } from './types.js';

interface Bucket {
  tokens: number;
  updated: number;
  blockedUntil: number;
}

/**
 * Token buckets by key (a tenant's connector). `reserve` takes a token and says how long to wait for it; tokens
 * may go negative, so concurrent callers queue up fairly instead of all waking at once. `pause` holds a key
 * back (a 429's retry-after) for everyone sending through it.
 */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: RateLimitOptions,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 10_000,
  ) {}

  /** Takes a token from `key`'s bucket; returns the milliseconds to wait before using it (0: now). */
  reserve(key: string, rate: RateLimitOptions = this.defaults): number {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evictIdle(now, rate);
      b = { tokens: rate.burst, updated: now, blockedUntil: 0 };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.updated) / 1000) * rate.rps);
    b.updated = now;
    b.tokens -= 1;
    const forToken = b.tokens >= 0 ? 0 : Math.ceil((-b.tokens / rate.rps) * 1000);
    return Math.max(forToken, b.blockedUntil - now);
  }

  /** Nobody sends through `key` for `ms` (the provider said so). */
  pause(key: string, ms: number): void {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.defaults.burst, updated: now, blockedUntil: 0 };
    b.blockedUntil = Math.max(b.blockedUntil, now + ms);
    this.buckets.set(key, b);
  }

  private evictIdle(now: number, rate: RateLimitOptions) {
    for (const [k, b] of this.buckets) {
      const full = b.tokens + ((now - b.updated) / 1000) * rate.rps >= rate.burst;
      if (full && b.blockedUntil <= now) this.buckets.delete(k);
    }
    if (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
