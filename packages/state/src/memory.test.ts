import { isTypesError, type TenantCtx, tenantCtx } from '@greentic/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isStateError } from './errors.js';
import { MemoryStateStore } from './memory.js';
import { stateStoreContract } from './testing/index.js';

stateStoreContract('memory', async () => new MemoryStateStore());

const ctx: TenantCtx = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support', user: 'alice' });

function clocked() {
  let now = 1_000_000;
  const store = new MemoryStateStore({ now: () => now, sweepIntervalMs: 0 });
  return {
    store,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('MemoryStateStore (injected clock)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires a document exactly at its TTL', async () => {
    const { store, advance } = clocked();
    await store.set(ctx, 'p', 'k', 1, { ttlMs: 500 });
    advance(499);
    expect(await store.get(ctx, 'p', 'k')).toBe(1);
    advance(1);
    expect(await store.get(ctx, 'p', 'k')).toBeUndefined();
    expect(store.size()).toBe(0);
  });

  it('keeps, clears and resets the TTL as asked', async () => {
    const { store, advance } = clocked();
    await store.set(ctx, 'p', 'keep', { a: 1 }, { ttlMs: 1_000 });
    await store.set(ctx, 'p', 'clear', 1, { ttlMs: 1_000 });
    await store.set(ctx, 'p', 'reset', 1, { ttlMs: 1_000 });
    advance(900);
    await store.set(ctx, 'p', 'keep', 2, { path: '/x' });
    await store.set(ctx, 'p', 'clear', 2, { ttlMs: 0 });
    await store.set(ctx, 'p', 'reset', 2, { ttlMs: 1_000 });
    advance(100);
    expect(await store.list(ctx, 'p')).toStrictEqual(['clear', 'reset']);
    advance(899);
    expect(await store.get(ctx, 'p', 'reset')).toBe(2);
    advance(1);
    expect(await store.list(ctx, 'p')).toStrictEqual(['clear']);
    advance(365 * 24 * 3_600_000);
    expect(await store.get(ctx, 'p', 'clear')).toBe(2);
  });

  it('does not carry the TTL of an expired document over to a new one', async () => {
    const { store, advance } = clocked();
    await store.set(ctx, 'p', 'k', { old: true }, { ttlMs: 500 });
    advance(500);
    await store.set(ctx, 'p', 'k', 1, { path: '/new' });
    advance(365 * 24 * 3_600_000);
    expect(await store.get(ctx, 'p', 'k')).toStrictEqual({ new: 1 });
  });

  it('frees the memory of expired documents on sweep', async () => {
    const { store, advance } = clocked();
    for (let i = 0; i < 100; i++) await store.set(ctx, `p${i % 7}`, `k${i}`, i, { ttlMs: 1_000 });
    await store.set(ctx, 'p0', 'keeper', true);
    expect(store.size()).toBe(101);
    advance(1_000);
    expect(store.sweep()).toBe(100);
    expect(store.size()).toBe(1);
    expect(await store.get(ctx, 'p0', 'keeper')).toBe(true);
  });

  it("sweeps periodically on an unref'd timer that close() stops", async () => {
    vi.useFakeTimers();
    let now = 0;
    const store = new MemoryStateStore({ now: () => now, sweepIntervalMs: 1_000 });
    const timer = (store as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    const sweep = vi.spyOn(store, 'sweep');
    await store.set(ctx, 'p', 'k', 1, { ttlMs: 500 });
    now = 600;
    vi.advanceTimersByTime(1_000);
    expect(sweep).toHaveBeenCalledTimes(1);
    expect(store.size()).toBe(0);
    await store.close();
    vi.advanceTimersByTime(5_000);
    expect(sweep).toHaveBeenCalledTimes(1);
  });

  it('rejects an invalid sweep interval', () => {
    for (const sweepIntervalMs of [-1, 0.5, Number.NaN]) {
      expect(() => new MemoryStateStore({ sweepIntervalMs })).toThrowError(
        expect.objectContaining({ code: 'GT_STATE_INVALID' }),
      );
    }
  });

  it('names the failing place in its errors', async () => {
    const { store } = clocked();
    await store.set(ctx, 'p', 'k', { a: { b: 'text' } });
    const pathError = await store.set(ctx, 'p', 'k', 1, { path: '/a/b/c' }).catch((e: unknown) => e);
    expect(isStateError(pathError, 'GT_STATE_PATH')).toBe(true);
    expect((pathError as Error).message).toContain('/a/b is a string');
    const valueError = await store.set(ctx, 'p', 'k', { x: [1, { f: () => 1 }] }).catch((e: unknown) => e);
    expect(isStateError(valueError, 'GT_STATE_INVALID')).toBe(true);
    expect((valueError as Error).message).toContain('/x/1/f is a function');
    const cyclic: Record<string, unknown> = {};
    cyclic.me = { again: cyclic };
    const cycleError = await store.set(ctx, 'p', 'k', cyclic).catch((e: unknown) => e);
    expect((cycleError as Error).message).toContain('/me/again is a reference to one of its parents');
    expect((cycleError as Error).cause).toBeDefined();
    let deep: unknown = 1;
    for (let i = 0; i < 29; i++) deep = { d: deep };
    const depthError = await store
      .set(ctx, 'p', 'k', deep, { path: '/a'.repeat(100) })
      .catch((e: unknown) => e);
    expect(isStateError(depthError, 'GT_STATE_INVALID')).toBe(true);
    expect((depthError as Error).message).toContain(
      `${'/d'.repeat(28)} is nested deeper than 28 levels, the most allowed (a document nests at most 128 ` +
        'levels; the path takes 100); store a flatter value',
    );
    const pointerError = await store.get(ctx, 'p', 'k', { path: '/a~9' }).catch((e: unknown) => e);
    expect(isStateError(pointerError, 'GT_STATE_PATH')).toBe(true);
    expect((pointerError as Error).cause).toBeDefined();
  });
});

describe('MemoryStateStore scope errors', () => {
  it('names the ctx field, keeps the TypesError as cause and stores nothing', async () => {
    const { store } = clocked();
    const cases: [TenantCtx, string][] = [
      [{ ...ctx, env: undefined } as unknown as TenantCtx, 'get: ctx.env is missing; '],
      [{ ...ctx, env: 'dev:x' } as TenantCtx, 'get: ctx.env "dev:x" is not a valid identifier'],
      [{ ...ctx, team: 'sales' } as TenantCtx, 'get: ctx.team "sales" differs from ctx.team_id "support"'],
      [
        { ...ctx, user_id: 'a b', user: 'a b' } as TenantCtx,
        'get: ctx.user_id "a b" is not a valid identifier',
      ],
    ];
    for (const [bad, message] of cases) {
      const err = await store.get(bad, 'p', 'k').catch((e: unknown) => e);
      expect(isStateError(err, 'GT_STATE_SCOPE')).toBe(true);
      expect((err as Error).message.startsWith(message)).toBe(true);
      expect(isTypesError((err as Error).cause, 'GT_TYPES_INVALID')).toBe(true);
    }
    expect(store.size()).toBe(0);
  });
});
