// plan / apply / destroy: idempotence, resuming an interrupted apply, and destroy removing what was created.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EncryptedFileSecretsProvider } from '@greentic/secrets';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeTelegram, startFakeTelegram } from '../src/testing/index.js';
import { BOT_TOKEN, cleanupDirs, HELLO_PACK, type Sandbox, sandbox } from './helpers.js';

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

const TOKEN_URI = 'secrets://dev/acme/_/telegram/bot_token';
const WEBHOOK_URI = 'secrets://dev/acme/_/telegram/webhook_secret';

interface Entry {
  id: string;
  action: string;
  reason: string;
}

async function setup(extra: string[] = [], target = 'serverless'): Promise<Sandbox> {
  const s = sandbox({ TELEGRAM_BOT_TOKEN: BOT_TOKEN });
  const init = await s.run([
    'init',
    '--tenant',
    'acme',
    '--user',
    'ada',
    '--connector',
    'messaging.telegram',
    '--telegram-api-base',
    tg.url,
    '--public-url',
    'https://bot.example.test',
    '--target',
    target,
    '--pack',
    HELLO_PACK,
    ...extra,
  ]);
  expect(init.code, init.stderr).toBe(0);
  return s;
}

const actions = (doc: Record<string, unknown>) =>
  Object.fromEntries((doc.entries as Entry[]).map((e) => [e.id, e.action]));

function secretsStore(home: string) {
  return new EncryptedFileSecretsProvider({
    dir: join(home, 'secrets'),
    masterKey: readFileSync(join(home, 'master.key'), 'utf8').trim(),
  });
}

describe('plan and apply', () => {
  it('plans every resource as create on a fresh home, and changes nothing on disk', async () => {
    const s = await setup();
    const p = await s.json(['plan']);
    expect(p.code).toBe(0);
    expect(p.doc).toMatchObject({ command: 'plan', target: 'serverless' });
    expect(actions(p.doc)).toEqual({
      'master-key': 'create',
      'tenant:acme': 'create',
      'user:acme/ada': 'create',
      [`secret:${TOKEN_URI}`]: 'create',
      [`secret:${WEBHOOK_URI}`]: 'create',
      'signing-key:dev': 'create',
      'connector:telegram': 'create',
      'pack:dev.greentic.deployer-hello': 'create',
      'artifacts:serverless': 'create',
    });
    expect(existsSync(join(s.home, 'master.key'))).toBe(false);
    expect(tg.calls).toEqual([]);
    const text = await s.run(['plan']);
    expect(text.stdout).toMatch(
      /plan for acme-dev \(target serverless\): 9 to create, 0 to update, 0 to delete/,
    );
    expect(text.stdout).toMatch(/\+ connector:telegram\s+not created yet/);
    const detailed = await s.run(['plan', '--detailed-exitcode']);
    expect(detailed.code).toBe(4);
  });

  it('is idempotent: a second apply changes nothing and calls no provider', async () => {
    const s = await setup();
    const first = await s.json(['apply', '--non-interactive']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.doc.changes).toBe(9);
    const setWebhooks = tg.calls.filter((c) => c.method === 'setWebhook').length;
    expect(setWebhooks).toBe(1);
    const stateBefore = readFileSync(join(s.home, 'deployer', 'acme-dev.state.json'), 'utf8');
    const outDir = join(s.home, 'deploy', 'acme-dev', 'serverless');
    const filesBefore = readdirSync(outDir, { recursive: true }).sort();

    const second = await s.json(['apply', '--non-interactive']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.doc.changes).toBe(0);
    expect(new Set(Object.values(actions(second.doc)))).toEqual(new Set(['no-op']));
    expect(tg.calls.filter((c) => c.method === 'setWebhook')).toHaveLength(setWebhooks);
    expect(readFileSync(join(s.home, 'deployer', 'acme-dev.state.json'), 'utf8')).toBe(stateBefore);
    expect(readdirSync(outDir, { recursive: true }).sort()).toEqual(filesBefore);
    const plan = await s.run(['plan', '--detailed-exitcode']);
    expect(plan.code).toBe(0);
  });

  it('updates only what changed: a new public URL re-sets the webhook and regenerates nothing else', async () => {
    const s = await setup();
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    const file = join(s.cwd, 'greentic.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('https://bot.example.test', 'https://new.example.test'),
    );
    const p = await s.json(['plan']);
    expect(Object.entries(actions(p.doc)).filter(([, a]) => a !== 'no-op')).toEqual([
      ['connector:telegram', 'update'],
    ]);
    const a = await s.json(['apply', '--non-interactive']);
    expect(a.code, a.stderr).toBe(0);
    expect(tg.webhooks.get(BOT_TOKEN)?.url).toBe('https://new.example.test/webhooks/telegram/telegram');
  });

  it('re-creates what disappeared on disk (drift)', async () => {
    const s = await setup();
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    const env = join(s.home, 'deploy', 'acme-dev', 'serverless', 'runner.env');
    writeFileSync(env, 'tampered\n');
    const p = await s.json(['plan']);
    expect(actions(p.doc)['artifacts:serverless']).toBe('update');
    expect((p.doc.entries as Entry[]).find((e) => e.id === 'artifacts:serverless')?.reason).toMatch(
      /on disk/,
    );
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    expect(readFileSync(env, 'utf8')).toMatch(/^GREENTIC_RUNNER_STORES=redis$/m);
  });

  it('resumes an apply interrupted in the middle of a step (injected failure), without repeating finished steps', async () => {
    const s = await setup();
    s.env.GREENTIC_DEPLOYER_FAIL_AT = 'connector:telegram';
    const broken = await s.run(['apply', '--non-interactive']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /error GT_DEPLOY_INJECTED \[step state, resource connector:telegram\]: injected failure in connector:telegram after step webhook-set/,
    );
    const state = JSON.parse(readFileSync(join(s.home, 'deployer', 'acme-dev.state.json'), 'utf8'));
    expect(state.resources['connector:telegram']).toMatchObject({
      status: 'in-progress',
      step: 'webhook-set',
    });
    expect(state.resources[`secret:${WEBHOOK_URI}`]).toMatchObject({ status: 'applied' });
    expect(state.resources['pack:dev.greentic.deployer-hello']).toBeUndefined();
    const secretBefore = (await secretsStore(s.home).get(WEBHOOK_URI))!.value.revealText();

    delete s.env.GREENTIC_DEPLOYER_FAIL_AT;
    const p = await s.json(['plan']);
    expect((p.doc.entries as Entry[]).find((e) => e.id === 'connector:telegram')).toMatchObject({
      action: 'update',
      reason: 'interrupted after step webhook-set: resume',
    });
    expect(actions(p.doc)[`secret:${WEBHOOK_URI}`]).toBe('no-op');
    const resumed = await s.json(['apply', '--non-interactive']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(actions(resumed.doc)).toMatchObject({
      [`secret:${WEBHOOK_URI}`]: 'no-op',
      'connector:telegram': 'update',
      'pack:dev.greentic.deployer-hello': 'create',
      'artifacts:serverless': 'create',
    });
    // the generated secret token was kept: the webhook is set with the same one
    expect((await secretsStore(s.home).get(WEBHOOK_URI))!.value.revealText()).toBe(secretBefore);
    expect(tg.webhooks.get(BOT_TOKEN)?.secret_token).toBe(secretBefore);
    const again = await s.json(['apply', '--non-interactive']);
    expect(again.doc.changes).toBe(0);
  });

  it('resumes after a failure at an injected step of file generation', async () => {
    const s = await setup();
    s.env.GREENTIC_DEPLOYER_FAIL_AT = 'artifacts:serverless#writing';
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(1);
    delete s.env.GREENTIC_DEPLOYER_FAIL_AT;
    const r = await s.json(['apply', '--non-interactive']);
    expect(r.code).toBe(0);
    expect(actions(r.doc)['artifacts:serverless']).toBe('update');
    expect(existsSync(join(s.home, 'deploy', 'acme-dev', 'serverless', 'runner.yaml'))).toBe(true);
  });

  it('switching target removes the old target\u2019s files', async () => {
    const s = await setup();
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    const k = await s.json(['apply', '--env', 'k8s', '--non-interactive']);
    expect(k.code, k.stderr).toBe(0);
    expect(actions(k.doc)).toMatchObject({ 'artifacts:serverless': 'delete', 'artifacts:k8s': 'create' });
    expect(existsSync(join(s.home, 'deploy', 'acme-dev', 'serverless'))).toBe(false);
    expect(
      existsSync(join(s.home, 'deploy', 'acme-dev', 'k8s', 'helm', 'greentic-runner', 'Chart.yaml')),
    ).toBe(true);
    // the recorded target is the default from now on
    const p = await s.json(['plan']);
    expect(p.doc.target).toBe('k8s');
    expect(p.doc.changes).toBe(0);
  });
});

describe('destroy', () => {
  it('deletes the webhook, the secrets it stored, the built packs and the generated files', async () => {
    const s = await setup();
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    expect(tg.webhooks.size).toBe(1);
    const d = await s.json(['destroy']);
    expect(d.code, d.stderr).toBe(0);
    expect(tg.calls.map((c) => c.method)).toContain('deleteWebhook');
    expect(tg.webhooks.size).toBe(0);
    const st = secretsStore(s.home);
    expect(await st.get(TOKEN_URI)).toBeUndefined();
    expect(await st.get(WEBHOOK_URI)).toBeUndefined();
    expect(readdirSync(join(s.home, 'build', 'packs'))).toEqual([]);
    expect(existsSync(join(s.home, 'deploy', 'acme-dev', 'serverless'))).toBe(false);
    // the master key and the dev signing key stay (shared with other tools) unless --purge
    expect(d.doc.kept).toEqual(['signing-key:dev', 'master-key']);
    expect(existsSync(join(s.home, 'master.key'))).toBe(true);
    expect(existsSync(join(s.home, 'dev-ed25519.pem'))).toBe(true);
    const purge = await s.json(['destroy', '--purge']);
    expect(purge.doc.removed).toEqual(['signing-key:dev', 'master-key']);
    expect(existsSync(join(s.home, 'master.key'))).toBe(false);
    expect(existsSync(join(s.home, 'dev-ed25519.pem'))).toBe(false);
    expect(existsSync(join(s.home, 'deployer', 'acme-dev.state.json'))).toBe(false);
  });

  it('keeps secrets with --keep-secrets, and leaves alone secrets it did not store', async () => {
    const s = await setup();
    // the token was put in the store by someone else before bootstrap
    const { createMasterKey, greenticHome, openSecretsStore } = await import('../src/index.js');
    const h = greenticHome(s.home);
    await openSecretsStore(h, createMasterKey(h)).put(TOKEN_URI, BOT_TOKEN);
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    const d = await s.json(['destroy', '--keep-secrets']);
    expect(d.doc.kept).toEqual(expect.arrayContaining([`secret:${WEBHOOK_URI}`]));
    expect(d.doc.left).toEqual([`secret:${TOKEN_URI}`, 'master-key']);
    expect(await secretsStore(s.home).get(WEBHOOK_URI)).toBeDefined();
    const d2 = await s.json(['destroy']);
    expect(d2.code).toBe(0);
    expect(await secretsStore(s.home).get(WEBHOOK_URI)).toBeUndefined();
    expect((await secretsStore(s.home).get(TOKEN_URI))?.value.revealText()).toBe(BOT_TOKEN);
  });

  it('stops on an unreachable provider unless --force', async () => {
    const s = await setup();
    expect((await s.run(['apply', '--non-interactive'])).code).toBe(0);
    tg.failNext('deleteWebhook', 2, 502);
    const d = await s.run(['destroy']);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(
      /GT_DEPLOY_PROVIDER \[step webhook, resource connector:telegram\]: Telegram deleteWebhook failed: 502/,
    );
    const f = await s.run(['destroy', '--force']);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stderr).toMatch(/warning: .*--force/);
  });
});
