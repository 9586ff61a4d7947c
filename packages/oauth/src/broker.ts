import { randomBytes } from 'node:crypto';
import { type SecretsProvider, SecretValue } from '@greentic/secrets';
import {
  isolationScopeOf,
  type ReplyScope,
  type TenantCtx,
  tenantCtx,
  validateReplyScope,
} from '@greentic/types';
import { createRemoteJWKSet, customFetch, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { type ConsentStore, MemoryConsentStore, type OAuthScope, type PendingConsent } from './consents.js';
import { isOAuthError, OAuthError, type OAuthErrorCode, scrubText } from './errors.js';
import {
  type ClientAuth,
  createPkce,
  randomToken,
  type TokenResponse,
  tokenRequest,
  validateIdToken,
} from './grants.js';
import { type FetchLike, type HttpOptions, urlProblem } from './http.js';
import { PurposeKeys, type SigningKeyInput } from './jws.js';
import {
  type OAuthProviderConfig,
  OidcDiscovery,
  type ProviderEndpoints,
  ResolvedProvider,
} from './providers.js';
import { type OAuthGrant, type StoredTokens, subjectHash, TokenVault, tokenSecretUri } from './vault.js';

/** `typ` header of signed states. */
export const STATE_TYP = 'gt-oauth-state+jwt';
/** `typ` header of token handles. */
export const HANDLE_TYP = 'gt-oauth-handle+jwt';

export const DEFAULT_STATE_TTL_MS = 15 * 60 * 1000;
export const DEFAULT_HANDLE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_REFRESH_SKEW_MS = 60 * 1000;
export const DEFAULT_DISCOVERY_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_HTTP_TIMEOUT_MS = 10 * 1000;

export interface OAuthBrokerOptions {
  providers: readonly OAuthProviderConfig[];
  /** Where tokens are kept (writable): `secrets://<env>/<tenant>/<team|_>/oauth/<provider>-<subject hash>`. */
  secrets: SecretsProvider;
  /** HMAC key material (≥ 32 bytes) for states and handles. A list: the first signs, all verify (rotation). */
  signingKey: SigningKeyInput | readonly SigningKeyInput[];
  /** The redirect URIs the broker may send to providers (exact match). The first is the default. */
  redirectUris: readonly string[];
  /** Pending consents (default: in memory — use a shared store with several broker processes). */
  consents?: ConsentStore;
  /** Lifetime of a state (default 15 minutes). */
  stateTtlMs?: number;
  /** Lifetime of a token handle (default 7 days). */
  handleTtlMs?: number;
  /** An access token this close to its expiry is refreshed before use (default 60 s). */
  refreshSkewMs?: number;
  /** How long a discovery document is cached (default 1 hour). */
  discoveryTtlMs?: number;
  /** Timeout of each call to a provider (default 10 s). */
  httpTimeoutMs?: number;
  /** Allow plain `http:` provider endpoints on non-loopback hosts (never in production). */
  allowInsecureHttp?: boolean;
  fetch?: FetchLike;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
  /**
   * Called when a consent ends (granted or not) whose state was valid: resume the conversation here (see
   * `consentResumeMessage`). Errors it throws are recorded and do not undo the consent.
   */
  onConsentComplete?: (event: ConsentCompleteEvent) => void | Promise<void>;
  /** Audit sink: one record per broker decision. Records never hold a token, code, verifier or secret. */
  audit?: (record: OAuthAuditRecord) => void;
}

export interface StartConsentRequest {
  /** The tenant (and team/user) the tokens will belong to. */
  ctx: TenantCtx;
  provider: string;
  /** Scopes to ask for (array or space-separated); default: the provider's default scopes. */
  scopes?: readonly string[] | string;
  /** One of the broker's redirect URIs (default: the first). */
  redirect_uri?: string;
  /** The conversation to resume when the consent completes. */
  reply_scope?: ReplyScope;
  channel?: string;
  session_id?: string;
  flow_id?: string;
  node_id?: string;
  /** Passed to the provider as `login_hint`. */
  login_hint?: string;
}

export interface StartConsentResult {
  /** Where to send the user's browser. */
  authorize_url: string;
  /** The signed, single-use state (also inside `authorize_url`). */
  state: string;
  consent_id: string;
  provider: string;
  scopes: string[];
  /** ISO time after which the state no longer works. */
  expires_at: string;
}

/** The query of the provider's redirect back to the broker. */
export interface CallbackParams {
  state?: unknown;
  code?: unknown;
  error?: unknown;
  error_description?: unknown;
  /** RFC 9207 issuer identifier. */
  iss?: unknown;
}

/** What a token handle says (after its signature, expiry and tenant were checked). */
export interface HandleInfo {
  /** The handle itself (opaque to flows and components). */
  handle: string;
  provider: string;
  scopes: string[];
  /** ISO expiry of the handle. */
  expires_at: string;
  /** The provider's subject (ID token `sub`), or `client:<client id>` for client credentials. */
  subject: string;
  grant: OAuthGrant;
  /** The tenant scope the handle is bound to. */
  scope: OAuthScope;
  consent_id?: string;
}

export interface ConsentResult extends HandleInfo {
  ctx: TenantCtx;
  reply_scope?: ReplyScope;
  channel?: string;
  session_id?: string;
  flow_id?: string;
  node_id?: string;
  /** `onConsentComplete` ran without error (false when it threw or none is configured). */
  notified: boolean;
}

/** What {@link OAuthBrokerOptions.onConsentComplete} receives. Exactly one of `handle` and `error` is set. */
export interface ConsentCompleteEvent {
  consent_id: string;
  provider: string;
  scopes: string[];
  /** The tenant context the consent was started in (env, tenant, team, user). */
  ctx: TenantCtx;
  reply_scope?: ReplyScope;
  channel?: string;
  session_id?: string;
  flow_id?: string;
  node_id?: string;
  handle?: string;
  /** ISO expiry of the handle. */
  expires_at?: string;
  error?: { code: OAuthErrorCode; message: string; oauth_error?: string };
}

/** An access token, resolved from a handle. The value prints as `[redacted]`; read it with `revealText()`. */
export interface AccessToken {
  access_token: SecretValue;
  token_type: string;
  /** ISO expiry of the access token, when the provider said. */
  expires_at?: string;
  scopes: string[];
  provider: string;
  subject: string;
}

export type OAuthAuditEvent =
  | 'consent.started'
  | 'consent.completed'
  | 'consent.failed'
  | 'consent.notify_failed'
  | 'state.rejected'
  | 'handle.resolved'
  | 'handle.rejected'
  | 'token.refreshed'
  | 'token.refresh_failed'
  | 'client_credentials.issued'
  | 'tokens.deleted';

export interface OAuthAuditRecord {
  time: string;
  event: OAuthAuditEvent;
  provider?: string;
  env?: string;
  tenant?: string;
  team?: string;
  user?: string;
  consent_id?: string;
  /** {@link subjectHash} of the subject (never the subject or a token). */
  subject_hash?: string;
  scopes?: string[];
  code?: OAuthErrorCode;
  message?: string;
}

const RESERVED_AUTHORIZE_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
]);
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The OAuth broker: runs consents (authorization code + PKCE), keeps tokens in the secrets store, and hands out
 * signed token handles that it alone turns back into access tokens (refreshing them as needed).
 */
export class OAuthBroker {
  readonly #providers = new Map<string, ResolvedProvider>();
  readonly #secretsForScrub: string[] = [];
  readonly #vault: TokenVault;
  readonly #consents: ConsentStore;
  readonly #stateKeys: PurposeKeys;
  readonly #handleKeys: PurposeKeys;
  readonly #redirects: string[];
  readonly #http: HttpOptions;
  readonly #discovery: OidcDiscovery;
  readonly #jwks = new Map<string, JWTVerifyGetKey>();
  readonly #refreshing = new Map<string, Promise<StoredTokens>>();
  readonly #clientSecrets = new Map<string, SecretValue>();
  readonly #now: () => number;
  readonly #stateTtl: number;
  readonly #handleTtl: number;
  readonly #skew: number;

  constructor(private readonly options: OAuthBrokerOptions) {
    if (!options || typeof options !== 'object')
      throw new OAuthError('GT_OAUTH_CONFIG', 'OAuthBroker needs options');
    this.#now = options.now ?? Date.now;
    this.#http = {
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      timeoutMs: positive(options.httpTimeoutMs, DEFAULT_HTTP_TIMEOUT_MS, 'httpTimeoutMs'),
      allowInsecureHttp: options.allowInsecureHttp === true,
    };
    this.#stateTtl = positive(options.stateTtlMs, DEFAULT_STATE_TTL_MS, 'stateTtlMs');
    this.#handleTtl = positive(options.handleTtlMs, DEFAULT_HANDLE_TTL_MS, 'handleTtlMs');
    this.#skew = options.refreshSkewMs ?? DEFAULT_REFRESH_SKEW_MS;
    this.#discovery = new OidcDiscovery(
      this.#http,
      positive(options.discoveryTtlMs, DEFAULT_DISCOVERY_TTL_MS, 'discoveryTtlMs'),
      this.#now,
    );
    if (!options.secrets)
      throw new OAuthError('GT_OAUTH_CONFIG', 'OAuthBroker needs a secrets provider (secrets)');
    this.#vault = new TokenVault(options.secrets);
    this.#consents = options.consents ?? new MemoryConsentStore();
    this.#stateKeys = new PurposeKeys(options.signingKey, 'state');
    this.#handleKeys = new PurposeKeys(options.signingKey, 'handle');

    if (!Array.isArray(options.redirectUris) || options.redirectUris.length === 0) {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        'the OAuth broker needs at least one redirect URI (redirectUris)',
      );
    }
    for (const uri of options.redirectUris) {
      const p = urlProblem(uri, this.#http.allowInsecureHttp);
      if (p) throw new OAuthError('GT_OAUTH_CONFIG', `redirect URI ${JSON.stringify(String(uri))} ${p}`);
    }
    this.#redirects = [...options.redirectUris];

    if (!Array.isArray(options.providers)) {
      throw new OAuthError('GT_OAUTH_CONFIG', 'providers must be a list of provider configurations');
    }
    for (const config of options.providers) {
      const p = new ResolvedProvider(config, this.#http);
      if (this.#providers.has(p.id))
        throw new OAuthError('GT_OAUTH_CONFIG', `provider "${p.id}" is configured twice`);
      this.#providers.set(p.id, p);
      if (config.clientSecret !== undefined) {
        const v =
          config.clientSecret instanceof SecretValue
            ? config.clientSecret
            : SecretValue.text(String(config.clientSecret));
        this.#clientSecrets.set(p.id, v);
        this.#secretsForScrub.push(v.revealText());
      }
    }
  }

  /** The configured providers (ids, names, default scopes). */
  providers(): { id: string; display_name: string; preset: string; scopes: string[] }[] {
    return [...this.#providers.values()].map((p) => ({
      id: p.id,
      display_name: p.displayName,
      preset: p.preset,
      scopes: [...p.defaultScopes],
    }));
  }

  /** The default redirect URI (the first of `redirectUris`). */
  get defaultRedirectUri(): string {
    return this.#redirects[0]!;
  }

  /** Begins a consent: returns the provider's authorization URL with PKCE, nonce and a signed single-use state. */
  async startConsent(req: StartConsentRequest): Promise<StartConsentResult> {
    if (!req || typeof req !== 'object')
      throw new OAuthError('GT_OAUTH_INVALID', 'startConsent needs a request');
    const provider = this.#provider(req.provider);
    const scope = oauthScopeOf(req.ctx);
    // fail now, not after the user consented, when the tenant cannot name a secret
    tokenSecretUri(scope, provider.id, 'probe');
    const scopes = normalizeScopes(req.scopes ?? provider.defaultScopes);
    const redirect = req.redirect_uri ?? this.defaultRedirectUri;
    if (typeof redirect !== 'string' || !this.#redirects.includes(redirect)) {
      this.#audit({ event: 'consent.failed', provider: provider.id, ...scope, code: 'GT_OAUTH_REDIRECT' });
      throw new OAuthError(
        'GT_OAUTH_REDIRECT',
        `redirect URI ${JSON.stringify(String(redirect)).slice(0, 200)} is not on the broker's allow-list (exact match required); use one of the configured redirectUris`,
        { provider: provider.id },
      );
    }
    let replyScope: ReplyScope | undefined;
    if (req.reply_scope !== undefined) {
      try {
        replyScope = validateReplyScope(req.reply_scope);
      } catch (e) {
        throw new OAuthError('GT_OAUTH_INVALID', `reply_scope: ${(e as Error).message}`, { cause: e });
      }
    }
    const endpoints = await provider.endpoints(this.#discovery);
    const now = this.#now();
    // hex: the id also names a secret (SecretsConsentStore), whose segments are lowercase
    const id = randomBytes(16).toString('hex');
    const pkce = createPkce();
    const wantsIdToken = endpoints.oidc && scopes.includes('openid');
    const consent: PendingConsent = {
      id,
      provider: provider.id,
      scopes,
      redirect_uri: redirect,
      code_verifier: pkce.verifier,
      ...(wantsIdToken ? { nonce: randomToken(18) } : {}),
      scope,
      ...(replyScope ? { reply_scope: replyScope } : {}),
      ...optionalStrings(req, ['channel', 'session_id', 'flow_id', 'node_id']),
      created_at: now,
      expires_at: now + this.#stateTtl,
    };
    const state = await this.#stateKeys.sign(
      { jti: id, gt_env: scope.env, gt_tenant: scope.tenant, gt_provider: provider.id },
      STATE_TYP,
      { iat: now, exp: consent.expires_at },
    );
    try {
      await this.#consents.save(consent);
    } catch (e) {
      throw new OAuthError(
        'GT_OAUTH_SECRETS',
        `could not save the consent in the consent store (${storeErrorName(e)})`,
        {
          provider: provider.id,
          cause: e,
        },
      );
    }

    const url = new URL(endpoints.authorization_endpoint);
    const params: Record<string, string> = { ...provider.authorizeParams };
    if (provider.preset === 'oidc' && scopes.includes('offline_access') && params.prompt === undefined) {
      // OpenID Connect Core §11: offline_access is honoured only together with prompt=consent
      params.prompt = 'consent';
    }
    for (const [k, v] of Object.entries(params))
      if (!RESERVED_AUTHORIZE_PARAMS.has(k)) url.searchParams.set(k, v);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', provider.config.clientId);
    url.searchParams.set('redirect_uri', redirect);
    if (scopes.length > 0) url.searchParams.set('scope', scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', pkce.challenge);
    url.searchParams.set('code_challenge_method', pkce.method);
    if (consent.nonce) url.searchParams.set('nonce', consent.nonce);
    if (typeof req.login_hint === 'string' && req.login_hint !== '')
      url.searchParams.set('login_hint', req.login_hint);

    this.#audit({ event: 'consent.started', provider: provider.id, ...scope, consent_id: id, scopes });
    return {
      authorize_url: url.toString(),
      state,
      consent_id: id,
      provider: provider.id,
      scopes,
      expires_at: new Date(consent.expires_at).toISOString(),
    };
  }

  /**
   * Finishes a consent from the provider's redirect: checks the state (signature, expiry, single use), exchanges
   * the code with the PKCE verifier, validates the ID token, stores the tokens and mints a handle. Calls
   * `onConsentComplete` (also for a refused consent, with `error`). Throws {@link OAuthError}.
   */
  async completeConsent(params: CallbackParams): Promise<ConsentResult> {
    const now = this.#now();
    let payload: JWTPayload;
    try {
      payload = await this.#stateKeys.verify(
        params?.state,
        STATE_TYP,
        now,
        { invalid: 'GT_OAUTH_STATE_INVALID', expired: 'GT_OAUTH_STATE_EXPIRED' },
        'the sign-in state',
      );
    } catch (e) {
      this.#audit({ event: 'state.rejected', code: (e as OAuthError).code, message: (e as Error).message });
      throw e;
    }
    const id = String(payload.jti ?? '');
    const stateScope = { env: String(payload.gt_env ?? ''), tenant: String(payload.gt_tenant ?? '') };
    let claim: Awaited<ReturnType<ConsentStore['claim']>>;
    try {
      claim = await this.#consents.claim(id, stateScope, now);
    } catch (e) {
      throw new OAuthError(
        'GT_OAUTH_SECRETS',
        `could not read the consent from the consent store (${storeErrorName(e)})`,
        {
          cause: e,
        },
      );
    }
    if (claim.status !== 'claimed') {
      const err =
        claim.status === 'used'
          ? new OAuthError(
              'GT_OAUTH_STATE_REUSED',
              'this sign-in link was already used; each link completes one sign-in — start the sign-in again',
            )
          : new OAuthError(
              'GT_OAUTH_STATE_INVALID',
              'this sign-in is not known to the broker (it was already completed, or the broker that started it does not share its consent store)',
            );
      this.#audit({ event: 'state.rejected', ...stateScope, consent_id: id, code: err.code });
      throw err;
    }
    const consent = claim.consent;
    const ctx = ctxOfConsent(consent);
    try {
      if (consent.provider !== payload.gt_provider) {
        throw new OAuthError('GT_OAUTH_STATE_INVALID', 'the sign-in state does not match its consent record');
      }
      const provider = this.#provider(consent.provider);
      if (params.error !== undefined) {
        const code = scrubText(params.error);
        const desc = scrubText(params.error_description);
        throw new OAuthError(
          'GT_OAUTH_DENIED',
          code === 'access_denied'
            ? `the sign-in with ${provider.displayName} was declined${desc ? ` (${desc})` : ''}`
            : `${provider.displayName} ended the sign-in with error "${code}"${desc ? `: ${desc}` : ''}`,
          { provider: provider.id, oauthError: code },
        );
      }
      if (typeof params.code !== 'string' || params.code === '' || params.code.length > 4096) {
        throw new OAuthError('GT_OAUTH_INVALID', 'the provider redirect has no authorization code', {
          provider: provider.id,
        });
      }
      const endpoints = await provider.endpoints(this.#discovery);
      if (params.iss !== undefined || endpoints.iss_parameter_supported) {
        if (typeof params.iss !== 'string' || !endpoints.issuers.includes(params.iss)) {
          throw new OAuthError(
            'GT_OAUTH_INVALID',
            `the authorization response does not come from ${provider.displayName}'s issuer (RFC 9207 iss check failed)`,
            { provider: provider.id },
          );
        }
      }
      const tokens = await tokenRequest(
        this.#http,
        endpoints.token_endpoint,
        {
          grant_type: 'authorization_code',
          code: params.code,
          redirect_uri: consent.redirect_uri,
          code_verifier: consent.code_verifier,
        },
        await this.#clientAuth(provider),
        provider.id,
        'authorization code exchange',
      );
      let subject: string | undefined;
      if (consent.nonce !== undefined) {
        if (!tokens.id_token) {
          throw new OAuthError(
            'GT_OAUTH_ID_TOKEN',
            `${provider.displayName} returned no ID token although "openid" was requested`,
            { provider: provider.id },
          );
        }
        const claims = await validateIdToken(tokens.id_token, {
          jwks: this.#jwksFor(endpoints, provider),
          issuers: endpoints.issuers,
          clientId: provider.config.clientId,
          nonce: consent.nonce,
          now: this.#now(),
          provider: provider.id,
        });
        subject = claims.sub;
      }
      subject ??=
        consent.scope.user !== undefined ? `greentic-user:${consent.scope.user}` : `consent:${consent.id}`;
      const granted = grantedScopes(tokens, consent.scopes);
      const stored = this.#stored(provider, subject, 'authorization_code', tokens, granted, undefined);
      await this.#vault.write(tokenSecretUri(consent.scope, provider.id, subject), stored);
      const info = await this.#mint(
        consent.scope,
        provider.id,
        subject,
        granted,
        'authorization_code',
        consent.id,
      );
      this.#audit({
        event: 'consent.completed',
        provider: provider.id,
        ...consent.scope,
        consent_id: consent.id,
        subject_hash: subjectHash(subject),
        scopes: granted,
      });
      const event: ConsentCompleteEvent = {
        ...eventBase(consent, ctx),
        scopes: granted,
        handle: info.handle,
        expires_at: info.expires_at,
      };
      const notified = await this.#notify(event);
      return { ...info, ...eventBase(consent, ctx), scopes: granted, notified };
    } catch (e) {
      const err = isOAuthError(e)
        ? e
        : new OAuthError(
            'GT_OAUTH_TOKEN',
            `the sign-in could not be completed (${(e as Error)?.name ?? 'error'})`,
            {
              cause: e,
            },
          );
      this.#audit({
        event: 'consent.failed',
        provider: consent.provider,
        ...consent.scope,
        consent_id: consent.id,
        code: err.code,
        message: err.message,
      });
      await this.#notify({
        ...eventBase(consent, ctx),
        error: {
          code: err.code,
          message: err.message,
          ...(err.oauthError ? { oauth_error: err.oauthError } : {}),
        },
      });
      throw err;
    }
  }

  /** Checks a handle (signature, expiry, tenant) without touching the token store. */
  async inspectHandle(handle: string, ctx: TenantCtx): Promise<HandleInfo> {
    let payload: JWTPayload;
    try {
      payload = await this.#handleKeys.verify(
        handle,
        HANDLE_TYP,
        this.#now(),
        { invalid: 'GT_OAUTH_HANDLE_INVALID', expired: 'GT_OAUTH_HANDLE_EXPIRED' },
        'the token handle',
      );
    } catch (e) {
      this.#audit({ event: 'handle.rejected', ...safeScope(ctx), code: (e as OAuthError).code });
      throw e;
    }
    const info = handleInfoOf(handle, payload);
    const caller = oauthScopeOf(ctx);
    const same =
      caller.env === info.scope.env &&
      caller.tenant === info.scope.tenant &&
      (info.scope.team === undefined || caller.team === info.scope.team);
    if (!same) {
      this.#audit({
        event: 'handle.rejected',
        provider: info.provider,
        ...caller,
        code: 'GT_OAUTH_HANDLE_SCOPE',
      });
      throw new OAuthError(
        'GT_OAUTH_HANDLE_SCOPE',
        `the token handle for "${info.provider}" was issued to another tenant or team; a handle works only in the env, tenant (and team) it was issued to`,
        { provider: info.provider },
      );
    }
    return info;
  }

  /**
   * Turns a handle into an access token for the caller's tenant, refreshing it when it is expired or about to be
   * (concurrent callers share one refresh). The refresh token never leaves the broker.
   */
  async resolveHandle(handle: string, ctx: TenantCtx): Promise<AccessToken> {
    const info = await this.inspectHandle(handle, ctx);
    const provider = this.#provider(info.provider);
    const uri = tokenSecretUri(info.scope, info.provider, info.subject);
    let tokens = await this.#vault.read(uri);
    if (!tokens || tokens.subject !== info.subject || tokens.provider !== info.provider) {
      this.#audit({
        event: 'handle.rejected',
        provider: info.provider,
        ...info.scope,
        code: 'GT_OAUTH_CONSENT_REQUIRED',
      });
      throw new OAuthError(
        'GT_OAUTH_CONSENT_REQUIRED',
        `no tokens are stored for this ${provider.displayName} connection any more; the user has to sign in again`,
        { provider: provider.id },
      );
    }
    if (tokens.expires_at !== undefined && tokens.expires_at - this.#skew <= this.#now()) {
      tokens = await this.#refreshOnce(uri, provider, tokens, info);
    }
    this.#audit({
      event: 'handle.resolved',
      provider: info.provider,
      ...info.scope,
      subject_hash: subjectHash(info.subject),
    });
    return {
      access_token: SecretValue.text(tokens.access_token),
      token_type: tokens.token_type,
      ...(tokens.expires_at !== undefined ? { expires_at: new Date(tokens.expires_at).toISOString() } : {}),
      scopes: [...tokens.scopes],
      provider: info.provider,
      subject: info.subject,
    };
  }

  /**
   * Runs the client-credentials grant for the caller's tenant (tokens of the application itself, no user), stores
   * the token and returns a handle; resolving it later runs the grant again when the token has expired.
   */
  async clientCredentials(
    ctx: TenantCtx,
    providerId: string,
    scopes?: readonly string[] | string,
  ): Promise<HandleInfo> {
    const provider = this.#provider(providerId);
    const scope = oauthScopeOf(ctx);
    const wanted = normalizeScopes(scopes ?? provider.clientCredentialsScopes);
    const subject = `client:${provider.config.clientId}${wanted.length ? `:${wanted.join(' ')}` : ''}`;
    const uri = tokenSecretUri(scope, provider.id, subject);
    const tokens = await this.#clientCredentialsGrant(provider, wanted);
    const granted = grantedScopes(tokens, wanted);
    await this.#vault.write(
      uri,
      this.#stored(provider, subject, 'client_credentials', tokens, granted, undefined),
    );
    const { user: _user, ...appScope } = scope;
    const info = await this.#mint(appScope, provider.id, subject, granted, 'client_credentials', undefined);
    this.#audit({
      event: 'client_credentials.issued',
      provider: provider.id,
      ...appScope,
      subject_hash: subjectHash(subject),
      scopes: granted,
    });
    return info;
  }

  /** Deletes the tokens behind a handle (the user disconnects); `true` when something was removed. */
  async disconnect(handle: string, ctx: TenantCtx): Promise<boolean> {
    const info = await this.inspectHandle(handle, ctx);
    const removed = await this.#vault.delete(tokenSecretUri(info.scope, info.provider, info.subject));
    this.#audit({
      event: 'tokens.deleted',
      provider: info.provider,
      ...info.scope,
      subject_hash: subjectHash(info.subject),
    });
    return removed;
  }

  /** `fetch` with the handle's access token as `Authorization` (for host services acting for a component). */
  async fetchWithHandle(
    handle: string,
    ctx: TenantCtx,
    url: string | URL,
    init: RequestInit = {},
  ): Promise<Response> {
    const token = await this.resolveHandle(handle, ctx);
    const headers = new Headers(init.headers);
    const type = /^bearer$/i.test(token.token_type) ? 'Bearer' : token.token_type;
    headers.set('authorization', `${type} ${token.access_token.revealText()}`);
    return this.#http.fetch(url, { ...init, headers });
  }

  /** Drops cached discovery documents and JWKS (e.g. after a provider rotated its keys outside the cache window). */
  clearCaches(): void {
    this.#discovery.clear();
    this.#jwks.clear();
  }

  // --- internals -------------------------------------------------------------------------------------------------

  #provider(id: unknown): ResolvedProvider {
    if (typeof id !== 'string' || id === '')
      throw new OAuthError('GT_OAUTH_INVALID', 'a provider id is required');
    const p = this.#providers.get(id);
    if (!p) {
      throw new OAuthError(
        'GT_OAUTH_PROVIDER',
        `OAuth provider ${JSON.stringify(id).slice(0, 80)} is not configured (configured: ${[...this.#providers.keys()].join(', ') || 'none'})`,
      );
    }
    return p;
  }

  async #clientAuth(p: ResolvedProvider): Promise<ClientAuth> {
    if (p.authMethod === 'none') return { clientId: p.config.clientId, method: 'none' };
    let secret = this.#clientSecrets.get(p.id);
    if (!secret && p.config.clientSecretUri) {
      let rec: Awaited<ReturnType<SecretsProvider['get']>>;
      try {
        rec = await this.options.secrets.get(p.config.clientSecretUri);
      } catch (e) {
        throw new OAuthError(
          'GT_OAUTH_SECRETS',
          `could not read the client secret of "${p.id}" at ${p.config.clientSecretUri}`,
          {
            provider: p.id,
            cause: e,
          },
        );
      }
      if (!rec) {
        throw new OAuthError(
          'GT_OAUTH_CONFIG',
          `the client secret of "${p.id}" is missing: put it at ${p.config.clientSecretUri}`,
          { provider: p.id },
        );
      }
      secret = rec.value;
      const text = secret.revealText();
      if (!this.#secretsForScrub.includes(text)) this.#secretsForScrub.push(text);
    }
    return { clientId: p.config.clientId, secret: secret?.revealText(), method: p.authMethod };
  }

  #jwksFor(endpoints: ProviderEndpoints, p: ResolvedProvider): JWTVerifyGetKey {
    if (!endpoints.jwks_uri) {
      throw new OAuthError('GT_OAUTH_CONFIG', `provider "${p.id}" returns ID tokens but has no jwksUri`, {
        provider: p.id,
      });
    }
    let set = this.#jwks.get(endpoints.jwks_uri);
    if (!set) {
      const f = this.#http.fetch;
      set = createRemoteJWKSet(new URL(endpoints.jwks_uri), {
        timeoutDuration: this.#http.timeoutMs,
        [customFetch]: (url: string, init: RequestInit) => f(url, init),
      });
      this.#jwks.set(endpoints.jwks_uri, set);
    }
    return set;
  }

  async #clientCredentialsGrant(p: ResolvedProvider, scopes: string[]): Promise<TokenResponse> {
    if (p.authMethod === 'none') {
      throw new OAuthError(
        'GT_OAUTH_CONFIG',
        `provider "${p.id}" has no client secret, which client credentials need`,
        {
          provider: p.id,
        },
      );
    }
    const endpoints = await p.endpoints(this.#discovery);
    return tokenRequest(
      this.#http,
      endpoints.token_endpoint,
      { grant_type: 'client_credentials', ...(scopes.length ? { scope: scopes.join(' ') } : {}) },
      await this.#clientAuth(p),
      p.id,
      'client credentials grant',
    );
  }

  #refreshOnce(
    uri: string,
    p: ResolvedProvider,
    tokens: StoredTokens,
    info: HandleInfo,
  ): Promise<StoredTokens> {
    let run = this.#refreshing.get(uri);
    if (!run) {
      run = this.#refresh(uri, p, tokens, info).finally(() => this.#refreshing.delete(uri));
      this.#refreshing.set(uri, run);
    }
    return run;
  }

  async #refresh(
    uri: string,
    p: ResolvedProvider,
    old: StoredTokens,
    info: HandleInfo,
  ): Promise<StoredTokens> {
    const auditBase = { provider: p.id, ...info.scope, subject_hash: subjectHash(info.subject) };
    try {
      let res: TokenResponse;
      if (old.grant === 'client_credentials') {
        res = await this.#clientCredentialsGrant(p, old.scopes);
      } else {
        if (!old.refresh_token) {
          throw new OAuthError(
            'GT_OAUTH_CONSENT_REQUIRED',
            `the ${p.displayName} access token has expired and there is no refresh token (ask for offline access); the user has to sign in again`,
            { provider: p.id },
          );
        }
        const endpoints = await p.endpoints(this.#discovery);
        try {
          res = await tokenRequest(
            this.#http,
            endpoints.token_endpoint,
            { grant_type: 'refresh_token', refresh_token: old.refresh_token },
            await this.#clientAuth(p),
            p.id,
            'token refresh',
          );
        } catch (e) {
          if (isOAuthError(e, 'GT_OAUTH_TOKEN') && (e.oauthError === 'invalid_grant' || e.status === 401)) {
            throw new OAuthError(
              'GT_OAUTH_CONSENT_REQUIRED',
              `${p.displayName} no longer accepts the stored refresh token (revoked or expired); the user has to sign in again`,
              { provider: p.id, oauthError: e.oauthError, cause: e },
            );
          }
          throw e;
        }
        if (res.id_token) {
          const endpoints2 = endpoints;
          await validateIdToken(res.id_token, {
            jwks: this.#jwksFor(endpoints2, p),
            issuers: endpoints2.issuers,
            clientId: p.config.clientId,
            subject: old.subject,
            now: this.#now(),
            provider: p.id,
          });
        }
      }
      const fresh = this.#stored(
        p,
        old.subject,
        old.grant,
        res,
        grantedScopes(res, old.scopes),
        old.refresh_token,
      );
      await this.#vault.write(uri, fresh);
      this.#audit({ event: 'token.refreshed', ...auditBase, scopes: fresh.scopes });
      return fresh;
    } catch (e) {
      this.#audit({
        event: 'token.refresh_failed',
        ...auditBase,
        code: (e as OAuthError).code,
        message: (e as Error).message,
      });
      throw e;
    }
  }

  #stored(
    p: ResolvedProvider,
    subject: string,
    grant: OAuthGrant,
    res: TokenResponse,
    scopes: string[],
    previousRefresh: string | undefined,
  ): StoredTokens {
    const now = this.#now();
    const refresh = res.refresh_token ?? previousRefresh;
    return {
      v: 1,
      provider: p.id,
      subject,
      grant,
      client_id: p.config.clientId,
      access_token: res.access_token,
      token_type: res.token_type,
      ...(refresh !== undefined ? { refresh_token: refresh } : {}),
      scopes,
      ...(res.expires_in !== undefined ? { expires_at: now + res.expires_in * 1000 } : {}),
      obtained_at: now,
    };
  }

  async #mint(
    scope: OAuthScope,
    provider: string,
    subject: string,
    scopes: string[],
    grant: OAuthGrant,
    consentId: string | undefined,
  ): Promise<HandleInfo> {
    const now = this.#now();
    const exp = now + this.#handleTtl;
    const handle = await this.#handleKeys.sign(
      {
        sub: subject,
        scope: scopes.join(' '),
        jti: randomToken(12),
        gt_env: scope.env,
        gt_tenant: scope.tenant,
        ...(scope.team !== undefined ? { gt_team: scope.team } : {}),
        ...(scope.user !== undefined ? { gt_user: scope.user } : {}),
        gt_provider: provider,
        gt_grant: grant,
        ...(consentId !== undefined ? { gt_cid: consentId } : {}),
      },
      HANDLE_TYP,
      { iat: now, exp },
    );
    return {
      handle,
      provider,
      scopes: [...scopes],
      expires_at: new Date(Math.floor(exp / 1000) * 1000).toISOString(),
      subject,
      grant,
      scope: { ...scope },
      ...(consentId !== undefined ? { consent_id: consentId } : {}),
    };
  }

  async #notify(event: ConsentCompleteEvent): Promise<boolean> {
    const cb = this.options.onConsentComplete;
    if (!cb) return false;
    try {
      await cb(event);
      return true;
    } catch (e) {
      this.#audit({
        event: 'consent.notify_failed',
        provider: event.provider,
        ...oauthScopeOf(event.ctx),
        consent_id: event.consent_id,
        message: scrubText((e as Error)?.message, this.#secretsForScrub),
      });
      return false;
    }
  }

  #audit(record: Omit<OAuthAuditRecord, 'time'>): void {
    const sink = this.options.audit;
    if (!sink) return;
    const full: OAuthAuditRecord = { time: new Date(this.#now()).toISOString(), ...record };
    if (full.message !== undefined) full.message = scrubText(full.message, this.#secretsForScrub);
    try {
      sink(full);
    } catch {
      // an audit sink must not break the broker
    }
  }
}

/** The tenant scope of a ctx (env, tenant, team, user), checked. Throws `GT_OAUTH_INVALID`. */
export function oauthScopeOf(ctx: unknown): OAuthScope {
  try {
    const iso = isolationScopeOf(ctx);
    return {
      env: iso.env,
      tenant: iso.tenant,
      ...(iso.team !== undefined ? { team: iso.team } : {}),
      ...(iso.user !== undefined ? { user: iso.user } : {}),
    };
  } catch (e) {
    throw new OAuthError('GT_OAUTH_INVALID', `the tenant context is not usable: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function safeScope(ctx: unknown): Partial<OAuthScope> {
  try {
    return oauthScopeOf(ctx);
  } catch {
    return {};
  }
}

/** Scopes from an array or a space-separated string: trimmed, deduplicated, RFC 6749 scope-token characters only. */
export function normalizeScopes(input: unknown): string[] {
  const list =
    typeof input === 'string'
      ? input.split(/\s+/)
      : Array.isArray(input)
        ? input.flatMap((s) => (typeof s === 'string' ? s.split(/\s+/) : [s]))
        : undefined;
  if (!list)
    throw new OAuthError('GT_OAUTH_INVALID', 'scopes must be a list of strings or a space-separated string');
  const out: string[] = [];
  for (const s of list) {
    if (s === '') continue;
    if (typeof s !== 'string' || !SCOPE_TOKEN.test(s) || s.length > 256) {
      throw new OAuthError(
        'GT_OAUTH_INVALID',
        `scope ${JSON.stringify(String(s)).slice(0, 60)} is not a valid OAuth scope token`,
      );
    }
    if (!out.includes(s)) out.push(s);
  }
  if (out.length > 64)
    throw new OAuthError('GT_OAUTH_INVALID', `too many scopes (${out.length}; at most 64)`);
  return out;
}

function grantedScopes(res: TokenResponse, requested: string[]): string[] {
  if (typeof res.scope !== 'string') return [...requested];
  try {
    return normalizeScopes(res.scope);
  } catch {
    return [...requested];
  }
}

function handleInfoOf(handle: string, p: JWTPayload): HandleInfo {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const env = str(p.gt_env);
  const tenant = str(p.gt_tenant);
  const provider = str(p.gt_provider);
  const subject = str(p.sub);
  const grant =
    p.gt_grant === 'client_credentials'
      ? 'client_credentials'
      : p.gt_grant === 'authorization_code'
        ? 'authorization_code'
        : undefined;
  if (!env || !tenant || !provider || !subject || !grant || typeof p.exp !== 'number') {
    throw new OAuthError('GT_OAUTH_HANDLE_INVALID', 'the token handle lacks required claims');
  }
  const team = str(p.gt_team);
  const user = str(p.gt_user);
  const cid = str(p.gt_cid);
  return {
    handle,
    provider,
    scopes: typeof p.scope === 'string' && p.scope !== '' ? p.scope.split(' ') : [],
    expires_at: new Date(p.exp * 1000).toISOString(),
    subject,
    grant,
    scope: { env, tenant, ...(team ? { team } : {}), ...(user ? { user } : {}) },
    ...(cid ? { consent_id: cid } : {}),
  };
}

function ctxOfConsent(c: PendingConsent): TenantCtx {
  return tenantCtx({
    env: c.scope.env,
    tenant: c.scope.tenant,
    team: c.scope.team,
    user: c.scope.user,
    session_id: c.session_id,
  });
}

function eventBase(c: PendingConsent, ctx: TenantCtx) {
  return {
    consent_id: c.id,
    provider: c.provider,
    scopes: [...c.scopes],
    ctx,
    ...(c.reply_scope ? { reply_scope: c.reply_scope } : {}),
    ...optionalStrings(c, ['channel', 'session_id', 'flow_id', 'node_id']),
  };
}

function optionalStrings<K extends string>(
  src: Partial<Record<K, unknown>>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = src[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

function storeErrorName(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' ? code : ((e as Error)?.name ?? 'error');
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new OAuthError('GT_OAUTH_CONFIG', `${name} must be a positive number of milliseconds`);
  }
  return v;
}
