/** Canonical platform error codes (upstream `ErrorCode`, snake_case). */
export type ErrorCode =
  | 'unknown'
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'timeout'
  | 'unauthenticated'
  | 'permission_denied'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'unknown',
  'invalid_input',
  'not_found',
  'conflict',
  'timeout',
  'unauthenticated',
  'permission_denied',
  'rate_limited',
  'unavailable',
  'internal',
];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** An error with a code and message (upstream `GreenticError`). */
export interface GreenticError {
  code: ErrorCode;
  message: string;
}

/** `Outcome::Done(T)`. */
export interface OutcomeDone<T> {
  Done: T;
}
/**
 * `Outcome::Pending{reason, expected_input?}`: waiting for external input. `reply` is a Greentic-TS extension (upstream
 * ignores unknown fields): what to tell the user while waiting, e.g. a consent link or a card.
 */
export interface OutcomePending {
  Pending: { reason: string; expected_input?: string[]; reply?: unknown };
}
/** `Outcome::Error{code, message}`. */
export interface OutcomeError {
  Error: { code: ErrorCode; message: string };
}
/** Outcome of a node, adapter or tool invocation (upstream `Outcome<T>`, externally tagged). */
export type Outcome<T> = OutcomeDone<T> | OutcomePending | OutcomeError;

export function done<T>(value: T): OutcomeDone<T> {
  return { Done: value };
}

export function pending(reason: string, expectedInput?: string[]): OutcomePending {
  return expectedInput === undefined
    ? { Pending: { reason } }
    : { Pending: { reason, expected_input: [...expectedInput] } };
}

export function failed(code: ErrorCode, message: string): OutcomeError {
  return { Error: { code, message } };
}

function hasOwn(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key);
}

export function isDone<T>(outcome: Outcome<T>): outcome is OutcomeDone<T> {
  return hasOwn(outcome, 'Done');
}
export function isPending<T>(outcome: Outcome<T>): outcome is OutcomePending {
  return hasOwn(outcome, 'Pending');
}
export function isError<T>(outcome: Outcome<T>): outcome is OutcomeError {
  return hasOwn(outcome, 'Error');
}

/** Maps the value of a `Done` outcome; `Pending` and `Error` pass through unchanged. */
export function mapOutcome<T, U>(outcome: Outcome<T>, f: (value: T) => U): Outcome<U> {
  return isDone(outcome) ? { Done: f(outcome.Done) } : outcome;
}

/** Structured detail of a {@link NodeError} (upstream `ErrorDetail`, externally tagged; Binary is a byte array). */
export type ErrorDetail = { Text: string } | { Binary: number[] };

/**
 * Error emitted by a node (upstream `NodeError` in lib.rs). Upstream writes `backoff_ms` and `details` as
 * `null` when absent and accepts them missing; this package accepts both and omits them when building.
 */
export interface NodeError {
  /** Machine-readable, open-ended code. */
  code: string;
  message: string;
  retryable: boolean;
  backoff_ms?: number | null;
  details?: ErrorDetail | null;
}

export interface NodeErrorOptions {
  retryable?: boolean;
  backoffMs?: number;
  details?: ErrorDetail | string;
}

/** Builds a NodeError; non-retryable unless told; a string detail becomes `{Text}`. */
export function nodeError(code: string, message: string, options: NodeErrorOptions = {}): NodeError {
  const err: NodeError = { code, message, retryable: options.retryable ?? options.backoffMs !== undefined };
  if (options.backoffMs !== undefined) err.backoff_ms = options.backoffMs;
  if (options.details !== undefined) {
    err.details = typeof options.details === 'string' ? { Text: options.details } : options.details;
  }
  return err;
}

/** Coarse routing/retry class of a node-I/O error (upstream `node_io::ErrorKind`). */
export type ErrorKind =
  | 'validation'
  | 'timeout'
  | 'auth'
  | 'not_found'
  | 'rate_limited'
  | 'internal'
  | 'cancelled';

export const ERROR_KINDS: readonly ErrorKind[] = [
  'validation',
  'timeout',
  'auth',
  'not_found',
  'rate_limited',
  'internal',
  'cancelled',
];

/** The node-I/O variant of a node error (upstream `node_io::NodeError`): adds `kind` and a provenance `source`. */
export interface NodeIoError {
  code: string;
  message: string;
  kind: ErrorKind;
  retryable: boolean;
  source?: { node: string; input?: string };
  /** Free-form detail; omitted when null. */
  details?: unknown;
}
