import { randomUUID } from 'node:crypto';
import type { ReplyScope, SessionData, SessionKey, TenantCtx } from '@greentic/types';
import { SessionError } from './errors.js';
import type {
  CreateSessionOptions,
  RegisterWaitOptions,
  SaveSessionOptions,
  SessionRecord,
  SessionStore,
  SessionWait,
} from './store.js';
import {
  checkCreate,
  checkKeyCall,
  checkOpen,
  checkRegisterWait,
  checkSave,
  checkWaitCall,
  cloneValid,
  conflict,
  notFound,
  resolveScope,
  type Scope,
} from './validate.js';

/** Default lifetime of a wait: a parked conversation is forgotten after a day without a reply. */
export const DEFAULT_WAIT_TTL_MS = 24 * 60 * 60 * 1000;
/** Default interval of the background sweep of expired entries. */
export const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

export interface MemorySessionStoreOptions {
  /** Clock in Unix epoch milliseconds (default `Date.now`). Inject one to test expiry without waiting. */
  now?: () => number;
  /** TTL of sessions created without `ttlMs` (default `0`: they never expire; the engine removes them). */
  defaultSessionTtlMs?: number;
  /** TTL of waits registered without `ttlMs` (default {@link DEFAULT_WAIT_TTL_MS}; `0`: never expire). */
  defaultWaitTtlMs?: number;
  /**
   * How often expired sessions and waits are swept from memory (default {@link DEFAULT_SWEEP_INTERVAL_MS};
   * `0` disables the timer, leaving only the lazy sweep on access). The timer is unref'd: it never keeps the
   * process alive, and `close()` stops it.
   */
  sweepIntervalMs?: number;
}

interface SessionEntry {
  scopeId: string;
  key: SessionKey;
  revision: number;
  data: SessionData;
  created_at: number;
  updated_at: number;
  expires_at: number | undefined;
}

interface WaitEntry {
  scope: ReplyScope;
  key: SessionKey;
  created_at: number;
  expires_at: number | undefined;
}

const isExpired = (expiresAt: number | undefined, now: number) => expiresAt !== undefined && expiresAt <= now;

function optionTtl(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      `MemorySessionStore: option ${name} must be a whole number of milliseconds >= 0 (got ${value})`,
    );
  }
  return value;
}

/**
 * In-process {@link SessionStore}: fast, not persistent (everything is lost when the process exits), not shared
 * between processes. Use it for tests, development and single-process deployments.
 *
 * Calls are atomic (each does all its work synchronously before its promise settles), so compare-and-swap needs
 * no lock. Expired entries are dropped when touched and by a periodic sweep.
 */
export class MemorySessionStore implements SessionStore {
  private readonly now: () => number;
  private readonly defaultSessionTtlMs: number;
  private readonly defaultWaitTtlMs: number;
  /** Session key → entry (keys are unique across scopes; the entry's scope is checked on every access). */
  private readonly sessions = new Map<SessionKey, SessionEntry>();
  /** Scope id → reply-scope id → wait. */
  private readonly waits = new Map<string, Map<string, WaitEntry>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MemorySessionStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.defaultSessionTtlMs = optionTtl(options.defaultSessionTtlMs, 'defaultSessionTtlMs', 0);
    this.defaultWaitTtlMs = optionTtl(options.defaultWaitTtlMs, 'defaultWaitTtlMs', DEFAULT_WAIT_TTL_MS);
    const interval = optionTtl(options.sweepIntervalMs, 'sweepIntervalMs', DEFAULT_SWEEP_INTERVAL_MS);
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      this.timer.unref();
    }
  }

  async create(ctx: TenantCtx, data: SessionData, opts?: CreateSessionOptions): Promise<SessionRecord> {
    checkOpen(this.closed);
    const { scope, ttlMs, stored } = checkCreate(ctx, data, opts);
    const now = this.now();
    const ttl = ttlMs ?? this.defaultSessionTtlMs;
    let key = randomUUID();
    while (this.sessions.has(key)) key = randomUUID();
    const entry: SessionEntry = {
      scopeId: scope.id,
      key,
      revision: 1,
      data: stored,
      created_at: now,
      updated_at: now,
      expires_at: ttl > 0 ? now + ttl : undefined,
    };
    this.sessions.set(key, entry);
    return toRecord(entry, data);
  }

  async get(ctx: TenantCtx, key: SessionKey): Promise<SessionRecord | undefined> {
    checkOpen(this.closed);
    const scope = checkKeyCall(ctx, key, 'get');
    const entry = this.live(scope, key, this.now());
    return entry === undefined ? undefined : toRecord(entry, cloneValid(entry.data));
  }

  async save(
    ctx: TenantCtx,
    key: SessionKey,
    data: SessionData,
    opts: SaveSessionOptions,
  ): Promise<SessionRecord> {
    checkOpen(this.closed);
    const { scope, stored } = checkSave(ctx, key, data, opts);
    const now = this.now();
    const entry = this.live(scope, key, now);
    if (entry === undefined) throw notFound('save', key, scope);
    if (entry.revision !== opts.expectedRevision) throw conflict(key, entry.revision, opts.expectedRevision);
    entry.revision += 1;
    entry.data = stored;
    entry.updated_at = now;
    if (opts.ttlMs !== undefined) entry.expires_at = opts.ttlMs > 0 ? now + opts.ttlMs : undefined;
    return toRecord(entry, data);
  }

  async remove(ctx: TenantCtx, key: SessionKey): Promise<boolean> {
    checkOpen(this.closed);
    const scope = checkKeyCall(ctx, key, 'remove');
    const entry = this.live(scope, key, this.now());
    if (entry === undefined) return false;
    this.sessions.delete(key);
    const waits = this.waits.get(scope.id);
    if (waits !== undefined) {
      for (const [id, wait] of waits) if (wait.key === key) waits.delete(id);
      if (waits.size === 0) this.waits.delete(scope.id);
    }
    return true;
  }

  async registerWait(
    ctx: TenantCtx,
    scope: ReplyScope,
    key: SessionKey,
    opts?: RegisterWaitOptions,
  ): Promise<SessionWait> {
    checkOpen(this.closed);
    const { where, reply, ttlMs } = checkRegisterWait(ctx, scope, key, opts);
    const now = this.now();
    if (this.live(where, key, now) === undefined) throw notFound('registerWait', key, where);
    const ttl = ttlMs ?? this.defaultWaitTtlMs;
    const wait: WaitEntry = {
      scope: reply.scope,
      key,
      created_at: now,
      expires_at: ttl > 0 ? now + ttl : undefined,
    };
    let waits = this.waits.get(where.id);
    if (waits === undefined) {
      waits = new Map();
      this.waits.set(where.id, waits);
    }
    waits.set(reply.id, wait);
    return toWait(wait);
  }

  async findWait(ctx: TenantCtx, scope: ReplyScope): Promise<SessionKey | undefined> {
    checkOpen(this.closed);
    const { where, reply } = checkWaitCall(ctx, scope, 'findWait');
    const waits = this.waits.get(where.id);
    const wait = waits?.get(reply.id);
    if (waits === undefined || wait === undefined) return undefined;
    if (!this.waitIsLive(where.id, wait, this.now())) {
      this.dropWait(where.id, waits, reply.id);
      return undefined;
    }
    return wait.key;
  }

  async clearWait(ctx: TenantCtx, scope: ReplyScope): Promise<boolean> {
    checkOpen(this.closed);
    const { where, reply } = checkWaitCall(ctx, scope, 'clearWait');
    const waits = this.waits.get(where.id);
    const wait = waits?.get(reply.id);
    if (waits === undefined || wait === undefined) return false;
    this.dropWait(where.id, waits, reply.id);
    return this.waitIsLive(where.id, wait, this.now());
  }

  async listWaitsForUser(ctx: TenantCtx): Promise<SessionWait[]> {
    checkOpen(this.closed);
    const where = resolveScope(ctx, 'listWaitsForUser');
    const waits = this.waits.get(where.id);
    if (waits === undefined) return [];
    const now = this.now();
    const out: SessionWait[] = [];
    for (const [id, wait] of waits) {
      if (this.waitIsLive(where.id, wait, now)) out.push(toWait(wait));
      else this.dropWait(where.id, waits, id);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    this.sessions.clear();
    this.waits.clear();
  }

  /**
   * Drops every expired session and every expired or dangling wait now (the timer calls this periodically).
   * Returns how many entries were dropped.
   */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [key, entry] of this.sessions) {
      if (isExpired(entry.expires_at, now)) {
        this.sessions.delete(key);
        dropped++;
      }
    }
    for (const [scopeId, waits] of this.waits) {
      for (const [id, wait] of waits) {
        if (!this.waitIsLive(scopeId, wait, now)) {
          waits.delete(id);
          dropped++;
        }
      }
      if (waits.size === 0) this.waits.delete(scopeId);
    }
    return dropped;
  }

  /** How many sessions and waits are held in memory, expired ones not yet swept included. */
  size(): { sessions: number; waits: number } {
    let waits = 0;
    for (const m of this.waits.values()) waits += m.size;
    return { sessions: this.sessions.size, waits };
  }

  /** The live entry of `key` in `scope`, dropping it if it has expired. */
  private live(scope: Scope, key: SessionKey, now: number): SessionEntry | undefined {
    const entry = this.sessions.get(key);
    if (entry === undefined || entry.scopeId !== scope.id) return undefined;
    if (isExpired(entry.expires_at, now)) {
      this.sessions.delete(key);
      return undefined;
    }
    return entry;
  }

  private waitIsLive(scopeId: string, wait: WaitEntry, now: number): boolean {
    if (isExpired(wait.expires_at, now)) return false;
    const entry = this.sessions.get(wait.key);
    return entry !== undefined && entry.scopeId === scopeId && !isExpired(entry.expires_at, now);
  }

  private dropWait(scopeId: string, waits: Map<string, WaitEntry>, id: string): void {
    waits.delete(id);
    if (waits.size === 0) this.waits.delete(scopeId);
  }
}

function toRecord(entry: SessionEntry, data: SessionData): SessionRecord {
  const record: SessionRecord = {
    key: entry.key,
    revision: entry.revision,
    data,
    created_at: entry.created_at,
    updated_at: entry.updated_at,
  };
  if (entry.expires_at !== undefined) record.expires_at = entry.expires_at;
  return record;
}

function toWait(wait: WaitEntry): SessionWait {
  const out: SessionWait = { scope: { ...wait.scope }, key: wait.key, created_at: wait.created_at };
  if (wait.expires_at !== undefined) out.expires_at = wait.expires_at;
  return out;
}
