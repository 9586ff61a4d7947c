/**
 * What every Redis-backed store must do with its connection, whatever it stores, as a vitest suite: own (and quit)
 * only a connection it opened, fail fast with its own backend error on a Redis that is unreachable, silent or too
 * old (never showing a password), and refuse bad options with its own invalid-options error before connecting.
 *
 * ```ts
 * import { redisStoreContract, useTestRedis } from '@greentic/redis/testing';
 * const redis = useTestRedis();
 * redisStoreContract(RedisSessionStore, {
 *   redis,
 *   isError: isSessionError,
 *   codes: { backend: 'GT_SESSION_BACKEND', invalid: 'GT_SESSION_INVALID' },
 *   badOptions: [{ defaultWaitTtlMs: -1 }],
 * });
 * ```
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RedisStore, StoreClass, StoreOptions } from '../store.js';
import { closedPort, fakeRedis, silentServer, type TestRedis } from './servers.js';

export interface RedisStoreContractOptions<Code extends string> {
  /** The test Redis of the file ({@link useTestRedis}). */
  redis: Pick<TestRedis, 'url' | 'ns'>;
  /** The store's error test (`isSessionError`, …). */
  isError: (err: unknown, code: Code) => boolean;
  /** The store's backend and invalid-options codes. */
  codes: { backend: Code; invalid: Code };
  /** Bad values of the store's own options (bad namespaces and `connectTimeoutMs` are tested anyway). */
  badOptions: object[];
}

/** The connection suite of a store class (one that extends {@link RedisStore}), run against the test Redis. */
export function redisStoreContract<S extends RedisStore<string>, O extends StoreOptions, Code extends string>(
  Store: StoreClass<S, O> & { connect(target: unknown, options?: object): Promise<S> },
  { redis, isError, codes, badOptions }: RedisStoreContractOptions<Code>,
): void {
  const name = Store.spec.name;
  const failure = async (promise: Promise<unknown>): Promise<Error> => {
    const outcome = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(Error);
    return outcome as Error;
  };

  describe(`${name} connection (redisStoreContract)`, () => {
    it('quits the connection it opened on close', async () => {
      const store = await Store.connect(redis.url, { namespace: redis.ns() });
      const client = (store as unknown as { client: Redis }).client;
      expect(client.status).toBe('ready');
      await store.close();
      expect(client.status).toBe('end');
      await store.close();
    });

    it('leaves a connection it was given open on close', async () => {
      const client = new Redis(redis.url);
      try {
        const connected = await Store.connect(client, { namespace: redis.ns() });
        const built = new Store(client, { namespace: redis.ns() } as O);
        await connected.close();
        await built.close();
        expect(await client.ping()).toBe('PONG');
      } finally {
        await client.quit();
      }
    });

    it('fails fast, naming the URL without its password, when Redis is unreachable', async () => {
      const port = await closedPort();
      for (const [url, shown] of [
        [`redis://:s3cret@127.0.0.1:${port}/2`, `redis://:***@127.0.0.1:${port}/2`],
        [`redis://user:s3cret@127.0.0.1:${port}`, `redis://user:***@127.0.0.1:${port}`],
      ] as const) {
        const started = Date.now();
        const err = await failure(Store.connect(url, { connectTimeoutMs: 500 }));
        expect(isError(err, codes.backend), err.message).toBe(true);
        expect(err.message).toMatch(new RegExp(`^${name}\\.connect: cannot reach Redis at `));
        expect(err.message).toContain(shown);
        expect(err.message).not.toContain('s3cret');
        expect(err.message).toMatch(/ECONNREFUSED/);
        expect(err.cause).toBeInstanceOf(Error);
        expect(Date.now() - started).toBeLessThan(10_000);
      }
    });

    it('times out on a server that accepts connections but never answers', async () => {
      const { server, port } = await silentServer();
      try {
        const err = await failure(Store.connect({ host: '127.0.0.1', port }, { connectTimeoutMs: 300 }));
        expect(isError(err, codes.backend), err.message).toBe(true);
        expect(err.message).toContain(`redis://127.0.0.1:${port}`);
        expect(err.message).toContain('300 ms');
      } finally {
        server.close();
      }
    });

    it('refuses a Redis older than 6.2', async () => {
      const { server, port } = await fakeRedis('6.0.9');
      try {
        const err = await failure(Store.connect(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 2_000 }));
        expect(isError(err, codes.backend), err.message).toBe(true);
        expect(err.message).toBe(
          `${name}.connect: Redis at redis://127.0.0.1:${port} is version 6.0; these stores need Redis 6.2 ` +
            'or newer (their scripts use SET … PXAT and KEEPTTL); upgrade Redis',
        );
      } finally {
        server.close();
      }
    });

    it('rejects bad options before connecting', async () => {
      const client = new Redis(redis.url, { lazyConnect: true });
      const unreachable = `redis://127.0.0.1:${await closedPort()}`;
      const bad: object[] = [
        { namespace: '' },
        { namespace: 'a{b}' },
        { namespace: '{x}' },
        { namespace: 'has space' },
        { namespace: 'x'.repeat(129) },
        ...badOptions,
      ];
      try {
        for (const options of bad) {
          const label = JSON.stringify(options);
          let thrown: unknown;
          try {
            new Store(client, options as O);
          } catch (err) {
            thrown = err;
          }
          expect(isError(thrown, codes.invalid), label).toBe(true);
          expect((thrown as Error).message, label).toMatch(new RegExp(`^${name}: option `));
          for (const target of [redis.url, unreachable]) {
            const err = await failure(Store.connect(target, options));
            expect(isError(err, codes.invalid), `${label} ${err.message}`).toBe(true);
          }
        }
        for (const options of [{ connectTimeoutMs: 0 }, { connectTimeoutMs: 1.5 }, null]) {
          const err = await failure(Store.connect(redis.url, options as object));
          expect(isError(err, codes.invalid), `${JSON.stringify(options)} ${err.message}`).toBe(true);
        }
      } finally {
        client.disconnect();
      }
    });
  });
}
