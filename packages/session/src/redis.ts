import { createHash, randomUUID } from 'node:crypto';
import {
  msProblem,
  RedisStore,
  type StoreConnectOptions,
  type StoreOptions,
  type StoreSpec,
} from '@greentic/redis';
import type { ReplyScope, SessionData, SessionKey, TenantCtx } from '@greentic/types';
import type { Redis } from 'ioredis';
import { SessionError } from './errors.js';
import { DEFAULT_WAIT_TTL_MS } from './memory.js';
import { SESSION_COMMANDS } from './redis-scripts.js';
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
  conflict,
  notFound,
  resolveScope,
  type Scope,
} from './validate.js';

/** What `@greentic/redis` needs to know of this store: its scripts, its option checks and its errors. */
const SPEC: StoreSpec<keyof typeof SESSION_COMMANDS> = {
  name: 'RedisSessionStore',
  item: 'session',
  scripts: SESSION_COMMANDS,
  checks: { defaultSessionTtlMs: (v) => msProblem(v), defaultWaitTtlMs: (v) => msProblem(v) },
  invalid: (message) => new SessionError('GT_SESSION_INVALID', message),
  backend: (message, options) => new SessionError('GT_SESSION_BACKEND', message, options),
};

export interface RedisSessionStoreOptions extends StoreOptions {
  /** TTL of sessions created without `ttlMs` (default `0`: they never expire; the engine removes them). */
  defaultSessionTtlMs?: number;
  /** TTL of waits registered without `ttlMs` (default 24 h; `0`: never expire, not recommended). */
  defaultWaitTtlMs?: number;
}

export interface RedisSessionConnectOptions extends RedisSessionStoreOptions, StoreConnectOptions {}

/**
 * {@link SessionStore} on Redis (ioredis), shared by every runner process that uses the same Redis database and
 * namespace. Passes the same contract suite as {@link MemorySessionStore}.
 *
 * Every operation is one round trip: `get` is an `HMGET`, the others one Lua script each (atomic; EVALSHA with
 * EVAL fallback through ioredis `defineCommand`). `save` is a compare-and-swap in Lua, so of several processes
 * saving the same revision exactly one wins. Timestamps and expiries come from the Redis server clock. Requires
 * Redis >= 6.2.
 *
 * Create it with {@link RedisSessionStore.connect} (opens and probes its own connection, quit on `close()`), or
 * `new RedisSessionStore(client)` to share a connection the caller owns (left open on `close()`). `connect`
 * fails fast with `GT_SESSION_BACKEND` naming the URL (password hidden) when Redis cannot be reached, and
 * with `GT_SESSION_INVALID` on bad options.
 */
export class RedisSessionStore extends RedisStore<keyof typeof SESSION_COMMANDS> implements SessionStore {
  /** How `@greentic/redis` sees this store (used by the inherited static `connect`). */
  static readonly spec = SPEC;

  private readonly defaultSessionTtlMs: number;
  private readonly defaultWaitTtlMs: number;

  /**
   * A store on a connection the caller owns (`close()` leaves it open). The scripts are registered on the
   * client with `defineCommand` (names `greenticSession…V1`). Fails with `GT_SESSION_INVALID` on bad options.
   */
  constructor(client: Redis, options: RedisSessionStoreOptions = {}) {
    super(SPEC, client, options);
    this.defaultSessionTtlMs = options.defaultSessionTtlMs ?? 0;
    this.defaultWaitTtlMs = options.defaultWaitTtlMs ?? DEFAULT_WAIT_TTL_MS;
  }

  async create(ctx: TenantCtx, data: SessionData, opts?: CreateSessionOptions): Promise<SessionRecord> {
    checkOpen(this.redis.closed);
    const { scope, ttlMs, stored } = checkCreate(ctx, data, opts);
    const json = JSON.stringify(stored);
    const ttl = ttlMs ?? this.defaultSessionTtlMs;
    const keys = this.keysOf(scope);
    for (;;) {
      const key = randomUUID();
      const now = await this.redis.run('create', undefined, () =>
        this.redis.commands.greenticSessionCreateV1(keys.session + key, json, ttl),
      );
      // nil: the (random) key is taken, which practically never happens; draw another.
      if (now === null) continue;
      const createdAt = Number(now);
      const record: SessionRecord = {
        key,
        revision: 1,
        data: stored,
        created_at: createdAt,
        updated_at: createdAt,
      };
      if (ttl > 0) record.expires_at = createdAt + ttl;
      return record;
    }
  }

  async get(ctx: TenantCtx, key: SessionKey): Promise<SessionRecord | undefined> {
    checkOpen(this.redis.closed);
    const scope = checkKeyCall(ctx, key, 'get');
    const reply = await this.redis.run('get', key, () =>
      this.client.hmget(this.keysOf(scope).session + key, 'rev', 'data', 'ctime', 'mtime', 'exp'),
    );
    const [rev, data, ctime, mtime, exp] = reply;
    if (rev == null || data == null) return undefined;
    const record: SessionRecord = {
      key,
      revision: Number(rev),
      data: this.redis.parse<SessionData>(data, 'get', key),
      created_at: Number(ctime),
      updated_at: Number(mtime),
    };
    if (exp) record.expires_at = Number(exp);
    return record;
  }

  async save(
    ctx: TenantCtx,
    key: SessionKey,
    data: SessionData,
    opts: SaveSessionOptions,
  ): Promise<SessionRecord> {
    checkOpen(this.redis.closed);
    const { scope, stored } = checkSave(ctx, key, data, opts);
    const ttl = opts.ttlMs === undefined ? '' : String(opts.ttlMs);
    const reply = (await this.redis.run('save', key, () =>
      this.redis.commands.greenticSessionSaveV1(
        this.keysOf(scope).session + key,
        String(opts.expectedRevision),
        JSON.stringify(stored),
        ttl,
      ),
    )) as string[];
    const [status, revision, createdAt, updatedAt, expiresAt] = reply;
    if (status === 'missing') throw notFound('save', key, scope);
    if (status === 'conflict') throw conflict(key, revision as string, opts.expectedRevision);
    const record: SessionRecord = {
      key,
      revision: Number(revision),
      data: stored,
      created_at: Number(createdAt),
      updated_at: Number(updatedAt),
    };
    if (expiresAt) record.expires_at = Number(expiresAt);
    return record;
  }

  async remove(ctx: TenantCtx, key: SessionKey): Promise<boolean> {
    checkOpen(this.redis.closed);
    const scope = checkKeyCall(ctx, key, 'remove');
    const keys = this.keysOf(scope);
    const removed = await this.redis.run('remove', key, () =>
      this.redis.commands.greenticSessionRemoveV1(keys.session + key, keys.index, keys.rawWait, key),
    );
    return removed === 1;
  }

  async registerWait(
    ctx: TenantCtx,
    scope: ReplyScope,
    key: SessionKey,
    opts?: RegisterWaitOptions,
  ): Promise<SessionWait> {
    checkOpen(this.redis.closed);
    const { where, reply, ttlMs } = checkRegisterWait(ctx, scope, key, opts);
    const ttl = ttlMs ?? this.defaultWaitTtlMs;
    const keys = this.keysOf(where);
    const id = waitId(reply.id);
    const result = (await this.redis.run('registerWait', key, () =>
      this.redis.commands.greenticSessionRegisterWaitV1(
        keys.session + key,
        keys.wait + id,
        keys.index,
        id,
        key,
        ttl,
        JSON.stringify(reply.scope),
        keys.rawSession,
      ),
    )) as [string, string] | null;
    if (result === null) throw notFound('registerWait', key, where);
    const wait: SessionWait = { scope: reply.scope, key, created_at: Number(result[0]) };
    if (result[1]) wait.expires_at = Number(result[1]);
    return wait;
  }

  async findWait(ctx: TenantCtx, scope: ReplyScope): Promise<SessionKey | undefined> {
    checkOpen(this.redis.closed);
    const { where, reply } = checkWaitCall(ctx, scope, 'findWait');
    const keys = this.keysOf(where);
    const id = waitId(reply.id);
    const key = await this.redis.run('findWait', undefined, () =>
      this.redis.commands.greenticSessionFindWaitV1(keys.wait + id, keys.index, keys.rawSession, id),
    );
    return typeof key === 'string' ? key : undefined;
  }

  async clearWait(ctx: TenantCtx, scope: ReplyScope): Promise<boolean> {
    checkOpen(this.redis.closed);
    const { where, reply } = checkWaitCall(ctx, scope, 'clearWait');
    const keys = this.keysOf(where);
    const id = waitId(reply.id);
    const live = await this.redis.run('clearWait', undefined, () =>
      this.redis.commands.greenticSessionClearWaitV1(keys.wait + id, keys.index, keys.rawSession, id),
    );
    return live === 1;
  }

  async listWaitsForUser(ctx: TenantCtx): Promise<SessionWait[]> {
    checkOpen(this.redis.closed);
    const where = resolveScope(ctx, 'listWaitsForUser');
    const keys = this.keysOf(where);
    const flat = (await this.redis.run('listWaitsForUser', undefined, () =>
      this.redis.commands.greenticSessionListWaitsV1(keys.index, keys.rawWait, keys.rawSession),
    )) as string[];
    const out: SessionWait[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const key = flat[i] as string;
      const wait: SessionWait = {
        scope: this.redis.parse<ReplyScope>(flat[i + 1] as string, 'listWaitsForUser', key),
        key,
        created_at: Number(flat[i + 2]),
      };
      if (flat[i + 3]) wait.expires_at = Number(flat[i + 3]);
      out.push(wait);
    }
    return out;
  }

  private keysOf(scope: Scope): ScopeKeys {
    // The hash tag {env:tenant:team:user} puts every key of one scope in one cluster slot.
    const tag = `{${scope.id}}`;
    const session = `${this.namespace}:session:${tag}:`;
    const wait = `${this.namespace}:wait:${tag}:`;
    return {
      session,
      wait,
      index: `${this.namespace}:waits:${tag}`,
      rawSession: this.redis.keyPrefix + session,
      rawWait: this.redis.keyPrefix + wait,
    };
  }
}

/** Keys (and key prefixes as scripts see them) of one isolation scope. */
interface ScopeKeys {
  /** Session hash key prefix (`…:session:{scope}:`), as given to declared KEYS. */
  session: string;
  /** Wait hash key prefix (`…:wait:{scope}:`). */
  wait: string;
  /** The scope's wait index. */
  index: string;
  /** The same prefixes with the client's ioredis `keyPrefix`, for keys the scripts build from ARGV. */
  rawSession: string;
  rawWait: string;
}

/** The id of a wait: sha256 of the reply scope's canonical text (upstream's `scope_hash`), hex. */
function waitId(replyScopeId: string): string {
  return createHash('sha256').update(replyScopeId).digest('hex');
}
