/**
 * The behaviour every {@link StateStore} backend must have, as a vitest suite.
 *
 * ```ts
 * import { stateStoreContract } from '@greentic/state/testing';
 * stateStoreContract('redis', async () => RedisStateStore.connect(url, { namespace: uniq() }));
 * ```
 *
 * `make` is called once per test and the store is closed at the end of it. Every test uses its own random
 * tenant ids, so stores may share one backend without interfering. Expiry is tested with real time (a backend
 * such as Redis cannot take a fake clock): a few tests sleep for `ttlMs + slackMs`, and they run concurrently.
 */
import type { TenantCtx } from '@greentic/types';
import {
  type ExpiryTestOptions,
  expiryTimes,
  freshStoreRunner,
  rejectsWithCode,
  sleep,
  testCtx,
  uniqueTenant,
} from '@greentic/types/testing';
import { describe, expect, it } from 'vitest';
import { isStateError } from '../errors.js';
import type { JsonValue, StateStore } from '../store.js';

export type StateStoreContractOptions = ExpiryTestOptions;

const rejectsWith = rejectsWithCode(isStateError, 'StateError');

const PREFIX = 'pack/qa/flow/main/run/r1';

export function stateStoreContract(
  name: string,
  make: () => Promise<StateStore>,
  opts: StateStoreContractOptions = {},
): void {
  const { ttl, pastTtl } = expiryTimes(opts);

  /** Runs `body` with a fresh store and a fresh tenant (user-level ctx), closing the store afterwards. */
  const withStore = freshStoreRunner(make);

  describe(`StateStore contract: ${name}`, () => {
    describe('documents', () => {
      it('round-trips every kind of JSON value', () =>
        withStore(async (store, { ctx }) => {
          const values: JsonValue[] = [
            { user: { name: 'Ada', tags: ['a', 'b'] }, n: 1, ok: true, none: null },
            [1, 'two', { three: 3 }, [4], null, false],
            'plain string with ünïcødé ✓ 😀 and "quotes"\n',
            0,
            -12.5,
            0.1 + 0.2,
            1234567890123456,
            true,
            false,
            null,
            {},
            [],
            { empty: [], nested: { empty: {} } },
          ];
          for (const [i, value] of values.entries()) await store.set(ctx, PREFIX, `k${i}`, value);
          for (const [i, value] of values.entries()) {
            expect(await store.get(ctx, PREFIX, `k${i}`)).toStrictEqual(value);
          }
        }));

      it('returns undefined for a document that was never set', () =>
        withStore(async (store, { ctx }) => {
          expect(await store.get(ctx, PREFIX, 'missing')).toBeUndefined();
          expect(await store.get(ctx, PREFIX, 'missing', { path: '/a' })).toBeUndefined();
        }));

      it('replaces a document on set without a path', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { a: 1, b: 2 });
          await store.set(ctx, PREFIX, 'doc', { c: 3 });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({ c: 3 });
          await store.set(ctx, PREFIX, 'doc', 'now a string');
          expect(await store.get(ctx, PREFIX, 'doc')).toBe('now a string');
        }));

      it('drops object members whose value is undefined, as JSON does', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { a: 1, gone: undefined, nested: { gone: undefined } });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({ a: 1, nested: {} });
        }));

      it('keeps keys with every allowed character apart', () =>
        withStore(async (store, { ctx }) => {
          const keys = ['a', 'A', 'a.b', 'a/b', 'a-b_c~d@e+f=g,h', 'order:123', 'x/y/z'];
          for (const key of keys) await store.set(ctx, PREFIX, key, key);
          for (const key of keys) expect(await store.get(ctx, PREFIX, key)).toBe(key);
        }));
    });

    describe('JSON pointer reads', () => {
      const doc = {
        user: { name: 'Ada', langs: ['en', 'fr', { primary: true }] },
        'a/b': 'slash',
        'm~n': 'tilde',
        '~1': 'literal tilde-one',
        count: 0,
        nothing: null,
      };

      it('reads nested members, array items and escaped names', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', doc);
          const read = (path: string) => store.get(ctx, PREFIX, 'doc', { path });
          expect(await read('/user/name')).toBe('Ada');
          expect(await read('/user/langs')).toStrictEqual(['en', 'fr', { primary: true }]);
          expect(await read('/user/langs/1')).toBe('fr');
          expect(await read('/user/langs/2/primary')).toBe(true);
          expect(await read('/a~1b')).toBe('slash');
          expect(await read('/m~0n')).toBe('tilde');
          expect(await read('/~01')).toBe('literal tilde-one');
          expect(await read('/count')).toBe(0);
          expect(await read('/nothing')).toBeNull();
          expect(await read('')).toStrictEqual(doc);
          expect(await read('/')).toStrictEqual(doc);
        }));

      it('reads undefined where the pointer does not resolve', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', doc);
          const read = (path: string) => store.get(ctx, PREFIX, 'doc', { path });
          for (const path of [
            '/missing',
            '/user/missing/deeper',
            '/user/name/first',
            '/count/x',
            '/nothing/x',
            '/user/langs/3',
            '/user/langs/-',
            '/user/langs/01',
            '/user/langs/x',
            '/a/b',
            '/user/toString',
            '/user/__proto__',
          ]) {
            expect(await read(path), path).toBeUndefined();
          }
        }));

      it('rejects a malformed pointer', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', doc);
          for (const path of ['user', '/a~2', '/a~', '/user//name', 42 as unknown as string]) {
            await rejectsWith(store.get(ctx, PREFIX, 'doc', { path }), 'GT_STATE_PATH');
            await rejectsWith(store.set(ctx, PREFIX, 'doc', 1, { path }), 'GT_STATE_PATH');
            await rejectsWith(store.delete(ctx, PREFIX, 'doc', { path }), 'GT_STATE_PATH');
          }
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual(doc);
        }));
    });

    describe('JSON pointer writes', () => {
      it('writes a nested member and keeps the rest of the document', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { user: { name: 'Ada', age: 36 }, other: [1, 2] });
          await store.set(ctx, PREFIX, 'doc', 'Grace', { path: '/user/name' });
          await store.set(ctx, PREFIX, 'doc', { city: 'Paris' }, { path: '/user/address' });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({
            user: { name: 'Grace', age: 36, address: { city: 'Paris' } },
            other: [1, 2],
          });
        }));

      it('creates the document and intermediate objects when missing', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'fresh', 42, { path: '/a/b/c' });
          expect(await store.get(ctx, PREFIX, 'fresh')).toStrictEqual({ a: { b: { c: 42 } } });
          await store.set(ctx, PREFIX, 'fresh', true, { path: '/a/x/y' });
          expect(await store.get(ctx, PREFIX, 'fresh')).toStrictEqual({
            a: { b: { c: 42 }, x: { y: true } },
          });
          await store.set(ctx, PREFIX, 'numeric', 'v', { path: '/0/1' });
          expect(await store.get(ctx, PREFIX, 'numeric')).toStrictEqual({ 0: { 1: 'v' } });
        }));

      it('replaces and appends array items', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { items: ['a', 'b'] });
          await store.set(ctx, PREFIX, 'doc', 'B', { path: '/items/1' });
          await store.set(ctx, PREFIX, 'doc', 'c', { path: '/items/-' });
          await store.set(ctx, PREFIX, 'doc', 'd', { path: '/items/3' });
          await store.set(ctx, PREFIX, 'doc', 'deep', { path: '/items/-/x' });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({
            items: ['a', 'B', 'c', 'd', { x: 'deep' }],
          });
        }));

      it('writes members whose names need escaping', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', 1, { path: '/a~1b' });
          await store.set(ctx, PREFIX, 'doc', 2, { path: '/m~0n/~01' });
          await store.set(ctx, PREFIX, 'doc', 3, { path: '/__proto__/polluted' });
          const got = (await store.get(ctx, PREFIX, 'doc')) as Record<string, unknown>;
          expect(Object.keys(got).sort()).toStrictEqual(['__proto__', 'a/b', 'm~n']);
          expect(got['a/b']).toBe(1);
          expect(got['m~n']).toStrictEqual({ '~1': 2 });
          expect(await store.get(ctx, PREFIX, 'doc', { path: '/__proto__/polluted' })).toBe(3);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        }));

      it('replaces the whole document at the root pointer', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { a: 1 });
          await store.set(ctx, PREFIX, 'doc', [1, 2], { path: '' });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual([1, 2]);
          await store.set(ctx, PREFIX, 'doc', 'x', { path: '/' });
          expect(await store.get(ctx, PREFIX, 'doc')).toBe('x');
        }));

      it('refuses to write through a non-object and leaves the document unchanged', () =>
        withStore(async (store, { ctx }) => {
          const doc = { s: 'text', n: 1, b: false, z: null, arr: [1, { k: 'v' }], obj: {} };
          await store.set(ctx, PREFIX, 'doc', doc);
          for (const path of [
            '/s/x',
            '/n/x',
            '/b/x',
            '/z/x',
            '/s/x/y',
            '/arr/0/x',
            '/arr/5',
            '/arr/x',
            '/arr/01',
          ]) {
            const err = await rejectsWith(store.set(ctx, PREFIX, 'doc', 'v', { path }), 'GT_STATE_PATH');
            expect((err as { path?: string }).path).toBe(path);
          }
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual(doc);
          await store.set(ctx, PREFIX, 'scalar', 7);
          await rejectsWith(store.set(ctx, PREFIX, 'scalar', 'v', { path: '/x' }), 'GT_STATE_PATH');
          expect(await store.get(ctx, PREFIX, 'scalar')).toBe(7);
        }));

      it('keeps empty arrays, empty objects and exact numbers elsewhere in the document', () =>
        withStore(async (store, { ctx }) => {
          const doc = {
            emptyArray: [],
            emptyObject: {},
            nestedEmpty: [[], {}],
            float: 0.1 + 0.2,
            big: 9007199254740991,
            small: 5e-324,
            negative: -0.000001234,
            text: 'ünïcødé ✓ 😀',
          };
          await store.set(ctx, PREFIX, 'doc', doc);
          await store.set(ctx, PREFIX, 'doc', 'added', { path: '/added' });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({ ...doc, added: 'added' });
        }));

      it('keeps every concurrent write to different paths of one document', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { base: true });
          await Promise.all(
            Array.from({ length: 20 }, (_, i) => store.set(ctx, PREFIX, 'doc', i, { path: `/fields/f${i}` })),
          );
          await Promise.all(
            Array.from({ length: 10 }, (_, i) => store.set(ctx, PREFIX, 'fresh', i, { path: `/f${i}` })),
          );
          const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i]));
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({ base: true, fields });
          const fresh = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, i]));
          expect(await store.get(ctx, PREFIX, 'fresh')).toStrictEqual(fresh);
        }));
    });

    describe('delete', () => {
      it('deletes a document once', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { a: 1 });
          await store.set(ctx, PREFIX, 'other', 2);
          expect(await store.delete(ctx, PREFIX, 'doc')).toBe(true);
          expect(await store.get(ctx, PREFIX, 'doc')).toBeUndefined();
          expect(await store.delete(ctx, PREFIX, 'doc')).toBe(false);
          expect(await store.get(ctx, PREFIX, 'other')).toBe(2);
          await store.set(ctx, PREFIX, 'rooted', 1);
          expect(await store.delete(ctx, PREFIX, 'rooted', { path: '/' })).toBe(true);
          expect(await store.get(ctx, PREFIX, 'rooted')).toBeUndefined();
        }));

      it('deletes at a path, closing gaps in arrays', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', {
            user: { name: 'Ada', age: 36 },
            items: ['a', 'b', 'c'],
            'a/b': 1,
          });
          expect(await store.delete(ctx, PREFIX, 'doc', { path: '/user/age' })).toBe(true);
          expect(await store.delete(ctx, PREFIX, 'doc', { path: '/items/1' })).toBe(true);
          expect(await store.delete(ctx, PREFIX, 'doc', { path: '/a~1b' })).toBe(true);
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({
            user: { name: 'Ada' },
            items: ['a', 'c'],
          });
          for (const path of [
            '/user/age',
            '/missing/x',
            '/items/2',
            '/items/-',
            '/user/name/x',
            '/user/toString',
          ]) {
            expect(await store.delete(ctx, PREFIX, 'doc', { path }), path).toBe(false);
          }
          expect(await store.delete(ctx, PREFIX, 'missing', { path: '/a' })).toBe(false);
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({
            user: { name: 'Ada' },
            items: ['a', 'c'],
          });
          expect(await store.delete(ctx, PREFIX, 'doc', { path: '/user/name' })).toBe(true);
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({ user: {}, items: ['a', 'c'] });
        }));
    });

    describe('prefixes', () => {
      it('lists the keys of exactly one prefix, sorted', () =>
        withStore(async (store, { ctx }) => {
          for (const key of ['b', 'a', 'c/d', 'B', 'a.1']) await store.set(ctx, 'p', key, key);
          await store.set(ctx, 'p/sub', 'x', 1);
          await store.set(ctx, 'pp', 'y', 1);
          await store.set(ctx, 'q', 'z', 1);
          expect(await store.list(ctx, 'p')).toStrictEqual(['B', 'a', 'a.1', 'b', 'c/d']);
          expect(await store.list(ctx, 'p/sub')).toStrictEqual(['x']);
          expect(await store.list(ctx, 'empty')).toStrictEqual([]);
          await store.delete(ctx, 'p', 'a');
          expect(await store.list(ctx, 'p')).toStrictEqual(['B', 'a.1', 'b', 'c/d']);
        }));

      it('deletes every document of one prefix in one scope, and nothing else', () =>
        withStore(async (store, { tenant, ctx }) => {
          const neighbour = testCtx({ tenant: uniqueTenant(), team: 'support', user: 'alice' });
          const teamLevel = testCtx({ tenant, team: 'support' });
          for (let i = 0; i < 25; i++) await store.set(ctx, 'p', `k${i}`, i);
          await store.set(ctx, 'p/sub', 'k0', 'sub');
          await store.set(ctx, 'pp', 'k0', 'pp');
          await store.set(neighbour, 'p', 'k0', 'neighbour');
          await store.set(teamLevel, 'p', 'k0', 'team');
          expect(await store.deletePrefix(ctx, 'p')).toBe(25);
          expect(await store.list(ctx, 'p')).toStrictEqual([]);
          expect(await store.get(ctx, 'p', 'k0')).toBeUndefined();
          expect(await store.get(ctx, 'p/sub', 'k0')).toBe('sub');
          expect(await store.get(ctx, 'pp', 'k0')).toBe('pp');
          expect(await store.get(neighbour, 'p', 'k0')).toBe('neighbour');
          expect(await store.get(teamLevel, 'p', 'k0')).toBe('team');
          expect(await store.deletePrefix(ctx, 'p')).toBe(0);
          await store.set(ctx, 'p', 'again', 1);
          expect(await store.get(ctx, 'p', 'again')).toBe(1);
        }));
    });

    describe.concurrent('expiry (real time)', () => {
      it('expires a document after its TTL', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'short', { a: 1 }, { ttlMs: ttl });
          await store.set(ctx, PREFIX, 'long', { a: 1 }, { ttlMs: 60_000 });
          await store.set(ctx, PREFIX, 'forever', { a: 1 });
          await sleep(pastTtl);
          expect(await store.get(ctx, PREFIX, 'short')).toBeUndefined();
          expect(await store.get(ctx, PREFIX, 'short', { path: '/a' })).toBeUndefined();
          expect(await store.list(ctx, PREFIX)).toStrictEqual(['forever', 'long']);
          expect(await store.delete(ctx, PREFIX, 'short')).toBe(false);
          expect(await store.deletePrefix(ctx, PREFIX)).toBe(2);
        }));

      it('keeps the TTL on a set without ttlMs, with or without a path', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'whole', { a: 1 }, { ttlMs: ttl });
          await store.set(ctx, PREFIX, 'whole', { a: 2 });
          await store.set(ctx, PREFIX, 'pointer', { a: 1 }, { ttlMs: ttl });
          await store.set(ctx, PREFIX, 'pointer', 2, { path: '/b' });
          await store.delete(ctx, PREFIX, 'pointer', { path: '/a' });
          await sleep(pastTtl);
          expect(await store.get(ctx, PREFIX, 'whole')).toBeUndefined();
          expect(await store.get(ctx, PREFIX, 'pointer')).toBeUndefined();
        }));

      it('clears the TTL on a set with ttlMs 0', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'whole', { a: 1 }, { ttlMs: ttl });
          await store.set(ctx, PREFIX, 'whole', { a: 2 }, { ttlMs: 0 });
          await store.set(ctx, PREFIX, 'pointer', { a: 1 }, { ttlMs: ttl });
          await store.set(ctx, PREFIX, 'pointer', 2, { path: '/b', ttlMs: 0 });
          await sleep(pastTtl);
          expect(await store.get(ctx, PREFIX, 'whole')).toStrictEqual({ a: 2 });
          expect(await store.get(ctx, PREFIX, 'pointer')).toStrictEqual({ a: 1, b: 2 });
        }));

      it('resets the TTL on a set with a new ttlMs', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'extended', 1, { ttlMs: ttl });
          await store.set(ctx, PREFIX, 'extended', 2, { ttlMs: 60_000 });
          await store.set(ctx, PREFIX, 'shortened', { a: 1 }, { ttlMs: 60_000 });
          await store.set(ctx, PREFIX, 'shortened', 2, { path: '/x', ttlMs: ttl });
          await store.set(ctx, PREFIX, 'set-later', 1);
          await store.set(ctx, PREFIX, 'set-later', 1, { ttlMs: ttl });
          await sleep(pastTtl);
          expect(await store.get(ctx, PREFIX, 'extended')).toBe(2);
          expect(await store.get(ctx, PREFIX, 'shortened')).toBeUndefined();
          expect(await store.get(ctx, PREFIX, 'set-later')).toBeUndefined();
        }));

      it('starts a fresh document when writing at a path of an expired one', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', { old: true }, { ttlMs: ttl });
          await sleep(pastTtl);
          await store.set(ctx, PREFIX, 'doc', 1, { path: '/new' });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({ new: 1 });
        }));
    });

    describe('scope isolation', () => {
      it("never shows one scope's document to another tenant, env, team or user", () =>
        withStore(async (store, { tenant, ctx }) => {
          await store.set(ctx, PREFIX, 'secret', { owner: 'alice' });
          const others = [
            testCtx({ tenant: uniqueTenant(), team: 'support', user: 'alice' }),
            testCtx({ env: 'prod', tenant, team: 'support', user: 'alice' }),
            testCtx({ tenant, team: 'sales', user: 'alice' }),
            testCtx({ tenant, team: 'support', user: 'bob' }),
            testCtx({ tenant, user: 'alice' }),
            testCtx({ tenant, team: 'support' }),
            testCtx({ tenant }),
          ];
          for (const other of others) {
            expect(await store.get(other, PREFIX, 'secret')).toBeUndefined();
            expect(await store.get(other, PREFIX, 'secret', { path: '/owner' })).toBeUndefined();
            expect(await store.list(other, PREFIX)).toStrictEqual([]);
            expect(await store.delete(other, PREFIX, 'secret')).toBe(false);
            expect(await store.delete(other, PREFIX, 'secret', { path: '/owner' })).toBe(false);
            expect(await store.deletePrefix(other, PREFIX)).toBe(0);
          }
          for (const [i, other] of others.entries()) {
            await store.set(other, PREFIX, 'secret', 'intruder', { path: '/owner' });
            await store.set(other, PREFIX, 'secret', i, { path: '/n' });
            expect(await store.get(other, PREFIX, 'secret')).toStrictEqual({ owner: 'intruder', n: i });
          }
          expect(await store.get(ctx, PREFIX, 'secret')).toStrictEqual({ owner: 'alice' });
          expect(await store.list(ctx, PREFIX)).toStrictEqual(['secret']);
        }));

      it('keeps tenant-level, team-level and user-level state apart', () =>
        withStore(async (store, { tenant }) => {
          const tenantLevel = testCtx({ tenant });
          const teamLevel = testCtx({ tenant, team: 'support' });
          const userLevel = testCtx({ tenant, team: 'support', user: 'alice' });
          await store.set(tenantLevel, 'cfg', 'k', 'tenant');
          await store.set(teamLevel, 'cfg', 'k', 'team');
          await store.set(userLevel, 'cfg', 'k', 'user');
          expect(await store.get(tenantLevel, 'cfg', 'k')).toBe('tenant');
          expect(await store.get(teamLevel, 'cfg', 'k')).toBe('team');
          expect(await store.get(userLevel, 'cfg', 'k')).toBe('user');
          await store.deletePrefix(teamLevel, 'cfg');
          expect(await store.get(tenantLevel, 'cfg', 'k')).toBe('tenant');
          expect(await store.get(userLevel, 'cfg', 'k')).toBe('user');
        }));

      it('does not confuse scopes whose ids would run together', () =>
        withStore(async (store, { tenant }) => {
          const a = testCtx({ env: 'dev', tenant: `${tenant}.x`, team: 'y' });
          const b = testCtx({ env: 'dev', tenant, team: 'x.y' });
          const c = testCtx({ env: 'dev', tenant, team: '-' });
          const d = testCtx({ env: 'dev', tenant });
          await store.set(a, 'p', 'k', 'a');
          await store.set(c, 'p', 'k', 'c');
          expect(await store.get(b, 'p', 'k')).toBeUndefined();
          expect(await store.get(d, 'p', 'k')).toBeUndefined();
        }));
    });

    describe('isolation from caller mutation', () => {
      it('is not changed by mutating a value after set or a value got back', () =>
        withStore(async (store, { ctx }) => {
          const value = { list: [1, 2], nested: { a: 'x' } };
          await store.set(ctx, PREFIX, 'doc', value);
          value.list.push(3);
          value.nested.a = 'mutated';
          const part = { deep: { v: 1 } };
          await store.set(ctx, PREFIX, 'doc', part, { path: '/part' });
          part.deep.v = 2;
          const got = (await store.get(ctx, PREFIX, 'doc')) as { list: number[]; nested: { a: string } };
          expect(got).toStrictEqual({ list: [1, 2], nested: { a: 'x' }, part: { deep: { v: 1 } } });
          got.list.push(99);
          got.nested.a = 'mutated-after-get';
          const sub = (await store.get(ctx, PREFIX, 'doc', { path: '/part' })) as { deep: { v: number } };
          sub.deep.v = 42;
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual({
            list: [1, 2],
            nested: { a: 'x' },
            part: { deep: { v: 1 } },
          });
        }));
    });

    describe('bad input', () => {
      it('rejects invalid keys and prefixes', () =>
        withStore(async (store, { ctx }) => {
          const badNames = [
            '',
            '..',
            '.',
            'a/../b',
            'a/./b',
            '../a',
            '/a',
            'a/',
            'a//b',
            'a b',
            'a*',
            'a?',
            'a[1]',
            'a\\b',
            'a\nb',
            'ä',
            'x'.repeat(513),
            42 as unknown as string,
            undefined as unknown as string,
          ];
          for (const name of badNames) {
            await rejectsWith(store.get(ctx, PREFIX, name), 'GT_STATE_KEY');
            await rejectsWith(store.set(ctx, PREFIX, name, 1), 'GT_STATE_KEY');
            await rejectsWith(store.delete(ctx, PREFIX, name), 'GT_STATE_KEY');
            await rejectsWith(store.get(ctx, name, 'k'), 'GT_STATE_KEY');
            await rejectsWith(store.set(ctx, name, 'k', 1), 'GT_STATE_KEY');
            await rejectsWith(store.list(ctx, name), 'GT_STATE_KEY');
            await rejectsWith(store.deletePrefix(ctx, name), 'GT_STATE_KEY');
          }
          // `:` may appear in keys but not in prefixes.
          await rejectsWith(store.set(ctx, 'a:b', 'k', 1), 'GT_STATE_KEY');
          await store.set(ctx, PREFIX, 'x'.repeat(512), 1);
          expect(await store.list(ctx, PREFIX)).toStrictEqual(['x'.repeat(512)]);
        }));

      it('rejects values that are not JSON and stores nothing', () =>
        withStore(async (store, { ctx }) => {
          class Point {
            x = 1;
          }
          const cyclic: Record<string, unknown> = { a: 1 };
          cyclic.self = cyclic;
          let deep: unknown = 'bottom';
          for (let i = 0; i < 200; i++) deep = { d: deep };
          const bad: unknown[] = [
            undefined,
            () => 1,
            Symbol('s'),
            10n,
            Number.NaN,
            Number.POSITIVE_INFINITY,
            new Date(0),
            new Map(),
            new Point(),
            cyclic,
            deep,
            { nested: { fn: () => 1 } },
            { nested: [1, undefined] },
            // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point
            [1, , 3],
            { big: 1n },
          ];
          for (const value of bad) {
            await rejectsWith(store.set(ctx, PREFIX, 'doc', value), 'GT_STATE_INVALID');
            await rejectsWith(store.set(ctx, PREFIX, 'doc', value, { path: '/a' }), 'GT_STATE_INVALID');
          }
          expect(await store.get(ctx, PREFIX, 'doc')).toBeUndefined();
          expect(await store.list(ctx, PREFIX)).toStrictEqual([]);
        }));

      it('keeps a document within 128 levels of nesting, the path included', () =>
        withStore(async (store, { ctx }) => {
          const nested = (levels: number) => {
            let value: unknown = 'bottom';
            for (let i = 0; i < levels; i++) value = { d: value };
            return value;
          };
          const path = '/d'.repeat(100);
          await store.set(ctx, PREFIX, 'doc', nested(28), { path });
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual(nested(128));
          await rejectsWith(store.set(ctx, PREFIX, 'doc', nested(29), { path }), 'GT_STATE_INVALID');
          await rejectsWith(store.set(ctx, PREFIX, 'doc', [nested(28)], { path }), 'GT_STATE_INVALID');
          expect(await store.get(ctx, PREFIX, 'doc')).toStrictEqual(nested(128));
          await store.set(ctx, PREFIX, 'doc', 1, { path: '/d'.repeat(128) });
          expect(await store.get(ctx, PREFIX, 'doc', { path: '/d'.repeat(127) })).toStrictEqual({ d: 1 });
          await rejectsWith(store.set(ctx, PREFIX, 'other', 1, { path: '/d'.repeat(129) }), 'GT_STATE_PATH');
          expect(await store.list(ctx, PREFIX)).toStrictEqual(['doc']);
        }));

      it('rejects a bad TTL or options', () =>
        withStore(async (store, { ctx }) => {
          for (const ttlMs of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
            await rejectsWith(store.set(ctx, PREFIX, 'doc', 1, { ttlMs }), 'GT_STATE_INVALID');
          }
          await rejectsWith(
            store.get(ctx, PREFIX, 'doc', 'path' as unknown as { path: string }),
            'GT_STATE_INVALID',
          );
          expect(await store.get(ctx, PREFIX, 'doc')).toBeUndefined();
        }));

      it('rejects a ctx without tenant or env, or with an invalid id', () =>
        withStore(async (store, { ctx }) => {
          await store.set(ctx, PREFIX, 'doc', 1);
          const { tenant: _t, tenant_id: _ti, ...noTenant } = ctx;
          const { env: _e, ...noEnv } = ctx;
          const bad = [
            noTenant as TenantCtx,
            noEnv as TenantCtx,
            { ...ctx, tenant_id: '', tenant: '' } as TenantCtx,
            { ...ctx, env: 'dev:x' } as TenantCtx,
            { ...ctx, team_id: 'x y', team: 'x y' } as TenantCtx,
            { ...ctx, team: 'someone-else' } as TenantCtx,
            null as unknown as TenantCtx,
          ];
          for (const other of bad) {
            await rejectsWith(store.get(other, PREFIX, 'doc'), 'GT_STATE_SCOPE');
            await rejectsWith(store.set(other, PREFIX, 'doc', 2), 'GT_STATE_SCOPE');
            await rejectsWith(store.delete(other, PREFIX, 'doc'), 'GT_STATE_SCOPE');
            await rejectsWith(store.deletePrefix(other, PREFIX), 'GT_STATE_SCOPE');
            await rejectsWith(store.list(other, PREFIX), 'GT_STATE_SCOPE');
          }
          expect(await store.get(ctx, PREFIX, 'doc')).toBe(1);
        }));
    });

    describe('close', () => {
      it('rejects calls after close and can be closed twice', async () => {
        const store = await make();
        const ctx = testCtx({ tenant: uniqueTenant() });
        await store.close();
        await store.close();
        await rejectsWith(store.get(ctx, PREFIX, 'k'), 'GT_STATE_CLOSED');
        await rejectsWith(store.set(ctx, PREFIX, 'k', 1), 'GT_STATE_CLOSED');
        await rejectsWith(store.list(ctx, PREFIX), 'GT_STATE_CLOSED');
      });
    });
  });
}
