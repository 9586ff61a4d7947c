import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { HostServiceError, memoryHostServices, StubHostHttp } from '../src/index.js';

const call = { ctx: tenantCtx({ env: 'dev', tenant: 'acme' }), component: 'demo' };
const key = (k: string) => ({
  namespace: 'component/demo',
  key: k,
  qualified: `dev.acme:component/demo:${k}`,
});

describe('in-memory host services', () => {
  it('stores state under the qualified key and returns copies', () => {
    const s = memoryHostServices();
    s.state.write(call, key('a'), new Uint8Array([1, 2]));
    const got = s.state.read(call, key('a'))!;
    expect([...got]).toEqual([1, 2]);
    got[0] = 9;
    expect([...s.state.read(call, key('a'))!]).toEqual([1, 2]);
    expect(s.state.entries.has('dev.acme:component/demo:a')).toBe(true);
    expect(s.state.delete(call, key('a'))).toBe(true);
    expect(s.state.read(call, key('a'))).toBeUndefined();
  });

  it('answers secrets by URI and records what was asked', () => {
    const s = memoryHostServices({ secrets: { 'secrets://dev/acme/_/openai/api_key': 'sk-1' } });
    const v = s.secrets.get(call, { key: 'openai/api_key', uri: 'secrets://dev/acme/_/openai/api_key' });
    expect(new TextDecoder().decode(v)).toBe('sk-1');
    expect(s.secrets.get(call, { key: 'x', uri: 'secrets://dev/acme/_/x' })).toBeUndefined();
    expect(s.secrets.requested).toHaveLength(2);
  });

  it('refuses HTTP unless a handler is configured', async () => {
    const s = memoryHostServices();
    expect(() => s.http.send(call, { method: 'GET', url: 'https://a.example', headers: [] })).toThrow(
      HostServiceError,
    );
    const stub = new StubHostHttp(() => ({ status: 204, headers: [] }));
    expect(await stub.send(call, { method: 'GET', url: 'https://a.example', headers: [] })).toEqual({
      status: 204,
      headers: [],
    });
    expect(stub.requests).toHaveLength(1);
  });
});
