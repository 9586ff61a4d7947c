/**
 * The condition language of routing arms (`condition:`): a small, sandboxed expression language parsed at load
 * time. It is a superset of upstream's `path == "v"` / `path != "v"`. See docs/flow-language.md#conditions.
 */
import { FlowError, type SourceLocation } from '../errors.js';
import type { PathRef } from '../path.js';
import type { ExpressionScope } from '../scope.js';
import { compileExpr, type Evaluator } from './evaluate.js';
import { ConditionSyntaxError } from './lexer.js';
import { type Expr, parseExpression } from './parser.js';
import { isTruthy } from './values.js';

export {
  PathRef,
  type PathRoot,
  type PathSegment,
  parsePath,
  pathFromSegments,
  resolvePath,
  scopeView,
  walkPath,
} from '../path.js';
export type { BinaryOperator as ConditionOperator, Expr as ConditionExpr } from './parser.js';
export { compareValues, isTruthy, looseEquals } from './values.js';

export interface ParseConditionOptions {
  /**
   * Where the expression starts in its file (the first character of the scalar's content). Errors then carry
   * `file`, `line` and `pointer` from here and `column` shifted by the offset inside the expression; the message
   * always quotes the 1-based column inside the expression.
   */
  location?: SourceLocation;
}

/** A parsed condition. Build one with {@link parseCondition}. Immutable and safe to share. */
export class Condition {
  /** The condition exactly as written (including upstream's `{{ … }}` wrapper, if any). */
  readonly source: string;
  /** The parsed expression (for tools; evaluation uses a precompiled form). */
  readonly ast: Expr;
  readonly #evaluate: Evaluator;
  readonly #paths: readonly PathRef[];

  /** @internal use {@link parseCondition}. */
  constructor(source: string, ast: Expr) {
    this.source = source;
    this.ast = ast;
    this.#evaluate = compileExpr(ast);
    const paths: PathRef[] = [];
    collectPaths(ast, paths);
    this.#paths = paths;
  }

  /** Evaluate against a scope. Never throws for data reasons: missing paths are null. */
  evaluate(scope: ExpressionScope): boolean {
    return isTruthy(this.#evaluate(scope));
  }

  /** The value of the expression before it is coerced to a boolean (e.g. `state.lang ?? "en"`). */
  value(scope: ExpressionScope): unknown {
    return this.#evaluate(scope);
  }

  /** The paths the condition reads, as written, in source order, without duplicates (for lint). */
  paths(): string[] {
    return [...new Set(this.#paths.map((p) => p.text))];
  }

  /** The parsed paths the condition reads, in source order (duplicates kept). */
  pathRefs(): readonly PathRef[] {
    return this.#paths;
  }

  toString(): string {
    return this.source;
  }

  /** Serialises as its source, so the IR round-trips to YAML/JSON. */
  toJSON(): string {
    return this.source;
  }
}

function collectPaths(e: Expr, out: PathRef[]): void {
  switch (e.type) {
    case 'path':
      out.push(e.ref);
      break;
    case 'not':
      collectPaths(e.operand, out);
      break;
    case 'binary':
      collectPaths(e.left, out);
      collectPaths(e.right, out);
      break;
    default:
      break;
  }
}

/** The range of the expression inside upstream's `{{ … }}` wrapper, or the whole source. */
function unwrap(source: string): [number, number] {
  let from = 0;
  let to = source.length;
  while (from < to && /\s/.test(source[from]!)) from++;
  while (to > from && /\s/.test(source[to - 1]!)) to--;
  if (to - from >= 4 && source.startsWith('{{', from) && source.endsWith('}}', to)) {
    return [from + 2, to - 2];
  }
  return [0, source.length];
}

/**
 * Parse a condition. Accepts upstream's `{{ … }}` wrapper. Throws `FlowError('GT_FLOW_CONDITION')` with
 * `{line: 1, column: <1-based column in the expression>, pointer: ''}` (or a location shifted into the file, see
 * {@link ParseConditionOptions.location}) and a message such as
 * `unexpected token ">" at column 12; expected a value`.
 */
export function parseCondition(source: string, options: ParseConditionOptions = {}): Condition {
  if (typeof source !== 'string') {
    throw new FlowError(
      'GT_FLOW_CONDITION',
      `a condition must be a string, got ${source === null ? 'null' : typeof source}`,
      options.location ?? { line: 1, column: 1, pointer: '' },
    );
  }
  const [from, to] = unwrap(source);
  try {
    return new Condition(source, parseExpression(source, from, to));
  } catch (err) {
    if (!(err instanceof ConditionSyntaxError)) throw err;
    const base = options.location;
    const location: SourceLocation = base
      ? { ...base, column: base.column + err.offset }
      : { line: 1, column: err.offset + 1, pointer: '' };
    throw new FlowError(
      'GT_FLOW_CONDITION',
      `bad condition ${JSON.stringify(source)}: ${err.message}`,
      location,
      {
        cause: err,
      },
    );
  }
}
