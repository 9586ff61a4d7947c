/**
 * The one error catalog of `@greentic/types`.
 *
 * Every error this package throws is a {@link TypesError} with a stable `code`. When the problem is tied to a
 * place in a JSON document, `field` holds that place as an RFC 6901 JSON pointer (`/tenant/tenant_id`) or, for
 * a bare value, the field name (`tenant_id`).
 */
export type TypesErrorCode =
  /** An untrusted JSON document does not have the shape of the expected type. */
  | 'GT_TYPES_INVALID'
  /** A string is not a valid identifier (EnvId, TenantId, ...). */
  | 'GT_TYPES_BAD_ID'
  /** A string is not a valid RFC 6901 JSON pointer, or a state path has an invalid segment. */
  | 'GT_TYPES_BAD_POINTER';

/** One problem found while validating a JSON document. */
export interface ValidationIssue {
  /** JSON pointer of the offending value (`""` is the document itself). */
  pointer: string;
  /** What is wrong, without the pointer (`must match [A-Za-z0-9._-]+ (got "a b")`). */
  message: string;
  /** The rule that failed (a JSON Schema keyword such as `pattern`, or a package rule such as `consistency`). */
  keyword: string;
}

export interface TypesErrorOptions extends ErrorOptions {
  field?: string;
  issues?: ValidationIssue[];
}

export class TypesError extends Error {
  /** Stable machine-readable code. */
  readonly code: TypesErrorCode;
  /** JSON pointer or field name the error is about, when there is one. */
  readonly field: string | undefined;
  /** Every problem found (validation errors); the message describes the first. */
  readonly issues: readonly ValidationIssue[];

  constructor(code: TypesErrorCode, message: string, options: TypesErrorOptions = {}) {
    const { field, issues, ...errorOptions } = options;
    super(message, errorOptions);
    this.name = 'TypesError';
    this.code = code;
    this.field = field;
    this.issues = issues ?? [];
  }
}

/** True when `err` is a {@link TypesError}, optionally with the given code. */
export function isTypesError(err: unknown, code?: TypesErrorCode): err is TypesError {
  return err instanceof TypesError && (code === undefined || err.code === code);
}

/** Renders a value for an error message: short, JSON-quoted, never huge. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
