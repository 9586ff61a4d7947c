import { EnvSecretsProvider, MemorySecretsProvider, SecretValue } from '@greentic/secrets';
import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { normalizeScopes, type OAuthAuditRecord, OAuthBroker, type OAuthBrokerOptions } from './broker.js';
import { MemoryConsentStore, type PendingConsent, SecretsConsentStore } from './consents.js';
import { isOAuthError, type OAuthErrorCode, scrubText } from './errors.js';
import { escapeHtml, renderConsentPage } from './html.js';
import { discoverOpenIdConfiguration } from './providers.js';
import { consentResumeMessage } from './resume.js';

const KEY = 'unit-test-signing-key-0123456789-abcdefghijklmnop';
const REDIRECT = 'https://bot.example.test/oauth/callback';
const acme = tenantCtx({ env: 'dev', tenant: 'acme', user: 'u-1' });

function broker(over: Partial<OAuthBrokerOptions> = {}) {
  return new OAuthBroker({
    providers: [
      { id: 'google', preset: 'google', clientId: 'g-client', clientSecret: 'g-secret-value' },
      {
        id: 'microsoft',
        preset: 'microsoft',
        clientId: 'm-client',
        clientSecret: 'm-secret-value',
        directory: 'contoso.onmicrosoft.com',
      },
      { id: 'ms-any', preset: 'microsoft', clientId: 'm-client' },
    ],
    secrets: new MemorySecretsProvider(),
    signingKey: KEY,
    redirectUris: [REDIRECT],
    ...over,
  });
}

function throwsCode(fn: () => unknown, code: OAuthErrorCode) {
  try {
    fn();
  } catch (e) {
    expect(isOAuthError(e, code), `${String(e)}`).toBe(true);
    return e as Error;
  }
  throw new Error(`expected ${code}`);
}

async function rejectsCode(p: Promise<unknown>, code: OAuthErrorCode) {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isOAuthError(e, code), `expected ${code}, got ${String(e)}`).toBe(true);
  return e as Error;
}

describe('configuration', () => {
  it('needs a signing key of at least 32 bytes, a writable secrets provider and a redirect URI', () => {
    throwsCode(() => broker({ signingKey: 'short' }), 'GT_OAUTH_CONFIG');
    throwsCode(() => broker({ signingKey: [] }), 'GT_OAUTH_CONFIG');
    throwsCode(() => broker({ secrets: new EnvSecretsProvider() }), 'GT_OAUTH_CONFIG');
    throwsCode(() => broker({ redirectUris: [] }), 'GT_OAUTH_CONFIG');
    throwsCode(() => broker({ redirectUris: ['http://bot.example.test/cb'] }), 'GT_OAUTH_CONFIG');
    throwsCode(() => broker({ redirectUris: ['https://bot.example.test/cb#frag'] }), 'GT_OAUTH_CONFIG');
    // loopback http is fine
    broker({ redirectUris: ['http://127.0.0.1:3000/oauth/callback'] });
    broker({ signingKey: SecretValue.bytes(new Uint8Array(32).fill(7)) });
  });

  it('checks provider entries', () => {
    const p = (c: Record<string, unknown>) => broker({ providers: [c as never] });
    throwsCode(() => p({ id: 'Google', preset: 'google', clientId: 'x' }), 'GT_OAUTH_CONFIG');
    throwsCode(() => p({ id: 'g', preset: 'google' }), 'GT_OAUTH_CONFIG');
    throwsCode(() => p({ id: 'x', clientId: 'c' }), 'GT_OAUTH_CONFIG'); // oauth2 without endpoints
    throwsCode(() => p({ id: 'x', preset: 'oidc', clientId: 'c' }), 'GT_OAUTH_CONFIG');
    throwsCode(() => p({ id: 'x', issuer: 'http://idp.example', clientId: 'c' }), 'GT_OAUTH_CONFIG');
    throwsCode(() => p({ id: 'x', preset: 'saml', clientId: 'c' }), 'GT_OAUTH_CONFIG');
    throwsCode(
      () => p({ id: 'm', preset: 'microsoft', clientId: 'c', directory: 'a/../b' }),
      'GT_OAUTH_CONFIG',
    );
    throwsCode(
      () => p({ id: 'x', preset: 'google', clientId: 'c', tokenEndpointAuthMethod: 'client_secret_post' }),
      'GT_OAUTH_CONFIG',
    );
    throwsCode(
      () =>
        broker({
          providers: [
            { id: 'g', preset: 'google', clientId: 'c' },
            { id: 'g', preset: 'google', clientId: 'd' },
          ],
        }),
      'GT_OAUTH_CONFIG',
    );
  });
});

describe('presets', () => {
  it('builds a Google authorization URL with PKCE, nonce and offline access', async () => {
    const b = broker();
    const r = await b.startConsent({ ctx: acme, provider: 'google' });
    const u = new URL(r.authorize_url);
    expect(`${u.origin}${u.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'g-client',
      redirect_uri: REDIRECT,
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      access_type: 'offline',
      prompt: 'consent',
      state: r.state,
    });
    expect(u.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(r.authorize_url).not.toContain('g-secret-value');
    expect(r.scopes).toEqual(['openid', 'email', 'profile']);
    expect(Date.parse(r.expires_at) - Date.now()).toBeGreaterThan(14 * 60 * 1000);
  });

  it('uses the Microsoft identity platform endpoints of the configured directory', async () => {
    const b = broker();
    const u = new URL(
      (await b.startConsent({ ctx: acme, provider: 'microsoft', scopes: 'openid offline_access User.Read' }))
        .authorize_url,
    );
    expect(`${u.origin}${u.pathname}`).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize',
    );
    expect(u.searchParams.get('scope')).toBe('openid offline_access User.Read');
    expect(u.searchParams.get('response_mode')).toBe('query');
    expect(u.searchParams.get('prompt')).toBeNull();
    const any = new URL((await b.startConsent({ ctx: acme, provider: 'ms-any' })).authorize_url);
    expect(any.pathname).toBe('/common/oauth2/v2.0/authorize');
    expect(any.searchParams.get('scope')).toBe('openid profile email offline_access');
    expect(b.providers().map((p) => [p.id, p.display_name, p.preset])).toEqual([
      ['google', 'Google', 'google'],
      ['microsoft', 'Microsoft', 'microsoft'],
      ['ms-any', 'Microsoft', 'microsoft'],
    ]);
  });

  it('does not let authorizeParams override the protocol parameters', async () => {
    const b = broker({
      providers: [
        {
          id: 'g',
          preset: 'google',
          clientId: 'c',
          authorizeParams: {
            redirect_uri: 'https://evil.example',
            code_challenge_method: 'plain',
            hd: 'acme.com',
          },
        },
      ],
    });
    const u = new URL((await b.startConsent({ ctx: acme, provider: 'g' })).authorize_url);
    expect(u.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(u.searchParams.get('code_challenge_method')).toBe('S256');
    expect(u.searchParams.get('hd')).toBe('acme.com');
  });
});

describe('startConsent input checks', () => {
  it('rejects a tenant that cannot name a secret, a bad ctx, bad scopes and a bad reply scope', async () => {
    const b = broker();
    await rejectsCode(
      b.startConsent({ ctx: tenantCtx({ env: 'dev', tenant: 'Acme' }), provider: 'google' }),
      'GT_OAUTH_INVALID',
    );
    await rejectsCode(
      b.startConsent({ ctx: { env: 'dev' } as never, provider: 'google' }),
      'GT_OAUTH_INVALID',
    );
    await rejectsCode(b.startConsent({ ctx: acme, provider: 'google', scopes: ['a"b'] }), 'GT_OAUTH_INVALID');
    await rejectsCode(
      b.startConsent({ ctx: acme, provider: 'google', reply_scope: {} as never }),
      'GT_OAUTH_INVALID',
    );
    await rejectsCode(b.startConsent({ ctx: acme, provider: '' }), 'GT_OAUTH_INVALID');
  });

  it('normalizes scopes from lists or strings', () => {
    expect(normalizeScopes('openid  email openid')).toEqual(['openid', 'email']);
    expect(normalizeScopes(['openid email', 'https://graph.microsoft.com/.default'])).toEqual([
      'openid',
      'email',
      'https://graph.microsoft.com/.default',
    ]);
    expect(normalizeScopes([])).toEqual([]);
    throwsCode(() => normalizeScopes(42), 'GT_OAUTH_INVALID');
    throwsCode(() => normalizeScopes(['a\\b']), 'GT_OAUTH_INVALID');
  });
});

describe('signing keys', () => {
  it('verifies states across a key rotation and rejects them once the old key is gone', async () => {
    const consents = new MemoryConsentStore();
    const secrets = new MemorySecretsProvider();
    const oldKey = 'old-signing-key-0123456789-abcdefghijklmnopqrstu';
    const newKey = 'new-signing-key-0123456789-abcdefghijklmnopqrstu';
    const before = broker({ signingKey: oldKey, consents, secrets });
    const s1 = await before.startConsent({ ctx: acme, provider: 'google' });
    const s2 = await before.startConsent({ ctx: acme, provider: 'google' });
    const rotated = broker({ signingKey: [newKey, oldKey], consents, secrets });
    // the state verifies (the consent is claimed); the fake code then fails at Google, which is never reached here
    const fetchless = broker({
      signingKey: [newKey, oldKey],
      consents,
      secrets,
      fetch: async () => Response.json({ error: 'invalid_grant' }, { status: 400 }),
    });
    await rejectsCode(fetchless.completeConsent({ state: s1.state, code: 'c' }), 'GT_OAUTH_TOKEN');
    await rejectsCode(rotated.completeConsent({ state: s1.state, code: 'c' }), 'GT_OAUTH_STATE_REUSED');
    const dropped = broker({ signingKey: newKey, consents, secrets });
    await rejectsCode(dropped.completeConsent({ state: s2.state, code: 'c' }), 'GT_OAUTH_STATE_INVALID');
  });
});

describe('consent stores', () => {
  const consent = (id: string, expires = Date.now() + 60_000): PendingConsent => ({
    id,
    provider: 'google',
    scopes: ['openid'],
    redirect_uri: REDIRECT,
    code_verifier: 'v',
    scope: { env: 'dev', tenant: 'acme' },
    created_at: Date.now(),
    expires_at: expires,
  });

  for (const [name, make] of [
    ['MemoryConsentStore', () => new MemoryConsentStore()],
    ['SecretsConsentStore', () => new SecretsConsentStore(new MemorySecretsProvider())],
  ] as const) {
    it(`${name}: claims once, then reports used; unknown ids and other tenants are unknown`, async () => {
      const store = make();
      await store.save(consent('c0ffee01'));
      const now = Date.now();
      expect(await store.claim('c0ffee02', { env: 'dev', tenant: 'acme' }, now)).toEqual({
        status: 'unknown',
      });
      expect(await store.claim('c0ffee01', { env: 'dev', tenant: 'globex' }, now)).toEqual({
        status: 'unknown',
      });
      const [a, b] = await Promise.all([
        store.claim('c0ffee01', { env: 'dev', tenant: 'acme' }, now),
        store.claim('c0ffee01', { env: 'dev', tenant: 'acme' }, now),
      ]);
      expect([a.status, b.status].sort()).toEqual(['claimed', 'used']);
      expect(await store.claim('c0ffee01', { env: 'dev', tenant: 'acme' }, now)).toEqual({ status: 'used' });
      expect(await store.claim('c0ffee01', { env: 'dev', tenant: 'acme' }, now + 120_000)).toEqual({
        status: 'unknown',
      });
    });
  }

  it('SecretsConsentStore sweeps expired records', async () => {
    const secrets = new MemorySecretsProvider();
    const store = new SecretsConsentStore(secrets);
    await store.save(consent('aa01', Date.now() - 1));
    await store.save(consent('aa02'));
    expect(await store.sweep(Date.now())).toBe(1);
    expect((await secrets.list({ category: 'oauth-consent' })).length).toBe(1);
    throwsCode(() => new SecretsConsentStore(new EnvSecretsProvider()), 'GT_OAUTH_CONFIG');
  });
});

describe('discovery checks', () => {
  const http = (doc: unknown, status = 200) => ({
    fetch: async () =>
      typeof doc === 'string' ? new Response(doc, { status }) : Response.json(doc, { status }),
    timeoutMs: 1000,
    allowInsecureHttp: false,
  });
  const good = {
    issuer: 'https://idp.example',
    authorization_endpoint: 'https://idp.example/auth',
    token_endpoint: 'https://idp.example/token',
    jwks_uri: 'https://idp.example/jwks',
    code_challenge_methods_supported: ['S256'],
  };

  it('accepts a well-formed document and rejects bad ones', async () => {
    expect((await discoverOpenIdConfiguration('https://idp.example', http(good))).issuer).toBe(
      'https://idp.example',
    );
    const bad = async (doc: unknown, status = 200, issuer = 'https://idp.example') =>
      rejectsCode(discoverOpenIdConfiguration(issuer, http(doc, status)), 'GT_OAUTH_DISCOVERY');
    await bad(good, 404);
    await bad('not json');
    await bad({ ...good, issuer: 'https://idp.example/' });
    await bad({ ...good, token_endpoint: 'http://idp.example/token' });
    await bad({ ...good, jwks_uri: undefined });
    await bad({ ...good, code_challenge_methods_supported: ['plain'] });
    await bad(good, 200, 'http://idp.example');
  });
});

describe('audit, pages and messages', () => {
  it('records decisions without secrets', async () => {
    const records: OAuthAuditRecord[] = [];
    const b = broker({ audit: (r) => records.push(r) });
    await b.startConsent({ ctx: acme, provider: 'google' });
    await rejectsCode(
      b.startConsent({ ctx: acme, provider: 'google', redirect_uri: 'https://evil.example' }),
      'GT_OAUTH_REDIRECT',
    );
    await rejectsCode(b.completeConsent({ state: 'x', code: 'y' }), 'GT_OAUTH_STATE_INVALID');
    expect(records.map((r) => r.event)).toEqual(['consent.started', 'consent.failed', 'state.rejected']);
    expect(records[0]).toMatchObject({ provider: 'google', env: 'dev', tenant: 'acme', user: 'u-1' });
    expect(JSON.stringify(records)).not.toContain('g-secret-value');
  });

  it('scrubs provider text', () => {
    expect(scrubText('bad secret-123 here', ['secret-123'])).toBe('bad [redacted] here');
    expect(scrubText('a\nb\u0000c')).toBe('a b c');
    expect(scrubText('x'.repeat(300)).length).toBe(201);
    expect(scrubText(undefined)).toBe('');
  });

  it('escapes every value on the callback page', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href&#61;&quot;x&quot; onclick&#61;&#39;y&#39;&gt;&amp;&lt;&#47;a&gt;',
    );
    const page = renderConsentPage({
      ok: false,
      title: '<b>t</b>',
      message: '<img src=x onerror=alert(1)>',
      code: '"c"',
    });
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>');
  });

  it('builds the resume message of a consent, or none without a conversation', () => {
    const base = { consent_id: 'abc', provider: 'google', scopes: ['openid'], ctx: acme };
    expect(consentResumeMessage(base)).toBeUndefined();
    const msg = consentResumeMessage(
      { ...base, reply_scope: { conversation: 'c-1' }, handle: 'h.h.h' },
      { channel: 'teams' },
    );
    expect(msg).toEqual({
      id: 'oauth-consent-abc',
      tenant: acme,
      channel: 'teams',
      session_id: 'c-1',
      reply_scope: { conversation: 'c-1' },
      text: '',
      metadata: {
        action: 'oauth.consent',
        oauth_consent: 'abc',
        oauth_provider: 'google',
        oauth_handle: 'h.h.h',
      },
    });
    const failed = consentResumeMessage({
      ...base,
      session_id: 's-1',
      error: { code: 'GT_OAUTH_DENIED', message: 'declined' },
    });
    expect(failed?.metadata).toMatchObject({
      oauth_error: 'GT_OAUTH_DENIED',
      oauth_error_message: 'declined',
    });
    expect(failed?.channel).toBe('oauth');
  });
});
