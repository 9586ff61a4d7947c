/**
 * Value semantics of the condition language (also used by the template helpers `eq`/`ifEq`).
 * Values are JSON values; `undefined` (a missing path) behaves exactly like `null`.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/** null/missing, false, 0, NaN, "", [] and {} are false; everything else is true. */
export function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '' || v === 0) return false;
  if (typeof v === 'number') return !Number.isNaN(v);
  if (typeof v === 'object') {
    if (Array.isArray(v)) return v.length > 0;
    for (const k in v) if (hasOwn.call(v, k)) return true;
    return false;
  }
  return true;
}

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The number a string spells (`" 42 "`, `"-1.5"`, `"1e3"`), or undefined. Empty, hex and `Infinity` do not count. */
export function numericString(s: string): number | undefined {
  return NUMERIC.test(s) ? Number(s) : undefined;
}

/** The text form used by case-insensitive comparison: strings as-is, objects as JSON. */
export function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!hasOwn.call(b, k)) return false;
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * `==` of the condition language:
 * - null (or missing) equals only null;
 * - two numbers compare numerically; a number and a numeric string compare numerically;
 * - when either side is a string, both sides are stringified and compared case-insensitively
 *   (upstream compatibility: `response.action == "Yes"` matches `"yes"`, `prev.success == "true"` matches `true`);
 * - arrays and objects compare structurally;
 * - anything else (e.g. `true == 1`) is false.
 */
export function looseEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'string' || tb === 'string') {
    if (ta === 'number') return numericString(b as string) === a;
    if (tb === 'number') return numericString(a as string) === b;
    return stringify(a).toLowerCase() === stringify(b).toLowerCase();
  }
  if (ta === 'object' && tb === 'object') return deepEqual(a, b);
  return false;
}

/**
 * `==` against a string literal, with the literal's lower-case form and numeric value computed once.
 * Same result as `looseEquals(v, literal)`.
 */
export function equalsStringLiteral(
  v: unknown,
  literal: string,
  lower: string,
  num: number | undefined,
): boolean {
  if (v === literal) return true;
  if (v === null || v === undefined) return false;
  if (typeof v === 'number') return num === v;
  if (typeof v === 'string') return v.toLowerCase() === lower;
  return stringify(v).toLowerCase() === lower;
}

/**
 * Ordering for `< <= > >=`: returns a negative number, zero or a positive number, or NaN when the values are not
 * comparable (then every ordering operator is false).
 * - two numbers compare numerically; when one side is a number, a numeric string on the other side is coerced
 *   (chat answers arrive as text: `in.input.text >= 18`);
 * - two strings compare lexicographically (UTF-16 code units, case-sensitive);
 * - null/missing, booleans, arrays, objects and mixes are not comparable.
 */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'number') {
    if (tb === 'number') return (a as number) - (b as number);
    if (tb === 'string') {
      const n = numericString(b as string);
      return n === undefined ? Number.NaN : (a as number) - n;
    }
    return Number.NaN;
  }
  if (ta === 'string') {
    if (tb === 'string') return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    if (tb === 'number') {
      const n = numericString(a as string);
      return n === undefined ? Number.NaN : n - (b as number);
    }
  }
  return Number.NaN;
}
