import { MessagingError } from './errors.js';

/**
 * The part of an ioredis-like client the Redis stores use: `SET key value PX ms NX` (answers `'OK'` or `null`),
 * and optionally `GET` and `DEL`. ioredis and node-redis (legacy mode) fit; no Redis client is a dependency.
 */
export interface RedisLikeClient {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null | string>;
  get?(key: string): Promise<string | null>;
  del?(key: string): Promise<number>;
}

/**
 * Remembers provider message ids (Telegram `update_id`, Slack `event_id`, …) so a replayed or redelivered
 * webhook is not queued twice.
 */
export interface ReplayGuard {
  /** Records `key` for `ttlMs`. True on the first claim; false when the key is already recorded (a replay). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Forgets `key`: the message could not be queued, so the provider's redelivery must pass. */
  release(key: string): Promise<void>;
}

/**
 * Remembers which reply parts were delivered (key: tenant, connector, reply id, part), so a reply that comes
 * again — a redelivered turn, a retried egress job — is not sent again.
 */
export interface SentLog {
  has(key: string): Promise<boolean>;
  record(key: string, ttlMs: number): Promise<void>;
}

export interface MemoryStoreOptions {
  /** Entries kept at most; the oldest are dropped first (default 100 000). */
  maxEntries?: number;
  /** Clock (ms since epoch); default `Date.now`. */
  now?: () => number;
}

/** An expiring key set in memory: insertion-ordered, expired keys swept as new ones come in. */
class ExpiringSet {
  private readonly entries = new Map<string, number>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(opts: MemoryStoreOptions) {
    this.max = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  has(key: string): boolean {
    const exp = this.entries.get(key);
    if (exp === undefined) return false;
    if (exp > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  /** Adds `key` unless present; true when it was added. */
  addIfAbsent(key: string, ttlMs: number): boolean {
    if (this.has(key)) return false;
    this.sweep();
    this.entries.set(key, this.now() + ttlMs);
    return true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep() {
    const now = this.now();
    let n = 0;
    for (const [k, exp] of this.entries) {
      if (this.entries.size < this.max && (exp > now || n >= 16)) break;
      this.entries.delete(k);
      n++;
    }
  }
}

/** {@link ReplayGuard} for one process. Several gateway replicas need {@link RedisReplayGuard}. */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly set: ExpiringSet;
  constructor(opts: MemoryStoreOptions = {}) {
    this.set = new ExpiringSet(opts);
  }
  async claim(key: string, ttlMs: number): Promise<boolean> {
    return this.set.addIfAbsent(key, ttlMs);
  }
  async release(key: string): Promise<void> {
    this.set.delete(key);
  }
  get size(): number {
    return this.set.size;
  }
}

/** {@link SentLog} for one process. */
export class MemorySentLog implements SentLog {
  private readonly set: ExpiringSet;
  constructor(opts: MemoryStoreOptions = {}) {
    this.set = new ExpiringSet(opts);
  }
  async has(key: string): Promise<boolean> {
    return this.set.has(key);
  }
  async record(key: string, ttlMs: number): Promise<void> {
    this.set.addIfAbsent(key, ttlMs);
  }
}

const backend = (what: string, e: unknown) =>
  new MessagingError('GT_MSG_BACKEND', `${what} failed: ${(e as Error)?.message ?? String(e)}`, {
    status: 503,
    cause: e,
  });

/** {@link ReplayGuard} on Redis: `SET {prefix}{key} 1 PX ttl NX` claims, `DEL` releases. Shared by replicas. */
export class RedisReplayGuard implements ReplayGuard {
  private readonly prefix: string;
  constructor(
    private readonly client: RedisLikeClient,
    opts: { prefix?: string } = {},
  ) {
    this.prefix = opts.prefix ?? 'greentic:messaging:replay:';
  }
  async claim(key: string, ttlMs: number): Promise<boolean> {
    try {
      return (
        (await this.client.set(this.prefix + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK'
      );
    } catch (e) {
      throw backend('replay guard SET NX', e);
    }
  }
  async release(key: string): Promise<void> {
    if (!this.client.del) return;
    try {
      await this.client.del(this.prefix + key);
    } catch (e) {
      throw backend('replay guard DEL', e);
    }
  }
}

/** {@link SentLog} on Redis: `GET` to check, `SET … PX ttl NX` to record. The client needs `get`. */
export class RedisSentLog implements SentLog {
  private readonly prefix: string;
  constructor(
    private readonly client: RedisLikeClient,
    opts: { prefix?: string } = {},
  ) {
    if (typeof client.get !== 'function') {
      throw new MessagingError('GT_MSG_CONFIG', 'RedisSentLog needs a client with get(key)');
    }
    this.prefix = opts.prefix ?? 'greentic:messaging:sent:';
  }
  async has(key: string): Promise<boolean> {
    try {
      return (await this.client.get!(this.prefix + key)) !== null;
    } catch (e) {
      throw backend('sent log GET', e);
    }
  }
  async record(key: string, ttlMs: number): Promise<void> {
    try {
      await this.client.set(this.prefix + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    } catch (e) {
      throw backend('sent log SET', e);
    }
  }
}
