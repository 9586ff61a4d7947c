import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/** A real OpenID Connect provider (oidc-provider) on 127.0.0.1 with an ephemeral port. */
export interface TestOp {
  issuer: string;
  provider: InstanceType<typeof Provider>;
  clientId: string;
  clientSecret: string;
  /** The service client (client credentials only). */
  serviceClientId: string;
  serviceClientSecret: string;
  close(): Promise<void>;
}

export interface TestOpOptions {
  redirectUris: string[];
  /** Access token lifetime in seconds (default 300). */
  accessTokenTtl?: number;
}

export async function startTestOp(opts: TestOpOptions): Promise<TestOp> {
  let handler: ((req: never, res: never) => void) | undefined;
  const server: Server = createServer((req, res) => {
    if (handler) handler(req as never, res as never);
    else {
      res.statusCode = 503;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key-1' };
  const clientId = 'greentic-web';
  const clientSecret = `cs-${crypto.randomUUID()}-do-not-log`;
  const serviceClientId = 'greentic-service';
  const serviceClientSecret = `svc-${crypto.randomUUID()}-do-not-log`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: serviceClientId,
        client_secret: serviceClientSecret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    async findAccount(_ctx: unknown, id: string) {
      return { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.test` }) };
    },
    claims: { openid: ['sub'], email: ['email'] },
    scopes: ['openid', 'offline_access', 'email', 'api:read'],
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    ttl: {
      AccessToken: opts.accessTokenTtl ?? 300,
      ClientCredentials: opts.accessTokenTtl ?? 300,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 86400,
      Interaction: 600,
      Session: 3600,
      Grant: 86400,
    },
    jwks: { keys: [jwk] },
    cookies: { keys: ['test-only-cookie-signing-key-0123456789'] },
    rotateRefreshToken: true,
  } as never);
  const callback = provider.callback();
  handler = callback as never;

  return {
    issuer,
    provider,
    clientId,
    clientSecret,
    serviceClientId,
    serviceClientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A minimal browser: a cookie jar (by name; paths ignored) and manual redirects. */
export class Browser {
  readonly cookies = new Map<string, string>();
  readonly visited: string[] = [];

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    }
    this.visited.push(url);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.split('=').map((s) => s.trim());
        if (k?.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k?.toLowerCase() === 'expires') return Date.parse(v ?? '') <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /**
   * Follows an authorization URL through the provider's login and consent prompts (devInteractions) until the
   * provider redirects to a URL starting with `stopAt`; returns that URL (not fetched).
   */
  async authorize(
    authorizeUrl: string,
    opts: { login: string; stopAt: string; approve?: boolean },
  ): Promise<string> {
    let url = authorizeUrl;
    for (let hops = 0; hops < 20; hops++) {
      if (url.startsWith(opts.stopAt)) return url;
      const res = await this.request(url);
      if (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location')!, url).toString();
        await res.arrayBuffer();
        continue;
      }
      const html = await res.text();
      if (res.status !== 200) throw new Error(`unexpected ${res.status} at ${url}: ${html.slice(0, 300)}`);
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (!prompt || !action) throw new Error(`no interaction form at ${url}`);
      const submit = new URL(action, url).toString();
      if (opts.approve === false && prompt === 'consent') {
        url = `${submit.replace(/\/$/, '')}/abort`;
        continue;
      }
      const body = new URLSearchParams(
        prompt === 'login' ? { prompt, login: opts.login, password: 'any' } : { prompt },
      );
      const post = await this.request(submit, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      });
      if (post.status < 300 || post.status >= 400) {
        throw new Error(`interaction submit answered ${post.status}: ${(await post.text()).slice(0, 300)}`);
      }
      url = new URL(post.headers.get('location')!, submit).toString();
      await post.arrayBuffer();
    }
    throw new Error('too many redirects');
  }
}
