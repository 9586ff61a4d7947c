import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComponentInvoker, InvocationEnvelope } from '@greentic/interfaces';
import { EncryptedFileSecretsProvider, STORE_FILE } from '@greentic/secrets';
import { type ChannelMessageEnvelope, type ReplyScope, type TenantCtx, tenantCtx } from '@greentic/types';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsentCompleteEvent,
  consentResumeMessage,
  OAUTH_CONSENT_ACTION,
  OAuthBroker,
  OAuthComponentRegistry,
  type OAuthPendingOutcome,
  oauthRoutes,
  SecretsConsentStore,
} from '../src/index.js';
import { Browser, startTestOp, type TestOp } from './support/op.js';

const REDIRECT = 'https://bot.example.test/oauth/callback';

let op: TestOp;
let dir: string;
let store: EncryptedFileSecretsProvider;
let broker: OAuthBroker;
let app: FastifyInstance;
let invoker: ComponentInvoker;
/** What the runner would do in onConsentComplete: publish this message into the conversation. */
const published: ChannelMessageEnvelope[] = [];

const ctx = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support', user: 'u-ada' });
const scope: ReplyScope = { conversation: 'chat-42', thread: 'th-1' };

/** The envelope the engine builds for a component node (with the proposed `metadata.conversation`). */
function envelope(
  payload: unknown,
  resumedWith?: ChannelMessageEnvelope | { text: string },
  who: TenantCtx = ctx,
): InvocationEnvelope {
  const conversation = { reply_scope: scope, channel: 'webchat', session_id: 'chat-42' };
  let metadata: Record<string, unknown> = { conversation };
  if (resumedWith) {
    const m = 'metadata' in resumedWith ? (resumedWith.metadata ?? {}) : {};
    const input = {
      text: resumedWith.text ?? '',
      attachments: [],
      metadata: m,
      ...(m.action ? { action: m.action } : {}),
    };
    metadata = { resumed: true, input, conversation };
  }
  return {
    ctx: { ...who, flow_id: 'calendar', node_id: 'connect' },
    flow_id: 'calendar',
    step_id: 'connect',
    component_id: 'oauth',
    attempt: 1,
    payload,
    metadata,
  };
}

beforeAll(async () => {
  op = await startTestOp({ redirectUris: [REDIRECT] });
  dir = await mkdtemp(join(tmpdir(), 'gt-oauth-'));
  store = new EncryptedFileSecretsProvider({
    dir,
    masterKey: 'file-store-master-key-for-tests',
    kdf: { N: 2 ** 10 },
  });
  broker = new OAuthBroker({
    providers: [
      {
        id: 'corp',
        displayName: 'Corp ID',
        issuer: op.issuer,
        clientId: op.clientId,
        clientSecret: op.clientSecret,
      },
    ],
    secrets: store,
    consents: new SecretsConsentStore(store),
    signingKey: 'flow-node-signing-key-0123456789-abcdefghijklmnopqrstuv',
    redirectUris: [REDIRECT],
    onConsentComplete: (event: ConsentCompleteEvent) => {
      const msg = consentResumeMessage(event);
      if (msg) published.push(msg);
    },
  });
  app = Fastify();
  await app.register(oauthRoutes, { broker });
  await app.ready();
  const registry = new OAuthComponentRegistry({ broker });
  invoker = (await registry.resolve({ kind: 'builtin', component: 'oauth', operation: 'oauth' }, ctx))!;
  expect(invoker).toBeDefined();
  expect(
    await registry.resolve({ kind: 'builtin', component: 'other', operation: 'other' }, ctx),
  ).toBeUndefined();
});

afterAll(async () => {
  await app?.close();
  await op?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function followLink(outcome: unknown, approve = true) {
  const pending = (outcome as OAuthPendingOutcome).Pending;
  const url = (pending.reply as { card: { actions: { url: string }[] } }).card.actions[0]!.url;
  const back = await new Browser().authorize(url, { login: 'ada', stopAt: REDIRECT, approve });
  const u = new URL(back);
  return app.inject({ method: 'GET', url: `${u.pathname}${u.search}` });
}

describe('the oauth flow node', () => {
  const payload = { provider: 'corp', scopes: ['openid', 'email', 'offline_access'] };

  it('parks with a sign-in card, resumes on consent and outputs a handle', async () => {
    const first = await invoker.invoke('oauth', envelope(payload));
    expect(first).toMatchObject({ Pending: { reason: 'oauth consent' } });
    const pending = (first as OAuthPendingOutcome).Pending;
    expect(pending.reason).toBe('oauth consent');
    expect(pending.expected_input).toEqual(['oauth_consent']);
    const reply = pending.reply as {
      text: string;
      card: { type: string; actions: { type: string; title: string; url: string }[] };
    };
    expect(reply.text).toContain('sign in with Corp ID');
    expect(reply.card.type).toBe('AdaptiveCard');
    expect(reply.card.actions[0]).toMatchObject({ type: 'Action.OpenUrl', title: 'Sign in with Corp ID' });
    expect(reply.text).toContain(reply.card.actions[0].url);

    const res = await followLink(first);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Signed in with Corp ID');
    expect(published).toHaveLength(1);
    const msg = published[0]!;
    expect(msg).toMatchObject({
      channel: 'webchat',
      session_id: 'chat-42',
      reply_scope: scope,
      text: '',
      tenant: { env: 'dev', tenant_id: 'acme', team_id: 'support', user_id: 'u-ada' },
    });
    expect(msg.id).toMatch(/^oauth-consent-/);
    expect(msg.metadata?.action).toBe(OAUTH_CONSENT_ACTION);

    const resumed = await invoker.invoke('oauth', envelope(payload, msg));
    expect('Done' in resumed).toBe(true);
    const out = (resumed as { Done: Record<string, unknown> }).Done;
    expect(Object.keys(out).sort()).toEqual(['expires_at', 'handle', 'provider', 'scopes']);
    expect(out).toMatchObject({ provider: 'corp', scopes: ['openid', 'email', 'offline_access'] });
    const token = await broker.resolveHandle(out.handle as string, ctx);
    const me = await fetch(`${op.issuer}/me`, {
      headers: { authorization: `Bearer ${token.access_token.revealText()}` },
    });
    expect(me.status).toBe(200);
  });

  it('keeps the tokens encrypted on disk', async () => {
    const raw = await readFile(join(dir, STORE_FILE), 'utf8');
    const handle = published[0]!.metadata!.oauth_handle!;
    const token = (await broker.resolveHandle(handle, ctx)).access_token.revealText();
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(op.clientSecret);
    expect((await store.list({ category: 'oauth' })).map((i) => i.uri)).toEqual([
      expect.stringMatching(/^secrets:\/\/dev\/acme\/support\/oauth\/corp-[0-9a-f]{32}$/),
    ]);
  });

  it('repeats the prompt with a fresh link when the user writes while waiting, and cancels on "cancel"', async () => {
    const first = (await invoker.invoke('oauth', envelope(payload))) as OAuthPendingOutcome;
    const again = (await invoker.invoke(
      'oauth',
      envelope(payload, { text: 'hello?' }),
    )) as OAuthPendingOutcome;
    expect(again.Pending.reason).toBe('oauth consent');
    const r1 = first.Pending.reply as { text: string };
    const r2 = again.Pending.reply as { text: string };
    expect(r2.text).toContain('still waiting');
    expect(r2.text).not.toBe(r1.text);
    const cancelled = await invoker.invoke('oauth', envelope(payload, { text: ' Cancel ' }));
    expect(cancelled).toEqual({
      Error: { code: 'permission_denied', message: 'the user cancelled the sign-in with corp' },
    });
  });

  it('ends with permission_denied when the user declines', async () => {
    const first = await invoker.invoke('oauth', envelope(payload));
    const res = await followLink(first, false);
    expect(res.statusCode).toBe(400);
    const msg = published[published.length - 1]!;
    expect(msg.metadata?.oauth_error).toBe('GT_OAUTH_DENIED');
    const resumed = await invoker.invoke('oauth', envelope(payload, msg));
    expect(resumed).toMatchObject({ Error: { code: 'permission_denied' } });
  });

  it('refuses a resume message carrying a handle of another tenant, user or a forged one', async () => {
    const good = published[0]!;
    const globex = tenantCtx({ env: 'dev', tenant: 'globex', team: 'support', user: 'u-ada' });
    expect(await invoker.invoke('oauth', envelope(payload, good, globex))).toMatchObject({
      Error: { code: 'permission_denied' },
    });
    const mallory = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support', user: 'u-mallory' });
    expect(await invoker.invoke('oauth', envelope(payload, good, mallory))).toMatchObject({
      Error: { code: 'permission_denied', message: 'the completed consent belongs to another user' },
    });
    const forged = {
      ...good,
      metadata: { ...good.metadata, oauth_handle: `${good.metadata!.oauth_handle!}x` },
    };
    expect(await invoker.invoke('oauth', envelope(payload, forged))).toMatchObject({
      Error: { code: 'permission_denied' },
    });
    expect(await invoker.invoke('oauth', envelope({ provider: 'other' }, good))).toMatchObject({
      Error: { code: 'permission_denied' },
    });
  });

  it('fails the node with invalid_input for a bad payload or an unknown provider', async () => {
    expect(await invoker.invoke('oauth', envelope({}))).toMatchObject({ Error: { code: 'invalid_input' } });
    expect(await invoker.invoke('oauth', envelope({ provider: 'nope' }))).toMatchObject({
      Error: { code: 'invalid_input' },
    });
    expect(await invoker.invoke('oauth', envelope({ provider: 'corp', scopes: 'a "b' }))).toMatchObject({
      Error: { code: 'invalid_input' },
    });
  });
});
