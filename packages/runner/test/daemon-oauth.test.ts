// OAuth in the runner daemon: the `oauth:` section is checked field by field; with it, `serve` mounts the broker's
// routes and its `oauth` node. End to end in memory mode against a real OpenID Connect provider (oidc-provider on
// loopback) and a fake Telegram API: a flow's `oauth:` node parks the conversation and sends the sign-in link to the
// chat, the user signs in, the provider redirects to the daemon's callback route, and the conversation resumes to
// its end — its reply goes back to the same Telegram chat.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRunnerConfig, type RunnerConfigInput } from '../src/config/config.js';
import { RunnerDaemon } from '../src/daemon/daemon.js';
import { RunnerError } from '../src/errors.js';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from './fake-telegram.js';
import { cleanup, isolated, NATS_URL, uniq, waitFor } from './helpers.js';
import { signIn, startTestIdp, type TestIdp } from './platform-support.js';

const TG_TOKEN = '123456:TEST-oauth-bot-token';
const TG_SECRET = 'webhook-secret-oauth-0123456789';
const ADMIN = 'oauth-test-admin-token-0123456789';
const FLOW = `id: calendar
type: messaging
nodes:
  connect:
    oauth: { provider: corp, scopes: [openid, email] }
    routing:
      - { status: error, to: sorry }
      - { to: done }
  done:
    template: "Connected to {{prev.provider}}."
    routing: out
  sorry:
    template: "No sign-in: {{prev.error.message}}"
    routing: out
`;

const provider = (more: Record<string, unknown> = {}) => ({
  id: 'corp',
  issuer: 'http://127.0.0.1:9999',
  clientId: 'runner',
  clientSecret: 'env:CORP_SECRET',
  ...more,
});

function oauthConfig(oauth: Record<string, unknown>, more: RunnerConfigInput = {}) {
  return loadRunnerConfig(undefined, {
    env: {},
    overrides: {
      flows: { paths: ['/flows'] },
      oauth: { signingKey: 'env:OAUTH_KEY', publicUrl: 'https://runner.example.com', ...oauth },
      ...more,
    } as RunnerConfigInput,
  });
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code).toBe('GT_RUNNER_CONFIG');
    return (e as Error).message;
  }
  throw new Error('expected a GT_RUNNER_CONFIG error');
}

describe('the oauth: section', () => {
  it('accepts providers with secret references and derives the callback from publicUrl', () => {
    const cfg = oauthConfig({ providers: [provider()], publicUrl: 'https://runner.example.com/' });
    expect(cfg.oauth).toMatchObject({
      publicUrl: 'https://runner.example.com',
      redirectUris: [],
      consentStore: 'memory',
      providers: [{ id: 'corp', clientSecret: 'env:CORP_SECRET' }],
    });
  });

  it.each([
    [
      { providers: [provider({ clientId: undefined })] },
      /oauth\.providers\.0: must have required property 'clientId'/,
    ],
    [{ providers: [provider({ id: 'Corp' })] }, /oauth\.providers\.0\.id: must match pattern/],
    [{ providers: [provider({ clientSecrett: 'x' })] }, /oauth\.providers\.0\.clientSecrett: unknown field/],
    [{ providers: [provider({ preset: 'github' })] }, /oauth\.providers\.0\.preset: must be one of/],
    [
      { providers: [provider({ issuer: undefined, preset: 'oidc' })] },
      /oauth\.providers\.0\.issuer: an oidc provider needs issuer/,
    ],
    [
      { providers: [provider({ issuer: undefined })] },
      /oauth\.providers\.0\.authorizationEndpoint: an oauth2 provider needs authorizationEndpoint and tokenEndpoint/,
    ],
    [
      { providers: [provider({ clientSecret: 's3cr3t' })] },
      /oauth\.providers\.0\.clientSecret: a literal secret is refused/,
    ],
    [
      { providers: [provider({ clientSecret: undefined, clientSecretUri: 'env:X' })] },
      /oauth\.providers\.0\.clientSecretUri: must match pattern/,
    ],
    [
      { providers: [provider({ clientSecret: undefined, tokenEndpointAuthMethod: 'client_secret_post' })] },
      /oauth\.providers\.0\.clientSecret: tokenEndpointAuthMethod client_secret_post needs clientSecret or clientSecretUri/,
    ],
    [{ providers: [provider(), provider()] }, /oauth\.providers\.1\.id: provider "corp" is configured twice/],
    [{ providers: [] }, /oauth\.providers: must NOT have fewer than 1 items/],
    [{ providers: [provider()], publicUrl: 'runner.example.com' }, /oauth\.publicUrl: must match pattern/],
  ])('refuses a bad provider or field, naming it (%#)', (oauth, message) => {
    expect(configError(() => oauthConfig(oauth))).toMatch(message);
  });

  it('needs providers, signingKey and publicUrl', () => {
    expect(
      configError(() =>
        loadRunnerConfig(undefined, {
          env: {},
          overrides: { oauth: { providers: [provider()] } } as RunnerConfigInput,
        }),
      ),
    ).toMatch(/^oauth: must have required property 'signingKey'/);
  });
});

/** A free port on loopback (the provider must know the redirect URI before the daemon listens). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe.each(['memory', 'nats'] as const)('OAuth through the daemon (%s mode, Telegram)', (mode) => {
  const id = uniq('oauth');
  let dir: string;
  let tg: FakeTelegram;
  let idp: TestIdp;
  let daemon: RunnerDaemon;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gt-daemon-oauth-'));
    writeFileSync(join(dir, 'calendar.ygtc'), FLOW);
    tg = await startFakeTelegram(TG_TOKEN);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startTestIdp(`${base}/oauth/callback`);
    const config = loadRunnerConfig(undefined, {
      env: {},
      overrides: {
        http: { host: '127.0.0.1', port },
        admin: { token: ADMIN },
        flows: { paths: [join(dir, 'calendar.ygtc')] },
        tenancy: { env: 'test' },
        connectors: [
          {
            provider: 'telegram',
            id: 'acme-bot',
            binding: { env: 'test', tenant: 'acme' },
            botToken: 'env:TG_BOT_TOKEN',
            webhookSecrets: ['env:TG_WEBHOOK_SECRET'],
            apiBaseUrl: tg.url,
            parseMode: 'plain',
          },
        ],
        ...(mode === 'nats'
          ? {
              nats: {
                enabled: true,
                url: NATS_URL,
                subjectPrefix: isolated(id).subjectPrefix,
                streams: isolated(id).streams,
                storage: 'memory',
                consumer: isolated(id).consumer,
                ackWaitMs: 2000,
                duplicateWindowMs: 120_000,
                maxAgeMs: 600_000,
              },
              ordering: { gapTimeoutMs: 5000 },
              egress: { consumer: `egress-${id}` },
            }
          : {}),
        oauth: {
          providers: [
            {
              id: 'corp',
              displayName: 'Corp ID',
              issuer: idp.issuer,
              clientId: idp.clientId,
              clientSecret: 'env:CORP_SECRET',
            },
          ],
          signingKey: 'env:OAUTH_SIGNING_KEY',
          publicUrl: base,
        },
      } as RunnerConfigInput,
    });
    daemon = new RunnerDaemon({
      config,
      env: {
        GREENTIC_HOME: dir,
        GREENTIC_SECRETS_MASTER_KEY: 'daemon-oauth-test-master-key-0123456789',
        TG_BOT_TOKEN: TG_TOKEN,
        TG_WEBHOOK_SECRET: TG_SECRET,
        CORP_SECRET: idp.clientSecret,
        OAUTH_SIGNING_KEY: 'daemon-oauth-test-signing-key-0123456789-abcdef',
      },
    });
    await daemon.start();
  }, 30_000);

  afterAll(async () => {
    await daemon?.stop();
    await idp?.close();
    await tg?.close();
    if (mode === 'nats') await cleanup(id);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parks on the oauth node with the link, completes the consent on the callback route, and resumes to done', async () => {
    const hook = await fetch(`${base}/webhooks/telegram/acme-bot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
      body: telegramUpdate(7001, 'connect my calendar', 4242),
    });
    expect(hook.status).toBe(200);
    const first = await waitFor(
      () => tg.calls.find((c) => c.method === 'sendMessage'),
      'the sign-in message at the fake Telegram API',
    );
    expect(first.body.chat_id).toBe(4242);
    expect(String(first.body.text)).toContain('Corp ID');
    // the link is the card's button (a Telegram inline keyboard URL)
    const link = /"(http:\/\/127\.0\.0\.1:\d+\/auth\?[^"]+)"/.exec(JSON.stringify(first.body))?.[1];
    expect(link?.startsWith(`${idp.issuer}/`)).toBe(true);

    // the user's browser: the provider's login and consent, then its redirect to the daemon's callback route
    const callback = await signIn(link!, 'ada', `${base}/oauth/callback`);
    const page = await fetch(callback);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in with Corp ID');

    // the resume message was queued like a webhook's (memory: the in-process queue; NATS: the ingress stream, the
    // consumer and the egress worker); the reply went back to the same chat
    await waitFor(() => tg.sent().includes('Connected to corp.'), 'the reply of the resumed conversation');
    await daemon.gateway!.idle();
    expect(daemon.gateway!.stats().mode).toBe(mode);
    const replies = tg.calls.filter((c) => c.method === 'sendMessage');
    expect(replies).toHaveLength(2);
    expect(replies[1]!.body.chat_id).toBe(4242);
    expect(daemon.gateway!.stats()).toMatchObject({ deadLetters: 0 });
  });

  it('serves the discovery document; POST /oauth/start needs the admin token', async () => {
    const wk = (await (await fetch(`${base}/.well-known/greentic-oauth`)).json()) as Record<string, unknown>;
    expect(wk).toMatchObject({
      providers: [{ id: 'corp', display_name: 'Corp ID' }],
      callback_endpoint: '/oauth/callback',
    });
    const start = (headers: Record<string, string>) =>
      fetch(`${base}/oauth/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ tenant: { env: 'test', tenant: 'acme' }, provider: 'corp' }),
      });
    expect((await start({})).status).toBe(403);
    expect((await start({ authorization: 'Bearer not-the-admin-token-at-all' })).status).toBe(403);
    const ok = await start({ authorization: `Bearer ${ADMIN}` });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { authorize_url: string };
    expect(body.authorize_url.startsWith(`${idp.issuer}/`)).toBe(true);
    expect(new URL(body.authorize_url).searchParams.get('redirect_uri')).toBe(`${base}/oauth/callback`);
  });
});
