import type { ComponentInvoker, InvocationEnvelope } from '@greentic/interfaces';
import { type Outcome, tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { ToolMap } from './toolmap.js';
import { ToolMapInvoker } from './toolmap-invoker.js';

const ctx = tenantCtx({ env: 'dev', tenant: 'acme' });

function envelope(payload: unknown, attempt = 1): InvocationEnvelope {
  return { ctx, flow_id: 'f', step_id: 'n', component_id: 'tools', attempt, payload };
}

/** A component whose `entry` answers scripted outcomes and records what it was called with. */
function component(...outcomes: Outcome<unknown>[]) {
  const calls: { op: string; envelope: InvocationEnvelope }[] = [];
  const invoker: ComponentInvoker = {
    describe: () => ({ name: 'echo', version: '1.0.0', ops: [{ name: 'tool_invoke' }] }),
    invoke: async (op, env) => {
      calls.push({ op, envelope: env });
      return outcomes[Math.min(calls.length - 1, outcomes.length - 1)]!;
    },
  };
  return { invoker, calls };
}

const map = new ToolMap({
  tools: [
    { name: 'echo', component: 'echo.wasm', entry: 'tool_invoke', max_retries: 2, retry_backoff_ms: 100 },
    { name: 'once', component: 'echo.wasm', entry: 'tool_invoke' },
    { name: 'ghost', component: 'missing.wasm', entry: 'run' },
  ],
});

describe('ToolMapInvoker', () => {
  it('calls the entry of the mapped component with the payload', async () => {
    const { invoker, calls } = component({ Done: { said: 'hi' } });
    const tm = new ToolMapInvoker(map, (c) => (c === 'echo.wasm' ? invoker : undefined));
    expect(await tm.invoke('echo', envelope({ text: 'hi' }))).toEqual({ Done: { said: 'hi' } });
    expect(calls[0]!.op).toBe('tool_invoke');
    expect(calls[0]!.envelope).toMatchObject({
      component_id: 'echo.wasm',
      attempt: 1,
      payload: { text: 'hi' },
    });
  });

  it('retries transient failures max_retries times, backing off from retry_backoff_ms', async () => {
    const { invoker, calls } = component(
      { Error: { code: 'timeout', message: 't' } },
      { Error: { code: 'unavailable', message: 'u' } },
      { Done: 3 },
    );
    const delays: number[] = [];
    const tm = new ToolMapInvoker(map, () => invoker, {
      sleep: async (ms) => void delays.push(ms),
      random: () => 0.5,
    });
    expect(await tm.invoke('echo', envelope({}))).toEqual({ Done: 3 });
    expect(calls.map((c) => c.envelope.attempt)).toEqual([1, 2, 3]);
    expect(delays).toEqual([100, 200]);
  });

  it('does not retry when max_retries is 0 (the upstream default)', async () => {
    const { invoker, calls } = component({ Error: { code: 'unavailable', message: 'down' } });
    const tm = new ToolMapInvoker(map, () => invoker, { sleep: async () => {} });
    expect(await tm.invoke('once', envelope({}))).toEqual({
      Error: { code: 'unavailable', message: 'down' },
    });
    expect(calls).toHaveLength(1);
  });

  it('does not retry invalid_input', async () => {
    const { invoker, calls } = component({ Error: { code: 'invalid_input', message: 'bad' } });
    const tm = new ToolMapInvoker(map, () => invoker, { sleep: async () => {} });
    expect(await tm.invoke('echo', envelope({}))).toEqual({
      Error: { code: 'invalid_input', message: 'bad' },
    });
    expect(calls).toHaveLength(1);
  });

  it('answers not_found for an unknown tool or a component that is not there', async () => {
    const tm = new ToolMapInvoker(map, () => undefined);
    const a = await tm.invoke('nope', envelope({}));
    expect(a).toEqual({
      Error: { code: 'not_found', message: 'the tool map has no tool "nope" (it has: echo, once, ghost)' },
    });
    const b = await tm.invoke('ghost', envelope({}));
    expect('Error' in b && b.Error.code).toBe('not_found');
  });

  it('answers unavailable when loading the component fails', async () => {
    const tm = new ToolMapInvoker(map, () => {
      throw new Error('bad wasm');
    });
    const r = await tm.invoke('once', envelope({}));
    expect(r).toEqual({
      Error: {
        code: 'unavailable',
        message: 'tool "once" (tool_invoke of echo.wasm): cannot load the component: bad wasm',
      },
    });
  });

  it('describes the tools', () => {
    const tm = new ToolMapInvoker(map, () => undefined, { name: 'pack-tools' });
    const d = tm.describe();
    expect(d.name).toBe('pack-tools');
    expect(d.ops.map((o) => o.name)).toEqual(['echo', 'once', 'ghost']);
  });
});
