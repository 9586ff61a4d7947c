/**
 * RedisSessionStore against a real Redis (`GREENTIC_TEST_REDIS_URL`, default redis://127.0.0.1:6379). Every
 * run uses its own key namespace and deletes its keys afterwards.
 */
import { createHash } from 'node:crypto';
import { redisStoreContract, useTestRedis } from '@greentic/redis/testing';
import { type SessionData, type TenantCtx, tenantCtx } from '@greentic/types';
import { sleep, uniqueTenant } from '@greentic/types/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isSessionError } from './errors.js';
import { DEFAULT_WAIT_TTL_MS } from './memory.js';
import { RedisSessionStore } from './redis.js';
import { sessionStoreContract } from './testing/index.js';

const redis = useTestRedis();
const { url: URL, admin, ns, keysOf } = redis;

sessionStoreContract('redis', () => RedisSessionStore.connect(URL, { namespace: ns() }));
redisStoreContract(RedisSessionStore, {
  redis,
  isError: isSessionError,
  codes: { backend: 'GT_SESSION_BACKEND', invalid: 'GT_SESSION_INVALID' },
  badOptions: [{ defaultWaitTtlMs: -1 }, { defaultSessionTtlMs: 1.5 }],
});

const data = (ctx: TenantCtx, node = 'start'): SessionData => ({
  tenant_ctx: ctx,
  flow_id: 'qa_flow' as SessionData['flow_id'],
  cursor: { node_pointer: node },
  context_json: '{}',
});
const userCtx = (tenant = uniqueTenant(), env = 'dev') =>
  tenantCtx({ env, tenant, team: 'support', user: 'alice' });

describe('RedisSessionStore', () => {
  it('lays keys out by namespace, env, tenant, team and user', async () => {
    const namespace = ns('layout');
    const store = await RedisSessionStore.connect(URL, { namespace });
    try {
      const tenant = uniqueTenant();
      const ctx = userCtx(tenant, 'prod');
      const tenantOnly = tenantCtx({ env: 'prod', tenant });
      const a = await store.create(ctx, data(ctx), { ttlMs: 60_000 });
      const b = await store.create(tenantOnly, data(tenantOnly));
      await store.registerWait(ctx, { conversation: 'c', thread: 't' }, a.key);
      // Upstream's scope_hash: sha256 of conversation, thread, reply_to, correlation joined by newlines.
      const scopeHash = createHash('sha256').update('c\nt\n\n').digest('hex');
      expect(await keysOf(namespace)).toStrictEqual(
        [
          `${namespace}:session:{prod:${tenant}:support:alice}:${a.key}`,
          `${namespace}:session:{prod:${tenant}::}:${b.key}`,
          `${namespace}:wait:{prod:${tenant}:support:alice}:${scopeHash}`,
          `${namespace}:waits:{prod:${tenant}:support:alice}`,
        ].sort(),
      );
      const session = await admin.hgetall(`${namespace}:session:{prod:${tenant}:support:alice}:${a.key}`);
      expect(session).toStrictEqual({
        rev: '1',
        data: JSON.stringify(data(ctx)),
        ctime: String(a.created_at),
        mtime: String(a.created_at),
        exp: String(a.expires_at),
        [`w:${scopeHash}`]: '1',
      });
      const pttl = await admin.pttl(`${namespace}:session:{prod:${tenant}:support:alice}:${a.key}`);
      expect(pttl).toBeGreaterThan(50_000);
      expect(pttl).toBeLessThanOrEqual(60_000);
      expect(await admin.pttl(`${namespace}:session:{prod:${tenant}::}:${b.key}`)).toBe(-1);
    } finally {
      await store.close();
    }
  });

  it('keeps two namespaces apart on one database', async () => {
    const left = await RedisSessionStore.connect(URL, { namespace: ns('left') });
    const right = await RedisSessionStore.connect(URL, { namespace: ns('right') });
    try {
      const ctx = userCtx();
      const scope = { conversation: 'shared' };
      const mine = await left.create(ctx, data(ctx, 'left'));
      await left.registerWait(ctx, scope, mine.key);
      expect(await right.get(ctx, mine.key)).toBeUndefined();
      expect(await right.findWait(ctx, scope)).toBeUndefined();
      expect(await right.listWaitsForUser(ctx)).toStrictEqual([]);
      expect(await right.remove(ctx, mine.key)).toBe(false);
      expect(await right.clearWait(ctx, scope)).toBe(false);
      await expect(right.save(ctx, mine.key, data(ctx, 'right'), { expectedRevision: 1 })).rejects.toSatisfy(
        (e) => isSessionError(e, 'GT_SESSION_NOT_FOUND'),
      );
      await expect(right.registerWait(ctx, scope, mine.key)).rejects.toSatisfy((e) =>
        isSessionError(e, 'GT_SESSION_NOT_FOUND'),
      );
      const theirs = await right.create(ctx, data(ctx, 'right'));
      await right.registerWait(ctx, scope, theirs.key);
      expect(await left.findWait(ctx, scope)).toBe(mine.key);
      expect(await right.findWait(ctx, scope)).toBe(theirs.key);
      expect((await left.get(ctx, mine.key))?.data.cursor.node_pointer).toBe('left');
    } finally {
      await left.close();
      await right.close();
    }
  });

  it('lets exactly one of two processes win a compare-and-swap', async () => {
    const namespace = ns('cas');
    const stores = await Promise.all([0, 1, 2].map(() => RedisSessionStore.connect(URL, { namespace })));
    try {
      const ctx = userCtx();
      const [first] = stores as [RedisSessionStore];
      const { key } = await first.create(ctx, data(ctx));
      let revision = 1;
      for (let round = 0; round < 5; round++) {
        const results = await Promise.allSettled(
          stores.flatMap((store, s) =>
            Array.from({ length: 4 }, (_, i) =>
              store.save(ctx, key, data(ctx, `p${s}-w${i}-r${round}`), { expectedRevision: revision }),
            ),
          ),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(isSessionError(r.reason, 'GT_SESSION_CONFLICT')).toBe(true);
        }
        revision += 1;
        const winner = (won[0] as PromiseFulfilledResult<{ revision: number; data: SessionData }>).value;
        expect(winner.revision).toBe(revision);
        expect((await first.get(ctx, key))?.data).toStrictEqual(winner.data);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('removes a session and its wait keys in one step', async () => {
    const namespace = ns('remove');
    const store = await RedisSessionStore.connect(URL, { namespace });
    try {
      const ctx = userCtx();
      const gone = await store.create(ctx, data(ctx));
      const kept = await store.create(ctx, data(ctx));
      await store.registerWait(ctx, { conversation: 'c', thread: '1' }, gone.key);
      await store.registerWait(ctx, { conversation: 'c', thread: '2' }, gone.key);
      await store.registerWait(ctx, { conversation: 'c', thread: '3' }, kept.key);
      // Re-parked on another session: removing `gone` must leave this wait alone.
      await store.registerWait(ctx, { conversation: 'c', thread: '4' }, gone.key);
      await store.registerWait(ctx, { conversation: 'c', thread: '4' }, kept.key);
      expect(await keysOf(namespace)).toHaveLength(2 + 4 + 1);
      expect(await store.remove(ctx, gone.key)).toBe(true);
      const left = await keysOf(namespace);
      expect(left.filter((k) => k.includes(':wait:'))).toHaveLength(2);
      expect(left.some((k) => k.endsWith(gone.key))).toBe(false);
      expect(await store.findWait(ctx, { conversation: 'c', thread: '4' })).toBe(kept.key);
      expect(await admin.zcard(left.find((k) => k.includes(':waits:')) as string)).toBe(2);
      await store.remove(ctx, kept.key);
      expect(await keysOf(namespace)).toStrictEqual([]);
    } finally {
      await store.close();
    }
  });

  it('drops the wait of an expired session when it is looked up', async () => {
    const namespace = ns('dangling');
    const store = await RedisSessionStore.connect(URL, { namespace });
    try {
      const ctx = userCtx();
      const short = await store.create(ctx, data(ctx), { ttlMs: 100 });
      await store.registerWait(ctx, { conversation: 'c' }, short.key, { ttlMs: 0 });
      expect(await store.findWait(ctx, { conversation: 'c' })).toBe(short.key);
      await sleep(250);
      expect(await store.findWait(ctx, { conversation: 'c' })).toBeUndefined();
      expect(await keysOf(namespace)).toStrictEqual([]);
    } finally {
      await store.close();
    }
  });

  it('gives waits a TTL in Redis, 24 h by default or as configured', async () => {
    const namespace = ns('wait-ttl');
    const byDefault = await RedisSessionStore.connect(URL, { namespace });
    const configured = await RedisSessionStore.connect(URL, {
      namespace,
      defaultWaitTtlMs: 5_000,
      defaultSessionTtlMs: 10_000,
    });
    try {
      const ctx = userCtx();
      const created = await byDefault.create(ctx, data(ctx));
      expect(created.expires_at).toBeUndefined();
      const wait = await byDefault.registerWait(ctx, { conversation: 'c' }, created.key);
      expect(wait.expires_at).toBe(wait.created_at + DEFAULT_WAIT_TTL_MS);
      const other = await configured.create(ctx, data(ctx));
      expect(other.expires_at).toBe(other.created_at + 10_000);
      const short = await configured.registerWait(ctx, { conversation: 'd' }, other.key);
      expect(short.expires_at).toBe(short.created_at + 5_000);
      const ttls = new Map<string, number>();
      for (const key of await keysOf(namespace))
        ttls.set(key.slice(namespace.length + 1), await admin.pttl(key));
      const ttlOf = (kind: string, suffix = '') =>
        [...ttls].filter(([k]) => k.startsWith(`${kind}:`) && k.endsWith(suffix)).map(([, v]) => v);
      expect(ttlOf('session', created.key)).toStrictEqual([-1]);
      expect(ttlOf('session', other.key)[0]).toBeGreaterThan(8_000);
      const waitTtls = ttlOf('wait').sort((x, y) => x - y);
      expect(waitTtls[0]).toBeLessThanOrEqual(5_000);
      expect(waitTtls[1]).toBeGreaterThan(DEFAULT_WAIT_TTL_MS - 60_000);
      // The wait index lives as long as its longest wait.
      expect(ttlOf('waits')[0]).toBeGreaterThan(DEFAULT_WAIT_TTL_MS - 60_000);
      await configured.clearWait(ctx, { conversation: 'c' });
      const [index] = (await keysOf(namespace)).filter((k) => k.includes(':waits:'));
      expect(await admin.pttl(index as string)).toBeLessThanOrEqual(5_000);
    } finally {
      await byDefault.close();
      await configured.close();
    }
  });

  it('timestamps with the Redis clock and keeps created_at across saves', async () => {
    const store = await RedisSessionStore.connect(URL, { namespace: ns() });
    try {
      const ctx = userCtx();
      const [seconds, micros] = await admin.time();
      const serverNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const created = await store.create(ctx, data(ctx), { ttlMs: 60_000 });
      expect(Math.abs(created.created_at - serverNow)).toBeLessThan(5_000);
      await sleep(5);
      const saved = await store.save(ctx, created.key, data(ctx, 'n'), { expectedRevision: 1 });
      expect(saved.created_at).toBe(created.created_at);
      expect(saved.updated_at).toBeGreaterThan(created.created_at);
      expect(saved.expires_at).toBe(created.expires_at);
      expect(await store.get(ctx, created.key)).toStrictEqual(saved);
    } finally {
      await store.close();
    }
  });

  it('shares a connection it did not open and leaves it open on close', async () => {
    const client = new Redis(URL, { keyPrefix: `${ns('shared')}:prefixed:` });
    try {
      const store = await RedisSessionStore.connect(client, { namespace: 'app' });
      const plain = new RedisSessionStore(client, { namespace: 'app' });
      const ctx = userCtx();
      const created = await store.create(ctx, data(ctx));
      await store.registerWait(ctx, { conversation: 'c' }, created.key);
      // Both stores define the same commands once; the client's keyPrefix applies to every key, scripts included.
      expect(await plain.findWait(ctx, { conversation: 'c' })).toBe(created.key);
      expect(await plain.listWaitsForUser(ctx)).toHaveLength(1);
      expect((await keysOf(`${ns('shared')}:prefixed:app`)).length).toBe(3);
      expect(await plain.remove(ctx, created.key)).toBe(true);
      expect(await keysOf(`${ns('shared')}:prefixed:app`)).toStrictEqual([]);
      await store.close();
      await plain.close();
      expect(await client.ping()).toBe('PONG');
      await expect(store.get(ctx, created.key)).rejects.toSatisfy((e) =>
        isSessionError(e, 'GT_SESSION_CLOSED'),
      );
    } finally {
      await client.quit();
    }
  });

  it('wraps a failing connection as GT_SESSION_BACKEND with the cause', async () => {
    const client = new Redis(URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    await client.connect();
    const store = new RedisSessionStore(client, { namespace: ns() });
    const ctx = userCtx();
    const created = await store.create(ctx, data(ctx));
    client.disconnect();
    const err = await store.get(ctx, created.key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSessionError(err, 'GT_SESSION_BACKEND')).toBe(true);
    expect((err as Error).message).toMatch(/^get: Redis at redis:\/\/127\.0\.0\.1:6379 failed/);
    expect((err as Error).cause).toBeInstanceOf(Error);
    await store.close();
    await admin.del(...(await keysOf(store.namespace)));
  });

  it('reports data it did not write as GT_SESSION_BACKEND', async () => {
    const namespace = ns('foreign');
    const store = await RedisSessionStore.connect(URL, { namespace });
    try {
      const ctx = userCtx();
      const created = await store.create(ctx, data(ctx));
      const [key] = await keysOf(namespace);
      await admin.hset(key as string, 'data', '{not json');
      await expect(store.get(ctx, created.key)).rejects.toSatisfy((e) =>
        isSessionError(e, 'GT_SESSION_BACKEND'),
      );
      await admin.del(key as string);
      await admin.set(key as string, 'a string, not a hash');
      await expect(store.get(ctx, created.key)).rejects.toSatisfy(
        (e) => isSessionError(e, 'GT_SESSION_BACKEND') && /WRONGTYPE/.test((e as Error).message),
      );
    } finally {
      await store.close();
    }
  });
});
