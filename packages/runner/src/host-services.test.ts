import type { HostCall, HostHttpRequest } from '@greentic/interfaces';
import { MemoryStateStore } from '@greentic/state';
import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { runnerHostServices } from './host-services.js';

// The HTTP client itself (time-outs, body limit, no redirects, cancellation) is `fetchHostHttp` of
// @greentic/component, tested there (packages/component/src/http.test.ts); here only its wiring.

const acme = { ctx: tenantCtx({ env: 'dev', tenant: 'acme' }), component: 'weather' };
const globex = { ctx: tenantCtx({ env: 'dev', tenant: 'globex' }), component: 'weather' };
const key = { namespace: 'component/weather', key: 'cache/paris', qualified: 'unused' };

describe('runnerHostServices', () => {
  it('keeps component state per tenant in the StateStore', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    await svc.state.write(acme, key, new Uint8Array([1, 2, 3]));
    expect(await svc.state.read(acme, key)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await svc.state.read(globex, key)).toBeUndefined();
    expect(await svc.state.delete(acme, key)).toBe(true);
    expect(await svc.state.read(acme, key)).toBeUndefined();
  });

  it('escapes keys the StateStore does not accept as segments', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    const odd = { namespace: 'component/we~ather', key: '../x y', qualified: 'unused' };
    await svc.state.write(acme, odd, new Uint8Array([7]));
    expect(await svc.state.read(acme, odd)).toEqual(new Uint8Array([7]));
    expect(await svc.state.read(acme, { ...odd, key: '.._x_y' })).toBeUndefined();
  });

  it('sends HTTP through the client it is given', async () => {
    const seen: [HostCall, HostHttpRequest][] = [];
    const svc = runnerHostServices({
      state: new MemoryStateStore(),
      http: {
        send(call, req) {
          seen.push([call, req]);
          return { status: 204, headers: [], body: new Uint8Array(0) };
        },
      },
    });
    const req = { method: 'GET', url: 'https://api.example.com/v1', headers: [] as [string, string][] };
    expect(await svc.http.send(acme, req)).toMatchObject({ status: 204 });
    expect(seen).toEqual([[acme, req]]);
  });

  it('fails outbound HTTP with an unavailable host error when no client is configured', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    expect(() =>
      svc.http.send(acme, { method: 'GET', url: 'https://api.example.com/v1?key=secret', headers: [] }),
    ).toThrow(
      expect.objectContaining({
        code: 'unavailable',
        message: expect.stringMatching(/^GET https:\/\/api\.example\.com: the runner has no HTTP client/),
      }),
    );
  });

  it('looks secrets up with the relative key and its URI, and passes logs on', async () => {
    const asked: string[] = [];
    const logs: Record<string, string>[] = [];
    const svc = runnerHostServices({
      state: new MemoryStateStore(),
      secret: (_call, k) => {
        asked.push(`${k.key} ${k.uri}`);
        return k.key === 'api_key' ? new TextEncoder().encode('v') : undefined;
      },
      log: (_call, record) => logs.push(record.fields),
    });
    const uri = 'secrets://dev/acme/_/weather/api_key';
    expect(await svc.secrets.get(acme, { key: 'api_key', uri })).toEqual(new TextEncoder().encode('v'));
    expect(
      await svc.secrets.get(acme, { key: 'other', uri: 'secrets://dev/acme/_/weather/other' }),
    ).toBeUndefined();
    expect(asked[0]).toBe(`api_key ${uri}`);
    svc.log.log(acme, { span: {}, fields: { k: 'v' } });
    expect(logs).toEqual([{ k: 'v' }]);
  });
});
