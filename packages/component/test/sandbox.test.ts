import { afterAll, describe, expect, it } from 'vitest';
import { ComponentHost, type LoadedComponent } from '../src/index.js';
import { ctxOf, envelope, fixture } from './helpers.js';

const host = new ComponentHost({ workers: 2, cancelGraceMs: 50 });
afterAll(() => host.close());

async function load(
  name: string,
  limits?: { wallTimeMs?: number; memoryMb?: number },
): Promise<LoadedComponent> {
  return host.load({ id: name, bytes: (await fixture(name)).bytes, limits });
}

describe('sandbox', () => {
  it('never shares an instance between tenants: a counter in a Wasm global counts per tenant', async () => {
    const counter = await load('counter');
    const acme = ctxOf('acme');
    const globex = ctxOf('globex');
    const call = async (ctx: typeof acme) =>
      (await host.invoke(counter, 'next', envelope(ctx, null))) as { output: number };
    expect((await call(acme)).output).toBe(1);
    expect((await call(acme)).output).toBe(2);
    expect((await call(acme)).output).toBe(3);
    expect((await call(globex)).output).toBe(1);
    expect((await call(acme)).output).toBe(4);
    expect((await call(globex)).output).toBe(2);
  });

  it('gives every call a fresh instance with instanceScope "call"', async () => {
    const fresh = new ComponentHost({ workers: 1, instanceScope: 'call' });
    try {
      const counter = await fresh.load({ id: 'counter', bytes: (await fixture('counter')).bytes });
      for (let i = 0; i < 3; i++) {
        await expect(fresh.invoke(counter, 'next', envelope(ctxOf('acme'), null))).resolves.toMatchObject({
          output: 1,
        });
      }
    } finally {
      await fresh.close();
    }
  });

  it('stops an infinite loop at its wall-time limit and serves the next call right after', async () => {
    const loop = await load('loop', { wallTimeMs: 200 });
    const echo = await load('echo');
    const terminated = host.stats.workersTerminated;
    const started = Date.now();
    await expect(host.invoke(loop, 'spin', envelope(ctxOf('acme'), null))).rejects.toMatchObject({
      code: 'GT_COMPONENT_TIMEOUT',
      component: 'loop',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(host.stats.workersTerminated).toBe(terminated + 1);
    await expect(host.invoke(echo, 'echo', envelope(ctxOf('acme'), 'still here'))).resolves.toEqual({
      ok: true,
      output: 'still here',
    });
  });

  it('keeps serving other tenants while one call is stuck', async () => {
    const loop = await load('loop', { wallTimeMs: 300 });
    const echo = await load('echo');
    const stuck = host.invoke(loop, 'spin', envelope(ctxOf('slow'), null));
    await expect(host.invoke(echo, 'echo', envelope(ctxOf('fast'), 42))).resolves.toEqual({
      ok: true,
      output: 42,
    });
    await expect(stuck).rejects.toMatchObject({ code: 'GT_COMPONENT_TIMEOUT' });
  });

  it('honours the caller deadline when it is sooner than the limit', async () => {
    const loop = await load('loop');
    await expect(
      host.invoke(loop, 'spin', envelope(ctxOf('acme'), null), { deadline: Date.now() + 100 }),
    ).rejects.toMatchObject({ code: 'GT_COMPONENT_TIMEOUT' });
  });

  it('traps a component that grows past its memory limit', async () => {
    const hog = await load('hog', { memoryMb: 4 });
    await expect(host.invoke(hog, 'grow', envelope(ctxOf('acme'), null))).rejects.toMatchObject({
      code: 'GT_COMPONENT_MEMORY',
      message: expect.stringContaining('limit of 4 MiB'),
    });
  });

  it('reports `unreachable` as a trap and replaces the trapped instance', async () => {
    const echo = await load('echo');
    await expect(host.invoke(echo, 'trap', envelope(ctxOf('acme'), null))).rejects.toMatchObject({
      code: 'GT_COMPONENT_TRAP',
      message: expect.stringContaining('unreachable'),
    });
    await expect(host.invoke(echo, 'echo', envelope(ctxOf('acme'), 'after'))).resolves.toEqual({
      ok: true,
      output: 'after',
    });
  });

  it('tells a cooperative component to stop through control.should-cancel', async () => {
    const loop = await load('loop');
    const ac = new AbortController();
    const call = host.invoke(loop, 'cooperative', envelope(ctxOf('acme'), null), { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user left')), 50);
    await expect(call).rejects.toMatchObject({ code: 'GT_COMPONENT_CANCELLED' });
  });

  it('terminates a component that ignores cancellation once the grace period is over', async () => {
    const loop = await load('loop');
    const ac = new AbortController();
    const terminated = host.stats.workersTerminated;
    const call = host.invoke(loop, 'spin', envelope(ctxOf('acme'), null), { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(call).rejects.toMatchObject({ code: 'GT_COMPONENT_CANCELLED' });
    expect(host.stats.workersTerminated).toBe(terminated + 1);
  });

  it('refuses a call whose signal is already aborted', async () => {
    const echo = await load('echo');
    await expect(
      host.invoke(echo, 'echo', envelope(ctxOf('acme'), 1), { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      code: 'GT_COMPONENT_CANCELLED',
    });
  });

  it('runs inline too (trusted code, synchronous services)', async () => {
    const inline = new ComponentHost({ sandbox: 'inline' });
    const counter = await inline.load({ id: 'counter', bytes: (await fixture('counter')).bytes });
    await expect(inline.invoke(counter, 'next', envelope(ctxOf('acme'), null))).resolves.toMatchObject({
      output: 1,
    });
    await expect(inline.invoke(counter, 'next', envelope(ctxOf('other'), null))).resolves.toMatchObject({
      output: 1,
    });
    await inline.close();
  });
});

describe('instances', () => {
  it('are not shared between two registrations of the same bytes', async () => {
    const bytes = (await fixture('counter')).bytes;
    const a = await host.load({ id: 'counter-a', bytes });
    const b = await host.load({ id: 'counter-b', bytes });
    const ctx = ctxOf('acme');
    await expect(host.invoke(a, 'next', envelope(ctx, null))).resolves.toMatchObject({ output: 1 });
    await expect(host.invoke(a, 'next', envelope(ctx, null))).resolves.toMatchObject({ output: 2 });
    await expect(host.invoke(b, 'next', envelope(ctx, null))).resolves.toMatchObject({ output: 1 });
  });
});
