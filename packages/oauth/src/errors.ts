/**
 * The one error catalog of `@greentic/oauth`.
 *
 * Every error this package throws (or rejects with) is an {@link OAuthError} with a stable `code`. Messages name
 * providers, tenants and secret URIs, never a secret: client secrets, codes, PKCE verifiers, access, refresh and ID
 * tokens stay out of messages, `details` and `cause` (a provider's error text is cut short and scrubbed of known
 * secret values before it is quoted).
 */
export type OAuthErrorCode =
  /** The broker's configuration is wrong: a missing or short signing key, a bad provider entry, no redirect URI. */
  | 'GT_OAUTH_CONFIG'
  /** An argument or request is malformed (missing provider, bad scopes, a ctx that cannot name a secret). */
  | 'GT_OAUTH_INVALID'
  /** The provider id is not configured on this broker. */
  | 'GT_OAUTH_PROVIDER'
  /** The redirect URI is not on the broker's allow-list (exact match). */
  | 'GT_OAUTH_REDIRECT'
  /** OpenID Connect discovery failed: unreachable, not JSON, issuer mismatch, insecure endpoint. */
  | 'GT_OAUTH_DISCOVERY'
  /** The `state` is malformed, not signed by this broker, or was tampered with. */
  | 'GT_OAUTH_STATE_INVALID'
  /** The `state` is older than its lifetime (15 minutes by default). */
  | 'GT_OAUTH_STATE_EXPIRED'
  /** The `state` was already used (each one completes one sign-in). */
  | 'GT_OAUTH_STATE_REUSED'
  /** The provider sent the user back with an error (`access_denied` when the user declined). */
  | 'GT_OAUTH_DENIED'
  /** The token endpoint refused a grant or answered with something that is not a token response. */
  | 'GT_OAUTH_TOKEN'
  /** The ID token failed validation (signature, iss, aud, exp, nonce). */
  | 'GT_OAUTH_ID_TOKEN'
  /** A token handle is malformed, not signed by this broker, or was tampered with. */
  | 'GT_OAUTH_HANDLE_INVALID'
  /** A token handle is past its expiry. */
  | 'GT_OAUTH_HANDLE_EXPIRED'
  /** A token handle was used outside the tenant (env, tenant, team) it was issued to. */
  | 'GT_OAUTH_HANDLE_SCOPE'
  /** The stored tokens are gone or can no longer be refreshed: the user has to consent again. */
  | 'GT_OAUTH_CONSENT_REQUIRED'
  /** The provider could not be reached (network error, timeout, 5xx). */
  | 'GT_OAUTH_HTTP'
  /** The secrets store failed to read or write tokens. */
  | 'GT_OAUTH_SECRETS'
  /** The caller is not allowed to start a consent (HTTP route without `authorizeStart` approval). */
  | 'GT_OAUTH_FORBIDDEN';

export const OAUTH_ERROR_CODES: readonly OAuthErrorCode[] = [
  'GT_OAUTH_CONFIG',
  'GT_OAUTH_INVALID',
  'GT_OAUTH_PROVIDER',
  'GT_OAUTH_REDIRECT',
  'GT_OAUTH_DISCOVERY',
  'GT_OAUTH_STATE_INVALID',
  'GT_OAUTH_STATE_EXPIRED',
  'GT_OAUTH_STATE_REUSED',
  'GT_OAUTH_DENIED',
  'GT_OAUTH_TOKEN',
  'GT_OAUTH_ID_TOKEN',
  'GT_OAUTH_HANDLE_INVALID',
  'GT_OAUTH_HANDLE_EXPIRED',
  'GT_OAUTH_HANDLE_SCOPE',
  'GT_OAUTH_CONSENT_REQUIRED',
  'GT_OAUTH_HTTP',
  'GT_OAUTH_SECRETS',
  'GT_OAUTH_FORBIDDEN',
];

export interface OAuthErrorOptions extends ErrorOptions {
  /** The provider id the error is about. */
  provider?: string | undefined;
  /** For `GT_OAUTH_DENIED` / `GT_OAUTH_TOKEN`: the OAuth `error` code the provider sent (`access_denied`, `invalid_grant`). */
  oauthError?: string | undefined;
  /** HTTP status of the provider's answer, when there was one. */
  status?: number | undefined;
}

export class OAuthError extends Error {
  /** Stable machine-readable code. */
  readonly code: OAuthErrorCode;
  readonly provider: string | undefined;
  readonly oauthError: string | undefined;
  readonly status: number | undefined;

  constructor(code: OAuthErrorCode, message: string, options: OAuthErrorOptions = {}) {
    const { provider, oauthError, status, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'OAuthError';
    this.code = code;
    this.provider = provider;
    this.oauthError = oauthError;
    this.status = status;
  }

  /** The HTTP status the broker's routes answer with for this error. */
  get httpStatus(): number {
    return httpStatusOf(this.code);
  }
}

/** True when `err` is an {@link OAuthError}, optionally with the given code. */
export function isOAuthError(err: unknown, code?: OAuthErrorCode): err is OAuthError {
  return err instanceof OAuthError && (code === undefined || err.code === code);
}

function httpStatusOf(code: OAuthErrorCode): number {
  switch (code) {
    case 'GT_OAUTH_FORBIDDEN':
    case 'GT_OAUTH_HANDLE_SCOPE':
      return 403;
    case 'GT_OAUTH_PROVIDER':
      return 404;
    case 'GT_OAUTH_STATE_REUSED':
      return 409;
    case 'GT_OAUTH_STATE_EXPIRED':
    case 'GT_OAUTH_HANDLE_EXPIRED':
    case 'GT_OAUTH_CONSENT_REQUIRED':
      return 401;
    case 'GT_OAUTH_DISCOVERY':
    case 'GT_OAUTH_TOKEN':
    case 'GT_OAUTH_ID_TOKEN':
    case 'GT_OAUTH_HTTP':
      return 502;
    case 'GT_OAUTH_CONFIG':
    case 'GT_OAUTH_SECRETS':
      return 500;
    default:
      return 400;
  }
}

/**
 * A provider's free text (an `error_description`), safe to quote: at most 200 characters, control characters
 * removed, and every known secret replaced by `[redacted]`.
 */
export function scrubText(text: unknown, secrets: readonly string[] = []): string {
  let s = typeof text === 'string' ? text : '';
  for (const secret of secrets) {
    if (secret.length >= 4) s = s.split(secret).join('[redacted]');
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  s = s.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
