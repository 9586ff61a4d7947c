import { TypesError, type ValidationIssue } from './errors.js';
import { escapePointerSegment } from './state.js';
import { formatIssues } from './validate.js';

/** A JSON value: what `JSON.parse` can return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Options of {@link copyJsonValue} and {@link jsonValueProblem}. */
export interface JsonValueOptions {
  /**
   * How many objects/arrays may nest in one another (default {@link DEFAULT_JSON_MAX_DEPTH}); `0` allows scalars
   * only. Backends have limits of their own (Redis' Lua cjson, RedisJSON), and recursion needs one.
   */
  maxDepth?: number;
}

/** Default {@link JsonValueOptions.maxDepth}. */
export const DEFAULT_JSON_MAX_DEPTH = 128;

/** Thrown by {@link copyFast} on the first value it cannot copy; {@link jsonValueProblem} then says where and why. */
const NOT_JSON = Symbol('not JSON');

/**
 * A deep copy of `value`, checked to be JSON: objects (plain or null-prototype), arrays, strings, finite numbers,
 * booleans and null. Object members whose value is `undefined` are dropped, as `JSON.stringify` does; anything
 * else JSON cannot hold (functions, symbols, BigInt, NaN/Infinity, class instances such as Date or Map, cycles,
 * holes or `undefined` items in arrays, nesting deeper than `maxDepth`) is rejected. Much cheaper than
 * `structuredClone` or a JSON round trip for small documents; a member named `__proto__` is copied as an own
 * member.
 *
 * Throws `TypesError` `GT_TYPES_INVALID` whose `field` is the JSON pointer of the first problem and whose
 * `issues[0]` is {@link jsonValueProblem}'s answer.
 */
export function copyJsonValue(value: unknown, options?: JsonValueOptions): JsonValue {
  const maxDepth = options?.maxDepth ?? DEFAULT_JSON_MAX_DEPTH;
  try {
    return copyFast(value, 0, maxDepth);
  } catch (err) {
    if (err !== NOT_JSON) throw err;
  }
  // Only a getter that answers differently the second time could make the slow path find nothing.
  const problem = jsonValueProblem(value, options) ?? {
    pointer: '',
    message: 'is not JSON: it changed while it was read (a getter?)',
    keyword: 'type',
  };
  throw new TypesError('GT_TYPES_INVALID', formatIssues('JSON value', [problem]), {
    field: problem.pointer,
    issues: [problem],
  });
}

function copyFast(value: unknown, depth: number, maxDepth: number): JsonValue {
  if (typeof value !== 'object') {
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    throw NOT_JSON;
  }
  if (value === null) return null;
  if (depth >= maxDepth) throw NOT_JSON;
  if (Array.isArray(value)) {
    const n = value.length;
    const out: JsonValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const item = value[i];
      if (item === undefined) throw NOT_JSON;
      out[i] = copyFast(item, depth + 1, maxDepth);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON;
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k === '__proto__') {
      // Plain assignment would set the prototype instead of creating the member.
      Object.defineProperty(out, k, {
        value: copyFast(v, depth + 1, maxDepth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[k] = copyFast(v, depth + 1, maxDepth);
    }
  }
  return out;
}

/**
 * Where the first thing {@link copyJsonValue} would reject is, and what it is; `undefined` when `value` is JSON.
 * `pointer` is an RFC 6901 pointer into `value` (`""` is `value` itself); `message` says what is there
 * (`is a function, which JSON cannot hold`); `keyword` is `type`, `cycle`, `sparse` or `maxDepth`.
 * Slower than {@link copyJsonValue}: use it to explain a failure, not to pre-check.
 */
export function jsonValueProblem(value: unknown, options?: JsonValueOptions): ValidationIssue | undefined {
  return findProblem(value, '', [], options?.maxDepth ?? DEFAULT_JSON_MAX_DEPTH);
}

const cannotHold = (pointer: string, what: string, keyword = 'type'): ValidationIssue => ({
  pointer,
  message: `is ${what}, which JSON cannot hold`,
  keyword,
});

function findProblem(
  value: unknown,
  pointer: string,
  ancestors: object[],
  maxDepth: number,
): ValidationIssue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) ? undefined : cannotHold(pointer, String(value));
  if (typeof value !== 'object') {
    return cannotHold(pointer, value === undefined ? 'undefined' : `a ${typeof value}`);
  }
  if (ancestors.includes(value)) {
    return cannotHold(pointer, 'a reference to one of its parents (a cycle)', 'cycle');
  }
  if (ancestors.length >= maxDepth) {
    return {
      pointer,
      message: `is nested deeper than ${maxDepth} levels, the most allowed`,
      keyword: 'maxDepth',
    };
  }
  ancestors.push(value);
  const found = Array.isArray(value)
    ? arrayProblem(value, pointer, ancestors, maxDepth)
    : objectProblem(value, pointer, ancestors, maxDepth);
  ancestors.pop();
  return found;
}

/** Items by index, as the copy reads them (other own properties of an array are not JSON and are not copied). */
function arrayProblem(
  array: readonly unknown[],
  pointer: string,
  ancestors: object[],
  maxDepth: number,
): ValidationIssue | undefined {
  for (let i = 0; i < array.length; i++) {
    if (!(i in array)) return cannotHold(pointer, `a sparse array (index ${i} is a hole)`, 'sparse');
    const found = findProblem(array[i], `${pointer}/${i}`, ancestors, maxDepth);
    if (found !== undefined) return found;
  }
  return undefined;
}

function objectProblem(
  object: object,
  pointer: string,
  ancestors: object[],
  maxDepth: number,
): ValidationIssue | undefined {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) {
    const name = (object as { constructor?: { name?: string } }).constructor?.name;
    return cannotHold(pointer, `an instance of ${name || 'a class'}`);
  }
  for (const k of Object.keys(object)) {
    const v = (object as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const found = findProblem(v, `${pointer}/${escapePointerSegment(k)}`, ancestors, maxDepth);
    if (found !== undefined) return found;
  }
  return undefined;
}
