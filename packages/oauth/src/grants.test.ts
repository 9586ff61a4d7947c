import { createHash } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOAuthError } from './errors.js';
import { createPkce, type IdTokenCheck, pkceChallenge, tokenRequest, validateIdToken } from './grants.js';

describe('PKCE', () => {
  it('makes a 43-character verifier and its S256 challenge (RFC 7636 appendix B)', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    const p = createPkce();
    expect(p.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(p.challenge).toBe(createHash('sha256').update(p.verifier).digest('base64url'));
    expect(createPkce().verifier).not.toBe(p.verifier);
  });
});

describe('validateIdToken', () => {
  let key: CryptoKey;
  let other: CryptoKey;
  let jwks: IdTokenCheck['jwks'];
  const now = Date.now();
  const base: JWTPayload = { iss: 'https://idp.example', sub: 'user-1', aud: 'client-1', nonce: 'n-1' };

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    other = (await generateKeyPair('RS256')).privateKey;
    jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] });
  });

  const sign = (claims: JWTPayload, k: CryptoKey = key, exp = now + 600_000) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(exp / 1000))
      .sign(k);

  const check = (over: Partial<IdTokenCheck> = {}): IdTokenCheck => ({
    jwks,
    issuers: ['https://idp.example'],
    clientId: 'client-1',
    nonce: 'n-1',
    now,
    provider: 'idp',
    ...over,
  });

  const rejects = async (token: Promise<string> | string, c: IdTokenCheck, why: RegExp) => {
    const err = await validateIdToken(await token, c).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOAuthError(err, 'GT_OAUTH_ID_TOKEN')).toBe(true);
    expect((err as Error).message).toMatch(why);
  };

  it('accepts a token with the right signature, issuer, audience, expiry and nonce', async () => {
    const claims = await validateIdToken(await sign(base), check());
    expect(claims.sub).toBe('user-1');
  });

  it('rejects a wrong signature, issuer, audience, nonce or an expired token', async () => {
    await rejects(sign(base, other), check(), /signature/);
    await rejects(sign({ ...base, iss: 'https://evil.example' }), check(), /issuer/);
    await rejects(sign({ ...base, aud: 'client-2' }), check(), /aud/);
    await rejects(sign({ ...base, nonce: 'n-2' }), check(), /nonce/);
    await rejects(sign({ ...base, nonce: undefined }), check(), /nonce/);
    await rejects(sign(base, key, now - 3_600_000), check(), /expired/);
    await rejects(sign({ ...base, sub: 'user-1' }), check({ subject: 'user-2' }), /another subject/);
  });

  it('needs azp when the token has several audiences', async () => {
    await rejects(sign({ ...base, aud: ['client-1', 'api'] }), check(), /azp/);
    await validateIdToken(await sign({ ...base, aud: ['client-1', 'api'], azp: 'client-1' }), check());
  });

  it('rejects unsigned and HMAC tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(JSON.stringify({ ...base, exp: Math.floor(now / 1000) + 60, iat: 1 })).toString(
      'base64url',
    );
    await rejects(`${header}.${body}.`, check(), /not valid/);
    const hs = await new SignJWT(base)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    await rejects(hs, check(), /not valid/);
  });

  it("matches Microsoft's multi-tenant issuer against the token's tid", async () => {
    const tid = '9188040d-6c67-4c5b-b112-36a304b66dad';
    const c = check({ issuers: ['https://login.microsoftonline.com/{tenantid}/v2.0'] });
    await validateIdToken(
      await sign({ ...base, iss: `https://login.microsoftonline.com/${tid}/v2.0`, tid }),
      c,
    );
    await rejects(
      sign({
        ...base,
        iss: `https://login.microsoftonline.com/${tid}/v2.0`,
        tid: '00000000-0000-0000-0000-000000000000',
      }),
      c,
      /issuer/,
    );
    await rejects(
      sign({ ...base, iss: 'https://login.microsoftonline.com/x/v2.0', tid: '../x' }),
      c,
      /issuer/,
    );
  });
});

describe('tokenRequest', () => {
  const http = (answer: () => Response | Promise<Response>, seen: RequestInit[] = []) => ({
    fetch: async (_u: string | URL, init?: RequestInit) => {
      seen.push(init ?? {});
      return answer();
    },
    timeoutMs: 1000,
    allowInsecureHttp: false,
  });

  it('authenticates with client_secret_basic (form-urlencoded parts) or client_secret_post', async () => {
    const seen: RequestInit[] = [];
    const ok = () => Response.json({ access_token: 'at', token_type: 'bearer', expires_in: 60 });
    const h = http(ok, seen);
    const res = await tokenRequest(
      h,
      'https://idp.example/token',
      { grant_type: 'client_credentials' },
      { clientId: 'a b:c', secret: 's&cret', method: 'client_secret_basic' },
      'idp',
      'grant',
    );
    expect(res).toEqual({ access_token: 'at', token_type: 'bearer', expires_in: 60 });
    const auth = (seen[0]!.headers as Record<string, string>).authorization!;
    expect(Buffer.from(auth.replace('Basic ', ''), 'base64').toString()).toBe('a%20b%3Ac:s%26cret');
    await tokenRequest(
      h,
      'https://idp.example/token',
      { grant_type: 'client_credentials' },
      { clientId: 'c', secret: 's', method: 'client_secret_post' },
      'idp',
      'grant',
    );
    expect(String(seen[1]!.body)).toBe('grant_type=client_credentials&client_id=c&client_secret=s');
  });

  it('turns refusals, non-token answers and server errors into OAuthErrors without the secret', async () => {
    const secret = 'super-secret-value';
    const call = (answer: () => Response) =>
      tokenRequest(
        http(answer),
        'https://idp.example/token',
        { grant_type: 'refresh_token', refresh_token: 'rt' },
        { clientId: 'c', secret, method: 'client_secret_basic' },
        'idp',
        'token refresh',
      ).then(
        () => undefined,
        (e: unknown) => e as Error & { code: string; oauthError?: string },
      );
    const refused = await call(() =>
      Response.json({ error: 'invalid_grant', error_description: `bad ${secret}` }, { status: 400 }),
    );
    expect(refused?.code).toBe('GT_OAUTH_TOKEN');
    expect(refused?.oauthError).toBe('invalid_grant');
    expect(refused?.message).toContain('invalid_grant');
    expect(refused?.message).not.toContain(secret);
    expect((await call(() => Response.json({ token_type: 'bearer' })))?.code).toBe('GT_OAUTH_TOKEN');
    expect((await call(() => new Response('<html>', { status: 200 })))?.code).toBe('GT_OAUTH_TOKEN');
    expect((await call(() => new Response('down', { status: 503 })))?.code).toBe('GT_OAUTH_HTTP');
  });

  it('gives up on a provider that does not answer in time', async () => {
    const hanging = {
      fetch: (_u: string | URL, init?: RequestInit) =>
        new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
        ),
      timeoutMs: 20,
      allowInsecureHttp: false,
    };
    const err = await tokenRequest(
      hanging,
      'https://idp.example/token',
      {},
      { clientId: 'c', method: 'none' },
      'idp',
      'grant',
    ).catch((e: unknown) => e as Error & { code: string });
    expect(err?.code).toBe('GT_OAUTH_HTTP');
    expect(err?.message).toContain('did not answer within 20 ms');
  });
});
