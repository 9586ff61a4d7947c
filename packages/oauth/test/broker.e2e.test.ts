import { MemorySecretsProvider } from '@greentic/secrets';
import { tenantCtx } from '@greentic/types';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsentCompleteEvent,
  discoverOpenIdConfiguration,
  isOAuthError,
  type OAuthAuditRecord,
  OAuthBroker,
  type OAuthErrorCode,
  oauthRoutes,
  subjectHash,
  tokenSecretUri,
} from '../src/index.js';
import { Browser, startTestOp, type TestOp } from './support/op.js';

const REDIRECT = 'https://bot.example.test/oauth/callback';
const REDIRECT_2 = 'https://bot.example.test/oauth/callback-2';
const SIGNING_KEY = 'test-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz';
const RUNNER_TOKEN = 'runner-token-for-tests';
const CLIENT_SECRET_URI = 'secrets://dev/platform/_/oauth-clients/test-idp';

const acme = tenantCtx({ env: 'dev', tenant: 'acme', user: 'u-ada' });
const globex = tenantCtx({ env: 'dev', tenant: 'globex', user: 'u-bob' });

let op: TestOp;
let secrets: MemorySecretsProvider;
let broker: OAuthBroker;
let app: FastifyInstance;
let offset = 0;
const audit: OAuthAuditRecord[] = [];
const events: ConsentCompleteEvent[] = [];
const logs: string[] = [];
const errors: unknown[] = [];
const pages: string[] = [];
let tokenEndpointCalls = 0;
let discoveryCalls = 0;

interface StartAnswer {
  authorize_url: string;
  state: string;
  consent_id: string;
  scopes: string[];
  error: { code: string; message: string };
}

/** Runs `fn`, expects an OAuthError with `code`, and keeps the error for the leak check. */
async function expectCode(fn: () => Promise<unknown>, code: OAuthErrorCode) {
  try {
    await fn();
  } catch (e) {
    errors.push(e);
    expect(isOAuthError(e), `expected OAuthError ${code}, got ${String(e)}`).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return e as Error;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

async function start(body: Record<string, unknown>) {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/start',
    headers: { authorization: `Bearer ${RUNNER_TOKEN}` },
    payload: body,
  });
  return { status: res.statusCode, json: res.json() as StartAnswer };
}

async function callback(url: string) {
  const u = new URL(url);
  const res = await app.inject({ method: 'GET', url: `${u.pathname}${u.search}` });
  pages.push(res.body);
  return res;
}

async function consent(ctxBody: Record<string, unknown>, login: string, extra: Record<string, unknown> = {}) {
  const s = await start({ tenant: ctxBody, provider: 'test-idp', ...extra });
  expect(s.status).toBe(200);
  const browser = new Browser();
  const back = await browser.authorize(s.json.authorize_url, { login, stopAt: REDIRECT });
  return { start: s.json, back, browser };
}

async function userinfo(accessToken: string) {
  const res = await fetch(`${op.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  return {
    status: res.status,
    body: res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined,
  };
}

beforeAll(async () => {
  op = await startTestOp({ redirectUris: [REDIRECT, REDIRECT_2], accessTokenTtl: 300 });
  secrets = new MemorySecretsProvider();
  await secrets.put(CLIENT_SECRET_URI, op.clientSecret);
  const countingFetch = (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    if (url.endsWith('/token')) tokenEndpointCalls++;
    if (url.endsWith('/.well-known/openid-configuration')) discoveryCalls++;
    return fetch(input, init);
  };
  broker = new OAuthBroker({
    providers: [
      {
        id: 'test-idp',
        issuer: op.issuer,
        clientId: op.clientId,
        clientSecretUri: CLIENT_SECRET_URI,
        scopes: ['openid', 'email', 'offline_access'],
      },
      {
        id: 'test-service',
        issuer: op.issuer,
        clientId: op.serviceClientId,
        clientSecret: op.serviceClientSecret,
        tokenEndpointAuthMethod: 'client_secret_post',
        clientCredentialsScopes: ['api:read'],
      },
    ],
    secrets,
    signingKey: SIGNING_KEY,
    redirectUris: [REDIRECT, REDIRECT_2],
    fetch: countingFetch,
    now: () => Date.now() + offset,
    audit: (r) => audit.push(r),
    onConsentComplete: (e) => {
      events.push(e);
    },
  });
  app = Fastify({ logger: { level: 'trace', stream: { write: (line: string) => logs.push(line) } } });
  await app.register(oauthRoutes, {
    broker,
    authorizeStart: (req) => req.headers.authorization === `Bearer ${RUNNER_TOKEN}`,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await op?.close();
});

describe('discovery', () => {
  it('reads the issuer metadata, checks the issuer and caches the document', async () => {
    const http = {
      fetch: (u: string | URL, i?: RequestInit) => fetch(u, i),
      timeoutMs: 5000,
      allowInsecureHttp: false,
    };
    const doc = await discoverOpenIdConfiguration(op.issuer, http);
    expect(doc.issuer).toBe(op.issuer);
    expect(doc.token_endpoint).toBe(`${op.issuer}/token`);
    expect(doc.code_challenge_methods_supported).toContain('S256');

    const before = discoveryCalls;
    await broker.startConsent({ ctx: acme, provider: 'test-idp' });
    await broker.startConsent({ ctx: acme, provider: 'test-idp' });
    expect(discoveryCalls - before).toBeLessThanOrEqual(1);
  });

  it('rejects a discovery document that names another issuer', async () => {
    const http = {
      fetch: (u: string | URL, i?: RequestInit) => fetch(u, i),
      timeoutMs: 5000,
      allowInsecureHttp: false,
    };
    // same server, but asked under another spelling of the issuer
    const other = op.issuer.replace('127.0.0.1', 'localhost');
    await expectCode(() => discoverOpenIdConfiguration(other, http), 'GT_OAUTH_DISCOVERY');
  });
});

describe('authorization code + PKCE through the HTTP routes', () => {
  let handle: string;
  let callbackUrl: string;
  let firstAccess: string;

  it('starts, follows login and consent at the provider, and completes on the callback', async () => {
    const before = events.length;
    const { start: s, back } = await consent({ env: 'dev', tenant: 'acme', user: 'u-ada' }, 'alice', {
      reply_scope: { conversation: 'chat-1', thread: 't-9' },
      channel: 'webchat',
      session_id: 'chat-1',
    });
    const authorize = new URL(s.authorize_url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(authorize.searchParams.get('prompt')).toBe('consent'); // offline_access needs it (OIDC Core §11)
    expect(s.scopes).toEqual(['openid', 'email', 'offline_access']);

    callbackUrl = back;
    expect(new URL(back).searchParams.get('state')).toBe(s.state);
    const res = await callback(back);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).toContain('Signed in with test-idp');
    expect(res.body).toContain('return to the chat');

    expect(events.length).toBe(before + 1);
    const ev = events[events.length - 1]!;
    expect(ev.error).toBeUndefined();
    expect(ev.ctx).toMatchObject({ env: 'dev', tenant_id: 'acme', user_id: 'u-ada' });
    expect(ev.reply_scope).toEqual({ conversation: 'chat-1', thread: 't-9' });
    expect(ev.channel).toBe('webchat');
    expect(ev.scopes).toContain('offline_access');
    handle = ev.handle!;
    expect(handle).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('stores the tokens in the secrets store under oauth/<provider>-<subject hash>', async () => {
    const uri = tokenSecretUri({ env: 'dev', tenant: 'acme' }, 'test-idp', 'alice');
    expect(uri).toBe(`secrets://dev/acme/_/oauth/test-idp-${subjectHash('alice')}`);
    const rec = await secrets.get(uri);
    expect(rec).toBeDefined();
    const stored = rec!.value.revealJson<Record<string, unknown>>();
    expect(stored.subject).toBe('alice');
    expect(typeof stored.access_token).toBe('string');
    expect(typeof stored.refresh_token).toBe('string');
    expect(String(rec!.value)).toBe('[redacted]');
  });

  it('resolves the handle to a working access token, never to the refresh token', async () => {
    const info = await broker.inspectHandle(handle, acme);
    expect(info).toMatchObject({ provider: 'test-idp', subject: 'alice', grant: 'authorization_code' });
    expect(info.scope).toEqual({ env: 'dev', tenant: 'acme', user: 'u-ada' });
    const token = await broker.resolveHandle(handle, acme);
    expect(Object.keys(token).sort()).toEqual([
      'access_token',
      'expires_at',
      'provider',
      'scopes',
      'subject',
      'token_type',
    ]);
    expect(JSON.stringify(token)).not.toContain('refresh');
    firstAccess = token.access_token.revealText();
    const me = await userinfo(firstAccess);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ sub: 'alice', email: 'alice@example.test' });
  });

  it('refreshes an expired access token with the refresh token (once for concurrent callers)', async () => {
    const uri = tokenSecretUri({ env: 'dev', tenant: 'acme' }, 'test-idp', 'alice');
    const oldRefresh = (await secrets.get(uri))!.value.revealJson<{ refresh_token: string }>().refresh_token;
    offset += 10 * 60 * 1000; // past the 300 s access token lifetime, as the broker sees it
    try {
      const calls = tokenEndpointCalls;
      const [a, b, c] = await Promise.all([
        broker.resolveHandle(handle, acme),
        broker.resolveHandle(handle, acme),
        broker.resolveHandle(handle, acme),
      ]);
      expect(tokenEndpointCalls - calls).toBe(1);
      const fresh = a.access_token.revealText();
      expect(fresh).not.toBe(firstAccess);
      expect(b.access_token.revealText()).toBe(fresh);
      expect(c.access_token.revealText()).toBe(fresh);
      expect((await userinfo(fresh)).status).toBe(200);
      const stored = (await secrets.get(uri))!.value.revealJson<{ refresh_token: string }>();
      expect(stored.refresh_token).not.toBe(oldRefresh); // the provider rotates refresh tokens
      expect(audit.some((r) => r.event === 'token.refreshed' && r.tenant === 'acme')).toBe(true);
      // a second resolve within the new lifetime does not refresh again
      const again = tokenEndpointCalls;
      await broker.resolveHandle(handle, acme);
      expect(tokenEndpointCalls).toBe(again);
    } finally {
      offset = 0;
    }
  });

  it('rejects the same callback a second time (single-use state) without calling the provider', async () => {
    const calls = tokenEndpointCalls;
    const before = events.length;
    const res = await callback(callbackUrl);
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('already used');
    expect(res.body).toContain('GT_OAUTH_STATE_REUSED');
    expect(tokenEndpointCalls).toBe(calls);
    expect(events.length).toBe(before);
    const state = new URL(callbackUrl).searchParams.get('state');
    await expectCode(() => broker.completeConsent({ state, code: 'x' }), 'GT_OAUTH_STATE_REUSED');
  });

  it('refuses the handle in another tenant, env or team', async () => {
    await expectCode(() => broker.resolveHandle(handle, globex), 'GT_OAUTH_HANDLE_SCOPE');
    await expectCode(
      () => broker.resolveHandle(handle, tenantCtx({ env: 'prod', tenant: 'acme' })),
      'GT_OAUTH_HANDLE_SCOPE',
    );
    await expectCode(() => broker.inspectHandle(handle, globex), 'GT_OAUTH_HANDLE_SCOPE');
    expect(audit.some((r) => r.event === 'handle.rejected' && r.code === 'GT_OAUTH_HANDLE_SCOPE')).toBe(true);
    // a tenant-wide handle works for a team of the same tenant
    await broker.resolveHandle(handle, tenantCtx({ env: 'dev', tenant: 'acme', team: 'support' }));
  });

  it('binds a team consent to that team', async () => {
    const { back } = await consent({ env: 'dev', tenant: 'acme', team: 'sales', user: 'u-ada' }, 'carol');
    expect((await callback(back)).statusCode).toBe(200);
    const h = events[events.length - 1]!.handle!;
    await broker.resolveHandle(h, tenantCtx({ env: 'dev', tenant: 'acme', team: 'sales' }));
    await expectCode(
      () => broker.resolveHandle(h, tenantCtx({ env: 'dev', tenant: 'acme', team: 'support' })),
      'GT_OAUTH_HANDLE_SCOPE',
    );
    await expectCode(
      () => broker.resolveHandle(h, tenantCtx({ env: 'dev', tenant: 'acme' })),
      'GT_OAUTH_HANDLE_SCOPE',
    );
    expect(
      await secrets.get(`secrets://dev/acme/sales/oauth/test-idp-${subjectHash('carol')}`),
    ).toBeDefined();
  });

  it('detects a tampered handle, an expired one, and a state passed as a handle', async () => {
    const [h, p, s] = handle.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, gt_tenant: 'globex' })).toString('base64url');
    await expectCode(() => broker.resolveHandle(`${h}.${forged}.${s}`, globex), 'GT_OAUTH_HANDLE_INVALID');
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.at(-1);
    await expectCode(() => broker.resolveHandle(`${h}.${p}.${flipped}`, acme), 'GT_OAUTH_HANDLE_INVALID');
    await expectCode(() => broker.resolveHandle('not-a-handle', acme), 'GT_OAUTH_HANDLE_INVALID');
    const { state } = await broker.startConsent({ ctx: acme, provider: 'test-idp' });
    await expectCode(() => broker.resolveHandle(state, acme), 'GT_OAUTH_HANDLE_INVALID');
    const other = new OAuthBroker({
      providers: [{ id: 'test-idp', issuer: op.issuer, clientId: op.clientId, clientSecret: 'x' }],
      secrets,
      signingKey: 'another-signing-key-0123456789-abcdefghijklmnop',
      redirectUris: [REDIRECT],
    });
    await expectCode(() => other.resolveHandle(handle, acme), 'GT_OAUTH_HANDLE_INVALID');
    offset = 8 * 24 * 60 * 60 * 1000;
    try {
      await expectCode(() => broker.resolveHandle(handle, acme), 'GT_OAUTH_HANDLE_EXPIRED');
    } finally {
      offset = 0;
    }
  });
});

describe('state checks', () => {
  it('rejects an expired state before calling the provider', async () => {
    const { back } = await consent({ env: 'dev', tenant: 'acme', user: 'u-ada' }, 'alice');
    const calls = tokenEndpointCalls;
    offset = 16 * 60 * 1000;
    try {
      const res = await callback(back);
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('expired');
      expect(res.body).toContain('GT_OAUTH_STATE_EXPIRED');
      await expectCode(
        () => broker.completeConsent(Object.fromEntries(new URL(back).searchParams)),
        'GT_OAUTH_STATE_EXPIRED',
      );
    } finally {
      offset = 0;
    }
    expect(tokenEndpointCalls).toBe(calls);
  });

  it('detects a tampered state (payload or signature) and a foreign one', async () => {
    const { back } = await consent({ env: 'dev', tenant: 'acme' }, 'alice');
    const params = Object.fromEntries(new URL(back).searchParams);
    const [h, p, s] = params.state!.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, gt_tenant: 'globex' })).toString('base64url');
    await expectCode(
      () => broker.completeConsent({ ...params, state: `${h}.${forged}.${s}` }),
      'GT_OAUTH_STATE_INVALID',
    );
    await expectCode(
      () => broker.completeConsent({ ...params, state: `${h}.${p}.${s.slice(1)}x` }),
      'GT_OAUTH_STATE_INVALID',
    );
    await expectCode(() => broker.completeConsent({ ...params, state: 'garbage' }), 'GT_OAUTH_STATE_INVALID');
    await expectCode(() => broker.completeConsent({ code: params.code }), 'GT_OAUTH_STATE_INVALID');
    const res = await app.inject({ method: 'GET', url: `/oauth/callback?code=x&state=${h}.${forged}.${s}` });
    pages.push(res.body);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('not valid');
    // the untouched state still works once
    const ok = await broker.completeConsent(params);
    expect(ok.subject).toBe('alice');
  });

  it('checks redirect URIs by exact match', async () => {
    for (const bad of [
      'https://evil.example/oauth/callback',
      `${REDIRECT}/`,
      `${REDIRECT}?x=1`,
      REDIRECT.replace('https:', 'http:'),
      REDIRECT.toUpperCase(),
    ]) {
      await expectCode(
        () => broker.startConsent({ ctx: acme, provider: 'test-idp', redirect_uri: bad }),
        'GT_OAUTH_REDIRECT',
      );
    }
    const res = await start({
      tenant: { env: 'dev', tenant: 'acme' },
      provider: 'test-idp',
      redirect_uri: 'https://evil.example/cb',
    });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('GT_OAUTH_REDIRECT');
    // a second allow-listed URI works end to end
    const s = await broker.startConsent({ ctx: acme, provider: 'test-idp', redirect_uri: REDIRECT_2 });
    const back = await new Browser().authorize(s.authorize_url, { login: 'dave', stopAt: REDIRECT_2 });
    const done = await broker.completeConsent(Object.fromEntries(new URL(back).searchParams));
    expect(done.subject).toBe('dave');
  });

  it('reports a declined consent to the conversation and renders it safely', async () => {
    const s = await start({
      tenant: { env: 'dev', tenant: 'acme', user: 'u-ada' },
      provider: 'test-idp',
      reply_scope: { conversation: 'chat-2' },
    });
    const back = await new Browser().authorize(s.json.authorize_url, {
      login: 'alice',
      stopAt: REDIRECT,
      approve: false,
    });
    expect(new URL(back).searchParams.get('error')).toBe('access_denied');
    const before = events.length;
    const res = await callback(back);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('Sign-in cancelled');
    expect(events.length).toBe(before + 1);
    const ev = events[events.length - 1]!;
    expect(ev.handle).toBeUndefined();
    expect(ev.error?.code).toBe('GT_OAUTH_DENIED');
    expect(ev.error?.oauth_error).toBe('access_denied');
    expect(ev.reply_scope).toEqual({ conversation: 'chat-2' });
  });

  it('escapes whatever a provider (or attacker) puts into the callback query', async () => {
    const s = await broker.startConsent({ ctx: acme, provider: 'test-idp' });
    const evil = '<script>alert(1)</script>';
    const res = await app.inject({
      method: 'GET',
      url: `/oauth/callback?state=${encodeURIComponent(s.state)}&error=${encodeURIComponent(evil)}&error_description=${encodeURIComponent(evil)}`,
    });
    pages.push(res.body);
    expect(res.body).not.toContain('<script>');
    expect(res.body).not.toContain('alert(1)</');
  });
});

describe('client credentials', () => {
  it('gets an application token, stores it and re-runs the grant when it has expired', async () => {
    const info = await broker.clientCredentials(acme, 'test-service');
    expect(info).toMatchObject({
      provider: 'test-service',
      grant: 'client_credentials',
      scopes: ['api:read'],
    });
    expect(info.scope).toEqual({ env: 'dev', tenant: 'acme' });
    const t1 = await broker.resolveHandle(info.handle, acme);
    const introspect = async (token: string) => {
      const res = await fetch(`${op.issuer}/token/introspection`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          token,
          client_id: op.serviceClientId,
          client_secret: op.serviceClientSecret,
        }),
      });
      return (await res.json()) as { active: boolean; scope?: string; client_id?: string };
    };
    expect(await introspect(t1.access_token.revealText())).toMatchObject({
      active: true,
      client_id: op.serviceClientId,
    });
    offset = 10 * 60 * 1000;
    try {
      const t2 = await broker.resolveHandle(info.handle, acme);
      expect(t2.access_token.revealText()).not.toBe(t1.access_token.revealText());
    } finally {
      offset = 0;
    }
    await expectCode(() => broker.resolveHandle(info.handle, globex), 'GT_OAUTH_HANDLE_SCOPE');
  });

  it('reports a refused grant without quoting the client secret', async () => {
    const bad = new OAuthBroker({
      providers: [
        {
          id: 'test-service',
          issuer: op.issuer,
          clientId: op.serviceClientId,
          clientSecret: 'wrong-secret-value-123',
          tokenEndpointAuthMethod: 'client_secret_post',
        },
      ],
      secrets,
      signingKey: SIGNING_KEY,
      redirectUris: [REDIRECT],
    });
    const e = await expectCode(
      () => bad.clientCredentials(acme, 'test-service', ['api:read']),
      'GT_OAUTH_TOKEN',
    );
    expect(e.message).toContain('invalid_client');
    expect(e.message).not.toContain('wrong-secret-value-123');
  });
});

describe('consent lifecycle', () => {
  it('says consent is required once the tokens are gone', async () => {
    const { back } = await consent({ env: 'dev', tenant: 'acme', user: 'u-ada' }, 'erin');
    await callback(back);
    const h = events[events.length - 1]!.handle!;
    expect(await broker.disconnect(h, acme)).toBe(true);
    await expectCode(() => broker.resolveHandle(h, acme), 'GT_OAUTH_CONSENT_REQUIRED');
  });

  it('keeps a completed consent when onConsentComplete throws, and records it', async () => {
    const seen: OAuthAuditRecord[] = [];
    const b = new OAuthBroker({
      providers: [
        { id: 'test-idp', issuer: op.issuer, clientId: op.clientId, clientSecretUri: CLIENT_SECRET_URI },
      ],
      secrets,
      signingKey: SIGNING_KEY,
      redirectUris: [REDIRECT],
      audit: (r) => seen.push(r),
      onConsentComplete: () => {
        throw new Error(`bus down (${op.clientSecret})`);
      },
    });
    const s = await b.startConsent({ ctx: acme, provider: 'test-idp', reply_scope: { conversation: 'c-9' } });
    const back = await new Browser().authorize(s.authorize_url, { login: 'frank', stopAt: REDIRECT });
    const done = await b.completeConsent(Object.fromEntries(new URL(back).searchParams));
    expect(done.notified).toBe(false);
    expect((await b.resolveHandle(done.handle, acme)).subject).toBe('frank');
    const failed = seen.find((r) => r.event === 'consent.notify_failed');
    expect(failed?.message).toBe('bus down ([redacted])');
    audit.push(...seen);
  });

  it('does not start a consent for an unknown provider or without the runner token', async () => {
    await expectCode(() => broker.startConsent({ ctx: acme, provider: 'nope' }), 'GT_OAUTH_PROVIDER');
    const res = await app.inject({
      method: 'POST',
      url: '/oauth/start',
      payload: { tenant: { env: 'dev', tenant: 'acme' }, provider: 'test-idp' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('GT_OAUTH_FORBIDDEN');
    const bad = await start({ tenant: { env: 'dev', tenant: 'a b' }, provider: 'test-idp' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('GT_OAUTH_INVALID');
  });

  it('lists its providers at /.well-known/greentic-oauth', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/greentic-oauth' });
    expect(res.json()).toMatchObject({
      start_endpoint: '/oauth/start',
      callback_endpoint: '/oauth/callback',
      providers: [
        { id: 'test-idp', preset: 'oidc' },
        { id: 'test-service', preset: 'oidc' },
      ],
    });
  });
});

describe('secrets never leak', () => {
  it('keeps client secrets, codes, verifiers and tokens out of logs, audit records, errors, events and pages', async () => {
    const values = new Set<string>([op.clientSecret, op.serviceClientSecret]);
    for (const item of await secrets.list({ category: 'oauth' })) {
      for (const v of await secrets.versions(item.uri)) {
        const rec = await secrets.get(`${item.uri}@${v.version}`);
        const t = rec!.value.revealJson<{ access_token: string; refresh_token?: string }>();
        values.add(t.access_token);
        if (t.refresh_token) values.add(t.refresh_token);
      }
    }
    expect(values.size).toBeGreaterThan(8);
    const captured = [
      ...logs,
      ...audit.map((r) => JSON.stringify(r)),
      ...events.map((e) => JSON.stringify(e)),
      ...errors.map(
        (e) => `${String(e)} ${(e as Error).stack} ${JSON.stringify(e)} ${String((e as Error).cause ?? '')}`,
      ),
      ...pages,
    ].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const v of values)
      expect(captured.includes(v), 'a secret value appears in captured output').toBe(false);
    // the callback route's own request logs are suppressed: authorization codes stay out of the logs too
    expect(logs.join('\n')).not.toMatch(/[?&]code=/);
  });
});
