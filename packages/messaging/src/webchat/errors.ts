/**
 * Errors of the WebChat / Direct Line endpoint. Every code is `GT_MSG_WEBCHAT_*`; each maps to the HTTP status the
 * endpoint answers with. Over HTTP the body is Direct Line's error shape: `{"error": {"code", "message"}}`.
 */
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

export type WebChatErrorCode = keyof typeof WEBCHAT_ERROR_STATUS;

/** All codes of the family, for merging into the package's catalog. */
export const WEBCHAT_ERROR_CODES = Object.keys(WEBCHAT_ERROR_STATUS) as WebChatErrorCode[];

export class WebChatError extends Error {
  override readonly name = 'WebChatError';
  readonly code: WebChatErrorCode;
  /** The HTTP status the endpoint answers with. */
  readonly status: number;
  /** Seconds to wait (rate limiting). */
  readonly retryAfterSec?: number;

  constructor(
    code: WebChatErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSec?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = WEBCHAT_ERROR_STATUS[code];
    if (options.retryAfterSec !== undefined) this.retryAfterSec = options.retryAfterSec;
  }

  /** Direct Line's error body. */
  toJSON(): { error: { code: WebChatErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

export function isWebChatError(e: unknown, code?: WebChatErrorCode): e is WebChatError {
  return e instanceof WebChatError && (code === undefined || e.code === code);
}
