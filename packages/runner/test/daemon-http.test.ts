// The daemon's HTTP face without NATS: health before loading, readiness, admin auth (token and loopback), reload.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRunnerConfig, type RunnerConfigInput } from '../src/config/config.js';
import { RunnerDaemon } from '../src/daemon/daemon.js';
import { buildHttpServer, type DaemonView, isLoopback } from '../src/daemon/http.js';
import { memoryStores, type StoreFactory } from '../src/daemon/stores.js';
import { QA3_FLOW } from './helpers.js';

const TOKEN = 'test-admin-token-0123456789';
type Health = { status: string; active_flows: string[]; last_reload: string; last_error: string | null };
const daemons: RunnerDaemon[] = [];

async function start(overrides: RunnerConfigInput, storeFactory?: StoreFactory) {
  const config = loadRunnerConfig(undefined, {
    env: {},
    overrides: { http: { host: '127.0.0.1', port: 0 }, flows: { paths: [QA3_FLOW] }, ...overrides },
  });
  const daemon = new RunnerDaemon({ config, ...(storeFactory ? { storeFactory } : {}) });
  daemons.push(daemon);
  const started = daemon.start();
  return { daemon, started };
}

const base = (d: RunnerDaemon) => `http://127.0.0.1:${d.address.port}`;

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
});

describe('runner daemon HTTP', () => {
  it('answers /healthz at once while the stores are still connecting, and /readyz only when ready', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slowStores: StoreFactory = async (cfg) => {
      await gate;
      return memoryStores(cfg);
    };
    const { daemon, started } = await start({}, slowStores);
    // wait until the HTTP server listens (the store factory is still blocked)
    while (daemon.address.port === 0) await new Promise((r) => setTimeout(r, 5));
    const h = await fetch(`${base(daemon)}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({
      status: 'starting',
      active_flows: [],
      last_reload: null,
      last_error: null,
    });
    const notReady = await fetch(`${base(daemon)}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: unknown }).checks).toMatchObject({
      stores: false,
      nats: 'disabled',
    });

    release();
    await started;
    const ready = await fetch(`${base(daemon)}/readyz`);
    expect(ready.status).toBe(200);
    const health = (await (await fetch(`${base(daemon)}/healthz`)).json()) as Health;
    expect(health).toMatchObject({ status: 'ok', active_flows: ['qa3'], last_error: null });
    expect(Date.parse(health.last_reload)).not.toBeNaN();
  });

  it('goes unready as soon as it starts draining', async () => {
    const { daemon, started } = await start({});
    await started;
    const url = base(daemon);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const stopping = daemon.stop();
    expect(daemon.readiness().ready).toBe(false);
    expect(daemon.health().status).toBe('draining');
    await stopping;
    expect(daemon.health().status).toBe('stopped');
  });

  it('with admin.token: needs the bearer token (401 without or with a wrong one)', async () => {
    const { daemon, started } = await start({ admin: { token: TOKEN } });
    await started;
    const url = `${base(daemon)}/admin/flows`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(
      401,
    );
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    const body = await ok.json();
    expect(body).toMatchObject({
      entry: 'qa3',
      flows: [{ id: 'qa3', kind: 'messaging', file: QA3_FLOW, nodes: 2 }],
    });
    // health stays open (probes carry no token)
    expect((await fetch(`${base(daemon)}/healthz`)).status).toBe(200);
  });

  it('without admin.token: answers on loopback only', async () => {
    const { daemon, started } = await start({});
    await started;
    expect((await fetch(`${base(daemon)}/admin/stats`)).status).toBe(200);
  });

  it('without admin.token: refuses a caller that is not on loopback (and ignores X-Forwarded-For)', async () => {
    const view: DaemonView = {
      health: () => ({ status: 'ok', active_flows: [], last_reload: null, last_error: null }),
      readiness: () => ({ ready: true, checks: {} }),
      flows: () => ({ flows: [] }),
      stats: () => ({}),
      reload: async () => ({ ok: true, flows: [], last_reload: 'now' }),
    };
    const app = buildHttpServer(view, {});
    try {
      const remote = await app.inject({ method: 'GET', url: '/admin/flows', remoteAddress: '10.1.2.3' });
      expect(remote.statusCode).toBe(403);
      expect(remote.json().error.message).toMatch(/only on loopback/);
      const spoofed = await app.inject({
        method: 'POST',
        url: '/admin/reload',
        remoteAddress: '192.168.7.7',
        headers: { 'x-forwarded-for': '127.0.0.1' },
      });
      expect(spoofed.statusCode).toBe(403);
      const local = await app.inject({
        method: 'GET',
        url: '/admin/flows',
        remoteAddress: '::ffff:127.0.0.1',
      });
      expect(local.statusCode).toBe(200);
      // with a token, a remote caller with the token is let in
      const withToken = buildHttpServer(view, { adminToken: TOKEN });
      const r = await withToken.inject({
        method: 'GET',
        url: '/admin/flows',
        remoteAddress: '10.1.2.3',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(r.statusCode).toBe(200);
      await withToken.close();
    } finally {
      await app.close();
    }
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('127.8.9.10')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopback(undefined)).toBe(false);
  });

  it('POST /admin/reload picks up changed flows, and keeps the old ones when the new ones are broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-reload-'));
    const file = join(dir, 'qa3.ygtc');
    copyFileSync(QA3_FLOW, file);
    const { daemon, started } = await start({ flows: { paths: [dir] } });
    await started;
    const url = base(daemon);
    const first = daemon.health().last_reload;

    writeFileSync(
      join(dir, 'extra.ygtc'),
      'id: extra\ntype: messaging\nnodes:\n  hi:\n    template: "hi"\n    routing: out\n',
    );
    const ok = await fetch(`${url}/admin/reload`, { method: 'POST' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, flows: ['extra', 'qa3'] });
    expect(daemon.health().last_reload).not.toBe(first);

    writeFileSync(join(dir, 'broken.ygtc'), 'id: broken\nnodes:\n  a:\n    routing: [{ to: nowhere }]\n');
    const bad = await fetch(`${url}/admin/reload`, { method: 'POST' });
    expect(bad.status).toBe(422);
    const body = (await bad.json()) as { ok: boolean; error: { message: string } };
    expect(body.ok).toBe(false);
    expect(body.error.message).toContain('broken.ygtc');
    const health = (await (await fetch(`${url}/healthz`)).json()) as Health;
    expect(health.active_flows).toEqual(['extra', 'qa3']);
    expect(health.last_error).toMatch(/^reload failed: .*broken\.ygtc/);
  });

  it('fails to start when the entry flow does not exist, naming flows.entry', async () => {
    const { started } = await start({ flows: { paths: [QA3_FLOW], entry: 'nope' } });
    await expect(started).rejects.toThrow(/flows\.entry: no loaded flow has id "nope" \(loaded: qa3\)/);
  });
});
