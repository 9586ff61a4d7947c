import type { StateKey, TenantCtx } from '@greentic/types';
import { deleteAt, readAt, writeAt } from './document.js';
import { StateError } from './errors.js';
import type { JsonValue, StateDeleteOptions, StateGetOptions, StateSetOptions, StateStore } from './store.js';
import { checkBucket, checkPathCall, checkSet, cloneJson } from './validate.js';

/** Default interval of the background sweep of expired documents. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

export interface MemoryStateStoreOptions {
  /** Clock in Unix epoch milliseconds (default `Date.now`). Inject one to test expiry without waiting. */
  now?: () => number;
  /**
   * How often expired documents are swept from memory (default {@link DEFAULT_SWEEP_INTERVAL_MS}; `0` disables
   * the timer, leaving only the lazy sweep on access). The timer is unref'd and `close()` stops it.
   */
  sweepIntervalMs?: number;
}

interface Entry {
  value: JsonValue;
  expiresAt: number | undefined;
}

const isExpired = (entry: Entry, now: number) => entry.expiresAt !== undefined && entry.expiresAt <= now;

/**
 * In-process {@link StateStore}: fast, not persistent, not shared between processes. Use it for tests,
 * development and single-process deployments.
 *
 * Calls are atomic (each does all its work synchronously before its promise settles), so read-modify-write at a
 * JSON pointer needs no lock. Expired documents are dropped when touched and by a periodic sweep.
 */
export class MemoryStateStore implements StateStore {
  private readonly now: () => number;
  /** `scopeId \n prefix` → key → document. */
  private readonly buckets = new Map<string, Map<StateKey, Entry>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MemoryStateStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (!Number.isSafeInteger(interval) || interval < 0) {
      throw new StateError(
        'GT_STATE_INVALID',
        `MemoryStateStore: option sweepIntervalMs must be a whole number of milliseconds >= 0 (got ${interval})`,
      );
    }
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
  }

  async get(
    ctx: TenantCtx,
    prefix: string,
    key: StateKey,
    opts?: StateGetOptions,
  ): Promise<JsonValue | undefined> {
    const bucketId = this.bucketId(ctx, prefix, 'get');
    const segments = checkPathCall(key, opts, 'get');
    const entry = this.entry(bucketId, key, this.now());
    if (entry === undefined) return undefined;
    return cloneJson(readAt(entry.value, segments));
  }

  async set(
    ctx: TenantCtx,
    prefix: string,
    key: StateKey,
    value: unknown,
    opts?: StateSetOptions,
  ): Promise<void> {
    const bucketId = this.bucketId(ctx, prefix, 'set');
    const { segments, ttlMs, copy } = checkSet(key, value, opts);
    const now = this.now();
    const entry = this.entry(bucketId, key, now);
    const doc = writeAt(entry?.value, segments, copy, 'set', key);
    const expiresAt = ttlMs === undefined ? entry?.expiresAt : ttlMs > 0 ? now + ttlMs : undefined;
    if (entry !== undefined) {
      entry.value = doc;
      entry.expiresAt = expiresAt;
      return;
    }
    let bucket = this.buckets.get(bucketId);
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets.set(bucketId, bucket);
    }
    bucket.set(key, { value: doc, expiresAt });
  }

  async delete(ctx: TenantCtx, prefix: string, key: StateKey, opts?: StateDeleteOptions): Promise<boolean> {
    const bucketId = this.bucketId(ctx, prefix, 'delete');
    const segments = checkPathCall(key, opts, 'delete');
    const entry = this.entry(bucketId, key, this.now());
    if (entry === undefined) return false;
    if (segments.length > 0) return deleteAt(entry.value, segments);
    this.drop(bucketId, key);
    return true;
  }

  async deletePrefix(ctx: TenantCtx, prefix: string): Promise<number> {
    const bucketId = this.bucketId(ctx, prefix, 'deletePrefix');
    const bucket = this.buckets.get(bucketId);
    if (bucket === undefined) return 0;
    const now = this.now();
    let deleted = 0;
    for (const entry of bucket.values()) if (!isExpired(entry, now)) deleted++;
    this.buckets.delete(bucketId);
    return deleted;
  }

  async list(ctx: TenantCtx, prefix: string): Promise<StateKey[]> {
    const bucketId = this.bucketId(ctx, prefix, 'list');
    const bucket = this.buckets.get(bucketId);
    if (bucket === undefined) return [];
    const now = this.now();
    const keys: StateKey[] = [];
    for (const [key, entry] of bucket) {
      if (isExpired(entry, now)) bucket.delete(key);
      else keys.push(key);
    }
    if (bucket.size === 0) this.buckets.delete(bucketId);
    return keys.sort();
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    this.buckets.clear();
  }

  /** Drops every expired document now (the timer calls this periodically). Returns how many were dropped. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [bucketId, bucket] of this.buckets) {
      for (const [key, entry] of bucket) {
        if (isExpired(entry, now)) {
          bucket.delete(key);
          dropped++;
        }
      }
      if (bucket.size === 0) this.buckets.delete(bucketId);
    }
    return dropped;
  }

  /** How many documents are held in memory, expired ones not yet swept included. */
  size(): number {
    let n = 0;
    for (const bucket of this.buckets.values()) n += bucket.size;
    return n;
  }

  /** Checks the store is open, the ctx and the prefix; returns the bucket id of (ctx scope, prefix). */
  private bucketId(ctx: TenantCtx, prefix: string, what: string): string {
    return `${checkBucket(this.closed, ctx, prefix, what)}\n${prefix}`;
  }

  /** The live entry, dropping it if it has expired. */
  private entry(bucketId: string, key: StateKey, now: number): Entry | undefined {
    const entry = this.buckets.get(bucketId)?.get(key);
    if (entry === undefined) return undefined;
    if (isExpired(entry, now)) {
      this.drop(bucketId, key);
      return undefined;
    }
    return entry;
  }

  private drop(bucketId: string, key: StateKey): void {
    const bucket = this.buckets.get(bucketId);
    if (bucket === undefined) return;
    bucket.delete(key);
    if (bucket.size === 0) this.buckets.delete(bucketId);
  }
}
