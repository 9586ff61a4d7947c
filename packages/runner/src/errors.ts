/** The one error catalog of @greentic/runner. */
export type RunnerErrorCode =
  /** A turn ran more steps than `maxStepsPerTurn` without waiting for input: a loop in the flow. */
  | 'GT_RUNNER_STEP_LIMIT'
  /** No flow with that id is registered (or the tenant has none). */
  | 'GT_RUNNER_FLOW_NOT_FOUND'
  /** A node names a component/operation that no registry resolves. */
  | 'GT_RUNNER_COMPONENT_NOT_FOUND'
  /** A node failed (component error, bad payload) and no `status: error` route handles it. */
  | 'GT_RUNNER_NODE_FAILED'
  /** The incoming message is malformed. */
  | 'GT_RUNNER_BAD_INPUT'
  /** A saved session snapshot cannot be read (written by an incompatible version or corrupted). */
  | 'GT_RUNNER_SNAPSHOT'
  /** The conversation was changed concurrently and the turn could not be applied. */
  | 'GT_RUNNER_CONFLICT'
  /** A CLI usage error (bad option, unreadable file). */
  | 'GT_RUNNER_USAGE'
  /** The runner daemon's configuration (file or GREENTIC_RUNNER_* variable) is invalid; the message names the field. */
  | 'GT_RUNNER_CONFIG'
  /** A configured backend (Redis, NATS) cannot be reached at startup; the message names its URL. */
  | 'GT_RUNNER_UNREACHABLE'
  /** A message-bus operation failed (stream or consumer set-up, publish). */
  | 'GT_RUNNER_BUS'
  /** The daemon stopped before every in-flight turn finished (`shutdown.timeoutMs`); their messages are redelivered. */
  | 'GT_RUNNER_SHUTDOWN_TIMEOUT';

export class RunnerError extends Error {
  override readonly name = 'RunnerError';
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    readonly details: { flow?: string; node?: string; [k: string]: unknown } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}
