export {
  type AccessToken,
  type CallbackParams,
  type ConsentCompleteEvent,
  type ConsentResult,
  DEFAULT_DISCOVERY_TTL_MS,
  DEFAULT_HANDLE_TTL_MS,
  DEFAULT_HTTP_TIMEOUT_MS,
  DEFAULT_REFRESH_SKEW_MS,
  DEFAULT_STATE_TTL_MS,
  HANDLE_TYP,
  type HandleInfo,
  normalizeScopes,
  type OAuthAuditEvent,
  type OAuthAuditRecord,
  OAuthBroker,
  type OAuthBrokerOptions,
  oauthScopeOf,
  STATE_TYP,
  type StartConsentRequest,
  type StartConsentResult,
} from './broker.js';
export {
  type ConsentPrompt,
  defaultConsentMessage,
  nodeErrorCode,
  OAUTH_EXPECTED_INPUT,
  OAuthComponentRegistry,
  type OAuthNodeOptions,
  type OAuthNodeOutput,
  type OAuthNodePayload,
  type OAuthPendingOutcome,
} from './component.js';
export {
  CONSENT_CATEGORY,
  type ConsentClaim,
  type ConsentStore,
  MemoryConsentStore,
  type OAuthScope,
  type PendingConsent,
  SecretsConsentStore,
} from './consents.js';
export {
  isOAuthError,
  OAUTH_ERROR_CODES,
  OAuthError,
  type OAuthErrorCode,
  type OAuthErrorOptions,
} from './errors.js';
export { createPkce, ID_TOKEN_ALGORITHMS, type Pkce, pkceChallenge } from './grants.js';
export { escapeHtml, PAGE_HEADERS, renderConsentPage } from './html.js';
export type { FetchLike, HttpOptions } from './http.js';
export { MIN_SIGNING_KEY_BYTES, type SigningKeyInput } from './jws.js';
export {
  discoverOpenIdConfiguration,
  type OAuthPreset,
  type OAuthProviderConfig,
  OidcDiscovery,
  type OpenIdConfiguration,
  PROVIDER_PRESETS,
  type ProviderEndpoints,
  type TokenEndpointAuthMethod,
} from './providers.js';
export {
  type ConsentResumeOptions,
  consentResumeMessage,
  OAUTH_CONSENT_ACTION,
  OAUTH_METADATA,
} from './resume.js';
export { type OAuthRoutesOptions, oauthRoutes, type StartConsentBody } from './routes.js';
export { type OAuthGrant, subjectHash, TOKEN_CATEGORY, tokenSecretUri } from './vault.js';
