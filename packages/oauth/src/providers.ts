import { type SecretValue, segmentProblem } from '@greentic/secrets';
import { OAuthError } from './errors.js';
import { fetchJson, type HttpOptions, isRecord, safeUrl, urlProblem } from './http.js';

/**
 * How a provider's endpoints are found:
 * - `google`, `microsoft`: built-in endpoints and default scopes;
 * - `oidc`: any OpenID Connect issuer, by discovery (`<issuer>/.well-known/openid-configuration`);
 * - `oauth2`: plain OAuth 2.0 with explicit endpoints (no ID token).
 */
export type OAuthPreset = 'google' | 'microsoft' | 'oidc' | 'oauth2';

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** One identity provider the broker talks to. */
export interface OAuthProviderConfig {
  /** The id flows and callers use (`google`, `microsoft`, `acme-idp`): lowercase `[a-z0-9._-]`, it names secrets. */
  id: string;
  /** Defaults to `oidc` when `issuer` is set, else `oauth2`. */
  preset?: OAuthPreset;
  /** Shown on the consent card ("Sign in with …"). */
  displayName?: string;
  clientId: string;
  /** The client secret (prefer {@link clientSecretUri}). Kept as a {@link SecretValue}; never logged. */
  clientSecret?: SecretValue | string;
  /** A `secrets://` URI read from the broker's secrets provider whenever the secret is needed. */
  clientSecretUri?: string;
  /** Default `client_secret_basic` with a secret, `none` (public client) without. */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** `oidc`: the issuer to discover (exact, as the provider writes it). Presets: overrides the expected issuer. */
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  jwksUri?: string;
  userinfoEndpoint?: string;
  /** Scopes asked for when a caller names none (presets have their own defaults). */
  scopes?: string[];
  /** Scopes of the client-credentials grant when a caller names none (`microsoft`: `https://graph.microsoft.com/.default`). */
  clientCredentialsScopes?: string[];
  /** Extra authorization request parameters (presets add e.g. Google's `access_type=offline`). */
  authorizeParams?: Record<string, string>;
  /** `microsoft`: the Entra ID tenant (`common`, `organizations`, `consumers` or a tenant id/domain). Default `common`. */
  directory?: string;
}

/** The endpoints of a provider, after presets and discovery. */
export interface ProviderEndpoints {
  /** Accepted `iss` values of ID tokens; `{tenantid}` stands for the token's `tid` claim (Microsoft multi-tenant). */
  issuers: string[];
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri?: string;
  userinfo_endpoint?: string;
  /** RFC 9207: the provider adds `iss` to its authorization responses. */
  iss_parameter_supported: boolean;
  /** Whether the provider issues ID tokens (OpenID Connect). */
  oidc: boolean;
}

interface PresetInfo {
  displayName: string;
  scopes: string[];
  clientCredentialsScopes?: string[];
  authorizeParams: Record<string, string>;
  endpoints: (directory: string) => ProviderEndpoints;
}

/** Built-in provider presets: endpoints, default scopes, extra authorization parameters. */
export const PROVIDER_PRESETS: Readonly<Record<'google' | 'microsoft', Readonly<PresetInfo>>> = {
  google: {
    displayName: 'Google',
    scopes: ['openid', 'email', 'profile'],
    // offline access (a refresh token) needs access_type=offline; prompt=consent makes Google send one every time
    authorizeParams: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' },
    endpoints: () => ({
      issuers: ['https://accounts.google.com', 'accounts.google.com'],
      authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
      token_endpoint: 'https://oauth2.googleapis.com/token',
      jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
      userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
      iss_parameter_supported: false,
      oidc: true,
    }),
  },
  microsoft: {
    displayName: 'Microsoft',
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    clientCredentialsScopes: ['https://graph.microsoft.com/.default'],
    authorizeParams: { response_mode: 'query' },
    endpoints: (directory) => {
      const base = `https://login.microsoftonline.com/${encodeURIComponent(directory)}`;
      const multi = ['common', 'organizations', 'consumers'].includes(directory);
      return {
        issuers: [
          multi
            ? 'https://login.microsoftonline.com/{tenantid}/v2.0'
            : `https://login.microsoftonline.com/${directory}/v2.0`,
        ],
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
        iss_parameter_supported: false,
        oidc: true,
      };
    },
  },
};

/** The parts of `/.well-known/openid-configuration` the broker uses. */
export interface OpenIdConfiguration {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  code_challenge_methods_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  [k: string]: unknown;
}

/**
 * OpenID Connect discovery with a cache: one fetch per issuer per `ttlMs` (concurrent callers share it; failures
 * are not cached). The document must name exactly the issuer asked for, use https endpoints (http only on
 * loopback) and, when it lists PKCE methods, support S256.
 */
export class OidcDiscovery {
  readonly #cache = new Map<string, { at: number; doc: Promise<OpenIdConfiguration> }>();

  constructor(
    private readonly http: HttpOptions,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(issuer: string): Promise<OpenIdConfiguration> {
    const hit = this.#cache.get(issuer);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.doc;
    const doc = discoverOpenIdConfiguration(issuer, this.http);
    const entry = { at: this.now(), doc };
    this.#cache.set(issuer, entry);
    doc.catch(() => {
      if (this.#cache.get(issuer) === entry) this.#cache.delete(issuer);
    });
    return doc;
  }

  /** Forgets cached documents (all, or one issuer's). */
  clear(issuer?: string): void {
    if (issuer === undefined) this.#cache.clear();
    else this.#cache.delete(issuer);
  }
}

/** Fetches and checks `<issuer>/.well-known/openid-configuration` (no cache; see {@link OidcDiscovery}). */
export async function discoverOpenIdConfiguration(
  issuer: string,
  http: HttpOptions,
): Promise<OpenIdConfiguration> {
  const problem = urlProblem(issuer, http.allowInsecureHttp);
  if (problem) throw new OAuthError('GT_OAUTH_DISCOVERY', `issuer "${safeUrl(issuer)}" ${problem}`);
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const { status, body } = await fetchJson(http, url, { method: 'GET' }, 'OpenID Connect discovery');
  if (status !== 200 || !isRecord(body)) {
    throw new OAuthError(
      'GT_OAUTH_DISCOVERY',
      `OpenID Connect discovery at ${safeUrl(url)} answered HTTP ${status}${isRecord(body) ? '' : ' without a JSON object'}; check the issuer URL`,
      { status },
    );
  }
  if (body.issuer !== issuer) {
    throw new OAuthError(
      'GT_OAUTH_DISCOVERY',
      `the discovery document of "${issuer}" names issuer ${JSON.stringify(String(body.issuer ?? '')).slice(0, 120)}; it must match exactly (configure the issuer as the provider writes it)`,
    );
  }
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    const p = urlProblem(body[field], http.allowInsecureHttp);
    if (p) throw new OAuthError('GT_OAUTH_DISCOVERY', `discovery of "${issuer}": ${field} ${p}`);
  }
  if (body.userinfo_endpoint !== undefined && urlProblem(body.userinfo_endpoint, http.allowInsecureHttp)) {
    throw new OAuthError(
      'GT_OAUTH_DISCOVERY',
      `discovery of "${issuer}": userinfo_endpoint is not a usable URL`,
    );
  }
  const methods = body.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes('S256')) {
    throw new OAuthError(
      'GT_OAUTH_DISCOVERY',
      `issuer "${issuer}" does not support PKCE with S256 (code_challenge_methods_supported: ${methods.join(', ')})`,
    );
  }
  return body as OpenIdConfiguration;
}

const DIRECTORY = /^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/;

/** A checked provider: config plus how to get its endpoints. */
export class ResolvedProvider {
  readonly id: string;
  readonly preset: OAuthPreset;
  readonly displayName: string;
  readonly defaultScopes: string[];
  readonly clientCredentialsScopes: string[];
  readonly authorizeParams: Record<string, string>;
  readonly authMethod: TokenEndpointAuthMethod;
  readonly #static: ProviderEndpoints | undefined;

  constructor(
    readonly config: OAuthProviderConfig,
    http: HttpOptions,
  ) {
    const where = `provider ${JSON.stringify(String(config?.id ?? ''))}`;
    if (!isRecord(config)) throw new OAuthError('GT_OAUTH_CONFIG', 'each provider must be an object');
    const idProblem = typeof config.id === 'string' ? segmentProblem(config.id) : 'must be a string';
    if (idProblem) throw new OAuthError('GT_OAUTH_CONFIG', `${where}: id ${idProblem}`);
    if (typeof config.clientId !== 'string' || config.clientId === '') {
      throw new OAuthError('GT_OAUTH_CONFIG', `${where}: clientId is required`);
    }
    this.id = config.id;
    const preset = config.preset ?? (config.issuer !== undefined ? 'oidc' : 'oauth2');
    if (!['google', 'microsoft', 'oidc', 'oauth2'].includes(preset)) {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        `${where}: unknown preset "${preset}" (google, microsoft, oidc, oauth2)`,
      );
    }
    this.preset = preset;
    const info = preset === 'google' || preset === 'microsoft' ? PROVIDER_PRESETS[preset] : undefined;
    this.displayName = config.displayName ?? info?.displayName ?? config.id;
    this.defaultScopes = [...(config.scopes ?? info?.scopes ?? (preset === 'oidc' ? ['openid'] : []))];
    this.clientCredentialsScopes = [
      ...(config.clientCredentialsScopes ?? info?.clientCredentialsScopes ?? []),
    ];
    this.authorizeParams = { ...(info?.authorizeParams ?? {}), ...(config.authorizeParams ?? {}) };
    const hasSecret = config.clientSecret !== undefined || config.clientSecretUri !== undefined;
    this.authMethod = config.tokenEndpointAuthMethod ?? (hasSecret ? 'client_secret_basic' : 'none');
    if (this.authMethod !== 'none' && !hasSecret) {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        `${where}: tokenEndpointAuthMethod ${this.authMethod} needs clientSecret or clientSecretUri`,
      );
    }
    for (const field of [
      'issuer',
      'authorizationEndpoint',
      'tokenEndpoint',
      'jwksUri',
      'userinfoEndpoint',
    ] as const) {
      if (config[field] === undefined) continue;
      const p = urlProblem(config[field], http.allowInsecureHttp);
      if (p) throw new OAuthError('GT_OAUTH_CONFIG', `${where}: ${field} ${p}`);
    }
    if (info) {
      const directory = config.directory ?? 'common';
      if (!DIRECTORY.test(directory)) {
        throw new OAuthError(
          'GT_OAUTH_CONFIG',
          `${where}: directory "${directory}" is not a tenant id or domain`,
        );
      }
      const base = info.endpoints(directory);
      this.#static = this.#override(base);
    } else if (preset === 'oauth2') {
      if (config.authorizationEndpoint === undefined || config.tokenEndpoint === undefined) {
        throw new OAuthError(
          'GT_OAUTH_CONFIG',
          `${where}: an oauth2 provider needs authorizationEndpoint and tokenEndpoint (or set issuer to use discovery)`,
        );
      }
      this.#static = {
        issuers: config.issuer ? [config.issuer] : [],
        authorization_endpoint: config.authorizationEndpoint,
        token_endpoint: config.tokenEndpoint,
        ...(config.jwksUri ? { jwks_uri: config.jwksUri } : {}),
        ...(config.userinfoEndpoint ? { userinfo_endpoint: config.userinfoEndpoint } : {}),
        iss_parameter_supported: false,
        oidc: false,
      };
    } else if (config.issuer === undefined) {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        `${where}: an oidc provider needs issuer (discovery reads <issuer>/.well-known/openid-configuration)`,
      );
    }
  }

  #override(base: ProviderEndpoints): ProviderEndpoints {
    const c = this.config;
    return {
      ...base,
      ...(c.issuer ? { issuers: [c.issuer] } : {}),
      ...(c.authorizationEndpoint ? { authorization_endpoint: c.authorizationEndpoint } : {}),
      ...(c.tokenEndpoint ? { token_endpoint: c.tokenEndpoint } : {}),
      ...(c.jwksUri ? { jwks_uri: c.jwksUri } : {}),
      ...(c.userinfoEndpoint ? { userinfo_endpoint: c.userinfoEndpoint } : {}),
    };
  }

  /** The provider's endpoints (discovered for `oidc`, through the shared discovery cache). */
  async endpoints(discovery: OidcDiscovery): Promise<ProviderEndpoints> {
    if (this.#static) return this.#static;
    const doc = await discovery.get(this.config.issuer!);
    return this.#override({
      issuers: [doc.issuer],
      authorization_endpoint: doc.authorization_endpoint,
      token_endpoint: doc.token_endpoint,
      jwks_uri: doc.jwks_uri,
      ...(typeof doc.userinfo_endpoint === 'string' ? { userinfo_endpoint: doc.userinfo_endpoint } : {}),
      iss_parameter_supported: doc.authorization_response_iss_parameter_supported === true,
      oidc: true,
    });
  }
}
