/**
 * The one error catalog of `@greentic/session`.
 *
 * Every error a {@link SessionStore} implementation throws (or rejects with) is a {@link SessionError} with a
 * stable `code`. Backends wrap their own failures (a Redis connection error, say) as `GT_SESSION_BACKEND` and
 * keep the original as `cause`.
 */
export type SessionErrorCode =
  /** `save` was given a revision that is no longer current: someone else saved in between. Re-read and retry. */
  | 'GT_SESSION_CONFLICT'
  /** The session does not exist in the caller's scope (never created, removed, expired, or another scope's). */
  | 'GT_SESSION_NOT_FOUND'
  /** The TenantCtx is unusable as a scope (missing env/tenant, bad id) or does not match the session data. */
  | 'GT_SESSION_SCOPE'
  /** An argument is malformed: empty key, bad SessionData, bad ReplyScope, bad TTL or revision. */
  | 'GT_SESSION_INVALID'
  /** The store was used after `close()`. */
  | 'GT_SESSION_CLOSED'
  /** The storage backend failed (connection lost, bad reply); `cause` holds the backend's error. */
  | 'GT_SESSION_BACKEND';

export interface SessionErrorOptions extends ErrorOptions {
  /** The session key the error is about, when there is one. */
  key?: string;
}

export class SessionError extends Error {
  /** Stable machine-readable code. */
  readonly code: SessionErrorCode;
  /** The session key the error is about, when there is one. */
  readonly key: string | undefined;

  constructor(code: SessionErrorCode, message: string, options: SessionErrorOptions = {}) {
    const { key, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'SessionError';
    this.code = code;
    this.key = key;
  }
}

/** True when `err` is a {@link SessionError}, optionally with the given code. */
export function isSessionError(err: unknown, code?: SessionErrorCode): err is SessionError {
  return err instanceof SessionError && (code === undefined || err.code === code);
}
