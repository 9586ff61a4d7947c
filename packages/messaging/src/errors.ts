/**
 * The one error catalog of `@greentic/messaging`.
 *
 * Everything this package throws is a {@link MessagingError} with a stable `code`. Failures that are answers
 * rather than exceptions (a webhook rejected with 401/403, a reply dead-lettered) carry the same codes in their
 * `code` field, so logs and dead letters can be grepped by code.
 *
 * The WebChat / Direct Line endpoint's codes are the `GT_MSG_WEBCHAT_*` family: each maps to the HTTP status the
 * endpoint answers with ({@link WEBCHAT_ERROR_STATUS}, the error's `status`), and over HTTP the body is Direct
 * Line's error shape, `{"error": {"code", "message"}}`.
 */

/** The `GT_MSG_WEBCHAT_*` codes and the HTTP status the WebChat / Direct Line endpoint answers each with. */
export const WEBCHAT_ERROR_STATUS = {
  /** The plugin or helper was configured wrongly (missing secret, TTL out of range, short signing key, …). */
  GT_MSG_WEBCHAT_BAD_OPTIONS: 500,
  /** The request carries no `Authorization: Bearer …` header (or stream `t` parameter). */
  GT_MSG_WEBCHAT_UNAUTHORIZED: 401,
  /** The bearer value is neither a secret of this endpoint nor a token it signed (or it was signed for another tenant). */
  GT_MSG_WEBCHAT_TOKEN_INVALID: 403,
  /** The token's expiry has passed: get a new token (a token can be refreshed only before it expires). */
  GT_MSG_WEBCHAT_TOKEN_EXPIRED: 403,
  /** The token is valid but not for this: another conversation, or an operation that needs the secret. */
  GT_MSG_WEBCHAT_FORBIDDEN: 403,
  /** Too many tokens were minted for one client in the last minute. `Retry-After` says when to try again. */
  GT_MSG_WEBCHAT_RATE_LIMITED: 429,
  /** No such conversation on this endpoint (never created, or forgotten after being idle). */
  GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND: 404,
  /** A malformed request: a bad watermark, an activity that is not a JSON object or has an unsupported type, … */
  GT_MSG_WEBCHAT_BAD_REQUEST: 400,
  /** `deliver()` was given something that is not a bot message (no `id`, or a card that is not JSON). */
  GT_MSG_WEBCHAT_BAD_MESSAGE: 500,
  /** The activity was stored but `onActivity` failed to queue it for the bot: post it again (same clientActivityID). */
  GT_MSG_WEBCHAT_DISPATCH_FAILED: 502,
  /** A Direct Line feature this endpoint does not implement (file upload). */
  GT_MSG_WEBCHAT_UNSUPPORTED: 501,
  /** An unexpected failure inside the endpoint (logged with its cause; the client sees no detail). */
  GT_MSG_WEBCHAT_INTERNAL: 500,
  /** The endpoint was closed. */
  GT_MSG_WEBCHAT_CLOSED: 503,
} as const;

/** A code of the WebChat / Direct Line endpoint (`GT_MSG_WEBCHAT_*`). */
export type WebChatErrorCode = keyof typeof WEBCHAT_ERROR_STATUS;

export type MessagingErrorCode =
  /** A connector's configuration is unusable (missing secret, bad id, bad URL, bad binding). Fix the config. */
  | 'GT_MSG_CONFIG'
  /** No connector is configured for this provider and id (the webhook URL is wrong or the connector was removed). */
  | 'GT_MSG_UNKNOWN_CONNECTOR'
  /** A webhook request failed verification (missing/wrong/expired signature or token). Answered 401/403. */
  | 'GT_MSG_VERIFY'
  /** A webhook request was verified but its body is not what the provider documents (bad JSON, missing fields). */
  | 'GT_MSG_BAD_PAYLOAD'
  /** The provider message id was seen before: the request is a replay or a redelivery and is not queued again. */
  | 'GT_MSG_REPLAY'
  /** `onMessage` (the durable queue) failed: the webhook answers 503 so that the provider retries. */
  | 'GT_MSG_QUEUE'
  /** A reply cannot be sent where it should go: the inbound envelope lacks the connector or conversation. */
  | 'GT_MSG_TARGET'
  /** A reply cannot be rendered for the channel (e.g. an empty reply). */
  | 'GT_MSG_RENDER'
  /** The provider refused the request with a non-retryable answer (4xx other than 429/412/408). Dead-lettered. */
  | 'GT_MSG_SEND_REJECTED'
  /** Sending kept failing with retryable errors (5xx, network, 429) until the attempts ran out. Dead-lettered. */
  | 'GT_MSG_SEND_EXHAUSTED'
  /** The provider asked to wait longer than `maxRetryAfterMs` (429 `retry_after`/`Retry-After`). Dead-lettered. */
  | 'GT_MSG_RATE_LIMITED'
  /** Getting a provider access token failed (Bot Framework client credentials). */
  | 'GT_MSG_AUTH'
  /** A backing store (Redis replay guard or sent log) failed; `cause` holds its error. */
  | 'GT_MSG_BACKEND'
  /** The WebChat / Direct Line endpoint's codes: see {@link WEBCHAT_ERROR_STATUS}. */
  | WebChatErrorCode;

export interface MessagingErrorOptions extends ErrorOptions {
  /** HTTP status the error maps to, when it is about an HTTP exchange (default: a WebChat code's own status). */
  status?: number;
  /** Seconds the client should wait before trying again (a rate limit's `Retry-After`). */
  retryAfterSec?: number;
}

export class MessagingError extends Error {
  /** Stable machine-readable code. */
  readonly code: MessagingErrorCode;
  /** HTTP status the error maps to, when there is one (always for a `GT_MSG_WEBCHAT_*` code). */
  readonly status: number | undefined;
  /** Seconds to wait before trying again (rate limiting), when the error says. */
  readonly retryAfterSec?: number;

  constructor(code: MessagingErrorCode, message: string, options: MessagingErrorOptions = {}) {
    const { status, retryAfterSec, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'MessagingError';
    this.code = code;
    this.status = status ?? (isWebChatCode(code) ? WEBCHAT_ERROR_STATUS[code] : undefined);
    if (retryAfterSec !== undefined) this.retryAfterSec = retryAfterSec;
  }
}

/** True when `err` is a {@link MessagingError}, optionally with the given code. */
export function isMessagingError(err: unknown, code?: MessagingErrorCode): err is MessagingError {
  return err instanceof MessagingError && (code === undefined || err.code === code);
}

/** True when `code` belongs to the WebChat / Direct Line endpoint (`GT_MSG_WEBCHAT_*`). */
export function isWebChatCode(code: unknown): code is WebChatErrorCode {
  return typeof code === 'string' && Object.hasOwn(WEBCHAT_ERROR_STATUS, code);
}
