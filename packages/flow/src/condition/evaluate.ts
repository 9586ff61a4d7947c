import { resolvePath } from '../path.js';
import type { ExpressionScope } from '../scope.js';
import type { Expr } from './parser.js';
import { compareValues, equalsStringLiteral, isTruthy, looseEquals, numericString } from './values.js';

/** A compiled expression: a closure tree, built once at load time. Missing paths evaluate to `null`. */
export type Evaluator = (scope: ExpressionScope) => unknown;

export function compileExpr(e: Expr): Evaluator {
  switch (e.type) {
    case 'literal': {
      const v = e.value;
      return () => v;
    }
    case 'path': {
      const ref = e.ref;
      return (s) => {
        const v = resolvePath(s, ref);
        return v === undefined ? null : v;
      };
    }
    case 'not': {
      const operand = compileExpr(e.operand);
      return (s) => !isTruthy(operand(s));
    }
    case 'binary':
      return compileBinary(e.op, e.left, e.right);
  }
}

function compileEquals(left: Expr, right: Expr): Evaluator {
  // A string literal on either side (the common `response.action == "submit"`) is lower-cased once.
  const lit = right.type === 'literal' ? right : left.type === 'literal' ? left : undefined;
  if (lit && typeof lit.value === 'string') {
    const other = compileExpr(lit === right ? left : right);
    const value = lit.value;
    const lower = value.toLowerCase();
    const num = numericString(value);
    return (s) => equalsStringLiteral(other(s), value, lower, num);
  }
  const l = compileExpr(left);
  const r = compileExpr(right);
  return (s) => looseEquals(l(s), r(s));
}

function compileBinary(op: string, left: Expr, right: Expr): Evaluator {
  if (op === '==') return compileEquals(left, right);
  if (op === '!=') {
    const eq = compileEquals(left, right);
    return (s) => !eq(s);
  }
  const l = compileExpr(left);
  const r = compileExpr(right);
  switch (op) {
    case '&&':
      return (s) => isTruthy(l(s)) && isTruthy(r(s));
    case '||':
      return (s) => isTruthy(l(s)) || isTruthy(r(s));
    case '??':
      return (s) => {
        const v = l(s);
        return v === null || v === undefined ? r(s) : v;
      };
    case '<':
      return (s) => compareValues(l(s), r(s)) < 0;
    case '<=':
      return (s) => compareValues(l(s), r(s)) <= 0;
    case '>':
      return (s) => compareValues(l(s), r(s)) > 0;
    case '>=':
      return (s) => compareValues(l(s), r(s)) >= 0;
    default:
      throw new Error(`unknown operator ${op}`);
  }
}
