/**
 * The one error catalog of `@greentic/secrets`.
 *
 * Every error this package throws (or rejects with) is a {@link SecretsError} with a stable `code`. A message names
 * the secret by its URI (or key) and never contains a secret value: errors that would echo a value (a JSON parser's
 * message, say) are replaced by one that gives only a position, and such a `cause` is dropped.
 */
export type SecretsErrorCode =
  /** A `secrets://` URI (or a segment of one) is malformed; `segment` names the part. */
  | 'GT_SECRETS_URI'
  /** No provider has a value for the secret (at any scope tried). */
  | 'GT_SECRETS_NOT_FOUND'
  /** Deny by default: the pack does not declare the secret, the tenant's allow-list does not grant it, or it is
   * outside the caller's tenant. The denial is recorded in the audit log. */
  | 'GT_SECRETS_DENIED'
  /** `put`/`delete` on a read-only provider (environment variables, mounted Kubernetes files). */
  | 'GT_SECRETS_READ_ONLY'
  /** The master key is missing, too short, or does not open the store. */
  | 'GT_SECRETS_KEY'
  /** The encrypted store (or one of its records) fails authentication or does not parse: tampered or damaged. */
  | 'GT_SECRETS_CORRUPT'
  /** Another writer held the store's lock for longer than the lock timeout. */
  | 'GT_SECRETS_LOCKED'
  /** An argument is malformed: a value that does not match its format, a bad allow-list, seed or manifest. */
  | 'GT_SECRETS_INVALID'
  /** The TenantCtx cannot serve as a scope (missing env/tenant, bad ids). */
  | 'GT_SECRETS_SCOPE'
  /** A pack (`.gtpack` or manifest JSON) cannot be read. */
  | 'GT_SECRETS_PACK'
  /** A storage backend failed (I/O error); `cause` holds the original. */
  | 'GT_SECRETS_BACKEND'
  /** The CLI was called wrongly (unknown option, missing argument). */
  | 'GT_SECRETS_USAGE';

export interface SecretsErrorOptions extends ErrorOptions {
  /** The secret the error is about (a URI or a key), never its value. */
  uri?: string;
  /** For `GT_SECRETS_URI`: the segment at fault (`env`, `tenant`, `team`, `category`, `name`, `version`). */
  segment?: string;
}

export class SecretsError extends Error {
  /** Stable machine-readable code. */
  readonly code: SecretsErrorCode;
  /** The secret the error is about (a URI or a key), never its value. */
  readonly uri: string | undefined;
  /** For `GT_SECRETS_URI`: the segment at fault. */
  readonly segment: string | undefined;

  constructor(code: SecretsErrorCode, message: string, options: SecretsErrorOptions = {}) {
    const { uri, segment, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'SecretsError';
    this.code = code;
    this.uri = uri;
    this.segment = segment;
  }
}

/** True when `err` is a {@link SecretsError}, optionally with the given code. */
export function isSecretsError(err: unknown, code?: SecretsErrorCode): err is SecretsError {
  return err instanceof SecretsError && (code === undefined || err.code === code);
}

/**
 * Where a JSON parser failed, without its message (V8 quotes the input it choked on, which may be a secret).
 * Returns e.g. `at position 12` or `` when the position is unknown.
 */
export function jsonErrorPosition(err: unknown): string {
  const m = err instanceof Error ? /position (\d+)/.exec(err.message) : null;
  return m ? `at position ${m[1]}` : '';
}
