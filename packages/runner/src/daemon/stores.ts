import { MemorySessionStore, RedisSessionStore, type SessionStore } from '@greentic/session';
import { MemoryStateStore, RedisStateStore, type StateStore } from '@greentic/state';
import type { Redis } from 'ioredis';
import { type IngressLedger, MemoryIngressLedger, RedisIngressLedger } from '../bus/ledger.js';
import type { RunnerConfig } from '../config/config.js';
import { connectRedis } from './connect.js';

/** What the daemon keeps conversations in, and the ledger its publishers share. */
export interface RunnerStores {
  kind: RunnerConfig['stores']['kind'];
  sessions: SessionStore;
  state: StateStore;
  /** Provider-id dedupe and conversation numbering for {@link IngressPublisher}. */
  ledger: IngressLedger;
  /** The Redis connection of Redis stores (the gateway keeps its sent log there); absent for memory stores. */
  redis?: Redis;
  /** True while the backend is connected (readiness). */
  healthy(): boolean;
  close(): Promise<void>;
}

/** Builds the stores a configuration asks for. Tests and embedders may pass their own to the daemon. */
export type StoreFactory = (cfg: RunnerConfig) => Promise<RunnerStores>;

export const memoryStores: StoreFactory = async (cfg) => {
  const sessions = new MemorySessionStore();
  const state = new MemoryStateStore();
  const ledger = new MemoryIngressLedger();
  void cfg;
  return {
    kind: 'memory',
    sessions,
    state,
    ledger,
    healthy: () => true,
    close: async () => {
      await Promise.allSettled([sessions.close(), state.close(), ledger.close()]);
    },
  };
};

/**
 * Redis-backed stores: `stores.redis.url`, every key under `stores.redis.namespace`. One connection is probed at
 * startup (fail fast, the URL in the error); sessions and state use the Redis stores of @greentic/session and
 * @greentic/state.
 */
export const redisStores: StoreFactory = async (cfg) => {
  const { url, namespace, connectTimeoutMs } = cfg.stores.redis;
  const redis = await connectRedis(url, {
    connectTimeoutMs,
    field: 'stores.redis.url',
    name: 'greentic-runner',
  });
  let sessions: SessionStore | undefined;
  let state: StateStore | undefined;
  try {
    ({ sessions, state } = await openRedisStores(redis, namespace));
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const ledger = new RedisIngressLedger(redis, false);
  const s = sessions;
  const st = state;
  return {
    kind: 'redis',
    redis,
    sessions: s,
    state: st,
    ledger,
    healthy: () => redis.status === 'ready',
    close: async () => {
      await Promise.allSettled([s.close(), st.close(), ledger.close()]);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
};

/** The seam where the Redis session and state stores are built: both share the daemon's connection. */
async function openRedisStores(
  redis: Redis,
  namespace: string,
): Promise<{ sessions: SessionStore; state: StateStore }> {
  return {
    sessions: new RedisSessionStore(redis, { namespace }),
    state: new RedisStateStore(redis, { namespace }),
  };
}

export const defaultStoreFactory: StoreFactory = (cfg) =>
  cfg.stores.kind === 'redis' ? redisStores(cfg) : memoryStores(cfg);
