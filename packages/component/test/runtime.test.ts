import { describe, expect, it } from 'vitest';
import { createRuntime } from '../worker/runtime.mjs';

// A stand-in for a transpiled component: its invoke() calls the WASI import named by `op`.
const fakeGlue = {
  instantiate(_getCore: unknown, imports: Record<string, Record<string, (...a: unknown[]) => unknown>>) {
    const node = {
      describe: () => ({}),
      invoke: (op: string) => {
        if (op === 'random') return imports['wasi:random/random']!.getRandomU64!();
        if (op === 'clock') return imports['wasi:clocks/wall-clock']!.now!();
        if (op === 'env') return imports['wasi:cli/environment']!.getEnvironment!();
        if (op === 'preopens') return imports['wasi:filesystem/preopens']!.getDirectories!();
        if (op === 'socket') return imports['wasi:sockets/tcp-create-socket']!.createTcpSocket!('ipv4');
        throw new Error(op);
      },
    };
    return { 'greentic:component/node@0.6.0': node };
  },
};

async function runtimeWith(wasi: { random: boolean; clocks: boolean }) {
  const rt = createRuntime({
    hostCall: () => ({ r: { tag: 'ok' } }),
    hostNotify: () => {},
    isCancelled: () => false,
  });
  await rt.load('k', {
    id: 'fake',
    glue: fakeGlue,
    modules: {},
    memoryMaxPages: 16,
    wasi,
    imports: [
      'wasi:random/random',
      'wasi:clocks/wall-clock',
      'wasi:cli/environment',
      'wasi:filesystem/preopens',
      'wasi:sockets/tcp-create-socket',
    ],
  });
  return (op: string) =>
    rt.run({ kind: 'invoke', componentKey: 'k', instanceKey: 'i', fresh: true, op, envelope: {} });
}

describe('WASI for components (deny by default)', () => {
  it('denies random and clocks unless the manifest grants them', async () => {
    const run = await runtimeWith({ random: false, clocks: false });
    expect(run('random')).toEqual({
      error: expect.objectContaining({ code: 'GT_COMPONENT_DENIED', capability: 'wasi:random/random' }),
    });
    expect(run('clock')).toEqual({
      error: expect.objectContaining({ code: 'GT_COMPONENT_DENIED', capability: 'wasi:clocks/wall-clock' }),
    });
    const granted = await runtimeWith({ random: true, clocks: true });
    expect(typeof (granted('random') as { ok: unknown }).ok).toBe('bigint');
    expect(granted('clock')).toHaveProperty('ok.seconds');
  });

  it('gives no environment, no preopened directories and no sockets', async () => {
    const run = await runtimeWith({ random: true, clocks: true });
    expect(run('env')).toEqual({ ok: [] });
    expect(run('preopens')).toEqual({ ok: [] });
    expect(run('socket')).toEqual({ error: expect.objectContaining({ code: 'GT_COMPONENT_DENIED' }) });
  });
});
