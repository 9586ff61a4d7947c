import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadTrustStore, privateKeyFromPem } from '@greentic/pack';
import { EncryptedFileSecretsProvider } from '@greentic/secrets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTelegram, quickstartEnvironment, startFakeTelegram } from '../src/testing/index.js';
import { BOT_TOKEN, cleanupDirs, HELLO_PACK, sandbox, tempDir } from './helpers.js';

let tg: FakeTelegram;
beforeAll(async () => {
  tg = await startFakeTelegram({ tokens: [BOT_TOKEN] });
});
afterAll(() => tg.close());
afterEach(() => {
  cleanupDirs();
  tg.calls.length = 0;
  tg.webhooks.clear();
});

const URI = 'secrets://dev/acme/_/telegram/bot_token';

async function initTelegram(s: ReturnType<typeof sandbox>, extra: string[] = []) {
  const r = await s.run([
    'init',
    '--tenant',
    'acme',
    '--connector',
    'messaging.telegram',
    '--telegram-api-base',
    tg.url,
    '--public-url',
    'https://bot.example.test',
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
}

function store(home: string) {
  return new EncryptedFileSecretsProvider({
    dir: join(home, 'secrets'),
    masterKey: readFileSync(join(home, 'master.key'), 'utf8').trim(),
  });
}

describe('greentic-deployer bootstrap', () => {
  it('bootstraps a fresh home non-interactively: master key, secrets, dev key, webhook, runner config', async () => {
    const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    await initTelegram(s, ['--team', 'support', '--user', 'ada']);
    const r = await s.json(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc).toMatchObject({ ok: true, command: 'bootstrap', target: 'dev-desktop', name: 'acme-dev' });

    // master key: generated, 0600
    const mk = join(s.home, 'master.key');
    expect(statSync(mk).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(mk, 'utf8').trim(), 'base64')).toHaveLength(32);

    // secrets: the token from the environment, the webhook secret generated; both in the encrypted store
    const st = store(s.home);
    const team = 'secrets://dev/acme/support/telegram';
    expect((await st.get(`${team}/bot_token`))?.value.revealText()).toBe(BOT_TOKEN);
    const secretToken = (await st.get(`${team}/webhook_secret`))!.value.revealText();
    expect(secretToken).toMatch(/^[A-Za-z0-9_-]{1,256}$/);
    expect(readFileSync(join(s.home, 'secrets', 'secrets.store.json'), 'utf8')).not.toContain(BOT_TOKEN);

    // the webhook was set through the (fake) Bot API with that secret token
    expect(tg.webhooks.get(BOT_TOKEN)).toEqual({
      url: 'https://bot.example.test/webhooks/telegram/telegram',
      secret_token: secretToken,
    });

    // dev signing key (PKCS#8 Ed25519) and its public half in the trust store
    const pem = readFileSync(join(s.home, 'dev-ed25519.pem'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(statSync(join(s.home, 'dev-ed25519.pem')).mode & 0o777).toBe(0o600);
    const key = await privateKeyFromPem(pem);
    const trust = await loadTrustStore([join(s.home, 'trust')]);
    expect(trust.keys.map((k) => k.fingerprint)).toContain(key.fingerprint);

    // records and the dev-desktop runner config
    const state = JSON.parse(readFileSync(join(s.home, 'deployer', 'acme-dev.state.json'), 'utf8'));
    expect(Object.keys(state.resources)).toEqual(
      expect.arrayContaining(['tenant:acme', 'team:acme/support', 'user:acme/ada', 'connector:telegram']),
    );
    expect(JSON.stringify(state)).not.toContain(BOT_TOKEN);
    expect(JSON.stringify(state)).not.toContain(secretToken);
    expect(existsSync(join(s.home, 'deploy', 'acme-dev', 'dev-desktop', 'runner.yaml'))).toBe(true);
    expect(r.stderr).not.toContain(BOT_TOKEN);
  });

  it('fails with exit code 3 naming every variable to set when a secret is missing and it may not ask', async () => {
    const s = sandbox();
    await initTelegram(s);
    const r = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`error GT_DEPLOY_SECRET_MISSING [step secrets, resource secret:${URI}]`);
    expect(r.stderr).toContain('TELEGRAM_BOT_TOKEN or GREENTIC_SECRET__DEV__ACME_____TELEGRAM__BOT_TOKEN');
    expect(r.stderr).toMatch(/what to do: set the environment variables named above, or pass --secrets-file/);
    expect(tg.calls).toEqual([]);
  });

  it('takes secrets from --secrets-file (by URI), and refuses a malformed bot token without echoing it', async () => {
    const s = sandbox();
    await initTelegram(s);
    const bad = join(s.cwd, 'bad.yaml');
    writeFileSync(bad, `"${URI}": "not a token"\n`);
    const b = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive', '--secrets-file', bad]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/GT_DEPLOY_SECRETS .*does not look like a Telegram bot token/);
    expect(b.stderr).not.toContain('not a token');
    const good = join(s.cwd, 'secrets.yaml');
    writeFileSync(good, `"${URI}": "${BOT_TOKEN}"\n`);
    const r = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive', '--secrets-file', good]);
    expect(r.code, r.stderr).toBe(0);
    expect((await store(s.home).get(URI))?.value.revealText()).toBe(BOT_TOKEN);
  });

  it('asks for a missing secret on the terminal without echoing it', async () => {
    const s = sandbox();
    await initTelegram(s);
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
    setTimeout(() => stdin.write(`${BOT_TOKEN}\n`), 50);
    const r = await s.run(['bootstrap', '--env', 'dev-desktop'], { stdin });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${URI} (input hidden): `);
    expect(r.stderr).not.toContain(BOT_TOKEN);
    expect(r.stdout).not.toContain(BOT_TOKEN);
    expect((await store(s.home).get(URI))?.value.revealText()).toBe(BOT_TOKEN);
  });

  it('reports a refused setWebhook with the step, the resource and what to do', async () => {
    const s = sandbox({ TELEGRAM_BOT_TOKEN: '999:WRONG-token' });
    await initTelegram(s);
    const r = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error GT_DEPLOY_PROVIDER [step webhook, resource connector:telegram]: Telegram setWebhook failed: 401 Unauthorized',
    );
    expect(r.stderr).toMatch(/what to do: the bot token is wrong/);
    expect(r.stderr).not.toContain('999:WRONG-token');
  });

  it('needs a public URL for the webhook, and says where to set it', async () => {
    const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    const init = await s.run(['init', '--tenant', 'acme', '--connector', 'messaging.telegram']);
    expect(init.code).toBe(0);
    const r = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /\[step webhook, resource connector:telegram\]: connector telegram needs a public webhook URL/,
    );
    expect(r.stderr).toMatch(/what to do: set target\.public_url/);
  });

  it('builds and signs the listed packs with the dev key', async () => {
    const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    await initTelegram(s, ['--pack', HELLO_PACK]);
    const r = await s.json(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code, r.stderr).toBe(0);
    const out = join(s.home, 'build', 'packs', 'dev.greentic.deployer-hello-0.1.0.gtpack');
    const { readPack } = await import('@greentic/pack');
    const p = await readPack(out, { trust: [join(s.home, 'trust')] });
    expect(p.signature).toMatchObject({ signed: true, trusted: true });
    expect([...p.flows.keys()]).toEqual(['hello']);
    // and loads it into the runner's pack store as the tenant's pack, which the runner config names
    const index = JSON.parse(readFileSync(join(s.home, 'packs', 'index', 'tenants', 'acme.json'), 'utf8'));
    expect(index.current).toMatchObject({
      pack_id: 'dev.greentic.deployer-hello',
      digest: p.archiveDigest,
      signed: true,
      trusted: true,
    });
    const runnerYaml = readFileSync(join(s.home, 'deploy', 'acme-dev', 'dev-desktop', 'runner.yaml'), 'utf8');
    expect(runnerYaml).not.toContain('hello.ygtc');
    expect(runnerYaml).toContain(join(s.home, 'packs'));
  });

  it('publishes a pack to the configured registry through the publish function', async () => {
    const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    await initTelegram(s, ['--pack', HELLO_PACK, '--registry', 'oci://127.0.0.1:5999/greentic']);
    const { apply, greenticHome, loadDescription } = await import('../src/index.js');
    const pushed: string[] = [];
    const r = await apply({
      home: greenticHome(s.home),
      loaded: loadDescription(join(s.cwd, 'greentic.yaml')),
      env: s.env,
      startRunner: false,
      secretValues: new Map([[URI, BOT_TOKEN]]),
      push: async (file, ref) => {
        expect(existsSync(String(file))).toBe(true);
        pushed.push(ref);
        return {
          ref: `${ref.replace(/:[^:/]+$/, '')}@sha256:${'a'.repeat(64)}`,
          digest: `sha256:${'a'.repeat(64)}`,
        };
      },
    });
    expect(pushed).toEqual(['oci://127.0.0.1:5999/greentic/dev.greentic.deployer-hello:0.1.0']);
    expect(r.entries.find((e) => e.id === 'publish:dev.greentic.deployer-hello')?.action).toBe('create');
  });

  it('exports a quickstart helper: init + bootstrap in a fresh home against a fake Telegram', async () => {
    const home = tempDir();
    const cwd = tempDir();
    const q = await quickstartEnvironment({ cwd, home, telegramApiBase: tg.url, packs: [HELLO_PACK] });
    expect(q.init).toBe(0);
    expect(q.bootstrap, q.stderr).toBe(0);
    expect(existsSync(q.paths.signingKey)).toBe(true);
    expect(existsSync(q.paths.publicKey)).toBe(true);
    expect(existsSync(q.paths.runnerConfig)).toBe(true);
    expect(tg.webhooks.size).toBe(1);
  });
});

describe('the dev signing key', () => {
  it('signs with the key packc keygen made when there is one, instead of making a second', async () => {
    const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    const { runPackc } = await import('@greentic/pack');
    let out = '';
    const code = await runPackc(['keygen', '--json'], {
      stdout: {
        write: (x: string) => {
          out += x;
        },
      },
      stderr: { write: () => true },
      env: s.env,
    });
    expect(code, out).toBe(0);
    expect(existsSync(join(s.home, 'keys', 'dev.key.pem'))).toBe(true);
    await initTelegram(s, ['--pack', HELLO_PACK]);
    const r = await s.run(['bootstrap', '--env', 'dev-desktop', '--non-interactive']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(s.home, 'dev-ed25519.pem'))).toBe(false);
    const { readPack } = await import('@greentic/pack');
    const p = await readPack(join(s.home, 'build', 'packs', 'dev.greentic.deployer-hello-0.1.0.gtpack'), {
      trust: [join(s.home, 'trust')],
    });
    expect(p.signature.trusted).toBe(true);
  });
});
