/**
 * Internal: argument checks and value copies shared by every StateStore implementation of this package.
 * Not exported from `index.ts`.
 */
import {
  copyJsonValue,
  describeValue,
  isolationScopeId,
  isolationScopeOf,
  isTypesError,
  type JsonValueOptions,
  statePathFromPointer,
  type TenantCtx,
  toJsonPointer,
} from '@greentic/types';
import { StateError } from './errors.js';
import type { JsonValue, StateSetOptions } from './store.js';

/** Longest accepted prefix or key. */
export const MAX_NAME_LENGTH = 512;
/** Deepest accepted nesting of a document (Redis' Lua cjson and RedisJSON both have nesting limits). */
export const MAX_DEPTH = 128;
const JSON_LIMITS: JsonValueOptions = { maxDepth: MAX_DEPTH };
const ROOT: readonly string[] = [];

const PREFIX_RE = /^[A-Za-z0-9._~@+=,-]+(?:\/[A-Za-z0-9._~@+=,-]+)*$/;
const KEY_RE = /^[A-Za-z0-9._~@+=,:-]+(?:\/[A-Za-z0-9._~@+=,:-]+)*$/;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

/** Resolves and validates the scope of `ctx`; returns its {@link isolationScopeId}. Throws `GT_STATE_SCOPE`. */
export function resolveScopeId(ctx: TenantCtx, what: string): string {
  try {
    return isolationScopeId(isolationScopeOf(ctx));
  } catch (err) {
    if (!isTypesError(err)) throw err;
    throw new StateError('GT_STATE_SCOPE', `${what}: ${err.message}`, { cause: err });
  }
}

/**
 * Checks a call on a bucket: the store is open (`GT_STATE_CLOSED`), the ctx (`GT_STATE_SCOPE`) and the prefix
 * (`GT_STATE_KEY`). Returns the ctx's {@link isolationScopeId}.
 */
export function checkBucket(closed: boolean, ctx: TenantCtx, prefix: string, what: string): string {
  if (closed) {
    throw new StateError(
      'GT_STATE_CLOSED',
      'the state store is closed; create a new store (close() was already called)',
    );
  }
  const scopeId = resolveScopeId(ctx, what);
  checkPrefix(prefix, what);
  return scopeId;
}

/** Checks a prefix. Throws `GT_STATE_KEY`. */
export function checkPrefix(prefix: unknown, what: string): asserts prefix is string {
  checkName(prefix, 'prefix', PREFIX_RE, what, '');
}

/** Checks a key (like a prefix, and `:` is allowed too). Throws `GT_STATE_KEY`. */
export function checkKey(key: unknown, what: string): asserts key is string {
  checkName(key, 'key', KEY_RE, what, ':');
}

function checkName(name: unknown, kind: string, re: RegExp, what: string, extra: string): void {
  if (
    typeof name === 'string' &&
    name.length <= MAX_NAME_LENGTH &&
    re.test(name) &&
    !DOT_SEGMENT.test(name)
  ) {
    return;
  }
  let problem: string;
  if (typeof name !== 'string') problem = 'must be a string';
  else if (name.length === 0) problem = 'must not be empty';
  else if (name.length > MAX_NAME_LENGTH) problem = `is longer than ${MAX_NAME_LENGTH} characters`;
  else if (DOT_SEGMENT.test(name) && re.test(name)) problem = 'must not have a "." or ".." segment';
  else if (/^\/|\/$|\/\//.test(name)) problem = 'must not start or end with "/" or contain "//"';
  else problem = `may only use letters, digits and ._~@+=,-${extra} in "/"-separated segments`;
  throw new StateError(
    'GT_STATE_KEY',
    `${what}: state ${kind} ${describeValue(name)} ${problem} (for example "pack/qa/flow/main" or "cart.items")`,
    kind === 'key' && typeof name === 'string' ? { key: name } : {},
  );
}

/** Checks a TTL (`undefined`, or a non-negative safe integer of milliseconds). Throws `GT_STATE_INVALID`. */
export function checkTtl(ttlMs: unknown, what: string): asserts ttlMs is number | undefined {
  if (ttlMs === undefined) return;
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
    throw new StateError(
      'GT_STATE_INVALID',
      `${what}: ttlMs ${describeValue(ttlMs)} is invalid; pass a whole number of milliseconds >= 0 ` +
        '(0 removes the expiry), or leave it out to keep the current one',
    );
  }
}

/** Checks an options argument (an object or undefined). Throws `GT_STATE_INVALID`. */
export function checkOptions<T extends object>(opts: T | undefined, what: string): T | Record<string, never> {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) {
    throw new StateError(
      'GT_STATE_INVALID',
      `${what}: options must be an object such as {path: "/a/b"} (got ${describeValue(opts)})`,
    );
  }
  return opts;
}

/**
 * Parses a JSON pointer into raw segments with the `@greentic/types` state-path rules: `""` and `"/"` are the
 * root, `~0`/`~1` escapes, no empty segment. `undefined` is the root. Throws `GT_STATE_PATH`.
 */
export function parsePath(path: unknown, what: string, key: string): string[] {
  if (path === undefined) return [];
  if (typeof path !== 'string') {
    throw new StateError(
      'GT_STATE_PATH',
      `${what}: path ${describeValue(path)} must be a JSON pointer string such as "/user/name"`,
      { key },
    );
  }
  try {
    return statePathFromPointer(path).segments;
  } catch (err) {
    if (!isTypesError(err)) throw err;
    throw new StateError('GT_STATE_PATH', `${what}: ${err.message}`, { key, path, cause: err });
  }
}

/**
 * Validates `value` as JSON to be written at `segments` in a document (the root by default) and returns a deep
 * copy. Object members whose value is `undefined` are dropped, as JSON does; anything else JSON cannot hold is
 * rejected with `GT_STATE_INVALID`, and so is nesting that would make the document deeper than
 * {@link MAX_DEPTH}. A path that is itself deeper fails with `GT_STATE_PATH`.
 */
export function copyJson(
  value: unknown,
  what: string,
  key: string,
  segments: readonly string[] = ROOT,
): JsonValue {
  if (value === undefined) {
    throw new StateError(
      'GT_STATE_INVALID',
      `${what}: the value is undefined, which JSON cannot hold; store null, or call delete() to remove it`,
      { key },
    );
  }
  const depth = segments.length;
  if (depth > MAX_DEPTH) {
    const path = toJsonPointer(segments);
    throw new StateError(
      'GT_STATE_PATH',
      `${what}: path ${describeValue(path)} has ${depth} segments, but a document nests at most ${MAX_DEPTH} ` +
        'levels; write at a shorter path',
      { key, path },
    );
  }
  try {
    return copyJsonValue(value, depth === 0 ? JSON_LIMITS : { maxDepth: MAX_DEPTH - depth });
  } catch (err) {
    const problem = isTypesError(err) ? err.issues[0] : undefined;
    if (problem === undefined) throw err;
    let advice = '; store plain JSON (objects, arrays, strings, finite numbers, booleans, null)';
    if (problem.keyword === 'maxDepth') {
      const room =
        depth === 0 ? '' : ` (a document nests at most ${MAX_DEPTH} levels; the path takes ${depth})`;
      advice = `${room}; store a flatter value`;
    }
    throw new StateError(
      'GT_STATE_INVALID',
      `${what}: the value at ${problem.pointer || '(root)'} ${problem.message}${advice}`,
      { key, cause: err },
    );
  }
}

/** Checks the key and options of `get` and `delete`; returns the segments of the options' `path`. */
export function checkPathCall(key: string, opts: { path?: string } | undefined, what: string): string[] {
  checkKey(key, what);
  return parsePath(checkOptions(opts, what).path, what, key);
}

/** Checks the key, value and options of `set`; returns the path's segments, the TTL asked for and a copy of value. */
export function checkSet(
  key: string,
  value: unknown,
  opts: StateSetOptions | undefined,
): { segments: string[]; ttlMs: number | undefined; copy: JsonValue } {
  checkKey(key, 'set');
  const options = checkOptions(opts, 'set');
  const segments = parsePath(options.path, 'set', key);
  checkTtl(options.ttlMs, 'set');
  return { segments, ttlMs: options.ttlMs, copy: copyJson(value, 'set', key, segments) };
}

/** A deep copy of a value already known to be JSON. */
export function cloneJson<T extends JsonValue | undefined>(value: T): T {
  return (value === undefined ? value : copyJsonValue(value, JSON_LIMITS)) as T;
}

/** Sets an own enumerable member, also for the name `__proto__` (which plain assignment would not create). */
export function defineMember(target: Record<string, JsonValue>, name: string, value: JsonValue): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}
