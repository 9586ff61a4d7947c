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
  | 'GT_RUNNER_USAGE';

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
