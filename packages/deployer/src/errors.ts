/**
 * The deployer's error catalog. Every failure says which step failed, on which resource, and what to do next, so
 * a re-run (which is always safe: progress is recorded per resource) can be preceded by the right fix.
 */

export const DEPLOYER_ERROR_CODES = {
  /** Bad command-line usage: unknown option, missing or malformed value. Exit code 2. */
  GT_DEPLOY_USAGE: 'bad command-line usage',
  /** The environment description (greentic.yaml) is missing, not YAML, or does not match the schema. Exit code 2. */
  GT_DEPLOY_CONFIG: 'invalid environment description',
  /** `init` would overwrite an existing description without --force. Exit code 2. */
  GT_DEPLOY_EXISTS: 'file already exists',
  /** A secret the environment needs has no value and none could be asked for (non-interactive). Exit code 3. */
  GT_DEPLOY_SECRET_MISSING: 'secret value missing',
  /** Reading or writing the secrets store (or its master key) failed. Exit code 1. */
  GT_DEPLOY_SECRETS: 'secrets store failure',
  /** Creating or reading the dev signing key or the trust store failed. Exit code 1. */
  GT_DEPLOY_KEY: 'signing key failure',
  /** A provider API (Telegram setWebhook/deleteWebhook) refused or could not be reached. Exit code 1. */
  GT_DEPLOY_PROVIDER: 'provider API failure',
  /** Building or signing a pack failed. Exit code 1. */
  GT_DEPLOY_PACK: 'pack build failure',
  /** Publishing a pack to the OCI registry failed. Exit code 1. */
  GT_DEPLOY_PUBLISH: 'pack publish failure',
  /** A generated artifact (runner config, manifests, chart) could not be produced or is invalid. Exit code 1. */
  GT_DEPLOY_ARTIFACT: 'artifact generation failure',
  /** The local runner process could not be started, did not become healthy, or could not be stopped. Exit code 1. */
  GT_DEPLOY_RUNNER: 'runner process failure',
  /** The deployer state file is unreadable or was written by a newer deployer. Exit code 1. */
  GT_DEPLOY_STATE: 'deployer state failure',
  /** The user interrupted a prompt (Ctrl-C / end of input). Exit code 130. */
  GT_DEPLOY_ABORTED: 'aborted by the user',
  /** A failure injected on purpose (GREENTIC_DEPLOYER_FAIL_AT) to test that an interrupted apply resumes. Exit code 1. */
  GT_DEPLOY_INJECTED: 'injected failure',
} as const;

export type DeployerErrorCode = keyof typeof DEPLOYER_ERROR_CODES;

/** The step of a run a failure happened in. */
export type DeployStep =
  | 'usage'
  | 'init'
  | 'load'
  | 'secrets'
  | 'records'
  | 'signing-key'
  | 'webhook'
  | 'pack-build'
  | 'pack-load'
  | 'pack-publish'
  | 'artifacts'
  | 'runner'
  | 'state'
  | 'plan'
  | 'destroy';

export interface DeployerErrorOptions {
  step: DeployStep;
  /** The resource the step worked on (`connector:telegram/support-bot`, `file:~/.greentic/master.key`, …). */
  resource?: string;
  /** What to do about it, as one sentence. */
  hint?: string;
  cause?: unknown;
}

/** Process exit codes of `greentic-deployer` (documented in docs/deployer.md). */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  NEEDS_INPUT: 3,
  /** `plan --detailed-exitcode` when there are changes to apply. */
  CHANGES: 4,
  ABORTED: 130,
} as const;

export class DeployerError extends Error {
  override readonly name = 'DeployerError';
  readonly code: DeployerErrorCode;
  readonly step: DeployStep;
  readonly resource?: string;
  readonly hint?: string;

  constructor(code: DeployerErrorCode, message: string, options: DeployerErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.step = options.step;
    if (options.resource !== undefined) this.resource = options.resource;
    if (options.hint !== undefined) this.hint = options.hint;
  }

  /** The process exit code this failure maps to. */
  get exitCode(): number {
    switch (this.code) {
      case 'GT_DEPLOY_USAGE':
      case 'GT_DEPLOY_CONFIG':
      case 'GT_DEPLOY_EXISTS':
        return EXIT.USAGE;
      case 'GT_DEPLOY_SECRET_MISSING':
        return EXIT.NEEDS_INPUT;
      case 'GT_DEPLOY_ABORTED':
        return EXIT.ABORTED;
      default:
        return EXIT.FAILED;
    }
  }

  /** `error GT_DEPLOY_X [step webhook, resource connector:telegram/bot]: message\n  what to do: hint` */
  format(): string {
    const where = [`step ${this.step}`, ...(this.resource ? [`resource ${this.resource}`] : [])].join(', ');
    return `error ${this.code} [${where}]: ${this.message}${this.hint ? `\n  what to do: ${this.hint}` : ''}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      step: this.step,
      ...(this.resource ? { resource: this.resource } : {}),
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export function isDeployerError(e: unknown, code?: DeployerErrorCode): e is DeployerError {
  return e instanceof DeployerError && (code === undefined || e.code === code);
}

/** Wraps any thrown value into a DeployerError for `step`/`resource`, keeping DeployerErrors as they are. */
export function asDeployerError(
  e: unknown,
  code: DeployerErrorCode,
  options: DeployerErrorOptions & { message?: string },
): DeployerError {
  if (e instanceof DeployerError) return e;
  const detail = e instanceof Error ? e.message : String(e);
  return new DeployerError(code, options.message ? `${options.message}: ${detail}` : detail, {
    ...options,
    cause: e,
  });
}
