import { isTypesError, type SessionData, type TenantCtx, tenantCtx } from '@greentic/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isSessionError } from './errors.js';
import { DEFAULT_WAIT_TTL_MS, MemorySessionStore } from './memory.js';
import { sessionStoreContract } from './testing/index.js';

sessionStoreContract('memory', async () => new MemorySessionStore());

const ctx: TenantCtx = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support', user: 'alice' });
const data = (node = 'start'): SessionData => ({
  tenant_ctx: ctx,
  flow_id: 'qa_flow' as SessionData['flow_id'],
  cursor: { node_pointer: node },
  context_json: '{}',
});

/** A store whose clock only moves when the test says so. */
function clocked(options: ConstructorParameters<typeof MemorySessionStore>[0] = {}) {
  let now = 1_000_000;
  const store = new MemorySessionStore({ now: () => now, sweepIntervalMs: 0, ...options });
  return {
    store,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('MemorySessionStore (injected clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stamps records with the injected clock', async () => {
    const { store, advance } = clocked();
    const created = await store.create(ctx, data(), { ttlMs: 500 });
    expect(created).toMatchObject({ created_at: 1_000_000, updated_at: 1_000_000, expires_at: 1_000_500 });
    advance(100);
    const saved = await store.save(ctx, created.key, data('next'), { expectedRevision: 1 });
    expect(saved).toMatchObject({ created_at: 1_000_000, updated_at: 1_000_100, expires_at: 1_000_500 });
  });

  it('expires a session exactly at expires_at', async () => {
    const { store, advance } = clocked();
    const created = await store.create(ctx, data(), { ttlMs: 500 });
    advance(499);
    expect(await store.get(ctx, created.key)).toBeDefined();
    advance(1);
    expect(await store.get(ctx, created.key)).toBeUndefined();
    expect(store.size().sessions).toBe(0);
  });

  it('slides the expiry when every save passes ttlMs', async () => {
    const { store, advance } = clocked();
    const created = await store.create(ctx, data(), { ttlMs: 500 });
    let revision = created.revision;
    for (let i = 0; i < 5; i++) {
      advance(400);
      revision = (await store.save(ctx, created.key, data(), { expectedRevision: revision, ttlMs: 500 }))
        .revision;
    }
    expect(await store.get(ctx, created.key)).toBeDefined();
    advance(500);
    expect(await store.get(ctx, created.key)).toBeUndefined();
  });

  it('gives waits a default TTL of one day', async () => {
    const { store, advance } = clocked();
    const created = await store.create(ctx, data());
    const wait = await store.registerWait(ctx, { conversation: 'c' }, created.key);
    expect(wait.expires_at).toBe(wait.created_at + DEFAULT_WAIT_TTL_MS);
    advance(DEFAULT_WAIT_TTL_MS - 1);
    expect(await store.findWait(ctx, { conversation: 'c' })).toBe(created.key);
    advance(1);
    expect(await store.findWait(ctx, { conversation: 'c' })).toBeUndefined();
    expect(await store.get(ctx, created.key)).toBeDefined();
  });

  it('takes the default wait and session TTLs from its options', async () => {
    const { store, advance } = clocked({ defaultWaitTtlMs: 1_000, defaultSessionTtlMs: 5_000 });
    const created = await store.create(ctx, data());
    expect(created.expires_at).toBe(created.created_at + 5_000);
    await store.registerWait(ctx, { conversation: 'c' }, created.key);
    advance(1_000);
    expect(await store.findWait(ctx, { conversation: 'c' })).toBeUndefined();
    advance(4_000);
    expect(await store.get(ctx, created.key)).toBeUndefined();
  });

  it('keeps waits forever when the default wait TTL is 0', async () => {
    const { store, advance } = clocked({ defaultWaitTtlMs: 0 });
    const created = await store.create(ctx, data());
    const wait = await store.registerWait(ctx, { conversation: 'c' }, created.key);
    expect(wait.expires_at).toBeUndefined();
    advance(10 * DEFAULT_WAIT_TTL_MS);
    expect(await store.findWait(ctx, { conversation: 'c' })).toBe(created.key);
  });

  it('rejects invalid options', () => {
    for (const bad of [
      { defaultWaitTtlMs: -1 },
      { defaultSessionTtlMs: 0.5 },
      { sweepIntervalMs: Number.NaN },
    ]) {
      expect(() => new MemorySessionStore(bad)).toThrowError(
        expect.objectContaining({ code: 'GT_SESSION_INVALID' }),
      );
    }
  });

  it('frees the memory of expired sessions and waits on sweep', async () => {
    const { store, advance } = clocked();
    for (let i = 0; i < 50; i++) {
      const created = await store.create(ctx, data(), { ttlMs: 1_000 });
      await store.registerWait(ctx, { conversation: `c${i}` }, created.key, { ttlMs: 60_000 });
    }
    const keeper = await store.create(ctx, data());
    await store.registerWait(ctx, { conversation: 'keep' }, keeper.key, { ttlMs: 60_000 });
    expect(store.size()).toStrictEqual({ sessions: 51, waits: 51 });
    advance(1_000);
    // The sessions expired; their waits dangle and go too.
    expect(store.sweep()).toBe(100);
    expect(store.size()).toStrictEqual({ sessions: 1, waits: 1 });
    expect(await store.findWait(ctx, { conversation: 'keep' })).toBe(keeper.key);
  });

  it("sweeps periodically on an unref'd timer that close() stops", async () => {
    vi.useFakeTimers();
    let now = 0;
    const store = new MemorySessionStore({ now: () => now, sweepIntervalMs: 1_000 });
    const sweep = vi.spyOn(store, 'sweep');
    await store.create(ctx, data(), { ttlMs: 500 });
    now = 600;
    vi.advanceTimersByTime(1_000);
    expect(sweep).toHaveBeenCalledTimes(1);
    expect(store.size().sessions).toBe(0);
    await store.close();
    vi.advanceTimersByTime(5_000);
    expect(sweep).toHaveBeenCalledTimes(1);
  });

  it('does not keep the process alive with its sweep timer', () => {
    const store = new MemorySessionStore({ sweepIntervalMs: 10 });
    const timer = (store as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    return store.close();
  });

  it('empties itself on close', async () => {
    const { store } = clocked();
    const created = await store.create(ctx, data());
    await store.registerWait(ctx, { conversation: 'c' }, created.key);
    await store.close();
    expect(store.size()).toStrictEqual({ sessions: 0, waits: 0 });
    await expect(store.get(ctx, created.key)).rejects.toSatisfy((e) =>
      isSessionError(e, 'GT_SESSION_CLOSED'),
    );
  });
});

describe('MemorySessionStore error messages', () => {
  async function failure(promise: Promise<unknown>): Promise<Error> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof Error)) throw new Error(`expected the call to fail, got ${String(err)}`);
    return err;
  }

  it('names the ctx field of a scope problem and keeps the TypesError as cause', async () => {
    const { store } = clocked();
    const cases: [TenantCtx, string][] = [
      [null as unknown as TenantCtx, 'get: ctx must be a TenantCtx object (got null)'],
      [{ ...ctx, env: undefined } as unknown as TenantCtx, 'get: ctx.env is missing; '],
      [{ ...ctx, tenant_id: 'a:b', tenant: 'a:b' } as TenantCtx, 'get: ctx.tenant_id "a:b" is not a valid'],
      [{ ...ctx, user: 'bob' } as TenantCtx, 'get: ctx.user "bob" differs from ctx.user_id "alice"'],
    ];
    for (const [bad, message] of cases) {
      const err = await failure(store.get(bad, 'some-key'));
      expect(isSessionError(err, 'GT_SESSION_SCOPE')).toBe(true);
      expect(err.message.startsWith(message)).toBe(true);
      expect(isTypesError(err.cause, 'GT_TYPES_INVALID')).toBe(true);
    }
  });

  it("names both scopes when the data's tenant_ctx is of another scope", async () => {
    const { store } = clocked();
    const other = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support' });
    const err = await failure(store.create(ctx, { ...data(), tenant_ctx: other }));
    expect(isSessionError(err, 'GT_SESSION_SCOPE')).toBe(true);
    expect(err.message).toContain(
      'data.tenant_ctx is env "dev", tenant "acme", team "support", user (none) but the call\'s ctx is ' +
        'env "dev", tenant "acme", team "support", user "alice"',
    );
  });

  it('names the place in session data that JSON cannot hold', async () => {
    const { store } = clocked();
    const bad = { ...data(), extra: { list: [1, { f: () => 1 }] } } as SessionData;
    const err = await failure(store.create(ctx, bad));
    expect(isSessionError(err, 'GT_SESSION_INVALID')).toBe(true);
    expect(err.message).toBe(
      'create: session data at /extra/list/1/f is a function, which JSON cannot hold; store plain JSON values only',
    );
    expect(isTypesError(err.cause, 'GT_TYPES_INVALID')).toBe(true);
    expect(store.size().sessions).toBe(0);
  });
});
