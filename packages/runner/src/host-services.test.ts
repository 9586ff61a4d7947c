import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStateStore } from '@greentic/state';
import { tenantCtx } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runnerHostServices } from './host-services.js';

const acme = { ctx: tenantCtx({ env: 'dev', tenant: 'acme' }), component: 'weather' };
const globex = { ctx: tenantCtx({ env: 'dev', tenant: 'globex' }), component: 'weather' };
const key = { namespace: 'component/weather', key: 'cache/paris', qualified: 'unused' };

let base = '';
const server = createServer((req, res) => {
  if (req.url === '/redirect') {
    res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
  } else if (req.url === '/slow') {
    setTimeout(() => res.end('late'), 2_000).unref();
  } else {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  }
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('runnerHostServices', () => {
  it('keeps component state per tenant in the StateStore', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    await svc.state.write(acme, key, new Uint8Array([1, 2, 3]));
    expect(await svc.state.read(acme, key)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await svc.state.read(globex, key)).toBeUndefined();
    expect(await svc.state.delete(acme, key)).toBe(true);
    expect(await svc.state.read(acme, key)).toBeUndefined();
  });

  it('sends HTTP requests and returns status, headers and body', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    const res = await svc.http.send(acme, { method: 'GET', url: `${base}/ok`, headers: [] });
    expect(res.status).toBe(200);
    expect(new TextDecoder().decode(res.body)).toBe('{"ok":true}');
  });

  it('never follows a redirect itself, so a redirect cannot leave the allowed hosts', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    const res = await svc.http.send(acme, {
      method: 'GET',
      url: `${base}/redirect`,
      headers: [],
      followRedirects: true,
    });
    expect(res.status).toBe(302);
  });

  it('reports a request that outlives its timeout as a timeout host error', async () => {
    const svc = runnerHostServices({ state: new MemoryStateStore() });
    await expect(
      svc.http.send(acme, { method: 'GET', url: `${base}/slow`, headers: [], timeoutMs: 100 }),
    ).rejects.toMatchObject({
      code: 'timeout',
    });
  });
});
