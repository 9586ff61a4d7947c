// A fake Bot Framework: OpenID metadata + JWKS (inbound token keys), the client-credentials token endpoint, and
// the Bot Connector `POST /v3/conversations/{id}/activities[/{activityId}]` API with Bearer tokens.
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { FakeApi } from './server.js';

export const APP_ID = '8e8b2f3a-1c2d-4e5f-9a0b-123456789abc';
export const APP_PASSWORD = 'fake-client-secret';
export const ISSUER = 'https://api.botframework.com';

export interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
}

export async function makeKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' };
  return { kid, privateKey, jwk };
}

export interface TokenInit {
  key: SigningKey;
  serviceUrl?: string | undefined;
  aud?: string;
  iss?: string;
  /** Seconds since epoch. */
  iat?: number;
  exp?: number;
}

/** A Bot Framework-style channel token: RS256, issuer api.botframework.com, audience = app id, serviceurl claim. */
export function channelToken(t: TokenInit): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(t.serviceUrl !== undefined ? { serviceurl: t.serviceUrl } : {})
    .setProtectedHeader({ alg: 'RS256', kid: t.key.kid, typ: 'JWT' })
    .setIssuer(t.iss ?? ISSUER)
    .setAudience(t.aud ?? APP_ID)
    .setIssuedAt(t.iat ?? now - 10)
    .setNotBefore((t.iat ?? now - 10) - 5)
    .setExpirationTime(t.exp ?? now + 3600);
  return jwt.sign(t.key.privateKey);
}

export async function startFakeBotFramework(keys: () => JWK[]): Promise<FakeApi & { tokensIssued: number }> {
  let tokenN = 0;
  let activityN = 0;
  const issued = new Set<string>();
  const opOf = (path: string) =>
    path.startsWith('/v3/conversations/') ? 'activities' : path.endsWith('/token') ? 'token' : path;
  const api = (await FakeApi.start((req) => {
    if (req.path === '/.well-known/openidconfiguration') {
      return {
        status: 200,
        body: {
          issuer: ISSUER,
          authorization_endpoint: 'https://invalid.botframework.com',
          jwks_uri: `${api.url}/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        },
      };
    }
    if (req.path === '/keys') return { status: 200, body: { keys: keys() } };
    if (req.path.endsWith('/oauth2/v2.0/token')) {
      const b = req.body;
      if (
        b.grant_type !== 'client_credentials' ||
        b.client_id !== APP_ID ||
        b.client_secret !== APP_PASSWORD
      ) {
        return {
          status: 401,
          body: {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.',
          },
        };
      }
      const token = `bf-token-${++tokenN}`;
      issued.add(token);
      (api as FakeApi & { tokensIssued: number }).tokensIssued = tokenN;
      return {
        status: 200,
        body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token },
      };
    }
    const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/]+))?$/.exec(req.path);
    if (m) {
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!issued.has(bearer))
        return { status: 401, body: { message: 'Authorization has been denied for this request.' } };
      if (req.body.type !== 'message')
        return { status: 400, body: { error: { code: 'BadArgument', message: 'Unknown activity type' } } };
      return { status: 201, body: { id: `1:activity-${++activityN}` } };
    }
    return { status: 404, body: { error: { code: 'NotFound', message: 'not found' } } };
  }, opOf)) as FakeApi & { tokensIssued: number };
  api.tokensIssued = 0;
  return api;
}
