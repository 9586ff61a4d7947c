/**
 * The one error catalog of `@greentic/messaging`.
 *
 * Everything this package throws is a {@link MessagingError} with a stable `code`. Failures that are answers
 * rather than exceptions (a webhook rejected with 401/403, a reply dead-lettered) carry the same codes in their
 * `code` field, so logs and dead letters can be grepped by code.
 */
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
  | 'GT_MSG_BACKEND';

export interface MessagingErrorOptions extends ErrorOptions {
  /** HTTP status the error maps to, when it is about an HTTP exchange. */
  status?: number;
}

export class MessagingError extends Error {
  /** Stable machine-readable code. */
  readonly code: MessagingErrorCode;
  /** HTTP status the error maps to, when there is one. */
  readonly status: number | undefined;

  constructor(code: MessagingErrorCode, message: string, options: MessagingErrorOptions = {}) {
    const { status, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'MessagingError';
    this.code = code;
    this.status = status;
  }
}

/** True when `err` is a {@link MessagingError}, optionally with the given code. */
export function isMessagingError(err: unknown, code?: MessagingErrorCode): err is MessagingError {
  return err instanceof MessagingError && (code === undefined || err.code === code);
}
