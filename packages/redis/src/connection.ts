/**
 * Opening and probing the ioredis connection of a Redis-backed part.
 * Shared by every Redis-backed store (`@greentic/session`, `@greentic/state`) and the runner.
 */
// Types only: ioredis is loaded when a store opens a connection, so importing the package (for the memory store,
// say) does not pay for it.
import type { Redis, RedisOptions } from 'ioredis';

/** How long `connect` waits for Redis to answer before failing (ms). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
/** The first segment of every key, unless the store is given another namespace. */
export const DEFAULT_NAMESPACE = 'greentic';

/** Where a store connects: a `redis://`/`rediss://` URL, ioredis options, or a client the caller owns. */
export type RedisTarget = string | RedisOptions | Redis;

/** `redis://user:secret@host` → `redis://user:***@host`: messages never show a password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

/** A URL-like label of ioredis options (never their password), for messages. */
export function describeOptions(options: RedisOptions): string {
  if (options.path) return `unix:${options.path}`;
  const scheme = options.tls ? 'rediss' : 'redis';
  const db = options.db ? `/${options.db}` : '';
  return `${scheme}://${options.host ?? '127.0.0.1'}:${options.port ?? 6379}${db}`;
}

/**
 * True for an ioredis client (duck-typed: the caller's ioredis may be another copy of the package than ours).
 */
export function isRedisClient(target: unknown): target is Redis {
  return (
    typeof target === 'object' &&
    target !== null &&
    typeof (target as Redis).defineCommand === 'function' &&
    typeof (target as Redis).ping === 'function' &&
    typeof (target as Redis).options === 'object'
  );
}

/** A label of a target, for messages. */
export function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') return redactUrl(target);
  if (isRedisClient(target)) return describeOptions(target.options);
  return describeOptions(target);
}

/** Checks a key namespace: 1–128 printable characters, no whitespace and no `{`/`}` (hash-tag delimiters). */
export function namespaceProblem(namespace: unknown): string | undefined {
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.length > 128) {
    return 'must be a string of 1 to 128 characters';
  }
  if (/[\s{}]/.test(namespace) || [...namespace].some((ch) => ch < ' ' || ch === '\u007f')) {
    return 'must not contain whitespace, control characters, "{" or "}"';
  }
  return undefined;
}

/** Checks a whole number of milliseconds >= 0 (or `min`). */
export function msProblem(value: unknown, min = 0): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    return `must be a whole number of milliseconds >= ${min}`;
  }
  return undefined;
}

/** A connection and whether the store owns it (and so quits it on close). */
export interface OpenedRedis {
  client: Redis;
  owned: boolean;
  label: string;
}

/** The oldest Redis the scripts run on (`SET … PXAT`, `KEEPTTL`). */
export const MIN_REDIS_VERSION: readonly [number, number] = [6, 2];

/**
 * Opens (or adopts) a connection, checks Redis answers a PING within `timeoutMs` and is recent enough. On failure
 * an owned connection is dropped (no reconnect loop keeps the process alive) and `fail(problem, cause)` is
 * thrown; `problem` says what is wrong and what to do, naming the URL (never its password).
 */
export async function openRedis(
  target: RedisTarget,
  extra: RedisOptions | undefined,
  timeoutMs: number,
  fail: (problem: string, cause: unknown) => Error,
): Promise<OpenedRedis> {
  const label = describeTarget(target);
  const unreachable = (cause: unknown) =>
    fail(
      `cannot reach Redis at ${label} (${errorText(cause)}); check the URL and that Redis is running and ` +
        `accepting connections (waited ${timeoutMs} ms)`,
      cause,
    );
  let client: Redis;
  let owned: boolean;
  let info: string;
  if (isRedisClient(target)) {
    client = target;
    owned = false;
    info = await probe(client, timeoutMs).catch((err: unknown) => {
      throw unreachable(err);
    });
  } else {
    const { Redis: RedisClient } = await import('ioredis');
    // Explicit settings (the target's, then `extra`) win over the default timeout; the probe needs lazyConnect.
    client =
      typeof target === 'string'
        ? new RedisClient(target, { connectTimeout: timeoutMs, ...extra, lazyConnect: true })
        : new RedisClient({ connectTimeout: timeoutMs, ...target, ...extra, lazyConnect: true });
    owned = true;
    let lastError: unknown;
    // Owned connections keep a listener, so ioredis never reports "Unhandled error event" while it reconnects.
    client.on('error', (err: unknown) => {
      lastError = err;
    });
    const opened = client;
    info = await probe(opened, timeoutMs, () => opened.connect()).catch((err: unknown) => {
      opened.disconnect();
      throw unreachable(lastError ?? err);
    });
  }
  const version = /^redis_version:(\d+)\.(\d+)/m.exec(info);
  if (version) {
    const [major, minor] = [Number(version[1]), Number(version[2])];
    const [minMajor, minMinor] = MIN_REDIS_VERSION;
    if (major < minMajor || (major === minMajor && minor < minMinor)) {
      if (owned) client.disconnect();
      throw fail(
        `Redis at ${label} is version ${major}.${minor}; these stores need Redis ${minMajor}.${minMinor} or newer ` +
          '(their scripts use SET … PXAT and KEEPTTL); upgrade Redis',
        undefined,
      );
    }
  }
  return { client, owned, label };
}

/** Connects (when asked), PINGs and reads `INFO server`, all within `timeoutMs`. */
async function probe(client: Redis, timeoutMs: number, connect?: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const work = (async () => {
    if (connect) await connect();
    await client.ping();
    return client.info('server');
  })();
  // The loser of the race must not surface later as an unhandled rejection.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** Quits a connection politely (or drops it when the server is gone), and waits until it has ended. */
export async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      client.disconnect();
      resolve();
    }, 1_000);
  });
  await Promise.race([ended, late]);
  clearTimeout(timer);
}
