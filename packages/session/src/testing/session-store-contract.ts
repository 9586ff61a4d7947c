/**
 * The behaviour every {@link SessionStore} backend must have, as a vitest suite.
 *
 * ```ts
 * import { sessionStoreContract } from '@greentic/session/testing';
 * sessionStoreContract('redis', async () => RedisSessionStore.connect(url, { namespace: uniq() }));
 * ```
 *
 * `make` is called once per test and the store is closed at the end of it. Every test uses its own random
 * tenant ids, so stores may share one backend (one Redis database) without interfering. Expiry is tested with
 * real time (a backend such as Redis cannot take a fake clock): a few tests sleep for `ttlMs + slackMs`, and they
 * run concurrently.
 */
import { randomUUID } from 'node:crypto';
import { type ReplyScope, type SessionData, type TenantCtx, tenantCtx } from '@greentic/types';
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
import { isSessionError } from '../errors.js';
import type { SessionStore } from '../store.js';

export type SessionStoreContractOptions = ExpiryTestOptions;

function dataOf(ctx: TenantCtx, node = 'start', context: unknown = { step: 0 }): SessionData {
  return {
    tenant_ctx: ctx,
    flow_id: 'qa_flow' as SessionData['flow_id'],
    pack_id: 'qa.pack' as NonNullable<SessionData['pack_id']>,
    cursor: { node_pointer: node },
    context_json: JSON.stringify(context),
  };
}

const rejectsWith = rejectsWithCode(isSessionError, 'SessionError');

export function sessionStoreContract(
  name: string,
  make: () => Promise<SessionStore>,
  opts: SessionStoreContractOptions = {},
): void {
  const { ttl, pastTtl } = expiryTimes(opts);

  /** Runs `body` with a fresh store and a fresh tenant (user-level ctx), closing the store afterwards. */
  const withStore = freshStoreRunner(make);

  describe(`SessionStore contract: ${name}`, () => {
    describe('sessions', () => {
      it('creates a session at revision 1 under a new key and gets it back', () =>
        withStore(async (store, { ctx }) => {
          const data = dataOf(ctx);
          const created = await store.create(ctx, data, { ttlMs: 0 });
          expect(typeof created.key).toBe('string');
          expect(created.key.length).toBeGreaterThan(0);
          expect(created.revision).toBe(1);
          expect(created.data).toStrictEqual(data);
          expect(created.updated_at).toBe(created.created_at);
          expect(created.expires_at).toBeUndefined();
          const got = await store.get(ctx, created.key);
          expect(got).toStrictEqual({
            key: created.key,
            revision: 1,
            data,
            created_at: created.created_at,
            updated_at: created.created_at,
          });
        }));

      it('gives every created session its own key', () =>
        withStore(async (store, { ctx }) => {
          const records = await Promise.all(Array.from({ length: 20 }, () => store.create(ctx, dataOf(ctx))));
          expect(new Set(records.map((r) => r.key)).size).toBe(20);
        }));

      it('keeps SessionData JSON exactly as given (upstream shape, no added fields)', () =>
        withStore(async (store, { tenant }) => {
          const ctx = tenantCtx({
            env: 'dev',
            tenant,
            team: 'support',
            user: 'alice',
            session_id: 'sess-1',
            trace_id: 'trace-1',
            attributes: { channel: 'webchat', ünïcødé: '✓ 😀' },
            deadline: 1_900_000_000_000,
            attempt: 2,
          });
          const data: SessionData = {
            tenant_ctx: ctx,
            flow_id: 'qa_flow' as SessionData['flow_id'],
            cursor: { node_pointer: 'ask', wait_reason: 'input', outbox_marker: '7' },
            context_json: JSON.stringify({ text: 'héllo\n"quoted"', big: 'x'.repeat(100_000), n: 0.1 + 0.2 }),
          };
          const created = await store.create(ctx, data);
          const got = await store.get(ctx, created.key);
          expect(got?.data).toStrictEqual(data);
          expect(JSON.stringify(got?.data)).toBe(JSON.stringify(data));
          expect(got?.data).not.toHaveProperty('pack_id');
        }));

      it('returns undefined for a key that was never created', () =>
        withStore(async (store, { ctx }) => {
          expect(await store.get(ctx, randomUUID())).toBeUndefined();
        }));

      it('saves with the current revision and increments it', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx, 'start'));
          const next = dataOf(ctx, 'ask_name', { step: 1 });
          const saved = await store.save(ctx, created.key, next, { expectedRevision: 1 });
          expect(saved.revision).toBe(2);
          expect(saved.key).toBe(created.key);
          expect(saved.data).toStrictEqual(next);
          expect(saved.created_at).toBe(created.created_at);
          expect(saved.updated_at).toBeGreaterThanOrEqual(created.created_at);
          const third = await store.save(ctx, created.key, dataOf(ctx, 'done'), { expectedRevision: 2 });
          expect(third.revision).toBe(3);
          const got = await store.get(ctx, created.key);
          expect(got?.revision).toBe(3);
          expect(got?.data.cursor.node_pointer).toBe('done');
          expect(got?.updated_at).toBe(third.updated_at);
        }));

      it('rejects a save whose revision is stale and keeps the stored data', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx, 'start'));
          await store.save(ctx, created.key, dataOf(ctx, 'second'), { expectedRevision: 1 });
          const err = await rejectsWith(
            store.save(ctx, created.key, dataOf(ctx, 'stale'), { expectedRevision: 1 }),
            'GT_SESSION_CONFLICT',
          );
          expect((err as { key?: string }).key).toBe(created.key);
          await rejectsWith(
            store.save(ctx, created.key, dataOf(ctx, 'future'), { expectedRevision: 5 }),
            'GT_SESSION_CONFLICT',
          );
          const got = await store.get(ctx, created.key);
          expect(got?.revision).toBe(2);
          expect(got?.data.cursor.node_pointer).toBe('second');
        }));

      it('lets exactly one of several concurrent saves with the same revision win', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const results = await Promise.allSettled(
            Array.from({ length: 10 }, (_, i) =>
              store.save(ctx, created.key, dataOf(ctx, `writer-${i}`), { expectedRevision: 1 }),
            ),
          );
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r) => r.status === 'rejected');
          expect(won).toHaveLength(1);
          for (const r of lost) expect(isSessionError(r.reason, 'GT_SESSION_CONFLICT')).toBe(true);
          const winner = (won[0] as PromiseFulfilledResult<{ data: SessionData; revision: number }>).value;
          expect(winner.revision).toBe(2);
          const got = await store.get(ctx, created.key);
          expect(got?.revision).toBe(2);
          expect(got?.data.cursor.node_pointer).toBe(winner.data.cursor.node_pointer);
        }));

      it('fails to save a session that does not exist', () =>
        withStore(async (store, { ctx }) => {
          const err = await rejectsWith(
            store.save(ctx, randomUUID(), dataOf(ctx), { expectedRevision: 1 }),
            'GT_SESSION_NOT_FOUND',
          );
          expect(err.message).toMatch(/create/);
        }));

      it('removes a session once', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const other = await store.create(ctx, dataOf(ctx, 'other'));
          expect(await store.remove(ctx, created.key)).toBe(true);
          expect(await store.get(ctx, created.key)).toBeUndefined();
          expect(await store.remove(ctx, created.key)).toBe(false);
          await rejectsWith(
            store.save(ctx, created.key, dataOf(ctx), { expectedRevision: 1 }),
            'GT_SESSION_NOT_FOUND',
          );
          expect((await store.get(ctx, other.key))?.data.cursor.node_pointer).toBe('other');
        }));
    });

    describe('isolation from caller mutation', () => {
      it('is not changed by mutating the data passed to create or save', () =>
        withStore(async (store, { ctx }) => {
          const data = dataOf(ctx, 'start');
          const created = await store.create(ctx, data);
          data.cursor.node_pointer = 'mutated';
          data.context_json = '{"mutated":true}';
          (data.tenant_ctx as { trace_id?: string }).trace_id = 'mutated';
          let got = await store.get(ctx, created.key);
          expect(got?.data.cursor.node_pointer).toBe('start');
          expect(got?.data.context_json).toBe('{"step":0}');
          expect(got?.data.tenant_ctx).not.toHaveProperty('trace_id');

          const next = dataOf(ctx, 'saved');
          await store.save(ctx, created.key, next, { expectedRevision: 1 });
          next.cursor.node_pointer = 'mutated-after-save';
          got = await store.get(ctx, created.key);
          expect(got?.data.cursor.node_pointer).toBe('saved');
        }));

      it('is not changed by mutating a record it returned', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx, 'start'));
          created.data.cursor.node_pointer = 'mutated-created';
          const first = await store.get(ctx, created.key);
          expect(first?.data.cursor.node_pointer).toBe('start');
          if (first === undefined) throw new Error('session missing');
          first.data.cursor.node_pointer = 'mutated-get';
          first.data.tenant_ctx.env = 'prod' as TenantCtx['env'];
          first.revision = 99;
          const second = await store.get(ctx, created.key);
          expect(second?.data.cursor.node_pointer).toBe('start');
          expect(second?.data.tenant_ctx.env).toBe('dev');
          expect(second?.revision).toBe(1);
        }));

      it('is not changed by mutating a reply scope after registering a wait', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const scope: ReplyScope = { conversation: 'conv-1', thread: 'th-1' };
          const wait = await store.registerWait(ctx, scope, created.key);
          scope.thread = 'th-2';
          wait.scope.conversation = 'changed';
          expect(await store.findWait(ctx, { conversation: 'conv-1', thread: 'th-1' })).toBe(created.key);
          const [listed] = await store.listWaitsForUser(ctx);
          expect(listed?.scope).toStrictEqual({ conversation: 'conv-1', thread: 'th-1' });
        }));
    });

    describe('waits', () => {
      it('registers, finds and clears a wait by reply scope', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const scope: ReplyScope = { conversation: 'conv-1' };
          expect(await store.findWait(ctx, scope)).toBeUndefined();
          const wait = await store.registerWait(ctx, scope, created.key, { ttlMs: 60_000 });
          expect(wait.key).toBe(created.key);
          expect(wait.scope).toStrictEqual(scope);
          expect(wait.expires_at).toBe(wait.created_at + 60_000);
          expect(await store.findWait(ctx, scope)).toBe(created.key);
          expect(await store.clearWait(ctx, scope)).toBe(true);
          expect(await store.findWait(ctx, scope)).toBeUndefined();
          expect(await store.clearWait(ctx, scope)).toBe(false);
          expect(await store.get(ctx, created.key)).toBeDefined();
        }));

      it('gives waits an expiry by default', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const wait = await store.registerWait(ctx, { conversation: 'conv-1' }, created.key);
          expect(wait.expires_at).toBeGreaterThan(wait.created_at);
        }));

      it('keys a wait by the full reply scope: thread, reply_to and correlation all count', () =>
        withStore(async (store, { ctx }) => {
          const scopes: ReplyScope[] = [
            { conversation: 'c' },
            { conversation: 'c', thread: 't1' },
            { conversation: 'c', thread: 't2' },
            { conversation: 'c', reply_to: 'm1' },
            { conversation: 'c', correlation: 'x1' },
            { conversation: 'c', thread: 't1', reply_to: 'm1', correlation: 'x1' },
            { conversation: 'c2', thread: 't1' },
            // Same text joined differently: must not be confused with {conversation: 'c', thread: 't1'}.
            { conversation: 'c', reply_to: 't1' },
          ];
          const keys: string[] = [];
          for (const scope of scopes) {
            const created = await store.create(ctx, dataOf(ctx));
            await store.registerWait(ctx, scope, created.key);
            keys.push(created.key);
          }
          for (let i = 0; i < scopes.length; i++) {
            expect(await store.findWait(ctx, scopes[i] as ReplyScope)).toBe(keys[i]);
          }
          expect(await store.findWait(ctx, { conversation: 'c', thread: 't3' })).toBeUndefined();
          expect(
            await store.findWait(ctx, { conversation: 'c', thread: 't1', reply_to: 'm1' }),
          ).toBeUndefined();
          expect(await store.clearWait(ctx, { conversation: 'c', thread: 't1' })).toBe(true);
          expect(await store.findWait(ctx, { conversation: 'c' })).toBe(keys[0]);
          expect(
            await store.findWait(ctx, { conversation: 'c', thread: 't1', reply_to: 'm1', correlation: 'x1' }),
          ).toBe(keys[5]);
        }));

      it('treats empty optional reply-scope fields as absent', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          await store.registerWait(ctx, { conversation: 'c', thread: '' }, created.key);
          expect(await store.findWait(ctx, { conversation: 'c' })).toBe(created.key);
          const [listed] = await store.listWaitsForUser(ctx);
          expect(listed?.scope).toStrictEqual({ conversation: 'c' });
        }));

      it('replaces the wait when a scope is registered again', () =>
        withStore(async (store, { ctx }) => {
          const a = await store.create(ctx, dataOf(ctx, 'a'));
          const b = await store.create(ctx, dataOf(ctx, 'b'));
          const scope = { conversation: 'c', thread: 't' };
          await store.registerWait(ctx, scope, a.key);
          await store.registerWait(ctx, scope, b.key);
          expect(await store.findWait(ctx, scope)).toBe(b.key);
          expect(await store.listWaitsForUser(ctx)).toHaveLength(1);
        }));

      it('lists the waits of the ctx user only', () =>
        withStore(async (store, { tenant, ctx }) => {
          const bob = testCtx({ tenant, team: 'support', user: 'bob' });
          const a1 = await store.create(ctx, dataOf(ctx));
          const a2 = await store.create(ctx, dataOf(ctx));
          const b1 = await store.create(bob, dataOf(bob));
          await store.registerWait(ctx, { conversation: 'c1' }, a1.key);
          await store.registerWait(ctx, { conversation: 'c2', correlation: 'x' }, a2.key);
          await store.registerWait(bob, { conversation: 'c1' }, b1.key);
          const listed = await store.listWaitsForUser(ctx);
          const byConversation = [...listed].sort((x, y) =>
            x.scope.conversation.localeCompare(y.scope.conversation),
          );
          expect(byConversation.map((w) => [w.scope, w.key])).toStrictEqual([
            [{ conversation: 'c1' }, a1.key],
            [{ conversation: 'c2', correlation: 'x' }, a2.key],
          ]);
          expect((await store.listWaitsForUser(bob)).map((w) => w.key)).toStrictEqual([b1.key]);
          const nobody = testCtx({ tenant, team: 'support', user: 'carol' });
          expect(await store.listWaitsForUser(nobody)).toStrictEqual([]);
        }));

      it('refuses to park a session that does not exist', () =>
        withStore(async (store, { ctx }) => {
          await rejectsWith(
            store.registerWait(ctx, { conversation: 'c' }, randomUUID()),
            'GT_SESSION_NOT_FOUND',
          );
          expect(await store.findWait(ctx, { conversation: 'c' })).toBeUndefined();
        }));

      it('forgets the waits of a removed session', () =>
        withStore(async (store, { ctx }) => {
          const gone = await store.create(ctx, dataOf(ctx));
          const kept = await store.create(ctx, dataOf(ctx));
          await store.registerWait(ctx, { conversation: 'c', thread: '1' }, gone.key);
          await store.registerWait(ctx, { conversation: 'c', thread: '2' }, gone.key);
          await store.registerWait(ctx, { conversation: 'c', thread: '3' }, kept.key);
          await store.remove(ctx, gone.key);
          expect(await store.findWait(ctx, { conversation: 'c', thread: '1' })).toBeUndefined();
          expect(await store.findWait(ctx, { conversation: 'c', thread: '2' })).toBeUndefined();
          expect(await store.findWait(ctx, { conversation: 'c', thread: '3' })).toBe(kept.key);
          expect((await store.listWaitsForUser(ctx)).map((w) => w.key)).toStrictEqual([kept.key]);
        }));
    });

    describe.concurrent('expiry (real time)', () => {
      it('expires a session after its TTL', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx), { ttlMs: ttl });
          expect(created.expires_at).toBe(created.created_at + ttl);
          const long = await store.create(ctx, dataOf(ctx), { ttlMs: 60_000 });
          await store.registerWait(ctx, { conversation: 'c' }, created.key, { ttlMs: 60_000 });
          await sleep(pastTtl);
          expect(await store.get(ctx, created.key)).toBeUndefined();
          await rejectsWith(
            store.save(ctx, created.key, dataOf(ctx), { expectedRevision: 1 }),
            'GT_SESSION_NOT_FOUND',
          );
          expect(await store.findWait(ctx, { conversation: 'c' })).toBeUndefined();
          expect(await store.listWaitsForUser(ctx)).toStrictEqual([]);
          expect(await store.remove(ctx, created.key)).toBe(false);
          expect(await store.get(ctx, long.key)).toBeDefined();
        }));

      it('keeps the expiry on a save without ttlMs', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx), { ttlMs: ttl });
          const saved = await store.save(ctx, created.key, dataOf(ctx, 'next'), { expectedRevision: 1 });
          expect(saved.expires_at).toBe(created.expires_at);
          await sleep(pastTtl);
          expect(await store.get(ctx, created.key)).toBeUndefined();
        }));

      it('clears the expiry on a save with ttlMs 0', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx), { ttlMs: ttl });
          const saved = await store.save(ctx, created.key, dataOf(ctx, 'next'), {
            expectedRevision: 1,
            ttlMs: 0,
          });
          expect(saved.expires_at).toBeUndefined();
          await sleep(pastTtl);
          const got = await store.get(ctx, created.key);
          expect(got?.data.cursor.node_pointer).toBe('next');
          expect(got?.expires_at).toBeUndefined();
        }));

      it('resets the expiry on a save with a new ttlMs', () =>
        withStore(async (store, { ctx }) => {
          const extended = await store.create(ctx, dataOf(ctx), { ttlMs: ttl });
          const saved = await store.save(ctx, extended.key, dataOf(ctx, 'next'), {
            expectedRevision: 1,
            ttlMs: 60_000,
          });
          expect(saved.expires_at).toBe(saved.updated_at + 60_000);
          const shortened = await store.create(ctx, dataOf(ctx), { ttlMs: 60_000 });
          await store.save(ctx, shortened.key, dataOf(ctx, 'next'), { expectedRevision: 1, ttlMs: ttl });
          await sleep(pastTtl);
          expect((await store.get(ctx, extended.key))?.revision).toBe(2);
          expect(await store.get(ctx, shortened.key)).toBeUndefined();
        }));

      it('expires a wait after its TTL but keeps its session', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const wait = await store.registerWait(ctx, { conversation: 'c' }, created.key, { ttlMs: ttl });
          expect(wait.expires_at).toBe(wait.created_at + ttl);
          const forever = await store.registerWait(ctx, { conversation: 'd' }, created.key, { ttlMs: 0 });
          expect(forever.expires_at).toBeUndefined();
          await sleep(pastTtl);
          expect(await store.findWait(ctx, { conversation: 'c' })).toBeUndefined();
          expect(await store.findWait(ctx, { conversation: 'd' })).toBe(created.key);
          expect((await store.listWaitsForUser(ctx)).map((w) => w.scope.conversation)).toStrictEqual(['d']);
          expect(await store.get(ctx, created.key)).toBeDefined();
        }));
    });

    describe('scope isolation', () => {
      it('never shows a session to another tenant, env, team or user', () =>
        withStore(async (store, { tenant, ctx }) => {
          const created = await store.create(ctx, dataOf(ctx, 'mine'));
          const others = [
            testCtx({ tenant: uniqueTenant(), team: 'support', user: 'alice' }),
            testCtx({ env: 'prod', tenant, team: 'support', user: 'alice' }),
            testCtx({ tenant, team: 'sales', user: 'alice' }),
            testCtx({ tenant, user: 'alice' }),
            testCtx({ tenant, team: 'support', user: 'bob' }),
            testCtx({ tenant, team: 'support' }),
            testCtx({ tenant }),
          ];
          for (const other of others) {
            expect(await store.get(other, created.key)).toBeUndefined();
            await rejectsWith(
              store.save(other, created.key, dataOf(other, 'theirs'), { expectedRevision: 1 }),
              'GT_SESSION_NOT_FOUND',
            );
            expect(await store.remove(other, created.key)).toBe(false);
            await rejectsWith(
              store.registerWait(other, { conversation: 'c' }, created.key),
              'GT_SESSION_NOT_FOUND',
            );
          }
          const got = await store.get(ctx, created.key);
          expect(got?.revision).toBe(1);
          expect(got?.data.cursor.node_pointer).toBe('mine');
        }));

      it('never shows a wait to another tenant, env, team or user', () =>
        withStore(async (store, { tenant, ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const scope = { conversation: 'shared-conversation', thread: 't' };
          await store.registerWait(ctx, scope, created.key);
          const others = [
            testCtx({ tenant: uniqueTenant(), team: 'support', user: 'alice' }),
            testCtx({ env: 'prod', tenant, team: 'support', user: 'alice' }),
            testCtx({ tenant, team: 'sales', user: 'alice' }),
            testCtx({ tenant, user: 'alice' }),
            testCtx({ tenant, team: 'support', user: 'bob' }),
            testCtx({ tenant }),
          ];
          for (const other of others) {
            expect(await store.findWait(other, scope)).toBeUndefined();
            expect(await store.clearWait(other, scope)).toBe(false);
            expect(await store.listWaitsForUser(other)).toStrictEqual([]);
          }
          expect(await store.findWait(ctx, scope)).toBe(created.key);
        }));

      it('keeps environments apart even with identical tenant, team, user and reply scope', () =>
        withStore(async (store, { tenant }) => {
          const dev = testCtx({ env: 'dev', tenant, team: 'support', user: 'alice' });
          const prod = testCtx({ env: 'prod', tenant, team: 'support', user: 'alice' });
          const scope = { conversation: 'c' };
          const inDev = await store.create(dev, dataOf(dev, 'dev-node'));
          const inProd = await store.create(prod, dataOf(prod, 'prod-node'));
          await store.registerWait(dev, scope, inDev.key);
          await store.registerWait(prod, scope, inProd.key);
          expect(await store.findWait(dev, scope)).toBe(inDev.key);
          expect(await store.findWait(prod, scope)).toBe(inProd.key);
          await store.clearWait(dev, scope);
          expect(await store.findWait(prod, scope)).toBe(inProd.key);
          expect((await store.get(prod, inProd.key))?.data.cursor.node_pointer).toBe('prod-node');
        }));

      it('does not confuse an absent team with a team called "-"', () =>
        withStore(async (store, { tenant }) => {
          const noTeam = testCtx({ tenant, user: 'alice' });
          const dashTeam = testCtx({ tenant, team: '-', user: 'alice' });
          const created = await store.create(noTeam, dataOf(noTeam));
          await store.registerWait(noTeam, { conversation: 'c' }, created.key);
          expect(await store.get(dashTeam, created.key)).toBeUndefined();
          expect(await store.findWait(dashTeam, { conversation: 'c' })).toBeUndefined();
        }));

      it('rejects session data whose tenant_ctx is of another scope than the ctx', () =>
        withStore(async (store, { tenant, ctx }) => {
          const mismatched = [
            testCtx({ tenant: uniqueTenant(), team: 'support', user: 'alice' }),
            testCtx({ env: 'prod', tenant, team: 'support', user: 'alice' }),
            testCtx({ tenant, team: 'sales', user: 'alice' }),
            testCtx({ tenant, team: 'support', user: 'bob' }),
            testCtx({ tenant, team: 'support' }),
          ];
          const created = await store.create(ctx, dataOf(ctx));
          for (const other of mismatched) {
            await rejectsWith(store.create(ctx, dataOf(other)), 'GT_SESSION_SCOPE');
            await rejectsWith(
              store.save(ctx, created.key, dataOf(other), { expectedRevision: 1 }),
              'GT_SESSION_SCOPE',
            );
          }
          expect((await store.get(ctx, created.key))?.revision).toBe(1);
        }));
    });

    describe('bad input', () => {
      it('rejects an empty or non-string session key', () =>
        withStore(async (store, { ctx }) => {
          const bad = ['', 42 as unknown as string, undefined as unknown as string];
          for (const key of bad) {
            await rejectsWith(store.get(ctx, key), 'GT_SESSION_INVALID');
            await rejectsWith(
              store.save(ctx, key, dataOf(ctx), { expectedRevision: 1 }),
              'GT_SESSION_INVALID',
            );
            await rejectsWith(store.remove(ctx, key), 'GT_SESSION_INVALID');
            await rejectsWith(store.registerWait(ctx, { conversation: 'c' }, key), 'GT_SESSION_INVALID');
          }
        }));

      it('rejects a ctx without tenant or env, or with an invalid id', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const { tenant: _t, tenant_id: _ti, ...noTenant } = ctx;
          const { env: _e, ...noEnv } = ctx;
          const bad = [
            noTenant as TenantCtx,
            noEnv as TenantCtx,
            { ...ctx, tenant_id: '', tenant: '' } as TenantCtx,
            { ...ctx, tenant_id: 'a:b', tenant: 'a:b' } as TenantCtx,
            { ...ctx, team_id: 'x y', team: 'x y' } as TenantCtx,
            { ...ctx, user: 'someone-else' } as TenantCtx,
            null as unknown as TenantCtx,
          ];
          for (const other of bad) {
            await rejectsWith(store.create(other, dataOf(ctx)), 'GT_SESSION_SCOPE');
            await rejectsWith(store.get(other, created.key), 'GT_SESSION_SCOPE');
            await rejectsWith(
              store.save(other, created.key, dataOf(ctx), { expectedRevision: 1 }),
              'GT_SESSION_SCOPE',
            );
            await rejectsWith(store.remove(other, created.key), 'GT_SESSION_SCOPE');
            await rejectsWith(
              store.registerWait(other, { conversation: 'c' }, created.key),
              'GT_SESSION_SCOPE',
            );
            await rejectsWith(store.findWait(other, { conversation: 'c' }), 'GT_SESSION_SCOPE');
            await rejectsWith(store.clearWait(other, { conversation: 'c' }), 'GT_SESSION_SCOPE');
            await rejectsWith(store.listWaitsForUser(other), 'GT_SESSION_SCOPE');
          }
          expect((await store.get(ctx, created.key))?.revision).toBe(1);
        }));

      it('rejects malformed session data', () =>
        withStore(async (store, { ctx }) => {
          const good = dataOf(ctx);
          const created = await store.create(ctx, good);
          const bad: unknown[] = [
            null,
            'data',
            { ...good, flow_id: undefined },
            { ...good, cursor: {} },
            { ...good, context_json: { step: 0 } },
            { ...good, flow_id: 'bad id' },
            { ...good, extra: () => 1 },
            { ...good, extra: 10n },
            { ...good, extra: Number.NaN },
            { ...good, extra: new Map() },
            { ...good, extra: [1, undefined] },
          ];
          const cyclic: Record<string, unknown> = { ...good };
          cyclic.self = cyclic;
          bad.push(cyclic);
          for (const data of bad) {
            await rejectsWith(store.create(ctx, data as SessionData), 'GT_SESSION_INVALID');
            await rejectsWith(
              store.save(ctx, created.key, data as SessionData, { expectedRevision: 1 }),
              'GT_SESSION_INVALID',
            );
          }
          expect((await store.get(ctx, created.key))?.revision).toBe(1);
        }));

      it('rejects a bad TTL, expected revision or options object', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          for (const ttlMs of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
            await rejectsWith(store.create(ctx, dataOf(ctx), { ttlMs }), 'GT_SESSION_INVALID');
            await rejectsWith(
              store.save(ctx, created.key, dataOf(ctx), { expectedRevision: 1, ttlMs }),
              'GT_SESSION_INVALID',
            );
            await rejectsWith(
              store.registerWait(ctx, { conversation: 'c' }, created.key, { ttlMs }),
              'GT_SESSION_INVALID',
            );
          }
          for (const expectedRevision of [
            0,
            -1,
            1.5,
            '1' as unknown as number,
            undefined as unknown as number,
          ]) {
            await rejectsWith(
              store.save(ctx, created.key, dataOf(ctx), { expectedRevision }),
              'GT_SESSION_INVALID',
            );
          }
          await rejectsWith(
            store.save(ctx, created.key, dataOf(ctx), undefined as unknown as { expectedRevision: number }),
            'GT_SESSION_INVALID',
          );
          const notAnObject = 5 as unknown as { ttlMs: number };
          await rejectsWith(store.create(ctx, dataOf(ctx), notAnObject), 'GT_SESSION_INVALID');
          await rejectsWith(
            store.registerWait(ctx, { conversation: 'c' }, created.key, notAnObject),
            'GT_SESSION_INVALID',
          );
          expect((await store.get(ctx, created.key))?.revision).toBe(1);
        }));

      it('rejects a malformed reply scope', () =>
        withStore(async (store, { ctx }) => {
          const created = await store.create(ctx, dataOf(ctx));
          const bad = [
            null,
            {},
            { conversation: '' },
            { conversation: 42 },
            { conversation: 'c', thread: 7 },
            { conversation: 'c\nthread' },
            { conversation: 'c', correlation: 'a\nb' },
          ] as unknown as ReplyScope[];
          for (const scope of bad) {
            await rejectsWith(store.registerWait(ctx, scope, created.key), 'GT_SESSION_INVALID');
            await rejectsWith(store.findWait(ctx, scope), 'GT_SESSION_INVALID');
            await rejectsWith(store.clearWait(ctx, scope), 'GT_SESSION_INVALID');
          }
          expect(await store.listWaitsForUser(ctx)).toStrictEqual([]);
        }));
    });

    describe('close', () => {
      it('rejects calls after close and can be closed twice', async () => {
        const store = await make();
        const ctx = testCtx({ tenant: uniqueTenant() });
        await store.close();
        await store.close();
        await rejectsWith(store.create(ctx, dataOf(ctx)), 'GT_SESSION_CLOSED');
        await rejectsWith(store.get(ctx, randomUUID()), 'GT_SESSION_CLOSED');
        await rejectsWith(store.findWait(ctx, { conversation: 'c' }), 'GT_SESSION_CLOSED');
      });
    });
  });
}
