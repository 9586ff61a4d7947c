import type { ErrorCode, OutcomeError } from '@greentic/types';

/**
 * The one error catalog of `@greentic/mcp`.
 *
 * Errors thrown by this package are {@link McpError}s with a stable `code`. Tool calls never throw for tool
 * failures: they answer an `Outcome` (`{Error: {code, message}}`), and {@link McpError.outcomeCode} says which
 * upstream `ErrorCode` an McpError becomes when it has to be reported that way.
 */
export type McpErrorCode =
  /** A tool map (`toolmap.json` / `.yaml`) is not valid JSON/YAML, breaks the schema, or names a tool twice. */
  | 'GT_MCP_TOOLMAP'
  /** MCP client configuration (servers, tenants, retry, timeouts) is invalid. */
  | 'GT_MCP_CONFIG'
  /** A tool definition handed to `createMcpServer` is invalid (bad name, duplicate, schema not an object schema). */
  | 'GT_MCP_TOOL_DEFINITION'
  /** A tool map has no tool with the requested name. */
  | 'GT_MCP_TOOL_NOT_FOUND'
  /** An MCP server could not be started, reached or kept connected. */
  | 'GT_MCP_UNAVAILABLE'
  /** The tenant is not on the server's allow-list, or the tool is not on the server's tool allow-list. */
  | 'GT_MCP_PERMISSION_DENIED'
  /** An MCP server answered with a protocol error or something that is not a valid MCP result. */
  | 'GT_MCP_PROTOCOL'
  /** A file could not be read. */
  | 'GT_MCP_IO'
  /** The HTTP endpoint for exposed tools could not listen (port in use, bad host). */
  | 'GT_MCP_LISTEN';

export interface McpErrorOptions extends ErrorOptions {
  /** JSON pointer (`/tools/0/timeout_ms`) or field name the error is about. */
  field?: string;
  /** The file the problem was found in. */
  file?: string;
  /** Every problem found when validating a document; the message describes the first. */
  issues?: readonly McpIssue[];
  /** Outcome code this error maps to when reported as an Outcome (defaults per `code`). */
  outcomeCode?: ErrorCode;
}

/** One problem found while validating a document. */
export interface McpIssue {
  /** JSON pointer of the offending value (`""` is the document itself). */
  pointer: string;
  message: string;
}

const DEFAULT_OUTCOME: Record<McpErrorCode, ErrorCode> = {
  GT_MCP_TOOLMAP: 'invalid_input',
  GT_MCP_CONFIG: 'invalid_input',
  GT_MCP_TOOL_DEFINITION: 'invalid_input',
  GT_MCP_TOOL_NOT_FOUND: 'not_found',
  GT_MCP_UNAVAILABLE: 'unavailable',
  GT_MCP_PERMISSION_DENIED: 'permission_denied',
  GT_MCP_PROTOCOL: 'internal',
  GT_MCP_IO: 'unavailable',
  GT_MCP_LISTEN: 'unavailable',
};

export class McpError extends Error {
  override readonly name = 'McpError';
  /** Stable machine-readable code. */
  readonly code: McpErrorCode;
  /** JSON pointer or field name the error is about, when there is one. */
  readonly field: string | undefined;
  /** The file the problem was found in, when there is one. */
  readonly file: string | undefined;
  /** Every problem found (validation errors). */
  readonly issues: readonly McpIssue[];
  /** The upstream `ErrorCode` this error is reported as inside an `Outcome`. */
  readonly outcomeCode: ErrorCode;

  constructor(code: McpErrorCode, message: string, options: McpErrorOptions = {}) {
    const { field, file, issues, outcomeCode, ...errorOptions } = options;
    super(message, errorOptions);
    this.code = code;
    this.field = field;
    this.file = file;
    this.issues = issues ?? [];
    this.outcomeCode = outcomeCode ?? DEFAULT_OUTCOME[code];
  }

  /** This error as an `Outcome` error (what a tool call answers instead of throwing). */
  toOutcome(): OutcomeError {
    return { Error: { code: this.outcomeCode, message: this.message } };
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      field: this.field,
      file: this.file,
      issues: this.issues.length ? this.issues : undefined,
      outcome_code: this.outcomeCode,
    };
  }
}

/** True when `err` is an {@link McpError}, optionally with the given code. */
export function isMcpError(err: unknown, code?: McpErrorCode): err is McpError {
  return err instanceof McpError && (code === undefined || err.code === code);
}
