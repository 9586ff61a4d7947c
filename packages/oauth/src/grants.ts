import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import { OAuthError, scrubText } from './errors.js';
import { fetchJson, type HttpOptions, isRecord, safeUrl } from './http.js';
import type { TokenEndpointAuthMethod } from './providers.js';

/** A PKCE pair (RFC 7636, S256). */
export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** A fresh PKCE verifier (256 random bits, 43 characters) and its S256 challenge. */
export function createPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier), method: 'S256' };
}

/** `BASE64URL(SHA256(verifier))`. */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A random URL-safe token of `bytes` random bytes. */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** A token endpoint's successful answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
}

export interface ClientAuth {
  clientId: string;
  /** Revealed only for the request; never stored on errors. */
  secret?: string | undefined;
  method: TokenEndpointAuthMethod;
}

/**
 * POSTs a grant to the token endpoint and checks the answer. A refusal (`{error, error_description}`) becomes
 * `GT_OAUTH_TOKEN` with `oauthError` set; the description is quoted scrubbed of the client secret.
 */
export async function tokenRequest(
  http: HttpOptions,
  endpoint: string,
  params: Record<string, string>,
  auth: ClientAuth,
  provider: string,
  grantName: string,
): Promise<TokenResponse> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth.method === 'client_secret_basic') {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64
    const user = encodeURIComponent(auth.clientId);
    const pass = encodeURIComponent(auth.secret ?? '');
    headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  } else {
    body.set('client_id', auth.clientId);
    if (auth.method === 'client_secret_post') body.set('client_secret', auth.secret ?? '');
  }
  const { status, body: json } = await fetchJson(
    http,
    endpoint,
    { method: 'POST', headers, body: body.toString() },
    `the ${grantName} request to the token endpoint of "${provider}"`,
    provider,
  );
  const known = auth.secret ? [auth.secret] : [];
  if (status !== 200) {
    const err = isRecord(json) && typeof json.error === 'string' ? scrubText(json.error, known) : undefined;
    const desc = isRecord(json) ? scrubText(json.error_description, known) : '';
    throw new OAuthError(
      'GT_OAUTH_TOKEN',
      `the token endpoint of "${provider}" refused the ${grantName} (HTTP ${status}${err ? `, ${err}` : ''}${desc ? `: ${desc}` : ''})`,
      { provider, oauthError: err, status },
    );
  }
  if (!isRecord(json) || typeof json.access_token !== 'string' || json.access_token === '') {
    throw new OAuthError(
      'GT_OAUTH_TOKEN',
      `the token endpoint of "${provider}" (${safeUrl(endpoint)}) answered the ${grantName} without an access_token`,
      { provider, status },
    );
  }
  const out: TokenResponse = {
    access_token: json.access_token,
    token_type: typeof json.token_type === 'string' && json.token_type !== '' ? json.token_type : 'Bearer',
  };
  if (typeof json.expires_in === 'number' && Number.isFinite(json.expires_in) && json.expires_in >= 0) {
    out.expires_in = json.expires_in;
  } else if (typeof json.expires_in === 'string' && /^\d+$/.test(json.expires_in)) {
    out.expires_in = Number(json.expires_in);
  }
  if (typeof json.refresh_token === 'string' && json.refresh_token !== '')
    out.refresh_token = json.refresh_token;
  if (typeof json.scope === 'string') out.scope = json.scope;
  if (typeof json.id_token === 'string' && json.id_token !== '') out.id_token = json.id_token;
  return out;
}

/** Asymmetric algorithms accepted for ID tokens (never `none` or HMAC). */
export const ID_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export interface IdTokenCheck {
  jwks: JWTVerifyGetKey;
  /** Accepted issuers; `{tenantid}` matches the token's `tid`. */
  issuers: string[];
  clientId: string;
  /** The nonce sent with the authorization request (absent on refresh). */
  nonce?: string | undefined;
  /** The subject the token must name (on refresh). */
  subject?: string | undefined;
  now: number;
  provider: string;
}

/** Validates an ID token: signature by the provider's JWKS, `iss`, `aud` (+`azp`), `exp`, `nonce`. */
export async function validateIdToken(
  idToken: string,
  check: IdTokenCheck,
): Promise<JWTPayload & { sub: string }> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, check.jwks, {
      audience: check.clientId,
      algorithms: ID_TOKEN_ALGORITHMS,
      currentDate: new Date(check.now),
      clockTolerance: 60,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    }));
  } catch (e) {
    const why =
      e instanceof joseErrors.JWTExpired
        ? 'it has expired'
        : e instanceof joseErrors.JWTClaimValidationFailed
          ? `claim "${e.claim}" ${e.reason === 'check_failed' ? 'does not match' : e.reason}`
          : e instanceof joseErrors.JWSSignatureVerificationFailed
            ? 'its signature does not verify'
            : e instanceof joseErrors.JWKSNoMatchingKey
              ? 'no key of the provider JWKS matches it'
              : `(${(e as { code?: string }).code ?? (e as Error)?.name ?? 'error'})`;
    throw new OAuthError('GT_OAUTH_ID_TOKEN', `the ID token from "${check.provider}" is not valid: ${why}`, {
      provider: check.provider,
    });
  }
  const fail = (why: string): never => {
    throw new OAuthError('GT_OAUTH_ID_TOKEN', `the ID token from "${check.provider}" is not valid: ${why}`, {
      provider: check.provider,
    });
  };
  const tid = typeof payload.tid === 'string' ? payload.tid : undefined;
  const issOk = check.issuers.some((i) =>
    i.includes('{tenantid}')
      ? tid !== undefined && /^[0-9a-fA-F-]{1,64}$/.test(tid) && i.replace('{tenantid}', tid) === payload.iss
      : i === payload.iss,
  );
  if (!issOk) fail(`issuer ${JSON.stringify(String(payload.iss)).slice(0, 100)} is not the provider's`);
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== check.clientId) {
    fail('it has several audiences and azp is not this client');
  }
  if (check.nonce !== undefined) {
    const got = typeof payload.nonce === 'string' ? Buffer.from(payload.nonce) : Buffer.alloc(0);
    const want = Buffer.from(check.nonce);
    if (got.length !== want.length || !timingSafeEqual(got, want))
      fail('the nonce does not match this sign-in');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') fail('it has no subject');
  if (check.subject !== undefined && payload.sub !== check.subject) fail('it names another subject');
  return payload as JWTPayload & { sub: string };
}
