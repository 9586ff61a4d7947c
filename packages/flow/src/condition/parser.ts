import type { PathRef } from '../path.js';
import { ConditionSyntaxError, type Operator, type Token, tokenize } from './lexer.js';

export type BinaryOperator = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '??';

/** The condition AST. `start` is the 0-based offset of the node in the source. */
export type Expr =
  | { type: 'literal'; value: string | number | boolean | null; start: number }
  | { type: 'path'; ref: PathRef; start: number }
  | { type: 'not'; operand: Expr; start: number }
  | { type: 'binary'; op: BinaryOperator; left: Expr; right: Expr; start: number };

/** Deeper nesting than this is rejected (protects the stack; real conditions are shallow). */
const MAX_DEPTH = 64;

function describe(source: string, t: Token): string {
  return t.kind === 'eof' ? 'end of the expression' : `token ${JSON.stringify(source.slice(t.start, t.end))}`;
}

/**
 * Recursive-descent parser. Precedence, loosest first:
 *   `||`  <  `&&`  <  `== !=`  <  `< <= > >=`  <  `??`  <  unary `!`
 * `||`, `&&` and `??` associate to the left; equality and ordering operators do not chain.
 */
class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === ')') {
        throw this.error(t, `unexpected ")" at column ${t.start + 1}; it has no matching "("`);
      }
      throw this.error(
        t,
        `unexpected ${describe(this.source, t)} at column ${t.start + 1}; expected an operator or the end of the expression`,
      );
    }
    return expr;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private isOp(op: Operator): boolean {
    const t = this.tokens[this.pos]!;
    return t.kind === 'op' && t.op === op;
  }

  private error(t: Token, message: string): ConditionSyntaxError {
    return new ConditionSyntaxError(message, t.start);
  }

  private or(): Expr {
    let left = this.and();
    while (this.isOp('||')) {
      this.pos++;
      left = { type: 'binary', op: '||', left, right: this.and(), start: left.start };
    }
    return left;
  }

  private and(): Expr {
    let left = this.equality();
    while (this.isOp('&&')) {
      this.pos++;
      left = { type: 'binary', op: '&&', left, right: this.equality(), start: left.start };
    }
    return left;
  }

  private equality(): Expr {
    const left = this.comparison();
    const t = this.peek();
    if (t.kind === 'op' && (t.op === '==' || t.op === '!=')) {
      this.pos++;
      const expr: Expr = { type: 'binary', op: t.op, left, right: this.comparison(), start: left.start };
      const next = this.peek();
      if (next.kind === 'op' && (next.op === '==' || next.op === '!=')) {
        throw this.error(
          next,
          `unexpected ${describe(this.source, next)} at column ${next.start + 1}; comparisons do not chain, use && or parentheses`,
        );
      }
      return expr;
    }
    return left;
  }

  private comparison(): Expr {
    const left = this.coalesce();
    const t = this.peek();
    if (t.kind === 'op' && (t.op === '<' || t.op === '<=' || t.op === '>' || t.op === '>=')) {
      this.pos++;
      const expr: Expr = { type: 'binary', op: t.op, left, right: this.coalesce(), start: left.start };
      const next = this.peek();
      if (
        next.kind === 'op' &&
        (next.op === '<' || next.op === '<=' || next.op === '>' || next.op === '>=')
      ) {
        throw this.error(
          next,
          `unexpected ${describe(this.source, next)} at column ${next.start + 1}; comparisons do not chain, use && or parentheses`,
        );
      }
      return expr;
    }
    return left;
  }

  private coalesce(): Expr {
    let left = this.unary();
    while (this.isOp('??')) {
      this.pos++;
      left = { type: 'binary', op: '??', left, right: this.unary(), start: left.start };
    }
    return left;
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && t.op === '!') {
      this.pos++;
      this.enter(t);
      const operand = this.unary();
      this.depth--;
      return { type: 'not', operand, start: t.start };
    }
    return this.primary();
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) {
      throw this.error(t, `expression nested too deeply at column ${t.start + 1} (limit ${MAX_DEPTH})`);
    }
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'literal':
        this.pos++;
        return { type: 'literal', value: t.value, start: t.start };
      case 'path':
        this.pos++;
        return { type: 'path', ref: t.ref, start: t.start };
      case '(': {
        this.pos++;
        this.enter(t);
        const inner = this.or();
        this.depth--;
        const close = this.peek();
        if (close.kind !== ')') {
          throw this.error(
            close,
            close.kind === 'eof'
              ? `missing ")" at column ${close.start + 1} to close the "(" at column ${t.start + 1}`
              : `unexpected ${describe(this.source, close)} at column ${close.start + 1}; expected ")" to close the "(" at column ${t.start + 1}`,
          );
        }
        this.pos++;
        return inner;
      }
      case 'op':
        if (t.op === '-') {
          const next = this.tokens[this.pos + 1]!;
          if (next.kind === 'literal' && typeof next.value === 'number' && next.start === t.end) {
            this.pos += 2;
            return { type: 'literal', value: -next.value, start: t.start };
          }
        }
        break;
      default:
        break;
    }
    if (t.kind === 'eof') {
      throw this.error(t, `unexpected end of the expression at column ${t.start + 1}; expected a value`);
    }
    throw this.error(t, `unexpected ${describe(this.source, t)} at column ${t.start + 1}; expected a value`);
  }
}

/** Parse `source[from, to)`; offsets in errors and nodes are into `source`. */
export function parseExpression(source: string, from: number, to: number): Expr {
  const tokens = tokenize(source, from, to);
  if (tokens.length === 1) {
    throw new ConditionSyntaxError(`the condition is empty at column ${from + 1}; expected a value`, from);
  }
  return new Parser(source, tokens).parse();
}
