import { RedisStore, type StoreConnectOptions, type StoreOptions, type StoreSpec } from '@greentic/redis';
import { describeValue, type StateKey, type TenantCtx, toJsonPointer } from '@greentic/types';
import type { Redis } from 'ioredis';
import { readAt } from './document.js';
import { StateError } from './errors.js';
import { STATE_COMMANDS } from './redis-scripts.js';
import type { JsonValue, StateDeleteOptions, StateGetOptions, StateSetOptions, StateStore } from './store.js';
import { checkBucket, checkPathCall, checkSet } from './validate.js';

/** Documents `deletePrefix` deletes per script call (each call is one short atomic step). */
export const DEFAULT_DELETE_BATCH_SIZE = 500;

/** What `@greentic/redis` needs to know of this store: its scripts, its option checks and its errors. */
const SPEC: StoreSpec<keyof typeof STATE_COMMANDS> = {
  name: 'RedisStateStore',
  item: 'document',
  scripts: STATE_COMMANDS,
  checks: {
    deleteBatchSize: (batch) =>
      batch !== undefined &&
      (typeof batch !== 'number' || !Number.isSafeInteger(batch) || batch < 1 || batch > 100_000)
        ? 'must be a whole number from 1 to 100000'
        : undefined,
  },
  invalid: (message) => new StateError('GT_STATE_INVALID', message),
  backend: (message, options) => new StateError('GT_STATE_BACKEND', message, options),
};

export interface RedisStateStoreOptions extends StoreOptions {
  /** Documents deleted per atomic step of `deletePrefix` (default {@link DEFAULT_DELETE_BATCH_SIZE}). */
  deleteBatchSize?: number;
}

export interface RedisStateConnectOptions extends RedisStateStoreOptions, StoreConnectOptions {}

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
 * `new RedisStateStore(client)` to share a connection the caller owns (left open on `close()`). `connect`
 * fails fast with `GT_STATE_BACKEND` naming the URL (password hidden) when Redis cannot be reached, and
 * with `GT_STATE_INVALID` on bad options.
 */
export class RedisStateStore extends RedisStore<keyof typeof STATE_COMMANDS> implements StateStore {
  /** How `@greentic/redis` sees this store (used by the inherited static `connect`). */
  static readonly spec = SPEC;

  private readonly deleteBatchSize: number;

  /**
   * A store on a connection the caller owns (`close()` leaves it open). The scripts are registered on the
   * client with `defineCommand` (names `greenticState…V1`). Fails with `GT_STATE_INVALID` on bad options.
   */
  constructor(client: Redis, options: RedisStateStoreOptions = {}) {
    super(SPEC, client, options);
    this.deleteBatchSize = options.deleteBatchSize ?? DEFAULT_DELETE_BATCH_SIZE;
  }

  async get(
    ctx: TenantCtx,
    prefix: string,
    key: StateKey,
    opts?: StateGetOptions,
  ): Promise<JsonValue | undefined> {
    const keys = this.bucket(ctx, prefix, 'get');
    const segments = checkPathCall(key, opts, 'get');
    // One GET (atomic) and the pointer walk here: a walk in Lua costs Redis' single thread far more (5-40 µs).
    const text = await this.redis.run('get', key, () => this.client.get(keys.doc + key));
    if (text === null) return undefined;
    // A freshly parsed document: the part returned is the caller's own.
    return readAt(this.redis.parse<JsonValue>(text, 'get', key), segments);
  }

  async set(
    ctx: TenantCtx,
    prefix: string,
    key: StateKey,
    value: unknown,
    opts?: StateSetOptions,
  ): Promise<void> {
    const keys = this.bucket(ctx, prefix, 'set');
    const { segments, ttlMs, copy } = checkSet(key, value, opts);
    const json = storedJson(copy);
    const ttl = ttlMs === undefined ? '' : String(ttlMs);
    const reply = (await this.redis.run('set', key, () =>
      this.redis.commands.greenticStateWriteV1(
        keys.doc + key,
        keys.index,
        key,
        ttl,
        json,
        ...tokens(segments),
      ),
    )) as [string, number?, (string | number)?];
    if (reply[0] !== 'ok') throw pathError(key, segments, reply);
  }

  async delete(ctx: TenantCtx, prefix: string, key: StateKey, opts?: StateDeleteOptions): Promise<boolean> {
    const keys = this.bucket(ctx, prefix, 'delete');
    const segments = checkPathCall(key, opts, 'delete');
    const deleted = await this.redis.run('delete', key, () =>
      this.redis.commands.greenticStateDeleteV1(keys.doc + key, keys.index, key, ...tokens(segments)),
    );
    return deleted === 1;
  }

  async deletePrefix(ctx: TenantCtx, prefix: string): Promise<number> {
    const keys = this.bucket(ctx, prefix, 'deletePrefix');
    let deleted = 0;
    for (;;) {
      const [n, left] = (await this.redis.run('deletePrefix', undefined, () =>
        this.redis.commands.greenticStateDeleteBatchV1(keys.index, keys.rawDoc, this.deleteBatchSize),
      )) as [number, number];
      deleted += n;
      if (left === 0) return deleted;
    }
  }

  async list(ctx: TenantCtx, prefix: string): Promise<StateKey[]> {
    const keys = this.bucket(ctx, prefix, 'list');
    const listed = (await this.redis.run('list', undefined, () =>
      this.redis.commands.greenticStateListV1(keys.index, keys.rawDoc),
    )) as string[];
    return listed.sort();
  }

  /** Checks the store is open, the ctx and the prefix; returns the keys of (ctx scope, prefix). */
  private bucket(ctx: TenantCtx, prefix: string, what: string): BucketKeys {
    const scopeId = checkBucket(this.redis.closed, ctx, prefix, what);
    // Hash tag {env:tenant:team:user:prefix}: a bucket's documents and index share one cluster slot. Prefixes
    // contain no ":" (keys may), so the tag ends the bucket unambiguously.
    const tag = `{${scopeId}:${prefix}}`;
    const doc = `${this.namespace}:state:${tag}:`;
    return { doc, index: `${this.namespace}:state-index:${tag}`, rawDoc: this.redis.keyPrefix + doc };
  }
}

/** Keys of one (scope, prefix) bucket. */
interface BucketKeys {
  /** Document key prefix (`…:state:{scope:prefix}:`); append the state key. */
  doc: string;
  /** The bucket's index (sorted set of state keys by expiry). */
  index: string;
  /** `doc` with the client's ioredis `keyPrefix`, for keys the scripts build from ARGV. */
  rawDoc: string;
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
