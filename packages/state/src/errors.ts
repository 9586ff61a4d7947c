/**
 * The one error catalog of `@greentic/state`.
 *
 * Every error a {@link StateStore} implementation throws (or rejects with) is a {@link StateError} with a stable
 * `code`. Backends wrap their own failures (a Redis connection error, say) as `GT_STATE_BACKEND` and keep the
 * original as `cause`.
 */
export type StateErrorCode =
  /** A value is not JSON (function, undefined, BigInt, NaN, class instance, cycle...) or an option is malformed. */
  | 'GT_STATE_INVALID'
  /** A JSON pointer is malformed, or cannot be written/deleted in this document (it runs through a non-container). */
  | 'GT_STATE_PATH'
  /** A state key or prefix breaks the naming rules (empty, `..` segment, forbidden character, too long). */
  | 'GT_STATE_KEY'
  /** The TenantCtx is unusable as a scope: missing env or tenant, invalid identifier, inconsistent legacy field. */
  | 'GT_STATE_SCOPE'
  /** The store was used after `close()`. */
  | 'GT_STATE_CLOSED'
  /** The storage backend failed (connection lost, script error); `cause` holds the backend's error. */
  | 'GT_STATE_BACKEND';

export interface StateErrorOptions extends ErrorOptions {
  /** The state key the error is about, when there is one. */
  key?: string;
  /** The JSON pointer the error is about, when there is one. */
  path?: string;
}

export class StateError extends Error {
  /** Stable machine-readable code. */
  readonly code: StateErrorCode;
  /** The state key the error is about, when there is one. */
  readonly key: string | undefined;
  /** The JSON pointer the error is about, when there is one. */
  readonly path: string | undefined;

  constructor(code: StateErrorCode, message: string, options: StateErrorOptions = {}) {
    const { key, path, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'StateError';
    this.code = code;
    this.key = key;
    this.path = path;
  }
}

/** True when `err` is a {@link StateError}, optionally with the given code. */
export function isStateError(err: unknown, code?: StateErrorCode): err is StateError {
  return err instanceof StateError && (code === undefined || err.code === code);
}
