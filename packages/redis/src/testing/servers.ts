/**
 * The test Redis and stand-in servers of `@greentic/redis/testing`: a run's own corner of the test Redis, and
 * stand-in servers for the failures a real Redis cannot be made to show (nothing listening, no answer, too old).
 *
 * ```ts
 * import { closedPort, useTestRedis } from '@greentic/redis/testing';
 * const { url, admin, ns, keysOf } = useTestRedis(); // registers beforeAll/afterAll
 * storeContract('redis', () => MyStore.connect(url, { namespace: ns() }));
 * ```
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The Redis the tests use: `GREENTIC_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`. */
export const TEST_REDIS_URL = process.env.GREENTIC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One test file's corner of the test Redis. */
export interface TestRedis {
  /** {@link TEST_REDIS_URL}. */
  url: string;
  /** This run's key prefix (`gt-test-<random>`): every namespace {@link ns} hands out starts with it. */
  run: string;
  /** A connection for looking at keys behind the stores' backs (connected in `beforeAll`, quit in `afterAll`). */
  admin: Redis;
  /** A namespace of this run, `<run>:<name>`; its keys are deleted after the run. */
  ns: (name?: string) => string;
  /** Every key below `<prefix>:`, sorted (found with SCAN). */
  keysOf: (prefix: string) => Promise<string[]>;
}

/**
 * Gives a test file its own key prefix on the test Redis: connects {@link TestRedis.admin} before the file's
 * tests (failing them at once when Redis is not there) and, after them, deletes every key of the run and quits.
 * Call it at the top level of a test file.
 */
export function useTestRedis(url: string = TEST_REDIS_URL): TestRedis {
  const run = `gt-test-${randomUUID().slice(0, 8)}`;
  const admin = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  const keysOf = async (prefix: string): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return found.sort();
  };
  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    if (admin.status !== 'ready') {
      admin.disconnect();
      return;
    }
    const leftovers = await keysOf(run);
    for (let i = 0; i < leftovers.length; i += 1000) await admin.del(...leftovers.slice(i, i + 1000));
    await admin.quit();
  });
  return { url, run, admin, ns: (name = 'contract') => `${run}:${name}`, keysOf };
}

/** A listening server and its port on 127.0.0.1. */
export interface LocalServer {
  server: Server;
  port: number;
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers. Close it after the test. */
export function silentServer(): Promise<LocalServer> {
  return listen(createServer(() => undefined));
}

/** A port on 127.0.0.1 that nothing listens on (connecting is refused). */
export async function closedPort(): Promise<number> {
  const { server, port } = await silentServer();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Not Redis: a stand-in that answers PING and claims `INFO server` version `version`, only to test the version
 * check (the stores themselves are tested against the real server). Close it after the test.
 */
export function fakeRedis(version: string): Promise<LocalServer> {
  return listen(
    createServer((socket) => {
      socket.on('data', (chunk) => {
        // Inline or RESP arrays; answer each command by its name.
        for (const name of chunk.toString().match(/\b(ping|info|select|client)\b/gi) ?? []) {
          const command = name.toLowerCase();
          if (command === 'ping') socket.write('+PONG\r\n');
          else if (command === 'info') {
            const body = `# Server\r\nredis_version:${version}\r\nloading:0\r\n`;
            socket.write(`$${Buffer.byteLength(body)}\r\n${body}\r\n`);
          } else socket.write('+OK\r\n');
        }
      });
    }),
  );
}

function listen(server: Server): Promise<LocalServer> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}
