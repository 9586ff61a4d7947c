// dev-desktop: the deployer starts `greentic-runner serve --config <generated>` as a detached process with a pid
// file and one log, and stops it. The runner runs from its sources (GREENTIC_DEPLOYER_RUNNER_COMMAND, see helpers).
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { LIVENESS_PATH, loadDescription, READINESS_PATH, RUNNER_DEFAULTS } from '../src/index.js';
import { processAlive } from '../src/state.js';
import { startFakeTelegram } from '../src/testing/index.js';
import { BOT_TOKEN, cleanupDirs, HELLO_PACK, type Sandbox, sandbox, tempDir } from './helpers.js';

const started: Sandbox[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.run(['stop']);
  cleanupDirs();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function devSandbox(withPack: boolean | string = true): Promise<{ s: Sandbox; port: number }> {
  const s = sandbox();
  started.push(s);
  const port = await freePort();
  const args = ['init', '--tenant', 'acme', '--port', String(port)];
  if (withPack) args.push('--pack', typeof withPack === 'string' ? withPack : HELLO_PACK);
  expect((await s.run(args)).code).toBe(0);
  return { s, port };
}

const actionsOf = (doc: Record<string, unknown>) =>
  Object.fromEntries((doc.entries as { id: string; action: string }[]).map((e) => [e.id, e.action]));

describe('dev-desktop target', () => {
  it('generates a runner config the runner accepts: memory stores, no NATS, loopback, the pack store', async () => {
    const { s, port } = await devSandbox();
    const r = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code, r.stderr).toBe(0);
    const file = join(s.home, 'deploy', 'acme-dev', 'dev-desktop', 'runner.yaml');
    const config = parseYaml(readFileSync(file, 'utf8'));
    expect(config).toEqual({
      http: { host: '127.0.0.1', port },
      stores: { kind: 'memory' },
      nats: { enabled: false },
      packs: { store: join(s.home, 'packs'), trust: [join(s.home, 'trust')] },
      tenancy: { env: 'dev' },
      log: { level: 'info' },
    });
    // bootstrap never starts the runner
    expect(existsSync(join(s.home, 'run', 'runner.pid'))).toBe(false);
  });

  it('apply starts the runner detached (pid file, one log), a second apply leaves it alone, stop stops it', async () => {
    const { s, port } = await devSandbox();
    const a = await s.json(['apply', '--non-interactive']);
    expect(a.code, a.stderr).toBe(0);
    const pidFile = JSON.parse(readFileSync(join(s.home, 'run', 'runner.pid'), 'utf8'));
    expect(pidFile).toMatchObject({ port, log: join(s.home, 'logs', 'runner.log') });
    expect(processAlive(pidFile.pid)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}${LIVENESS_PATH}`);
    expect(health.status).toBe(200);
    // the runner runs the tenant's pack from the store, not flow files
    const packs = (await (await fetch(`http://127.0.0.1:${port}/admin/packs`)).json()) as {
      packs: { tenant: string | null; pack_id: string; trusted: boolean }[];
    };
    expect(packs.packs).toEqual([
      expect.objectContaining({ tenant: 'acme', pack_id: 'dev.greentic.deployer-hello', trusted: true }),
    ]);
    const ready = await fetch(`http://127.0.0.1:${port}${READINESS_PATH}`);
    expect(ready.status).toBe(200);
    expect(readFileSync(join(s.home, 'logs', 'runner.log'), 'utf8')).toMatch(
      /greentic-runner serving on http:\/\/127\.0\.0\.1:\d+/,
    );

    const digest = JSON.parse(readFileSync(join(s.home, 'packs', 'index', 'tenants', 'acme.json'), 'utf8'))
      .current.digest as string;
    const again = await s.json(['apply', '--non-interactive']);
    expect(again.doc.changes).toBe(0);
    expect(JSON.parse(readFileSync(join(s.home, 'run', 'runner.pid'), 'utf8')).pid).toBe(pidFile.pid);

    // bootstrap leaves the running runner alone
    const boot = await s.json(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(boot.code, boot.stderr).toBe(0);
    expect(processAlive(pidFile.pid)).toBe(true);

    const stop = await s.json(['stop']);
    expect(stop.doc).toMatchObject({ stopped: true });
    expect(processAlive(pidFile.pid)).toBe(false);
    expect(existsSync(join(s.home, 'run', 'runner.pid'))).toBe(false);
    // a stopped runner is drift: plan says so, apply starts it again, destroy stops it
    const p = await s.json(['plan']);
    expect(
      (p.doc.entries as { id: string; action: string }[]).find((e) => e.id === 'process:runner')?.action,
    ).toBe('update');
    const restart = await s.json(['apply', '--non-interactive']);
    expect(restart.code, restart.stderr).toBe(0);
    const pid2 = JSON.parse(readFileSync(join(s.home, 'run', 'runner.pid'), 'utf8')).pid;
    expect(processAlive(pid2)).toBe(true);
    const d = await s.json(['destroy']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.doc.removed).toContain('process:runner');
    expect(d.doc.removed).toContain('pack-load:acme');
    expect(processAlive(pid2)).toBe(false);
    // destroy takes back what it loaded: the tenant's index and the archive
    expect(existsSync(join(s.home, 'packs', 'index', 'tenants', 'acme.json'))).toBe(false);
    expect(existsSync(join(s.home, 'packs', 'blobs', 'sha256', `${digest.slice(7)}.gtpack`))).toBe(false);
  });

  it('loads a changed pack into the store and the running runner hot-reloads it, without a restart', async () => {
    const packDir = tempDir('gt-pack-');
    cpSync(join(HELLO_PACK, '..'), packDir, { recursive: true });
    const { s, port } = await devSandbox(join(packDir, 'pack.yaml'));
    const a = await s.json(['apply', '--non-interactive']);
    expect(a.code, a.stderr).toBe(0);
    const pid = JSON.parse(readFileSync(join(s.home, 'run', 'runner.pid'), 'utf8')).pid;
    const current = async () =>
      (
        (await (await fetch(`http://127.0.0.1:${port}/admin/packs`)).json()) as {
          packs: { digest: string }[];
        }
      ).packs[0]?.digest;
    // apply returns once the runner answers; its packs may still be installing: wait for them (bounded)
    let v1 = await current();
    for (let i = 0; i < 100 && v1 === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      v1 = await current();
    }
    expect(v1).toMatch(/^sha256:/);

    const pack = join(packDir, 'pack.yaml');
    writeFileSync(pack, readFileSync(pack, 'utf8').replace('version: 0.1.0', 'version: 0.2.0'));
    const b = await s.json(['apply', '--non-interactive']);
    expect(b.code, b.stderr).toBe(0);
    expect(actionsOf(b.doc)).toMatchObject({
      'pack:dev.greentic.deployer-hello': 'update',
      'pack-load:acme': 'update',
    });
    expect(actionsOf(b.doc)['process:runner']).toBe('no-op');
    expect(JSON.parse(readFileSync(join(s.home, 'run', 'runner.pid'), 'utf8')).pid).toBe(pid);
    const v2 = await current();
    expect(v2).not.toBe(v1);
    const index = JSON.parse(readFileSync(join(s.home, 'packs', 'index', 'tenants', 'acme.json'), 'utf8'));
    expect(index.current).toMatchObject({ version: '0.2.0', digest: v2 });

    // the digest is current: nothing is loaded again
    const c = await s.json(['apply', '--non-interactive']);
    expect(c.doc.changes).toBe(0);
    const d = await s.json(['destroy']);
    expect(d.code, d.stderr).toBe(0);
    expect(existsSync(join(s.home, 'packs', 'index', 'tenants', 'acme.json'))).toBe(false);
    for (const v of [v1, v2] as string[])
      expect(existsSync(join(s.home, 'packs', 'blobs', 'sha256', `${v.slice(7)}.gtpack`))).toBe(false);
  });

  it('serves the Telegram webhook it registered: the secret token is checked and the flow replies', async () => {
    const tg = await startFakeTelegram({ tokens: [BOT_TOKEN] });
    try {
      const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
      started.push(s);
      const port = await freePort();
      const init = await s.run([
        'init',
        '--tenant',
        'acme',
        '--connector',
        'messaging.telegram',
        '--telegram-api-base',
        tg.url,
        '--public-url',
        `http://127.0.0.1:${port}`,
        '--port',
        String(port),
        '--pack',
        HELLO_PACK,
      ]);
      expect(init.code).toBe(0);
      const a = await s.run(['apply', '--non-interactive']);
      expect(a.code, a.stderr).toBe(0);
      const hook = tg.webhooks.get(BOT_TOKEN)!;
      expect(hook.url).toBe(`http://127.0.0.1:${port}/webhooks/telegram/telegram`);
      const update = {
        update_id: 1001,
        message: {
          message_id: 1,
          date: 1_700_000_000,
          chat: { id: 42, type: 'private' },
          from: { id: 42, is_bot: false, first_name: 'Ada' },
          text: 'hi',
        },
      };
      const post = (token: string) =>
        fetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': token },
          body: JSON.stringify(update),
        });
      expect((await post('wrong-token')).status).toBeGreaterThanOrEqual(400);
      expect((await post(hook.secret_token!)).status).toBe(200);
      for (let i = 0; i < 100 && tg.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(tg.sent).toContainEqual({ chat_id: 42, text: expect.stringContaining('Your name?') });
    } finally {
      await tg.close();
    }
  });

  it('reports a runner that fails to start with the log tail and what to do', async () => {
    const { s, port } = await devSandbox();
    // occupy the port: serve exits 1 ("cannot listen")
    const blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const r = await s.run(['apply', '--non-interactive']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /error GT_DEPLOY_RUNNER \[step runner, resource process:runner\]: greentic-runner serve exited with code 1/,
      );
      expect(r.stderr).toMatch(/what to do: read .*runner\.log/);
      expect(existsSync(join(s.home, 'run', 'runner.pid'))).toBe(false);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('does not start a runner that has no flow to serve, and says why', async () => {
    const { s } = await devSandbox(false);
    const r = await s.json(['apply', '--non-interactive']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: the runner is not started: there is no flow to serve/);
    expect(existsSync(join(s.home, 'run', 'runner.pid'))).toBe(false);
  });

  it('uses the runner\u2019s default port when none is given', async () => {
    const s = sandbox();
    expect((await s.run(['init', '--tenant', 'acme'])).code).toBe(0);
    const { devDesktopConfig } = await import('../src/index.js');
    const loaded = loadDescription(join(s.cwd, 'greentic.yaml'));
    expect(devDesktopConfig({ description: loaded.description, dir: loaded.dir, packs: [] }).http).toEqual({
      host: '127.0.0.1',
      port: RUNNER_DEFAULTS.http.port,
    });
  });
});
