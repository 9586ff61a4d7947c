/**
 * RedisReplayGuard and RedisSentLog against a real Redis through ioredis (`GREENTIC_TEST_REDIS_URL`, default
 * redis://127.0.0.1:6379). Keys of this run share one random prefix and are deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisLikeClient, RedisReplayGuard, RedisSentLog } from '../src/index.js';
import { replayGuardContract, sentLogContract } from '../src/testing/index.js';

const URL = process.env.GREENTIC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN = `gt-test-msg-${randomUUID().slice(0, 8)}`;
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  const keys = await redis.keys(`${RUN}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

// ioredis fits the minimal client interface as it is.
const client = (): RedisLikeClient => redis;

replayGuardContract('redis (ioredis)', () => new RedisReplayGuard(client(), { prefix: `${RUN}:replay:` }));
sentLogContract('redis (ioredis)', () => new RedisSentLog(client(), { prefix: `${RUN}:sent:` }));

describe('Redis replay guard keys', () => {
  it('stores a claim under the prefix with a PX expiry', async () => {
    const g = new RedisReplayGuard(client(), { prefix: `${RUN}:layout:` });
    await g.claim('telegram:bot:42', 60_000);
    const ttl = await redis.pttl(`${RUN}:layout:telegram:bot:42`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
