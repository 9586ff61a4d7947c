import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { CompositeComponentRegistry } from './composite-registry.js';
import { FunctionComponentRegistry } from './function-registry.js';

const ctx = tenantCtx({ env: 'dev', tenant: 'acme' });
const ref = (component: string) => ({ kind: 'component' as const, component, operation: 'run' });

describe('CompositeComponentRegistry', () => {
  it('returns the first registry that knows the component, in order', async () => {
    const first = new FunctionComponentRegistry().register('shared', { run: () => 'first' });
    const second = new FunctionComponentRegistry()
      .register('shared', { run: () => 'second' })
      .register('only-second', { run: () => 'second' });
    const all = new CompositeComponentRegistry([first]).add(second);
    const envelope = { ctx, flow_id: 'f', step_id: 'n', component_id: 'x', attempt: 1, payload: null };
    expect(await (await all.resolve(ref('shared'), ctx))?.invoke('run', envelope)).toEqual({ Done: 'first' });
    expect(await (await all.resolve(ref('only-second'), ctx))?.invoke('run', envelope)).toEqual({
      Done: 'second',
    });
  });

  it('returns undefined when no registry knows the component', async () => {
    const all = new CompositeComponentRegistry([new FunctionComponentRegistry()]);
    expect(await all.resolve(ref('nobody'), ctx)).toBeUndefined();
  });
});
