/**
 * Internal: argument checks and value copies shared by every StateStore implementation of this package.
 * Not exported from `index.ts`.
 */
import {
  describeValue,
  escapePointerSegment,
  isTypesError,
  isValidId,
  statePathFromPointer,
  type TenantCtx,
} from '@greentic/types';
import { StateError } from './errors.js';
import type { JsonValue } from './store.js';

/** The isolation scope of a call, resolved from a TenantCtx. */
export interface Scope {
  env: string;
  tenant: string;
  team: string | undefined;
  user: string | undefined;
  /**
   * `env:tenant:team:user`, absent parts empty. Identifiers cannot contain `:` and cannot be empty, so distinct
   * scopes always have distinct ids.
   */
  id: string;
}

/** Longest accepted prefix or key. */
export const MAX_NAME_LENGTH = 512;
/** Deepest accepted nesting of a value (Redis' Lua cjson and RedisJSON both have nesting limits). */
export const MAX_DEPTH = 128;

const PREFIX_RE = /^[A-Za-z0-9._~@+=,-]+(?:\/[A-Za-z0-9._~@+=,-]+)*$/;
const KEY_RE = /^[A-Za-z0-9._~@+=,:-]+(?:\/[A-Za-z0-9._~@+=,:-]+)*$/;
const DOT_SEGMENT = /(?:^|\/)\.{1,2}(?:\/|$)/;

function scopeError(message: string): StateError {
  return new StateError('GT_STATE_SCOPE', message);
}

function idPart(
  ctx: TenantCtx,
  field: 'team_id' | 'user_id' | 'tenant_id',
  legacy: 'team' | 'user' | 'tenant',
  what: string,
): string | undefined {
  const current = ctx[field];
  const old = ctx[legacy];
  if (current !== undefined && old !== undefined && current !== old) {
    throw scopeError(
      `${what}: ctx.${legacy} ${describeValue(old)} differs from ctx.${field} ${describeValue(current)}; ` +
        `the legacy field must duplicate ${field} (build the ctx with tenantCtx() from @greentic/types)`,
    );
  }
  const value = current ?? old;
  if (value !== undefined && !isValidId(value)) {
    throw scopeError(
      `${what}: ctx.${field} ${describeValue(value)} is not a valid identifier ([A-Za-z0-9._-]+); ` +
        'fix the TenantCtx the call was made with',
    );
  }
  return value;
}

/** Resolves and validates the scope of `ctx`. Throws `GT_STATE_SCOPE`. */
export function resolveScope(ctx: TenantCtx, what: string): Scope {
  if (typeof ctx !== 'object' || ctx === null) {
    throw scopeError(`${what}: ctx must be a TenantCtx object (got ${describeValue(ctx)})`);
  }
  const env = ctx.env;
  if (!isValidId(env)) {
    throw scopeError(
      `${what}: ctx.env ${describeValue(env)} is ${env === undefined ? 'missing' : 'not a valid identifier'}; ` +
        'state is scoped by environment and tenant, so pass a complete TenantCtx ' +
        '(tenantCtx({env, tenant, team?, user?}) from @greentic/types)',
    );
  }
  const tenant = idPart(ctx, 'tenant_id', 'tenant', what);
  if (tenant === undefined) {
    throw scopeError(
      `${what}: ctx.tenant_id is missing; state is scoped by environment and tenant, so pass a complete ` +
        'TenantCtx (tenantCtx({env, tenant, team?, user?}) from @greentic/types)',
    );
  }
  const team = idPart(ctx, 'team_id', 'team', what);
  const user = idPart(ctx, 'user_id', 'user', what);
  return { env, tenant, team, user, id: `${env}:${tenant}:${team ?? ''}:${user ?? ''}` };
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

/** Thrown by {@link copyJsonFast} on the first non-JSON value; {@link jsonProblem} then says where and why. */
const NOT_JSON = Symbol('not JSON');

/**
 * Validates `value` as JSON and returns a deep copy (much cheaper than structuredClone or a JSON round trip for
 * small documents). Object members whose value is `undefined` are dropped, as JSON does; anything else JSON
 * cannot hold is rejected with `GT_STATE_INVALID`.
 */
export function copyJson(value: unknown, what: string, key: string): JsonValue {
  if (value === undefined) {
    throw new StateError(
      'GT_STATE_INVALID',
      `${what}: the value is undefined, which JSON cannot hold; store null, or call delete() to remove it`,
      { key },
    );
  }
  try {
    return copyJsonFast(value, 0);
  } catch (err) {
    if (err !== NOT_JSON) throw err;
    const problem = jsonProblem(value, '', []) ?? {
      pointer: '',
      kind: `nested deeper than ${MAX_DEPTH} levels`,
    };
    throw new StateError(
      'GT_STATE_INVALID',
      `${what}: the value at ${problem.pointer || '(root)'} is ${problem.kind}, which JSON cannot hold; ` +
        'store plain JSON (objects, arrays, strings, finite numbers, booleans, null)',
      { key },
    );
  }
}

/** A deep copy of a value already known to be JSON (no validation). */
export function cloneJson<T extends JsonValue | undefined>(value: T): T {
  return (typeof value === 'object' && value !== null ? copyJsonFast(value, 0) : value) as T;
}

function copyJsonFast(value: unknown, depth: number): JsonValue {
  if (typeof value !== 'object') {
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    throw NOT_JSON;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) throw NOT_JSON;
  if (Array.isArray(value)) {
    const n = value.length;
    const out: JsonValue[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const item = value[i];
      if (item === undefined) throw NOT_JSON;
      out[i] = copyJsonFast(item, depth + 1);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON;
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k === '__proto__') defineMember(out, k, copyJsonFast(v, depth + 1));
    else out[k] = copyJsonFast(v, depth + 1);
  }
  return out;
}

/** Sets an own enumerable member, also for the name `__proto__` (which plain assignment would not create). */
export function defineMember(target: Record<string, JsonValue>, name: string, value: JsonValue): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

/** Slow path: where the first non-JSON value is and what it is. */
function jsonProblem(
  value: unknown,
  pointer: string,
  ancestors: object[],
): { pointer: string; kind: string } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { pointer, kind: String(value) };
  if (typeof value !== 'object') {
    return { pointer, kind: value === undefined ? 'undefined' : `a ${typeof value}` };
  }
  if (ancestors.includes(value)) return { pointer, kind: 'a reference to one of its parents (a cycle)' };
  if (ancestors.length >= MAX_DEPTH) return { pointer, kind: `nested deeper than ${MAX_DEPTH} levels` };
  const isArray = Array.isArray(value);
  const proto = Object.getPrototypeOf(value);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return { pointer, kind: `an instance of ${name ?? 'a class'}` };
  }
  ancestors.push(value);
  const keys = Object.keys(value);
  if (isArray && keys.length !== (value as unknown[]).length) return { pointer, kind: 'a sparse array' };
  for (const k of keys) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined && !isArray) continue;
    const found = jsonProblem(v, `${pointer}/${escapePointerSegment(k)}`, ancestors);
    if (found) return found;
  }
  ancestors.pop();
  return undefined;
}
