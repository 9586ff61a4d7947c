/**
 * OAuth through the runner platform, in-process against a real OpenID Connect provider (oidc-provider on
 * 127.0.0.1): a flow's `oauth:` node parks the conversation with the sign-in link, the user signs in, the callback
 * route completes the consent, and the resume message `oauthPlatform` hands to its callback continues the flow to
 * the end. Tokens go to the platform's encrypted secrets store.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFlow } from '@greentic/flow';
import { CompositeComponentRegistry } from '@greentic/interfaces';
import { STORE_FILE } from '@greentic/secrets';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { createLogger } from '@greentic/telemetry';
import type { ChannelMessageEnvelope } from '@greentic/types';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowEngine, type TurnResult } from '../src/engine/engine.js';
import { envelopeFromInput } from '../src/input.js';
import {
  createPlatform,
  type OAuthPlatform,
  oauthPlatform,
  type RunnerPlatform,
} from '../src/platform/index.js';
import { signIn, startTestIdp, type TestIdp } from './platform-support.js';

const REDIRECT = 'http://127.0.0.1:8080/oauth/callback';
const MASTER_KEY = 'oauth-platform-test-master-key-0123456789';

let home: string;
let idp: TestIdp;
let platform: RunnerPlatform;
let oauth: OAuthPlatform;
let app: FastifyInstance;
let engine: FlowEngine;
const logLines: string[] = [];
/** What onResume received, and the turn each resume message ran. */
const resumed: { msg: ChannelMessageEnvelope; turn: Promise<TurnResult> }[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'gt-platform-oauth-'));
  idp = await startTestIdp(REDIRECT);
  platform = await createPlatform({
    env: { GREENTIC_HOME: home, GREENTIC_SECRETS_MASTER_KEY: MASTER_KEY },
    logger: createLogger({
      env: {},
      level: 'debug',
      destination: { write: (l: string) => void logLines.push(l) },
    }),
  });
  oauth = oauthPlatform({
    platform,
    providers: [
      {
        id: 'corp',
        displayName: 'Corp ID',
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
      },
    ],
    signingKey: 'oauth-platform-test-signing-key-0123456789-abcdef',
    redirectUris: [REDIRECT],
    // a single process: the resume message goes straight to the engine (a daemon publishes it to its ingress)
    onResume: (msg) => {
      const turn = engine.handleMessage(msg);
      resumed.push({ msg, turn });
      return turn.then(() => {});
    },
  });
  engine = new FlowEngine({
    sessions: new MemorySessionStore(),
    state: new MemoryStateStore(),
    components: new CompositeComponentRegistry([oauth.registry]),
    tracer: platform.tracer,
  }).registerFlow(
    loadFlow(`
id: calendar
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
`),
  );
  app = Fastify();
  await app.register(oauth.routes);
  await app.ready();
}, 30_000);

afterAll(async () => {
  await app?.close();
  await idp?.close();
  await platform?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('oauthPlatform', () => {
  it('parks on the oauth node with the sign-in link, and the consent resumes the flow to its end', async () => {
    const first = await engine.handleMessage(
      envelopeFromInput(
        { text: 'connect my calendar', conversation: 'chat-7' },
        {
          env: 'dev',
          tenant: 'acme',
          user: 'u-ada',
          channel: 'webchat',
        },
      ),
    );
    expect(first.status).toBe('pending');
    expect(first.waitReason).toBe('oauth consent');
    expect(first.trail).toEqual(['connect']);
    const reply = first.replies[0]!;
    expect(reply.text).toContain('sign in with Corp ID');
    const card = reply.card as { actions: { type: string; url: string }[] };
    expect(card.actions[0]!.type).toBe('Action.OpenUrl');
    const link = card.actions[0]!.url;
    expect(link.startsWith(`${idp.issuer}/`)).toBe(true);

    // the user's browser: the provider's login and consent, then its redirect to the runner's callback route
    const callback = new URL(await signIn(link, 'ada', REDIRECT));
    const page = await app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Signed in with Corp ID');
    expect(page.body).toContain('You can close this window and return to the chat.');

    // onConsentComplete → consentResumeMessage → onResume → the parked conversation continued
    expect(resumed).toHaveLength(1);
    const { msg, turn } = resumed[0]!;
    expect(msg.id).toMatch(/^oauth-consent-/);
    expect(msg).toMatchObject({
      channel: 'webchat',
      session_id: 'chat-7',
      tenant: { env: 'dev', tenant_id: 'acme', user_id: 'u-ada' },
      metadata: { action: 'oauth.consent', oauth_provider: 'corp' },
    });
    const done = await turn;
    expect(done.status).toBe('done');
    expect(done.trail).toEqual(['connect', 'done']);
    expect(done.replies.map((r) => r.text)).toEqual(['Connected to corp.']);

    // a redelivered resume message is not applied twice: its recorded replies come back, nothing runs
    const again = await engine.handleMessage(msg);
    expect(again).toMatchObject({ duplicate: true, trail: [] });
    expect(again.replies.map((r) => r.id)).toEqual(done.replies.map((r) => r.id));

    // the tokens sit encrypted in the platform's store; the handle (only) travelled in the message
    const raw = readFileSync(join(platform.secretsDir, STORE_FILE), 'utf8');
    expect(raw).toContain('secrets://dev/acme/_/oauth/corp-');
    const token = await oauth.broker.resolveHandle(msg.metadata!.oauth_handle as string, msg.tenant);
    expect(raw).not.toContain(token.access_token.revealText());
    expect(logLines.join('\n')).not.toContain(token.access_token.revealText());
    expect(logLines.join('\n')).not.toContain(idp.clientSecret);
    // the broker's audit went to the platform's logger
    expect(logLines.some((l) => l.includes('"oauth_audit"') && l.includes('consent.completed'))).toBe(true);
  });

  it('serves the discovery document of the configured providers', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/greentic-oauth' });
    expect(res.json()).toMatchObject({
      providers: [{ id: 'corp', display_name: 'Corp ID' }],
      start_endpoint: '/oauth/start',
      callback_endpoint: '/oauth/callback',
    });
    // no authorizeStart configured: nobody may start a consent over HTTP
    const start = await app.inject({
      method: 'POST',
      url: '/oauth/start',
      payload: { tenant: { env: 'dev', tenant: 'acme' }, provider: 'corp' },
    });
    expect(start.statusCode).toBe(403);
  });

  it('needs a writable store for the tokens and a resume callback', () => {
    expect(() =>
      oauthPlatform({
        providers: [],
        signingKey: 'x'.repeat(40),
        redirectUris: [REDIRECT],
        onResume: () => {},
      }),
    ).toThrow(/needs a writable secrets provider/);
    expect(() =>
      oauthPlatform({
        platform,
        providers: [],
        signingKey: 'x'.repeat(40),
        redirectUris: [REDIRECT],
        onResume: undefined as never,
      }),
    ).toThrow(/needs onResume/);
  });
});
