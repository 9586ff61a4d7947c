import { describe, expect, it } from 'vitest';
import {
  isMessagingError,
  MemoryReplayGuard,
  MemorySentLog,
  type RedisLikeClient,
  RedisReplayGuard,
  RedisSentLog,
} from '../src/index.js';
import { replayGuardContract, sentLogContract } from '../src/testing/index.js';

/** An in-memory stand-in for Redis SET NX PX / GET / DEL with a controllable clock. */
function fakeRedis(now: () => number) {
  const data = new Map<string, { value: string; exp: number }>();
  const calls: unknown[][] = [];
  const live = (k: string) => {
    const e = data.get(k);
    if (e && e.exp <= now()) data.delete(k);
    return data.get(k);
  };
  const client: RedisLikeClient = {
    async set(key, value, px, ms, nx) {
      calls.push(['set', key, value, px, ms, nx]);
      if (live(key)) return null;
      data.set(key, { value, exp: now() + ms });
      return 'OK';
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async del(key) {
      return data.delete(key) ? 1 : 0;
    },
  };
  return { client, calls };
}

replayGuardContract('memory', () => new MemoryReplayGuard());
replayGuardContract('redis (SET NX PX, fake client)', () => new RedisReplayGuard(fakeRedis(Date.now).client));
sentLogContract('memory', () => new MemorySentLog());
sentLogContract('redis (GET / SET NX PX, fake client)', () => new RedisSentLog(fakeRedis(Date.now).client));

describe('MemoryReplayGuard', () => {
  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    const g = new MemoryReplayGuard({ maxEntries: 3, now: () => 0 });
    for (const k of ['a', 'b', 'c', 'd']) await g.claim(k, 10_000);
    expect(g.size).toBe(3);
    expect(await g.claim('a', 10_000)).toBe(true);
    expect(await g.claim('d', 10_000)).toBe(false);
  });
});

describe('Redis stores', () => {
  it('sends SET key 1 PX ttl NX under the prefix', async () => {
    const { client, calls } = fakeRedis(() => 0);
    await new RedisReplayGuard(client, { prefix: 'p:' }).claim('slack:x:Ev1', 1500);
    expect(calls).toEqual([['set', 'p:slack:x:Ev1', '1', 'PX', 1500, 'NX']]);
  });

  it('works with a client that has only set (release is then a no-op)', async () => {
    const g = new RedisReplayGuard({ set: async () => 'OK' });
    await expect(g.release('k')).resolves.toBeUndefined();
  });

  it('wraps backend failures as GT_MSG_BACKEND with the cause', async () => {
    const boom = new Error('ECONNREFUSED');
    const g = new RedisReplayGuard({ set: async () => Promise.reject(boom) });
    const err = await g.claim('k', 1).catch((e) => e);
    expect(isMessagingError(err, 'GT_MSG_BACKEND')).toBe(true);
    expect(err.cause).toBe(boom);
  });

  it('RedisSentLog records and finds sent reply parts, and needs get()', async () => {
    const log = new RedisSentLog(fakeRedis(() => 0).client);
    expect(await log.has('r#0')).toBe(false);
    await log.record('r#0', 1000);
    expect(await log.has('r#0')).toBe(true);
    expect(() => new RedisSentLog({ set: async () => 'OK' })).toThrow(/get/);
  });

  it('MemorySentLog forgets after the TTL', async () => {
    let t = 0;
    const log = new MemorySentLog({ now: () => t });
    await log.record('r#0', 100);
    expect(await log.has('r#0')).toBe(true);
    t = 100;
    expect(await log.has('r#0')).toBe(false);
  });
});
