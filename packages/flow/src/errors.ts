/**
 * The one error catalog of @greentic/flow. Every error a user can meet while loading, checking or
 * rendering a flow carries a stable `code`, a message that says what to do, and — where it comes
 * from a file — the file, line, column and JSON pointer.
 */
export type FlowErrorCode =
  /** The file is not valid YAML (syntax error). */
  | 'GT_FLOW_YAML'
  /** A mapping has the same key twice. */
  | 'GT_FLOW_DUPLICATE_KEY'
  /** The document does not match the YGTc v2 JSON schema. */
  | 'GT_FLOW_SCHEMA'
  /** `type` is not one of the known flow kinds. */
  | 'GT_FLOW_UNKNOWN_TYPE'
  /** The flow has no nodes. */
  | 'GT_FLOW_EMPTY'
  /** An id (flow, node) breaks the identifier rules. */
  | 'GT_FLOW_BAD_IDENTIFIER'
  /** A node does not have exactly one operation key. */
  | 'GT_FLOW_NODE_SHAPE'
  /** A routing block is malformed. */
  | 'GT_FLOW_ROUTING'
  /** A routing target (or `start`) names a node that does not exist. */
  | 'GT_FLOW_MISSING_NODE'
  /** An `mcp` node's payload is invalid. */
  | 'GT_FLOW_MCP_CONFIG'
  /** `slot_schema` is invalid (duplicate names, bad regex). */
  | 'GT_FLOW_SLOT_SCHEMA'
  /** A condition expression does not parse. */
  | 'GT_FLOW_CONDITION'
  /** A template does not parse, or (strict mode) names a missing path. */
  | 'GT_FLOW_TEMPLATE'
  /** A lint finding promoted to an error (strict doctor). */
  | 'GT_FLOW_LINT'
  /** The adapter catalog (`doctor --registry`) is not valid JSON or not `{"adapters": {name: [op, …]}}`. */
  | 'GT_FLOW_CATALOG'
  /** The file could not be read. */
  | 'GT_FLOW_IO';

export interface SourceLocation {
  /** Path of the file as given to the loader, when there is one. */
  file?: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** RFC 6901 JSON pointer of the offending value inside the document, e.g. `/nodes/ask/routing/0/to`. */
  pointer: string;
}

export class FlowError extends Error {
  override readonly name = 'FlowError';
  constructor(
    readonly code: FlowErrorCode,
    message: string,
    readonly location?: SourceLocation,
    options?: ErrorOptions,
  ) {
    super(location ? `${formatLocation(location)} ${message}` : message, options);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      file: this.location?.file,
      line: this.location?.line,
      col: this.location?.column,
      json_pointer: this.location?.pointer,
    };
  }
}

/** `file:line:col` (or `line:col` without a file), as editors and terminals recognise it. */
export function formatLocation(loc: SourceLocation): string {
  return `${loc.file ?? '<input>'}:${loc.line}:${loc.column}`;
}
