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
import { describeValue, type StateKey, type TenantCtx, toJsonPointer } from '@greentic/types';
import type { Redis, RedisOptions } from 'ioredis';
import { readAt } from './document.js';
import { StateError } from './errors.js';
import { STATE_COMMANDS } from './redis-scripts.js';
import type { JsonValue, StateDeleteOptions, StateGetOptions, StateSetOptions, StateStore } from './store.js';
import {
  checkKey,
  checkOptions,
  checkPrefix,
  checkTtl,
  copyJson,
  parsePath,
  resolveScopeId,
} from './validate.js';

/** Documents `deletePrefix` deletes per script call (each call is one short atomic step). */
export const DEFAULT_DELETE_BATCH_SIZE = 500;

export interface RedisStateStoreOptions {
  /**
   * First segment of every key (default `greentic`). Stores with different namespaces never see each other's
   * documents on one Redis database. 1–128 characters, no whitespace, `{` or `}`.
   */
  namespace?: string;
  /** Documents deleted per atomic step of `deletePrefix` (default {@link DEFAULT_DELETE_BATCH_SIZE}). */
  deleteBatchSize?: number;
}

export interface RedisStateConnectOptions extends RedisStateStoreOptions {
  /** How long `connect` waits for Redis to answer a PING before failing with `GT_STATE_BACKEND` (default 3 s). */
  connectTimeoutMs?: number;
  /** Extra ioredis options for the connection `connect` opens (`tls`, `enableAutoPipelining`, …). */
  redis?: RedisOptions;
}

type Command = (...args: (string | number)[]) => Promise<unknown>;
type Commands = Record<keyof typeof STATE_COMMANDS, Command>;

/** Keys of one (scope, prefix) bucket. */
interface BucketKeys {
  /** Document key prefix (`…:state:{scope:prefix}:`); append the state key. */
  doc: string;
  /** The bucket's index (sorted set of state keys by expiry). */
  index: string;
  /** `doc` with the client's ioredis `keyPrefix`, for keys the scripts build from ARGV. */
  rawDoc: string;
}

/**
 * {@link StateStore} on Redis (ioredis): JSON documents shared by every process on the same Redis database and
 * namespace. Passes the same contract suite as {@link MemoryStateStore}.
 *
 * A document is one Redis string holding exactly the JSON `JSON.stringify` produced (numbers, empty arrays and
 * member order survive pointer writes byte for byte). Pointer reads, writes and deletes run in Lua on that text,
 * so each is atomic: concurrent writes to different paths of one document all survive. Every operation is one
 * round trip (`deletePrefix`: one per {@link RedisStateStoreOptions.deleteBatchSize} documents). TTLs use the
 * Redis server clock. Requires Redis >= 6.2.
 *
 * Create it with {@link RedisStateStore.connect} (opens and probes its own connection, quit on `close()`), or
 * `new RedisStateStore(client)` to share a connection the caller owns (left open on `close()`).
 */
export class RedisStateStore implements StateStore {
  /**
   * Opens a connection (a `redis://`/`rediss://` URL or ioredis options) and checks Redis answers within
   * `connectTimeoutMs`; or, given an ioredis client, checks that one (and leaves it open on `close()`).
   * Fails fast with `GT_STATE_BACKEND` naming the URL (password hidden) when Redis cannot be reached, and with
   * `GT_STATE_INVALID` on bad options.
   */
  static async connect(
    target: string | RedisOptions | Redis,
    options: RedisStateConnectOptions = {},
  ): Promise<RedisStateStore> {
    const { connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, redis, ...storeOptions } = optionsObject(options);
    invalidIf(msProblem(connectTimeoutMs, 1), 'connectTimeoutMs', connectTimeoutMs);
    checkStoreOptions(storeOptions);
    const opened = await openRedis(
      target as RedisTarget,
      redis,
      connectTimeoutMs,
      (problem, cause) =>
        new StateError('GT_STATE_BACKEND', `RedisStateStore.connect: ${problem}`, { cause }),
    );
    const store = new RedisStateStore(opened.client, storeOptions);
    store.owned = opened.owned;
    return store;
  }

  /** The key namespace (first segment of every key). */
  readonly namespace: string;
  private readonly client: Redis;
  private readonly commands: Commands;
  private readonly deleteBatchSize: number;
  private readonly label: string;
  private readonly keyPrefix: string;
  private owned = false;
  private closed = false;

  /**
   * A store on a connection the caller owns (`close()` leaves it open). The scripts are registered on the
   * client with `defineCommand` (names `greenticState…V1`). Fails with `GT_STATE_INVALID` on bad options.
   */
  constructor(client: Redis, options: RedisStateStoreOptions = {}) {
    const checked = checkStoreOptions(optionsObject(options));
    this.namespace = checked.namespace ?? DEFAULT_NAMESPACE;
    this.deleteBatchSize = checked.deleteBatchSize ?? DEFAULT_DELETE_BATCH_SIZE;
    this.client = client;
    this.label = describeTarget(client);
    this.keyPrefix = client.options.keyPrefix ?? '';
    const named = client as unknown as Record<string, unknown>;
    for (const [name, def] of Object.entries(STATE_COMMANDS)) {
      if (typeof named[name] !== 'function') client.defineCommand(name, def);
    }
    this.commands = client as unknown as Commands;
  }

  async get(
    ctx: TenantCtx,
    prefix: string,
    key: StateKey,
    opts?: StateGetOptions,
  ): Promise<JsonValue | undefined> {
    const keys = this.bucket(ctx, prefix, 'get');
    checkKey(key, 'get');
    const segments = parsePath(checkOptions(opts, 'get').path, 'get', key);
    // One GET (atomic) and the pointer walk here: a walk in Lua costs Redis' single thread far more (5-40 µs).
    const text = await this.run('get', key, () => this.client.get(keys.doc + key));
    if (text === null) return undefined;
    // A freshly parsed document: the part returned is the caller's own.
    return readAt(this.parse(text, 'get', key), segments);
  }

  async set(
    ctx: TenantCtx,
    prefix: string,
    key: StateKey,
    value: unknown,
    opts?: StateSetOptions,
  ): Promise<void> {
    const keys = this.bucket(ctx, prefix, 'set');
    checkKey(key, 'set');
    const options = checkOptions(opts, 'set');
    const segments = parsePath(options.path, 'set', key);
    checkTtl(options.ttlMs, 'set');
    const json = storedJson(copyJson(value, 'set', key, segments));
    const ttl = options.ttlMs === undefined ? '' : String(options.ttlMs);
    const reply = (await this.run('set', key, () =>
      this.commands.greenticStateWriteV1(keys.doc + key, keys.index, key, ttl, json, ...tokens(segments)),
    )) as [string, number?, (string | number)?];
    if (reply[0] !== 'ok') throw pathError(key, segments, reply);
  }

  async delete(ctx: TenantCtx, prefix: string, key: StateKey, opts?: StateDeleteOptions): Promise<boolean> {
    const keys = this.bucket(ctx, prefix, 'delete');
    checkKey(key, 'delete');
    const segments = parsePath(checkOptions(opts, 'delete').path, 'delete', key);
    const deleted = await this.run('delete', key, () =>
      this.commands.greenticStateDeleteV1(keys.doc + key, keys.index, key, ...tokens(segments)),
    );
    return deleted === 1;
  }

  async deletePrefix(ctx: TenantCtx, prefix: string): Promise<number> {
    const keys = this.bucket(ctx, prefix, 'deletePrefix');
    let deleted = 0;
    for (;;) {
      const [n, left] = (await this.run('deletePrefix', undefined, () =>
        this.commands.greenticStateDeleteBatchV1(keys.index, keys.rawDoc, this.deleteBatchSize),
      )) as [number, number];
      deleted += n;
      if (left === 0) return deleted;
    }
  }

  async list(ctx: TenantCtx, prefix: string): Promise<StateKey[]> {
    const keys = this.bucket(ctx, prefix, 'list');
    const listed = (await this.run('list', undefined, () =>
      this.commands.greenticStateListV1(keys.index, keys.rawDoc),
    )) as string[];
    return listed.sort();
  }

  /** Marks the store closed and quits the connection if `connect` opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await quitRedis(this.client);
  }

  /** Checks the store is open, the ctx and the prefix; returns the keys of (ctx scope, prefix). */
  private bucket(ctx: TenantCtx, prefix: string, what: string): BucketKeys {
    if (this.closed) {
      throw new StateError(
        'GT_STATE_CLOSED',
        'the state store is closed; create a new store (close() was already called)',
      );
    }
    const scopeId = resolveScopeId(ctx, what);
    checkPrefix(prefix, what);
    // Hash tag {env:tenant:team:user:prefix}: a bucket's documents and index share one cluster slot. Prefixes
    // contain no ":" (keys may), so the tag ends the bucket unambiguously.
    const tag = `{${scopeId}:${prefix}}`;
    const doc = `${this.namespace}:state:${tag}:`;
    return { doc, index: `${this.namespace}:state-index:${tag}`, rawDoc: this.keyPrefix + doc };
  }

  /** Runs a Redis call, wrapping its failure as `GT_STATE_BACKEND`. */
  private async run<T>(what: string, key: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new StateError(
        'GT_STATE_BACKEND',
        `${what}: Redis at ${this.label} failed (${detail}); check that Redis is reachable and that nothing else ` +
          `writes under the namespace ${JSON.stringify(this.namespace)}`,
        { cause: err, ...(key === undefined ? {} : { key }) },
      );
    }
  }

  private parse(text: string, what: string, key: string): JsonValue {
    try {
      return JSON.parse(text) as JsonValue;
    } catch (err) {
      throw new StateError(
        'GT_STATE_BACKEND',
        `${what}: the stored document is not valid JSON; something other than RedisStateStore wrote under ` +
          `the namespace ${JSON.stringify(this.namespace)} at Redis ${this.label}`,
        { cause: err, key },
      );
    }
  }
}

/** Pointer segments as the scripts compare them: each member name's JSON text, as stored documents spell it. */
function tokens(segments: readonly string[]): string[] {
  return segments.map((segment) => storedJson(segment));
}

const STRING_LITERAL = /"[^"\\]*(?:\\.[^"\\]*)*"/g;
const BRACKET = /[{}[\]]/;
const BRACKETS = /[{}[\]]/g;
const BRACKET_ESCAPES: Record<string, string> = {
  '{': '\\u007b',
  '}': '\\u007d',
  '[': '\\u005b',
  ']': '\\u005d',
};

/**
 * The stored text of a JSON value: `JSON.stringify`'s, with `{ } [ ]` inside strings written as `\u` escapes, so
 * that the Lua scripts can skip a whole container with one balanced match (`%b{}`). Same JSON: `JSON.parse`
 * returns the same value.
 */
function storedJson(value: JsonValue): string {
  const json = JSON.stringify(value);
  if (!BRACKET.test(json)) return json;
  return json.replace(STRING_LITERAL, (literal) =>
    BRACKET.test(literal) ? literal.replace(BRACKETS, (ch) => BRACKET_ESCAPES[ch] as string) : literal,
  );
}

/** The `GT_STATE_PATH` error of a failed pointer write, worded as `MemoryStateStore` words it. */
function pathError(
  key: string,
  segments: readonly string[],
  [kind, upto = 0, detail]: [string, number?, (string | number)?],
): StateError {
  let problem: string;
  if (kind === 'array') {
    const length = Number(detail);
    problem =
      `is an array of ${length} item(s); use an index 0..${length - 1} to replace, ` +
      `or "-" / ${length} to append (got ${describeValue(segments[upto])})`;
  } else {
    const what = detail === 'null' ? 'null' : `a ${detail}`;
    problem = `is ${what}, not an object or array; write the parent first (or write at a shorter path)`;
  }
  const path = toJsonPointer(segments);
  const at = toJsonPointer(segments.slice(0, upto)) || '(root)';
  return new StateError('GT_STATE_PATH', `set: cannot write at ${path}: ${at} ${problem}`, { key, path });
}

function optionsObject<T extends object>(options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw new StateError(
      'GT_STATE_INVALID',
      `RedisStateStore: options must be an object such as {namespace: "greentic"} (got ${String(options)})`,
    );
  }
  return options;
}

function invalidIf(problem: string | undefined, name: string, value: unknown): void {
  if (problem === undefined) return;
  throw new StateError(
    'GT_STATE_INVALID',
    `RedisStateStore: option ${name} ${problem} (got ${JSON.stringify(value) ?? String(value)})`,
  );
}

function checkStoreOptions(options: RedisStateStoreOptions): RedisStateStoreOptions {
  if (options.namespace !== undefined)
    invalidIf(namespaceProblem(options.namespace), 'namespace', options.namespace);
  const batch = options.deleteBatchSize;
  if (batch !== undefined && (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000)) {
    invalidIf('must be a whole number from 1 to 100000', 'deleteBatchSize', batch);
  }
  return options;
}
