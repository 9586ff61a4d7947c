/**
 * RedisStateStore against a real Redis (`GREENTIC_TEST_REDIS_URL`, default redis://127.0.0.1:6379). Every run
 * uses its own key namespace and deletes its keys afterwards.
 */
import { redisStoreContract, useTestRedis } from '@greentic/redis/testing';
import { type TenantCtx, tenantCtx } from '@greentic/types';
import { sleep, uniqueTenant } from '@greentic/types/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isStateError, type StateError } from './errors.js';
import { MemoryStateStore } from './memory.js';
import { RedisStateStore } from './redis.js';
import type { JsonValue, StateStore } from './store.js';
import { stateStoreContract } from './testing/index.js';

const redis = useTestRedis();
const { url: URL, admin, ns, keysOf } = redis;

stateStoreContract('redis', () => RedisStateStore.connect(URL, { namespace: ns() }));
redisStoreContract(RedisStateStore, {
  redis,
  isError: isStateError,
  codes: { backend: 'GT_STATE_BACKEND', invalid: 'GT_STATE_INVALID' },
  badOptions: [{ deleteBatchSize: 0 }, { deleteBatchSize: 1.5 }, { deleteBatchSize: 100_001 }],
});

const userCtx = (tenant = uniqueTenant()): TenantCtx =>
  tenantCtx({ env: 'dev', tenant, team: 'support', user: 'alice' });

async function withStore(name: string, body: (store: RedisStateStore) => Promise<void>): Promise<void> {
  const store = await RedisStateStore.connect(URL, { namespace: ns(name) });
  try {
    await body(store);
  } finally {
    await store.close();
  }
}

describe('RedisStateStore', () => {
  it('lays keys out by namespace, scope and prefix, and stores the JSON text as given', () =>
    withStore('layout', async (store) => {
      const tenant = uniqueTenant();
      const user = userCtx(tenant);
      const tenantLevel = tenantCtx({ env: 'prod', tenant });
      const doc = { b: 1, a: [], big: 9007199254740991, f: 0.1 + 0.2, s: 'ü"\\' };
      await store.set(user, 'pack/qa/run/r1', 'order:1', doc);
      await store.set(tenantLevel, 'cfg', 'k', 'v', { ttlMs: 60_000 });
      const namespace = ns('layout');
      expect(await keysOf(namespace)).toStrictEqual(
        [
          `${namespace}:state:{dev:${tenant}:support:alice:pack/qa/run/r1}:order:1`,
          `${namespace}:state-index:{dev:${tenant}:support:alice:pack/qa/run/r1}`,
          `${namespace}:state:{prod:${tenant}:::cfg}:k`,
          `${namespace}:state-index:{prod:${tenant}:::cfg}`,
        ].sort(),
      );
      const text = await admin.get(`${namespace}:state:{dev:${tenant}:support:alice:pack/qa/run/r1}:order:1`);
      expect(text).toBe(JSON.stringify(doc));
      await store.set(user, 'pack/qa/run/r1', 'order:1', { z: [] }, { path: '/x/y' });
      expect(await admin.get(`${namespace}:state:{dev:${tenant}:support:alice:pack/qa/run/r1}:order:1`)).toBe(
        JSON.stringify({ ...doc, x: { y: { z: [] } } }),
      );
      const index = await admin.zrange(
        `${namespace}:state-index:{prod:${tenant}:::cfg}`,
        0,
        -1,
        'WITHSCORES',
      );
      expect(index[0]).toBe('k');
      expect(Number(index[1]) - Date.now()).toBeGreaterThan(50_000);
    }));

  it('keeps two namespaces apart on one database', async () => {
    const left = await RedisStateStore.connect(URL, { namespace: ns('left') });
    const right = await RedisStateStore.connect(URL, { namespace: ns('right') });
    try {
      const ctx = userCtx();
      await left.set(ctx, 'p', 'k', { owner: 'left' });
      expect(await right.get(ctx, 'p', 'k')).toBeUndefined();
      expect(await right.get(ctx, 'p', 'k', { path: '/owner' })).toBeUndefined();
      expect(await right.list(ctx, 'p')).toStrictEqual([]);
      expect(await right.delete(ctx, 'p', 'k')).toBe(false);
      expect(await right.deletePrefix(ctx, 'p')).toBe(0);
      await right.set(ctx, 'p', 'k', 'right', { path: '/owner' });
      expect(await left.get(ctx, 'p', 'k')).toStrictEqual({ owner: 'left' });
      expect(await right.get(ctx, 'p', 'k')).toStrictEqual({ owner: 'right' });
    } finally {
      await left.close();
      await right.close();
    }
  });

  it('behaves like MemoryStateStore on random pointer reads, writes and deletes', async () => {
    const redis = await RedisStateStore.connect(URL, { namespace: ns('differential') });
    const memory = new MemoryStateStore({ sweepIntervalMs: 0 });
    try {
      for (const seed of Array.from({ length: Number(process.env.FUZZ_SEEDS ?? 6) }, (_, i) => i + 1))
        await differential(seed, memory, redis, userCtx());
    } finally {
      await redis.close();
      await memory.close();
    }
  });

  it('keeps concurrent pointer writes from several connections to one document', async () => {
    const namespace = ns('concurrent');
    const stores = await Promise.all([0, 1, 2, 3].map(() => RedisStateStore.connect(URL, { namespace })));
    try {
      const ctx = userCtx();
      await stores[0]?.set(ctx, 'p', 'doc', { list: [] });
      await Promise.all(
        stores.flatMap((store, s) =>
          Array.from({ length: 25 }, (_, i) =>
            Promise.all([
              store.set(ctx, 'p', 'doc', i, { path: `/s${s}/f${i}` }),
              store.set(ctx, 'p', 'doc', `${s}.${i}`, { path: '/list/-' }),
            ]),
          ),
        ),
      );
      const doc = (await stores[0]?.get(ctx, 'p', 'doc')) as Record<string, unknown> & { list: string[] };
      for (let s = 0; s < 4; s++) {
        expect(doc[`s${s}`]).toStrictEqual(
          Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`f${i}`, i])),
        );
      }
      expect(doc.list).toHaveLength(100);
      expect(new Set(doc.list).size).toBe(100);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('writes exactly what JSON.stringify wrote: numbers, member order, empty containers, odd names', () =>
    withStore('exact', async (store) => {
      const ctx = userCtx();
      const names = [
        '"quoted"',
        'back\\slash',
        'tab\there',
        'line\u2028sep',
        'ünï',
        '😀',
        '\u0000nul',
        '\ud800',
      ];
      const doc: Record<string, JsonValue> = {
        z: 1e21,
        a: -0.000001234,
        m: [[], {}, [[]]],
        n: 5e-324,
        big: -9007199254740991,
      };
      await store.set(ctx, 'p', 'doc', doc);
      for (const [i, name] of names.entries()) {
        const path = `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        await store.set(ctx, 'p', 'doc', { i, empty: [] }, { path });
        expect(await store.get(ctx, 'p', 'doc', { path: `${path}/i` })).toBe(i);
        doc[name] = { i, empty: [] };
      }
      const got = (await store.get(ctx, 'p', 'doc')) as Record<string, JsonValue>;
      expect(got).toStrictEqual(doc);
      expect(Object.keys(got)).toStrictEqual(Object.keys(doc));
      for (const name of names) {
        const path = `/${name}/empty`;
        expect(await store.delete(ctx, 'p', 'doc', { path })).toBe(true);
        delete (doc[name] as Record<string, JsonValue>).empty;
      }
      expect(await store.get(ctx, 'p', 'doc')).toStrictEqual(doc);
    }));

  it('stores brackets inside strings escaped, so scripts can skip containers by balanced match', () =>
    withStore('brackets', async (store) => {
      const tenant = uniqueTenant();
      const ctx = userCtx(tenant);
      const doc = { '{k}': ['[', ']', '\\[', '"{'], after: { '}': 1 } };
      await store.set(ctx, 'p', 'doc', doc);
      const stored = await admin.get(`${ns('brackets')}:state:{dev:${tenant}:support:alice:p}:doc`);
      expect(stored).toBe(
        '{"\\u007bk\\u007d":["\\u005b","\\u005d","\\\\\\u005b","\\"\\u007b"],"after":{"\\u007d":1}}',
      );
      expect(JSON.parse(stored as string)).toStrictEqual(doc);
      await store.set(ctx, 'p', 'doc', 2, { path: '/after/}' });
      await store.set(ctx, 'p', 'doc', ']', { path: '/{k}/-' });
      await store.set(ctx, 'p', 'doc', true, { path: '/last' });
      expect(await store.get(ctx, 'p', 'doc')).toStrictEqual({
        '{k}': ['[', ']', '\\[', '"{', ']'],
        after: { '}': 2 },
        last: true,
      });
      expect(await store.delete(ctx, 'p', 'doc', { path: '/{k}/0' })).toBe(true);
      expect(await store.get(ctx, 'p', 'doc', { path: '/{k}' })).toStrictEqual([']', '\\[', '"{', ']']);
    }));

  it('deletes a large prefix in bounded batches', async () => {
    const namespace = ns('batches');
    const store = await RedisStateStore.connect(URL, { namespace, deleteBatchSize: 100 });
    try {
      const ctx = userCtx();
      await Promise.all(Array.from({ length: 1_050 }, (_, i) => store.set(ctx, 'big', `k${i}`, i)));
      await store.set(ctx, 'big/sub', 'k0', 'kept');
      await store.set(ctx, 'bigger', 'k0', 'kept');
      expect((await store.list(ctx, 'big')).length).toBe(1_050);
      expect(await store.deletePrefix(ctx, 'big')).toBe(1_050);
      expect(await store.list(ctx, 'big')).toStrictEqual([]);
      expect(await keysOf(namespace)).toHaveLength(4);
      expect(await store.get(ctx, 'big/sub', 'k0')).toBe('kept');
      expect(await store.get(ctx, 'bigger', 'k0')).toBe('kept');
    } finally {
      await store.close();
    }
  });

  it('expires the prefix index with its longest-lived document', () =>
    withStore('index-ttl', async (store) => {
      const tenant = uniqueTenant();
      const ctx = userCtx(tenant);
      const index = `${ns('index-ttl')}:state-index:{dev:${tenant}:support:alice:p}`;
      await store.set(ctx, 'p', 'short', {}, { ttlMs: 10_000 });
      await store.set(ctx, 'p', 'long', 1, { ttlMs: 60_000 });
      expect(await admin.pttl(index)).toBeGreaterThan(50_000);
      await store.set(ctx, 'p', 'forever', 1);
      expect(await admin.pttl(index)).toBe(-1);
      await store.delete(ctx, 'p', 'forever');
      await store.delete(ctx, 'p', 'long');
      expect(await admin.pttl(index)).toBeLessThanOrEqual(10_000);
      await store.set(ctx, 'p', 'short', 2, { path: '/x', ttlMs: 100 });
      await sleep(250);
      expect(await admin.exists(index)).toBe(0);
      expect(await keysOf(ns('index-ttl'))).toStrictEqual([]);
    }));

  it('does not list documents that vanished behind its back (eviction, manual DEL)', () =>
    withStore('vanished', async (store) => {
      const tenant = uniqueTenant();
      const ctx = userCtx(tenant);
      await store.set(ctx, 'p', 'a', 1);
      await store.set(ctx, 'p', 'b', 2);
      await admin.del(`${ns('vanished')}:state:{dev:${tenant}:support:alice:p}:a`);
      expect(await store.list(ctx, 'p')).toStrictEqual(['b']);
      expect(await store.deletePrefix(ctx, 'p')).toBe(1);
    }));

  it('shares a connection it did not open (keyPrefix included) and leaves it open on close', async () => {
    const prefix = `${ns('shared')}:prefixed:`;
    const client = new Redis(URL, { keyPrefix: prefix });
    try {
      const store = await RedisStateStore.connect(client, { namespace: 'app' });
      const ctx = userCtx();
      await store.set(ctx, 'p', 'a', { x: 1 }, { ttlMs: 60_000 });
      await store.set(ctx, 'p', 'b', 2, { path: '/y' });
      expect(await store.list(ctx, 'p')).toStrictEqual(['a', 'b']);
      expect(await keysOf(`${prefix}app`)).toHaveLength(3);
      expect(await store.deletePrefix(ctx, 'p')).toBe(2);
      expect(await keysOf(`${prefix}app`)).toStrictEqual([]);
      await store.close();
      expect(await client.ping()).toBe('PONG');
      await expect(store.list(ctx, 'p')).rejects.toSatisfy((e) => isStateError(e, 'GT_STATE_CLOSED'));
    } finally {
      await client.quit();
    }
  });

  it('reports a document it did not write as GT_STATE_BACKEND', () =>
    withStore('foreign', async (store) => {
      const tenant = uniqueTenant();
      const ctx = userCtx(tenant);
      const key = `${ns('foreign')}:state:{dev:${tenant}:support:alice:p}:k`;
      await admin.set(key, '{broken');
      await expect(store.get(ctx, 'p', 'k')).rejects.toSatisfy((e) => isStateError(e, 'GT_STATE_BACKEND'));
      await admin.del(key);
      await admin.hset(key, 'a', '1');
      await expect(store.set(ctx, 'p', 'k', 1, { path: '/a' })).rejects.toSatisfy(
        (e) => isStateError(e, 'GT_STATE_BACKEND') && /WRONGTYPE/.test((e as Error).message),
      );
    }));
});

/** Deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'a',
  'b',
  '0',
  '1',
  '2',
  '-',
  'a/b',
  'm~n',
  '"',
  '\\',
  'ü',
  '😀',
  '__proto__',
  ' ',
  'x,y',
  '}',
  '[x]',
  '{"',
];
const INDEXES = ['0', '1', '2', '3', '-', '01', '7'];

/** Runs the same random operations on both stores and expects the same outcomes. */
async function differential(seed: number, memory: StateStore, redis: StateStore, ctx: TenantCtx) {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const value = (depth: number): JsonValue => {
    const r = rnd();
    if (depth > 2 || r < 0.45) {
      return pick<JsonValue>([
        0,
        -1.5,
        1e21,
        0.1 + 0.2,
        'text',
        '',
        'ü"\\',
        '{[}]"',
        '\\"]',
        true,
        false,
        null,
        123456789012345,
      ]);
    }
    if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const obj: Record<string, JsonValue> = {};
    for (let i = Math.floor(rnd() * 4); i > 0; i--) {
      Object.defineProperty(obj, pick(NAMES), {
        value: value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return obj;
  };
  const pointer = () =>
    Array.from(
      { length: 1 + Math.floor(rnd() * 3) },
      () => `/${(rnd() < 0.35 ? pick(INDEXES) : pick(NAMES)).replace(/~/g, '~0').replace(/\//g, '~1')}`,
    ).join('');
  const outcome = async (call: () => Promise<unknown>) => {
    try {
      return { ok: await call() };
    } catch (err) {
      const e = err as StateError;
      return { code: e.code, message: e.message, path: e.path };
    }
  };
  const both = async (label: string, call: (store: StateStore) => Promise<unknown>) => {
    const [m, r] = [await outcome(() => call(memory)), await outcome(() => call(redis))];
    expect(r, `seed ${seed}: ${label}`).toStrictEqual(m);
  };
  for (let step = 0; step < 150; step++) {
    const key = pick(['d1', 'd2']);
    const r = rnd();
    if (r < 0.1) {
      const v = value(0);
      await both(`set ${key} ${JSON.stringify(v)}`, (s) => s.set(ctx, 'fuzz', key, v));
    } else if (r < 0.55) {
      const path = pointer();
      const v = value(1);
      await both(`set ${key} ${path} ${JSON.stringify(v)}`, (s) => s.set(ctx, 'fuzz', key, v, { path }));
    } else if (r < 0.8) {
      const path = pointer();
      await both(`get ${key} ${path}`, (s) => s.get(ctx, 'fuzz', key, { path }));
    } else if (r < 0.97) {
      const path = pointer();
      await both(`delete ${key} ${path}`, (s) => s.delete(ctx, 'fuzz', key, { path }));
    } else {
      await both(`delete ${key}`, (s) => s.delete(ctx, 'fuzz', key));
    }
    await both(`step ${step}: whole ${key}`, (s) => s.get(ctx, 'fuzz', key));
    const [m, rd] = [await memory.get(ctx, 'fuzz', key), await redis.get(ctx, 'fuzz', key)];
    if (m !== undefined && typeof m === 'object') expect(JSON.stringify(rd)).toBe(JSON.stringify(m));
  }
  await both('list', (s) => s.list(ctx, 'fuzz'));
  await both('deletePrefix', (s) => s.deletePrefix(ctx, 'fuzz'));
}
