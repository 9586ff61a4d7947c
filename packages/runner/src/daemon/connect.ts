import { redactUrl } from '@greentic/redis';
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { RunnerError } from '../errors.js';

/**
 * Connects to Redis or fails fast: no retry loop at startup, a clear error naming the URL (password hidden) and
 * the config field. Once connected, the client reconnects on its own (backing off up to 2 s).
 */
export async function connectRedis(
  url: string,
  opts: { connectTimeoutMs: number; field?: string; name?: string },
): Promise<Redis> {
  let connected = false;
  let lastError: Error | undefined;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs,
    connectionName: opts.name,
    maxRetriesPerRequest: 3,
    // commands issued in the same tick go out in one write (many turns run at once)
    enableAutoPipelining: true,
    retryStrategy: (times) => (connected ? Math.min(times * 100, 2000) : null),
  });
  redis.on('error', (e: Error) => {
    lastError = e;
  });
  const deadline = new Promise<never>((_, reject) => {
    setTimeout(
      () => reject(new Error(`no answer within ${opts.connectTimeoutMs} ms`)),
      opts.connectTimeoutMs + 500,
    ).unref();
  });
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), deadline]);
    connected = true;
    return redis;
  } catch (e) {
    // after a refused connection the client has ended already; disconnecting again would hold the process ~2 s
    if (redis.status !== 'end') redis.disconnect();
    const why = lastError?.message ?? (e as Error).message;
    throw new RunnerError(
      'GT_RUNNER_UNREACHABLE',
      `cannot reach Redis at ${redactUrl(url)}${opts.field ? ` (${opts.field})` : ''}: ${why}. Start Redis there, fix the URL, or use stores.kind: memory`,
      { url: redactUrl(url) },
      { cause: lastError ?? e },
    );
  }
}

/** Connects to NATS or fails fast (one attempt, `connectTimeoutMs`), naming the URL. Reconnects once connected. */
export async function connectNats(
  url: string,
  opts: { connectTimeoutMs: number; name: string; field?: string },
): Promise<NatsConnection> {
  try {
    return await connect({
      servers: url,
      name: opts.name,
      timeout: opts.connectTimeoutMs,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: false,
      // no stack capture per request/publish: measurable CPU at thousands of publishes per second
      noAsyncTraces: true,
    });
  } catch (e) {
    throw new RunnerError(
      'GT_RUNNER_UNREACHABLE',
      `cannot reach NATS at ${redactUrl(url)}${opts.field ? ` (${opts.field})` : ''}: ${(e as Error).message}. Start nats-server -js there, fix the URL, or set nats.enabled: false`,
      { url: redactUrl(url) },
      { cause: e },
    );
  }
}
