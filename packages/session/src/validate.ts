/**
 * Internal: argument checks and copies shared by every SessionStore implementation of this package.
 * Not exported from `index.ts`.
 */
import {
  checkSessionData,
  describeValue,
  escapePointerSegment,
  formatIssues,
  isValidId,
  type ReplyScope,
  type SessionData,
  type SessionKey,
  type TenantCtx,
} from '@greentic/types';
import { SessionError } from './errors.js';

/** The isolation scope of a call, resolved from a TenantCtx. */
export interface Scope {
  env: string;
  tenant: string;
  team: string | undefined;
  user: string | undefined;
  /**
   * `env:tenant:team:user`, absent parts empty. Identifiers cannot contain `:` and cannot be empty, so distinct
   * scopes always have distinct ids (and an absent team never equals a team called `-`).
   */
  id: string;
}

/** Longest accepted session key. */
export const MAX_KEY_LENGTH = 512;

function scopeError(message: string): SessionError {
  return new SessionError('GT_SESSION_SCOPE', message);
}

function idPart(
  ctx: TenantCtx,
  field: 'team_id' | 'user_id' | 'tenant_id',
  legacy: 'team' | 'user' | 'tenant',
  required: boolean,
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
  if (value === undefined) {
    if (!required) return undefined;
    throw scopeError(
      `${what}: ctx.${field} is missing; sessions are scoped by env and tenant, so pass a complete TenantCtx ` +
        `(tenantCtx({env, tenant, team?, user?}) from @greentic/types)`,
    );
  }
  if (!isValidId(value)) {
    throw scopeError(
      `${what}: ctx.${field} ${describeValue(value)} is not a valid identifier ([A-Za-z0-9._-]+); ` +
        'fix the TenantCtx the call was made with',
    );
  }
  return value;
}

/** Resolves and validates the scope of `ctx`. Throws `GT_SESSION_SCOPE`. */
export function resolveScope(ctx: TenantCtx, what: string): Scope {
  if (typeof ctx !== 'object' || ctx === null) {
    throw scopeError(`${what}: ctx must be a TenantCtx object (got ${describeValue(ctx)})`);
  }
  const env = ctx.env;
  if (env === undefined) {
    throw scopeError(
      `${what}: ctx.env is missing; sessions of different environments must never mix, so pass a complete TenantCtx`,
    );
  }
  if (!isValidId(env)) {
    throw scopeError(`${what}: ctx.env ${describeValue(env)} is not a valid identifier ([A-Za-z0-9._-]+)`);
  }
  const tenant = idPart(ctx, 'tenant_id', 'tenant', true, what) as string;
  const team = idPart(ctx, 'team_id', 'team', false, what);
  const user = idPart(ctx, 'user_id', 'user', false, what);
  return { env, tenant, team, user, id: `${env}:${tenant}:${team ?? ''}:${user ?? ''}` };
}

/** Human form of a scope for messages: `env "dev", tenant "acme", team (none), user "u1"`. */
export function describeScope(scope: Scope): string {
  const part = (v: string | undefined) => (v === undefined ? '(none)' : JSON.stringify(v));
  return `env ${part(scope.env)}, tenant ${part(scope.tenant)}, team ${part(scope.team)}, user ${part(scope.user)}`;
}

/** Checks a session key: a non-empty string of at most {@link MAX_KEY_LENGTH} characters, no control chars. */
export function checkKey(key: unknown, what: string): asserts key is SessionKey {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || hasControl(key)) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      `${what}: session key ${describeValue(key)} is invalid; pass the non-empty key returned by create() ` +
        `(at most ${MAX_KEY_LENGTH} characters, no control characters)`,
    );
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is rejected
const CONTROL = /[\u0000-\u001f\u007f]/;
function hasControl(text: string): boolean {
  return CONTROL.test(text);
}

/** Checks a TTL (`undefined`, or a non-negative safe integer of milliseconds). Throws `GT_SESSION_INVALID`. */
export function checkTtl(ttlMs: unknown, what: string): asserts ttlMs is number | undefined {
  if (ttlMs === undefined) return;
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 0) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      `${what}: ttlMs ${describeValue(ttlMs)} is invalid; pass a whole number of milliseconds >= 0 ` +
        '(0 means "never expires"), or leave it out',
    );
  }
}

/** Checks an options argument (an object or undefined). Throws `GT_SESSION_INVALID`. */
export function optionsOf<T extends object>(opts: T | undefined, what: string): Partial<T> {
  if (opts === undefined) return {};
  if (typeof opts !== 'object' || opts === null) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      `${what}: options must be an object such as {ttlMs: 60000} (got ${describeValue(opts)})`,
    );
  }
  return opts;
}

/** Checks `expectedRevision` (a positive safe integer). Throws `GT_SESSION_INVALID`. */
export function checkRevision(revision: unknown, key: string): asserts revision is number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      `save: expectedRevision ${describeValue(revision)} is invalid; pass the revision of the record you read ` +
        '(an integer >= 1)',
      { key },
    );
  }
}

/** A normalized reply scope and the store-internal id of it. */
export interface NormalizedScope {
  scope: ReplyScope;
  /**
   * `conversation\nthread\nreply_to\ncorrelation` (upstream's canonical text, absent fields empty). Fields may
   * not contain a newline, so distinct scopes have distinct ids.
   */
  id: string;
}

const REPLY_FIELDS = ['thread', 'reply_to', 'correlation'] as const;

/** Validates and normalizes a ReplyScope (empty optional fields dropped). Throws `GT_SESSION_INVALID`. */
export function normalizeReplyScope(scope: ReplyScope, what: string): NormalizedScope {
  const bad = (message: string) =>
    new SessionError('GT_SESSION_INVALID', `${what}: reply scope ${message} (got ${describeValue(scope)})`);
  if (typeof scope !== 'object' || scope === null) throw bad('must be an object {conversation, thread?, …}');
  const { conversation } = scope;
  if (typeof conversation !== 'string' || conversation.length === 0) {
    throw bad('needs a non-empty "conversation" string');
  }
  if (conversation.includes('\n')) throw bad('"conversation" must not contain a newline');
  const out: ReplyScope = { conversation };
  let id = conversation;
  for (const field of REPLY_FIELDS) {
    const value = scope[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw bad(`"${field}" must be a string when present`);
    }
    if (typeof value === 'string' && value.includes('\n')) throw bad(`"${field}" must not contain a newline`);
    if (value) out[field] = value;
    id += `\n${value ?? ''}`;
  }
  return { scope: out, id };
}

/**
 * Validates `data` as SessionData of `scope` and returns an independent copy (the caller may mutate `data`
 * afterwards). Throws `GT_SESSION_INVALID` (bad shape, non-JSON values) or `GT_SESSION_SCOPE` (tenant_ctx of
 * another scope).
 */
export function copySessionData(data: SessionData, scope: Scope, what: string): SessionData {
  const checked = checkSessionData(data);
  if (!checked.ok) {
    throw new SessionError('GT_SESSION_INVALID', `${what}: ${formatIssues('SessionData', checked.errors)}`);
  }
  const t = data.tenant_ctx;
  const dataTeam = t.team_id ?? t.team;
  const dataUser = t.user_id ?? t.user;
  if (
    t.env !== scope.env ||
    t.tenant_id !== scope.tenant ||
    dataTeam !== scope.team ||
    dataUser !== scope.user
  ) {
    const dataScope = describeScope({
      env: t.env,
      tenant: t.tenant_id,
      team: dataTeam,
      user: dataUser,
      id: '',
    });
    throw scopeError(
      `${what}: data.tenant_ctx is ${dataScope} but the call's ctx is ${describeScope(scope)}; ` +
        'a session is stored under the scope of its own tenant_ctx, so call with the same ctx',
    );
  }
  return copyJson(data, what) as SessionData;
}

/** Thrown by {@link copyJsonFast} on the first non-JSON value; {@link jsonProblem} then says where and why. */
const NOT_JSON = Symbol('not JSON');
const MAX_DEPTH = 256;

/**
 * A deep copy of a JSON value (much cheaper than structuredClone or a JSON round trip for small documents).
 * Object properties whose value is `undefined` are dropped, as JSON does; anything else JSON cannot hold
 * (functions, symbols, BigInt, NaN/Infinity, class instances, cycles, `undefined` array items) is rejected.
 */
function copyJson(value: unknown, what: string): unknown {
  try {
    return copyJsonFast(value, 0);
  } catch (err) {
    if (err !== NOT_JSON) throw err;
    const problem = jsonProblem(value, '', []) ?? {
      pointer: '',
      kind: `nested deeper than ${MAX_DEPTH} levels`,
    };
    throw new SessionError(
      'GT_SESSION_INVALID',
      `${what}: session data at ${problem.pointer || '(root)'} is ${problem.kind}, which JSON cannot hold; ` +
        'store plain JSON values only',
    );
  }
}

function copyJsonFast(value: unknown, depth: number): unknown {
  if (typeof value !== 'object') {
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    throw NOT_JSON;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) throw NOT_JSON;
  if (Array.isArray(value)) {
    const n = value.length;
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const item = value[i];
      if (item === undefined) throw NOT_JSON;
      out[i] = copyJsonFast(item, depth + 1);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_JSON;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k === '__proto__') {
      Object.defineProperty(out, k, {
        value: copyJsonFast(v, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[k] = copyJsonFast(v, depth + 1);
    }
  }
  return out;
}

/** Slow path: where the first non-JSON value is and what it is. */
function jsonProblem(
  value: unknown,
  pointer: string,
  ancestors: object[],
): { pointer: string; kind: string } | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { pointer, kind: String(value) };
  if (typeof value !== 'object')
    return { pointer, kind: value === undefined ? 'undefined' : `a ${typeof value}` };
  if (ancestors.includes(value)) return { pointer, kind: 'a reference to one of its parents (a cycle)' };
  if (ancestors.length >= MAX_DEPTH) return { pointer, kind: `nested deeper than ${MAX_DEPTH} levels` };
  const proto = Object.getPrototypeOf(value);
  const isArray = Array.isArray(value);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    return {
      pointer,
      kind: `an instance of ${(value as { constructor?: { name?: string } }).constructor?.name ?? 'a class'}`,
    };
  }
  ancestors.push(value);
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined && !isArray) continue;
    const found = jsonProblem(v, `${pointer}/${escapePointerSegment(k)}`, ancestors);
    if (found) return found;
  }
  if (isArray && (value as unknown[]).length !== Object.keys(value).length) {
    return { pointer, kind: 'a sparse array' };
  }
  ancestors.pop();
  return undefined;
}

/** A deep copy of data that has already passed {@link copySessionData} (no validation). */
export function cloneValid<T>(value: T): T {
  return copyJsonFast(value, 0) as T;
}
