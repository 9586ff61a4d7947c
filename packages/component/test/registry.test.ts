import { memoryHostServices } from '@greentic/interfaces';
import { afterAll, describe, expect, it } from 'vitest';
import { ComponentHost, WasmComponentRegistry } from '../src/index.js';
import { ctxOf, envelope, fixture } from './helpers.js';

const host = new ComponentHost({ services: memoryHostServices(), workers: 1 });
afterAll(() => host.close());

describe('WasmComponentRegistry', () => {
  it('resolves ids and aliases and turns calls into Outcomes', async () => {
    const registry = new WasmComponentRegistry(host);
    await registry.register(
      { id: 'echo', bytes: (await fixture('echo')).bytes },
      { aliases: ['demo.echo', 'handle_message'] },
    );
    const ctx = ctxOf('acme');
    const invoker = registry.resolve({ kind: 'component', component: 'echo', operation: 'echo' }, ctx)!;
    await expect(invoker.invoke('echo', envelope(ctx, { a: 1 }))).resolves.toEqual({ Done: { a: 1 } });
    await expect(invoker.invoke('fail', envelope(ctx, 1))).resolves.toEqual({
      Error: { code: 'invalid_input', message: 'asked to fail' },
    });
    await expect(invoker.invoke('trap', envelope(ctx, 1))).resolves.toEqual({
      Error: { code: 'internal', message: expect.stringMatching(/^GT_COMPONENT_TRAP: /) },
    });
    await expect(invoker.describe()).resolves.toMatchObject({
      name: 'echo',
      version: '0.1.0',
      ops: [{ name: 'echo' }],
    });
    expect(registry.resolve({ kind: 'adapter', component: 'demo.echo', operation: 'x' }, ctx)).toBeDefined();
    expect(
      registry.resolve({ kind: 'builtin', component: 'handle_message', operation: 'handle_message' }, ctx),
    ).toBeDefined();
    expect(registry.resolve({ kind: 'component', component: 'nope', operation: 'x' }, ctx)).toBeUndefined();
    expect(registry.resolve({ kind: 'mcp', component: 'echo', operation: 'x' }, ctx)).toBeUndefined();
    expect(registry.names()).toEqual(['demo.echo', 'echo', 'handle_message']);
  });

  it('limits a component to the tenants it was registered for', async () => {
    const registry = new WasmComponentRegistry(host);
    await registry.register(
      { id: 'counter', bytes: (await fixture('counter')).bytes },
      { tenants: ['acme'] },
    );
    const ref = { kind: 'component' as const, component: 'counter', operation: 'next' };
    expect(registry.resolve(ref, ctxOf('acme'))).toBeDefined();
    expect(registry.resolve(ref, ctxOf('globex'))).toBeUndefined();
  });

  it('maps sandbox failures to routable error codes, or throws them when asked', async () => {
    const looping = await host.load({
      id: 'loop',
      bytes: (await fixture('loop')).bytes,
      limits: { wallTimeMs: 100 },
    });
    const ctx = ctxOf('acme');
    const ref = { kind: 'component' as const, component: 'loop', operation: 'spin' };
    const outcome = await new WasmComponentRegistry(host)
      .add(looping)
      .resolve(ref, ctx)!
      .invoke('spin', envelope(ctx, null));
    expect(outcome).toEqual({
      Error: { code: 'timeout', message: expect.stringMatching(/^GT_COMPONENT_TIMEOUT: /) },
    });
    const throwing = new WasmComponentRegistry(host, { failures: 'throw' }).add(looping);
    await expect(throwing.resolve(ref, ctx)!.invoke('spin', envelope(ctx, null))).rejects.toMatchObject({
      code: 'GT_COMPONENT_TIMEOUT',
    });
  });
});
