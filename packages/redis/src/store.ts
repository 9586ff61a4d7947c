/**
 * What every Redis-backed store does with its connection, whatever it stores: check its options, open and probe
 * the connection ({@link connectStore}), register its Lua scripts, run calls with failures wrapped as the store's
 * own backend error, parse the JSON it stored, and quit the connection on close only if it opened it.
 *
 * A store describes itself once in a {@link StoreSpec}: its name, its scripts, its own option checks and the two
 * errors of its catalog that this module throws (`GT_SESSION_INVALID`/`GT_SESSION_BACKEND`, say). Nothing here
 * invents an error code.
 */
import type { Redis, RedisOptions } from 'ioredis';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_NAMESPACE,
  describeTarget,
  msProblem,
  namespaceProblem,
  type OpenedRedis,
  openRedis,
  quitRedis,
  type RedisTarget,
} from './connection.js';

/** A Lua script as ioredis `defineCommand` takes it. */
export interface ScriptDefinition {
  numberOfKeys: number;
  lua: string;
}

/** A script registered on a client: called with its KEYS, then its ARGV. */
export type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

/** The option every store takes. */
export interface StoreOptions {
  /**
   * First segment of every key (default {@link DEFAULT_NAMESPACE}). Stores with different namespaces never see
   * each other's data on one Redis database. 1–128 characters, no whitespace, `{` or `}`.
   */
  namespace?: string;
}

/** What a store's `connect` takes besides the store's own options. */
export interface StoreConnectOptions {
  /** How long `connect` waits for Redis to answer a PING (default {@link DEFAULT_CONNECT_TIMEOUT_MS}). */
  connectTimeoutMs?: number;
  /** Extra ioredis options for the connection `connect` opens (`tls`, `enableAutoPipelining`, …). */
  redis?: RedisOptions;
}

/** How a store names itself, what it registers and which errors of its own catalog it throws. */
export interface StoreSpec<Name extends string = string> {
  /** The store's class name, which messages start with (`RedisSessionStore`). */
  name: string;
  /** What one stored value is called in messages (`session`, `document`). */
  item: string;
  /** The Lua scripts, by command name; registered with `defineCommand` unless the client has the name already. */
  scripts: Readonly<Record<Name, ScriptDefinition>>;
  /** Checks of the store's own options besides `namespace`, in order: a problem (`must be …`) or `undefined`. */
  checks?: Readonly<Record<string, (value: unknown) => string | undefined>>;
  /** The store's error for bad options (`GT_SESSION_INVALID`, …). */
  invalid: (message: string) => Error;
  /**
   * The store's error for a failing Redis (`GT_SESSION_BACKEND`, …), keeping `cause`; `key` is the key the call was
   * about (absent when there is none).
   */
  backend: (message: string, options: { cause: unknown; key?: string }) => Error;
}

/**
 * Checks a store's options: an object, a valid `namespace` when given, then the store's own
 * {@link StoreSpec.checks}. Returns them; throws `spec.invalid` naming the store, the option and the value.
 */
export function checkStoreOptions<O extends StoreOptions>(spec: StoreSpec, options: O): O {
  optionsObject(spec, options);
  if (options.namespace !== undefined) {
    invalidIf(spec, namespaceProblem(options.namespace), 'namespace', options.namespace);
  }
  for (const [name, check] of Object.entries(spec.checks ?? {})) {
    const value = (options as Record<string, unknown>)[name];
    invalidIf(spec, check(value), name, value);
  }
  return options;
}

/** An opened connection and the store's own options, checked. */
export interface ConnectedStore<O> extends OpenedRedis {
  options: O;
}

/**
 * The first half of a store's `connect`: checks the options (`connectTimeoutMs` and the store's, before any
 * connection is tried; `spec.invalid` on a bad one), then opens or adopts the connection and probes it with
 * {@link openRedis}, failing with `spec.backend("<name>.connect: <problem>")` when Redis is unreachable, silent or
 * too old. The store then builds itself on `client` and quits it on close when `owned`.
 */
export async function connectStore<O extends StoreOptions>(
  spec: StoreSpec,
  target: RedisTarget,
  options: O & StoreConnectOptions,
): Promise<ConnectedStore<O>> {
  const {
    connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
    redis,
    ...storeOptions
  } = optionsObject(spec, options);
  invalidIf(spec, msProblem(connectTimeoutMs, 1), 'connectTimeoutMs', connectTimeoutMs);
  checkStoreOptions(spec, storeOptions);
  const opened = await openRedis(target, redis, connectTimeoutMs, (problem, cause) =>
    spec.backend(`${spec.name}.connect: ${problem}`, { cause }),
  );
  return { ...opened, options: storeOptions as unknown as O };
}

/**
 * Registers `scripts` on `client` with `defineCommand` (a name the client already has is left as it is, so
 * several stores can share one client) and returns the client typed as those commands.
 */
export function defineScripts<Name extends string>(
  client: Redis,
  scripts: Readonly<Record<Name, ScriptDefinition>>,
): Readonly<Record<Name, ScriptCommand>> {
  const named = client as unknown as Record<string, unknown>;
  for (const [name, definition] of Object.entries<ScriptDefinition>(scripts)) {
    if (typeof named[name] !== 'function') client.defineCommand(name, definition);
  }
  return client as unknown as Record<Name, ScriptCommand>;
}

/**
 * A store's side of its connection: the client with the store's scripts registered, its namespace, its label
 * (URL without password) and key prefix, and the failure handling every call shares.
 */
export class StoreConnection<Name extends string = string> {
  readonly client: Redis;
  /** The store's scripts, callable by name. */
  readonly commands: Readonly<Record<Name, ScriptCommand>>;
  /** The key namespace (first segment of every key). */
  readonly namespace: string;
  /** The connection as messages name it (a URL, never with its password). */
  readonly label: string;
  /** The client's ioredis `keyPrefix` (`''` without one), for keys the scripts build from ARGV. */
  readonly keyPrefix: string;
  /** True when the store opened the connection (`connect` with a URL or options): `close()` quits it then. */
  owned = false;
  private readonly spec: StoreSpec<Name>;
  private isClosed = false;

  /** Registers the store's scripts on `client` (see {@link defineScripts}); `namespace` must be checked already. */
  constructor(spec: StoreSpec<Name>, client: Redis, namespace: string = DEFAULT_NAMESPACE) {
    this.spec = spec;
    this.client = client;
    this.namespace = namespace;
    this.label = describeTarget(client);
    this.keyPrefix = client.options.keyPrefix ?? '';
    this.commands = defineScripts(client, spec.scripts);
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Runs a Redis call, wrapping its failure as `spec.backend` (with the call's error as `cause`). */
  async run<T>(what: string, key: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw this.spec.backend(
        `${what}: Redis at ${this.label} failed (${detail}); check that Redis is reachable and that nothing else ` +
          `writes under the namespace ${JSON.stringify(this.namespace)}`,
        key === undefined ? { cause: err } : { cause: err, key },
      );
    }
  }

  /** Parses JSON the store wrote; anything else under its namespace fails as `spec.backend`. */
  parse<T>(text: string, what: string, key: string): T {
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw this.spec.backend(
        `${what}: the stored ${this.spec.item} is not valid JSON; something other than ${this.spec.name} wrote ` +
          `under the namespace ${JSON.stringify(this.namespace)} at Redis ${this.label}`,
        { cause: err, key },
      );
    }
  }

  /** Marks the connection closed and quits the client if the store opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.owned) await quitRedis(this.client);
  }
}

/** A concrete store class: its constructor and its {@link StoreSpec}. */
export interface StoreClass<S, O extends StoreOptions> {
  new (client: Redis, options?: O): S;
  /** How `@greentic/redis` sees the store: name, scripts, option checks and errors. */
  readonly spec: StoreSpec;
}

/**
 * The skeleton every Redis-backed store shares: the static `connect`, a {@link StoreConnection} made from the
 * store's {@link StoreSpec} (its static `spec`), the namespace and `close()`. A store extends it, declares
 * `static readonly spec`, passes it to `super` and adds its operations, calling `this.redis.run(…)` and
 * `this.redis.commands.…`.
 */
export abstract class RedisStore<Name extends string = string> {
  /**
   * Opens a connection (a `redis://`/`rediss://` URL or ioredis options) and checks Redis answers within
   * `connectTimeoutMs`, then builds the store on it (quit on `close()`); or, given an ioredis client, checks that
   * one (and leaves it open on `close()`). Fails fast with the store's backend error (`GT_SESSION_BACKEND`, …)
   * naming the URL (password hidden) when Redis cannot be reached, does not answer or is older than 6.2, and with
   * its invalid-options error (`GT_SESSION_INVALID`, …) on bad options, before connecting.
   */
  static async connect<S extends RedisStore<string>, O extends StoreOptions>(
    this: StoreClass<S, O>,
    target: RedisTarget,
    options: NoInfer<O> & StoreConnectOptions = {} as O,
  ): Promise<S> {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the store class `connect` was called on
    const opened = await connectStore<O>(this.spec, target, options);
    let store: S;
    try {
      store = new this(opened.client, opened.options);
    } catch (err) {
      if (opened.owned) opened.client.disconnect();
      throw err;
    }
    store.redis.owned = opened.owned;
    return store;
  }

  /** The key namespace (first segment of every key). */
  readonly namespace: string;
  /** The client the store runs on (the caller's, unless `connect` opened it). */
  protected readonly client: Redis;
  /** The store's side of the connection: its scripts, failure wrapping, ownership and closed state. */
  protected readonly redis: StoreConnection<Name>;

  /**
   * Checks `options` ({@link checkStoreOptions}: `spec.invalid` on a bad one) and registers the store's scripts on
   * `client`. The subclass reads its own options from `options` afterwards: they are checked by then.
   */
  protected constructor(spec: StoreSpec<Name>, client: Redis, options: StoreOptions) {
    checkStoreOptions(spec, options);
    this.redis = new StoreConnection(spec, client, options.namespace);
    this.namespace = this.redis.namespace;
    this.client = client;
  }

  /** Marks the store closed and quits the connection if `connect` opened it. Idempotent. */
  async close(): Promise<void> {
    await this.redis.close();
  }
}

function optionsObject<T>(spec: StoreSpec, options: T): T {
  if (typeof options !== 'object' || options === null) {
    throw spec.invalid(
      `${spec.name}: options must be an object such as {namespace: "greentic"} (got ${String(options)})`,
    );
  }
  return options;
}

function invalidIf(spec: StoreSpec, problem: string | undefined, name: string, value: unknown): void {
  if (problem === undefined) return;
  throw spec.invalid(
    `${spec.name}: option ${name} ${problem} (got ${JSON.stringify(value) ?? String(value)})`,
  );
}
