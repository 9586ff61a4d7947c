import { createHash, randomUUID } from 'node:crypto';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_NAMESPACE,
  describeTarget,
  msProblem,
  namespaceProblem,
  openRedis,
  quitRedis,
  type RedisTarget,
} from '@greentic/redis';
import type { ReplyScope, SessionData, SessionKey, TenantCtx } from '@greentic/types';
import type { Redis, RedisOptions } from 'ioredis';
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
  checkKey,
  checkRevision,
  checkTtl,
  copySessionData,
  describeScope,
  normalizeReplyScope,
  optionsOf,
  resolveScope,
  type Scope,
} from './validate.js';

export interface RedisSessionStoreOptions {
  /**
   * First segment of every key (default `greentic`). Stores with different namespaces never see each other's
   * data on one Redis database. 1–128 characters, no whitespace, `{` or `}`.
   */
  namespace?: string;
  /** TTL of sessions created without `ttlMs` (default `0`: they never expire; the engine removes them). */
  defaultSessionTtlMs?: number;
  /** TTL of waits registered without `ttlMs` (default 24 h; `0`: never expire, not recommended). */
  defaultWaitTtlMs?: number;
}

export interface RedisSessionConnectOptions extends RedisSessionStoreOptions {
  /** How long `connect` waits for Redis to answer a PING before failing with `GT_SESSION_BACKEND` (default 3 s). */
  connectTimeoutMs?: number;
  /** Extra ioredis options for the connection `connect` opens (`tls`, `enableAutoPipelining`, …). */
  redis?: RedisOptions;
}

type Command = (...args: (string | number)[]) => Promise<unknown>;
type Commands = Record<keyof typeof SESSION_COMMANDS, Command>;

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
 * `new RedisSessionStore(client)` to share a connection the caller owns (left open on `close()`).
 */
export class RedisSessionStore implements SessionStore {
  /**
   * Opens a connection (a `redis://`/`rediss://` URL or ioredis options) and checks Redis answers within
   * `connectTimeoutMs`; or, given an ioredis client, checks that one (and leaves it open on `close()`).
   * Fails fast with `GT_SESSION_BACKEND` naming the URL (password hidden) when Redis cannot be reached, and
   * with `GT_SESSION_INVALID` on bad options.
   */
  static async connect(
    target: string | RedisOptions | Redis,
    options: RedisSessionConnectOptions = {},
  ): Promise<RedisSessionStore> {
    const { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, redis, ...storeOptions } = optionsObject(options);
    invalidIf(msProblem(connectTimeoutMs, 1), 'connectTimeoutMs', connectTimeoutMs);
    checkStoreOptions(storeOptions);
    const opened = await openRedis(
      target as RedisTarget,
      redis,
      connectTimeoutMs,
      (problem, cause) =>
        new SessionError('GT_SESSION_BACKEND', `RedisSessionStore.connect: ${problem}`, { cause }),
    );
    const store = new RedisSessionStore(opened.client, storeOptions);
    store.owned = opened.owned;
    return store;
  }

  /** The key namespace (first segment of every key). */
  readonly namespace: string;
  private readonly client: Redis;
  private readonly commands: Commands;
  private readonly defaultSessionTtlMs: number;
  private readonly defaultWaitTtlMs: number;
  private readonly label: string;
  private readonly keyPrefix: string;
  private owned = false;
  private closed = false;

  /**
   * A store on a connection the caller owns (`close()` leaves it open). The scripts are registered on the
   * client with `defineCommand` (names `greenticSession…V1`). Fails with `GT_SESSION_INVALID` on bad options.
   */
  constructor(client: Redis, options: RedisSessionStoreOptions = {}) {
    const checked = checkStoreOptions(optionsObject(options));
    this.namespace = checked.namespace ?? DEFAULT_NAMESPACE;
    this.defaultSessionTtlMs = checked.defaultSessionTtlMs ?? 0;
    this.defaultWaitTtlMs = checked.defaultWaitTtlMs ?? DEFAULT_WAIT_TTL_MS;
    this.client = client;
    this.label = describeTarget(client);
    this.keyPrefix = client.options.keyPrefix ?? '';
    const named = client as unknown as Record<string, unknown>;
    for (const [name, def] of Object.entries(SESSION_COMMANDS)) {
      if (typeof named[name] !== 'function') client.defineCommand(name, def);
    }
    this.commands = client as unknown as Commands;
  }

  async create(ctx: TenantCtx, data: SessionData, opts?: CreateSessionOptions): Promise<SessionRecord> {
    this.assertOpen();
    const scope = resolveScope(ctx, 'create');
    const { ttlMs } = optionsOf(opts, 'create');
    checkTtl(ttlMs, 'create');
    const stored = copySessionData(data, scope, 'create');
    const json = JSON.stringify(stored);
    const ttl = ttlMs ?? this.defaultSessionTtlMs;
    const keys = this.keysOf(scope);
    for (;;) {
      const key = randomUUID();
      const now = await this.run('create', undefined, () =>
        this.commands.greenticSessionCreateV1(keys.session + key, json, ttl),
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
    this.assertOpen();
    const scope = resolveScope(ctx, 'get');
    checkKey(key, 'get');
    const reply = await this.run('get', key, () =>
      this.client.hmget(this.keysOf(scope).session + key, 'rev', 'data', 'ctime', 'mtime', 'exp'),
    );
    const [rev, data, ctime, mtime, exp] = reply;
    if (rev == null || data == null) return undefined;
    const record: SessionRecord = {
      key,
      revision: Number(rev),
      data: this.parse(data, 'get', key),
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
    this.assertOpen();
    const scope = resolveScope(ctx, 'save');
    checkKey(key, 'save');
    if (typeof opts !== 'object' || opts === null) {
      throw new SessionError(
        'GT_SESSION_INVALID',
        'save: options {expectedRevision} are required; pass the revision of the record you read',
        { key },
      );
    }
    checkRevision(opts.expectedRevision, key);
    checkTtl(opts.ttlMs, 'save');
    const stored = copySessionData(data, scope, 'save');
    const ttl = opts.ttlMs === undefined ? '' : String(opts.ttlMs);
    const reply = (await this.run('save', key, () =>
      this.commands.greenticSessionSaveV1(
        this.keysOf(scope).session + key,
        String(opts.expectedRevision),
        JSON.stringify(stored),
        ttl,
      ),
    )) as string[];
    const [status, revision, createdAt, updatedAt, expiresAt] = reply;
    if (status === 'missing') throw notFound('save', key, scope);
    if (status === 'conflict') {
      throw new SessionError(
        'GT_SESSION_CONFLICT',
        `save: session ${JSON.stringify(key)} is at revision ${revision}, not ${opts.expectedRevision}: ` +
          'it was saved by someone else in between; get() it again, re-apply your change and save with the new revision',
        { key },
      );
    }
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
    this.assertOpen();
    const scope = resolveScope(ctx, 'remove');
    checkKey(key, 'remove');
    const keys = this.keysOf(scope);
    const removed = await this.run('remove', key, () =>
      this.commands.greenticSessionRemoveV1(keys.session + key, keys.index, keys.rawWait, key),
    );
    return removed === 1;
  }

  async registerWait(
    ctx: TenantCtx,
    scope: ReplyScope,
    key: SessionKey,
    opts?: RegisterWaitOptions,
  ): Promise<SessionWait> {
    this.assertOpen();
    const where = resolveScope(ctx, 'registerWait');
    const reply = normalizeReplyScope(scope, 'registerWait');
    checkKey(key, 'registerWait');
    const { ttlMs } = optionsOf(opts, 'registerWait');
    checkTtl(ttlMs, 'registerWait');
    const ttl = ttlMs ?? this.defaultWaitTtlMs;
    const keys = this.keysOf(where);
    const id = waitId(reply.id);
    const result = (await this.run('registerWait', key, () =>
      this.commands.greenticSessionRegisterWaitV1(
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
    this.assertOpen();
    const where = resolveScope(ctx, 'findWait');
    const reply = normalizeReplyScope(scope, 'findWait');
    const keys = this.keysOf(where);
    const id = waitId(reply.id);
    const key = await this.run('findWait', undefined, () =>
      this.commands.greenticSessionFindWaitV1(keys.wait + id, keys.index, keys.rawSession, id),
    );
    return typeof key === 'string' ? key : undefined;
  }

  async clearWait(ctx: TenantCtx, scope: ReplyScope): Promise<boolean> {
    this.assertOpen();
    const where = resolveScope(ctx, 'clearWait');
    const reply = normalizeReplyScope(scope, 'clearWait');
    const keys = this.keysOf(where);
    const id = waitId(reply.id);
    const live = await this.run('clearWait', undefined, () =>
      this.commands.greenticSessionClearWaitV1(keys.wait + id, keys.index, keys.rawSession, id),
    );
    return live === 1;
  }

  async listWaitsForUser(ctx: TenantCtx): Promise<SessionWait[]> {
    this.assertOpen();
    const where = resolveScope(ctx, 'listWaitsForUser');
    const keys = this.keysOf(where);
    const flat = (await this.run('listWaitsForUser', undefined, () =>
      this.commands.greenticSessionListWaitsV1(keys.index, keys.rawWait, keys.rawSession),
    )) as string[];
    const out: SessionWait[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      const key = flat[i] as string;
      const wait: SessionWait = {
        scope: this.parse(flat[i + 1] as string, 'listWaitsForUser', key) as unknown as ReplyScope,
        key,
        created_at: Number(flat[i + 2]),
      };
      if (flat[i + 3]) wait.expires_at = Number(flat[i + 3]);
      out.push(wait);
    }
    return out;
  }

  /** Marks the store closed and quits the connection if `connect` opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await quitRedis(this.client);
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new SessionError(
        'GT_SESSION_CLOSED',
        'the session store is closed; create a new store (close() was already called)',
      );
    }
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
      rawSession: this.keyPrefix + session,
      rawWait: this.keyPrefix + wait,
    };
  }

  /** Runs a Redis call, wrapping its failure as `GT_SESSION_BACKEND`. */
  private async run<T>(what: string, key: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new SessionError(
        'GT_SESSION_BACKEND',
        `${what}: Redis at ${this.label} failed (${detail}); check that Redis is reachable and that nothing else ` +
          `writes under the namespace ${JSON.stringify(this.namespace)}`,
        { cause: err, ...(key === undefined ? {} : { key }) },
      );
    }
  }

  private parse(text: string, what: string, key: string): SessionData {
    try {
      return JSON.parse(text) as SessionData;
    } catch (err) {
      throw new SessionError(
        'GT_SESSION_BACKEND',
        `${what}: the stored session is not valid JSON; something other than RedisSessionStore wrote under ` +
          `the namespace ${JSON.stringify(this.namespace)} at Redis ${this.label}`,
        { cause: err, key },
      );
    }
  }
}

/** The id of a wait: sha256 of the reply scope's canonical text (upstream's `scope_hash`), hex. */
function waitId(replyScopeId: string): string {
  return createHash('sha256').update(replyScopeId).digest('hex');
}

function notFound(what: string, key: SessionKey, scope: Scope): SessionError {
  return new SessionError(
    'GT_SESSION_NOT_FOUND',
    `${what}: session ${JSON.stringify(key)} does not exist for ${describeScope(scope)} ` +
      '(it was never created in this scope, was removed, or expired); create() a new session',
    { key },
  );
}

function optionsObject<T extends object>(options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      `RedisSessionStore: options must be an object such as {namespace: "greentic"} (got ${String(options)})`,
    );
  }
  return options;
}

function invalidIf(problem: string | undefined, name: string, value: unknown): void {
  if (problem === undefined) return;
  throw new SessionError(
    'GT_SESSION_INVALID',
    `RedisSessionStore: option ${name} ${problem} (got ${JSON.stringify(value) ?? String(value)})`,
  );
}

function checkStoreOptions(options: RedisSessionStoreOptions): RedisSessionStoreOptions {
  if (options.namespace !== undefined)
    invalidIf(namespaceProblem(options.namespace), 'namespace', options.namespace);
  invalidIf(msProblem(options.defaultSessionTtlMs), 'defaultSessionTtlMs', options.defaultSessionTtlMs);
  invalidIf(msProblem(options.defaultWaitTtlMs), 'defaultWaitTtlMs', options.defaultWaitTtlMs);
  return options;
}
