/**
 * The store helpers against a real Redis (`GREENTIC_TEST_REDIS_URL`, default redis://127.0.0.1:6379), with a
 * made-up store that has its own error catalog, as `@greentic/session` and `@greentic/state` have theirs.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { msProblem, redactUrl } from './connection.js';
import {
  checkStoreOptions,
  connectStore,
  defineScripts,
  RedisStore,
  StoreConnection,
  type StoreSpec,
} from './store.js';
import { closedPort, redisStoreContract, useTestRedis } from './testing/index.js';

const redis = useTestRedis();
const { url: URL, admin, ns, keysOf } = redis;

class TestStoreError extends Error {
  constructor(
    readonly code: 'GT_TEST_INVALID' | 'GT_TEST_BACKEND',
    message: string,
    options: ErrorOptions & { key?: string } = {},
  ) {
    const { key, ...errorOptions } = options;
    super(message, errorOptions);
    this.key = key;
  }
  readonly key: string | undefined;
}

const SCRIPTS = {
  gtTestPutV1: {
    numberOfKeys: 1,
    lua: "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])",
  },
  gtTestKeyV1: { numberOfKeys: 1, lua: 'return KEYS[1]' },
} as const;

const SPEC: StoreSpec<keyof typeof SCRIPTS> = {
  name: 'TestStore',
  item: 'record',
  scripts: SCRIPTS,
  checks: { ttlMs: (v) => msProblem(v) },
  invalid: (message) => new TestStoreError('GT_TEST_INVALID', message),
  backend: (message, options) => new TestStoreError('GT_TEST_BACKEND', message, options),
};

interface TestOptions {
  namespace?: string;
  ttlMs?: number;
}

/** A minimal store on the base class, as `RedisSessionStore` and `RedisStateStore` are built. */
class TestStore extends RedisStore<keyof typeof SCRIPTS> {
  static readonly spec = SPEC;
  readonly ttlMs: number;

  constructor(client: Redis, options: TestOptions = {}) {
    super(SPEC, client, options);
    this.ttlMs = options.ttlMs ?? 0;
  }

  async put(key: string, value: unknown): Promise<unknown> {
    return this.redis.run('put', key, () =>
      this.redis.commands.gtTestPutV1(`${this.namespace}:${key}`, JSON.stringify(value)),
    );
  }
}

const isTestError = (err: unknown, code: TestStoreError['code']) =>
  err instanceof TestStoreError && err.code === code;

// The suite session and state run, here on the made-up store: connect, ownership, failures, bad options.
redisStoreContract(TestStore, {
  redis,
  isError: isTestError,
  codes: { backend: 'GT_TEST_BACKEND', invalid: 'GT_TEST_INVALID' },
  badOptions: [{ ttlMs: -1 }, { ttlMs: 'soon' }],
});

describe('RedisStore', () => {
  it('builds the subclass on the connection connect opened, with its own options checked', async () => {
    const store = await TestStore.connect(URL, { namespace: ns('base'), ttlMs: 5, connectTimeoutMs: 2_000 });
    try {
      expect(store).toBeInstanceOf(TestStore);
      expect(store.namespace).toBe(ns('base'));
      expect(store.ttlMs).toBe(5);
      expect(await store.put('k', { a: 1 })).toBe('{"a":1}');
      expect(await admin.get(`${ns('base')}:k`)).toBe('{"a":1}');
    } finally {
      await store.close();
    }
    const err = await rejection(store.put('k', 1));
    expect(err.code).toBe('GT_TEST_BACKEND');
    expect(err.key).toBe('k');
  });

  it('defaults the namespace to greentic', () => {
    const client = new Redis(URL, { lazyConnect: true });
    try {
      expect(new TestStore(client).namespace).toBe('greentic');
    } finally {
      client.disconnect();
    }
  });
});

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<TestStoreError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(TestStoreError);
  return outcome as TestStoreError;
}

function thrown(call: () => unknown): TestStoreError {
  try {
    call();
  } catch (err) {
    expect(err).toBeInstanceOf(TestStoreError);
    return err as TestStoreError;
  }
  throw new Error('expected a throw');
}

describe('checkStoreOptions', () => {
  it('returns good options as they are', () => {
    const options = { namespace: 'app', ttlMs: 0 };
    expect(checkStoreOptions(SPEC, options)).toBe(options);
    expect(checkStoreOptions(SPEC, {})).toStrictEqual({});
  });

  it("rejects a bad namespace with the store's own error, naming the store, option and value", () => {
    for (const namespace of ['', 'a{b}', 'has space', 'x'.repeat(129), 'tab\there']) {
      const err = thrown(() => checkStoreOptions(SPEC, { namespace }));
      expect(err.code).toBe('GT_TEST_INVALID');
      expect(err.message).toMatch(/^TestStore: option namespace must /);
      expect(err.message).toContain(`(got ${JSON.stringify(namespace)})`);
    }
  });

  it("runs the store's own checks after the namespace", () => {
    const err = thrown(() => checkStoreOptions<TestOptions>(SPEC, { ttlMs: 1.5 }));
    expect(err.code).toBe('GT_TEST_INVALID');
    expect(err.message).toBe('TestStore: option ttlMs must be a whole number of milliseconds >= 0 (got 1.5)');
    expect(
      thrown(() => checkStoreOptions<TestOptions>(SPEC, { namespace: '', ttlMs: -1 })).message,
    ).toContain('option namespace');
  });

  it('rejects options that are not an object', () => {
    for (const options of [null, 'ns', 5]) {
      const err = thrown(() => checkStoreOptions(SPEC, options as unknown as TestOptions));
      expect(err.code).toBe('GT_TEST_INVALID');
      expect(err.message).toBe(
        `TestStore: options must be an object such as {namespace: "greentic"} (got ${String(options)})`,
      );
    }
  });
});

describe('connectStore', () => {
  it('opens a probed connection it owns, and hands back the store options without the connection ones', async () => {
    const opened = await connectStore<TestOptions>(SPEC, URL, {
      namespace: 'app',
      ttlMs: 5,
      connectTimeoutMs: 2_000,
      redis: { connectionName: 'gt-test-connect-store' },
    });
    try {
      expect(opened.owned).toBe(true);
      expect(opened.client.status).toBe('ready');
      expect(opened.label).toBe(redactUrl(URL));
      expect(opened.options).toStrictEqual({ namespace: 'app', ttlMs: 5 });
      expect(await opened.client.client('GETNAME')).toBe('gt-test-connect-store');
    } finally {
      opened.client.disconnect();
    }
  });

  it('adopts a client it is given without owning it', async () => {
    const client = new Redis(URL);
    try {
      const opened = await connectStore(SPEC, client, {});
      expect(opened.owned).toBe(false);
      expect(opened.client).toBe(client);
    } finally {
      await client.quit();
    }
  });

  it('checks every option before it tries to connect', async () => {
    const port = await closedPort();
    const target = `redis://127.0.0.1:${port}`;
    for (const options of [
      { namespace: '{x}' },
      { ttlMs: -1 },
      { connectTimeoutMs: 0 },
      { connectTimeoutMs: 1.5 },
    ]) {
      const err = await rejection(connectStore<TestOptions>(SPEC, target, options));
      expect(err.code, JSON.stringify(options)).toBe('GT_TEST_INVALID');
    }
    const err = await rejection(connectStore(SPEC, target, null as unknown as TestOptions));
    expect(err.code).toBe('GT_TEST_INVALID');
  });
});

describe('defineScripts', () => {
  it('registers each script once, so stores can share a client', async () => {
    const client = new Redis(URL, { lazyConnect: true });
    try {
      const commands = defineScripts(client, SCRIPTS);
      const key = `${ns('define')}:k`;
      expect(await commands.gtTestPutV1(key, 'v1')).toBe('v1');
      // A second registration under a taken name keeps the first definition.
      const again = defineScripts(client, { gtTestPutV1: { numberOfKeys: 1, lua: "return 'replaced'" } });
      expect(await again.gtTestPutV1(key, 'v2')).toBe('v2');
      expect(await admin.get(key)).toBe('v2');
    } finally {
      await client.quit();
    }
  });
});

describe('StoreConnection', () => {
  it('runs the scripts with the namespace, label and key prefix of its client', async () => {
    const prefix = `${ns('prefixed')}:`;
    const client = new Redis(URL, { keyPrefix: prefix });
    try {
      const connection = new StoreConnection(SPEC, client, 'app');
      expect(connection.namespace).toBe('app');
      expect(connection.keyPrefix).toBe(prefix);
      expect(connection.label).toBe('redis://127.0.0.1:6379');
      expect(connection.owned).toBe(false);
      // ioredis prefixes declared KEYS; a script sees the prefixed name.
      expect(await connection.commands.gtTestKeyV1('app:k')).toBe(`${prefix}app:k`);
      await connection.commands.gtTestPutV1('app:doc', '{}');
      expect(await keysOf(`${prefix}app`)).toStrictEqual([`${prefix}app:doc`]);
      expect(new StoreConnection(SPEC, client).namespace).toBe('greentic');
    } finally {
      await client.quit();
    }
  });

  it("passes results through and wraps a failing call as the store's backend error", async () => {
    const client = new Redis(URL);
    try {
      const connection = new StoreConnection(SPEC, client, ns('run'));
      expect(await connection.run('get', 'k', async () => 42)).toBe(42);
      const key = `${ns('run')}:hash`;
      await admin.hset(key, 'a', '1');
      const err = await rejection(connection.run('get', 'hash', () => client.get(key)));
      expect(err.code).toBe('GT_TEST_BACKEND');
      expect(err.key).toBe('hash');
      expect(err.cause).toBeInstanceOf(Error);
      expect(err.message).toMatch(
        new RegExp(
          `^get: Redis at redis://127\\.0\\.0\\.1:6379 failed \\(WRONGTYPE .*\\); check that Redis is reachable ` +
            `and that nothing else writes under the namespace "${ns('run')}"$`,
        ),
      );
      const keyless = await rejection(
        connection.run('list', undefined, () => Promise.reject(new Error('boom'))),
      );
      expect(keyless.key).toBeUndefined();
      expect(keyless.message).toMatch(/^list: Redis at .* failed \(boom\)/);
    } finally {
      await client.quit();
    }
  });

  it("parses stored JSON and reports anything else as the store's backend error", async () => {
    const client = new Redis(URL, { lazyConnect: true });
    try {
      const connection = new StoreConnection(SPEC, client, 'app');
      expect(connection.parse('{"a":[1]}', 'get', 'k')).toStrictEqual({ a: [1] });
      const err = thrown(() => connection.parse('{not json', 'get', 'k'));
      expect(err.code).toBe('GT_TEST_BACKEND');
      expect(err.key).toBe('k');
      expect(err.cause).toBeInstanceOf(SyntaxError);
      expect(err.message).toBe(
        'get: the stored record is not valid JSON; something other than TestStore wrote under the namespace ' +
          '"app" at Redis redis://127.0.0.1:6379',
      );
    } finally {
      client.disconnect();
    }
  });

  it('quits an owned client on close, once', async () => {
    const opened = await connectStore(SPEC, URL, {});
    const connection = new StoreConnection(SPEC, opened.client);
    connection.owned = opened.owned;
    expect(connection.closed).toBe(false);
    await connection.close();
    expect(connection.closed).toBe(true);
    expect(opened.client.status).toBe('end');
    await connection.close();
    expect(connection.closed).toBe(true);
  });

  it('leaves a client it does not own open on close', async () => {
    const client = new Redis(URL);
    try {
      const connection = new StoreConnection(SPEC, client);
      await connection.close();
      expect(connection.closed).toBe(true);
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });
});
