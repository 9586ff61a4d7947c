/**
 * Internal: argument checks and copies shared by every SessionStore implementation of this package.
 * Not exported from `index.ts`.
 */
import {
  checkSessionData,
  copyJsonValue,
  describeValue,
  formatIssues,
  type IsolationScope,
  isolationScopeId,
  isolationScopeOf,
  isTypesError,
  type JsonValueOptions,
  type ReplyScope,
  type SessionData,
  type SessionKey,
  scopeOf,
  type TenantCtx,
  teamOf,
  userOf,
} from '@greentic/types';
import { SessionError } from './errors.js';
import type { CreateSessionOptions, RegisterWaitOptions, SaveSessionOptions } from './store.js';

/** The isolation scope of a call, resolved from a TenantCtx, with its {@link isolationScopeId}. */
export interface Scope extends IsolationScope {
  id: string;
}

/** Longest accepted session key. */
export const MAX_KEY_LENGTH = 512;

/** Deepest accepted nesting of session data. */
const JSON_LIMITS: JsonValueOptions = { maxDepth: 256 };

function scopeError(message: string): SessionError {
  return new SessionError('GT_SESSION_SCOPE', message);
}

/** Resolves and validates the scope of `ctx`. Throws `GT_SESSION_SCOPE`. */
export function resolveScope(ctx: TenantCtx, what: string): Scope {
  let scope: IsolationScope;
  try {
    scope = isolationScopeOf(ctx);
  } catch (err) {
    if (!isTypesError(err)) throw err;
    throw new SessionError('GT_SESSION_SCOPE', `${what}: ${err.message}`, { cause: err });
  }
  // A fresh object of ours: complete it in place rather than copy it.
  const resolved = scope as Scope;
  resolved.id = isolationScopeId(scope);
  return resolved;
}

/** Human form of a scope for messages: `env "dev", tenant "acme", team (none), user "u1"`. */
export function describeScope(scope: IsolationScope): string {
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
  // sameScope(scopeOf(t), scope) without building a scope on every call.
  if (
    t.env !== scope.env ||
    t.tenant_id !== scope.tenant ||
    teamOf(t) !== scope.team ||
    userOf(t) !== scope.user
  ) {
    throw scopeError(
      `${what}: data.tenant_ctx is ${describeScope(scopeOf(t))} but the call's ctx is ${describeScope(scope)}; ` +
        'a session is stored under the scope of its own tenant_ctx, so call with the same ctx',
    );
  }
  try {
    return copyJsonValue(data, JSON_LIMITS) as unknown as SessionData;
  } catch (err) {
    const problem = isTypesError(err) ? err.issues[0] : undefined;
    if (problem === undefined) throw err;
    throw new SessionError(
      'GT_SESSION_INVALID',
      `${what}: session data at ${problem.pointer || '(root)'} ${problem.message}; store plain JSON values only`,
      { cause: err },
    );
  }
}

/** A deep copy of data that has already passed {@link copySessionData}. */
export function cloneValid<T>(value: T): T {
  return copyJsonValue(value, JSON_LIMITS) as T;
}

/** Throws `GT_SESSION_CLOSED` once the store is closed. */
export function checkOpen(closed: boolean): void {
  if (closed) {
    throw new SessionError(
      'GT_SESSION_CLOSED',
      'the session store is closed; create a new store (close() was already called)',
    );
  }
}

/** Checks the arguments of `get` and `remove` (ctx, then key); returns the call's scope. */
export function checkKeyCall(ctx: TenantCtx, key: SessionKey, what: string): Scope {
  const scope = resolveScope(ctx, what);
  checkKey(key, what);
  return scope;
}

/** Checks the arguments of `create`; returns the scope, the TTL asked for and a copy of the data to store. */
export function checkCreate(
  ctx: TenantCtx,
  data: SessionData,
  opts: CreateSessionOptions | undefined,
): { scope: Scope; ttlMs: number | undefined; stored: SessionData } {
  const scope = resolveScope(ctx, 'create');
  const { ttlMs } = optionsOf(opts, 'create');
  checkTtl(ttlMs, 'create');
  return { scope, ttlMs, stored: copySessionData(data, scope, 'create') };
}

/** Checks the arguments of `save`; returns the scope and a copy of the data to store. */
export function checkSave(
  ctx: TenantCtx,
  key: SessionKey,
  data: SessionData,
  opts: SaveSessionOptions,
): { scope: Scope; stored: SessionData } {
  const scope = checkKeyCall(ctx, key, 'save');
  if (typeof opts !== 'object' || opts === null) {
    throw new SessionError(
      'GT_SESSION_INVALID',
      'save: options {expectedRevision} are required; pass the revision of the record you read',
      { key },
    );
  }
  checkRevision(opts.expectedRevision, key);
  checkTtl(opts.ttlMs, 'save');
  return { scope, stored: copySessionData(data, scope, 'save') };
}

/** Checks the arguments of `registerWait`; returns the session's scope, the reply scope and the TTL asked for. */
export function checkRegisterWait(
  ctx: TenantCtx,
  scope: ReplyScope,
  key: SessionKey,
  opts: RegisterWaitOptions | undefined,
): { where: Scope; reply: NormalizedScope; ttlMs: number | undefined } {
  const { where, reply } = checkWaitCall(ctx, scope, 'registerWait');
  checkKey(key, 'registerWait');
  const { ttlMs } = optionsOf(opts, 'registerWait');
  checkTtl(ttlMs, 'registerWait');
  return { where, reply, ttlMs };
}

/** Checks the arguments of `findWait` and `clearWait`; returns the session's scope and the reply scope. */
export function checkWaitCall(
  ctx: TenantCtx,
  scope: ReplyScope,
  what: string,
): { where: Scope; reply: NormalizedScope } {
  const where = resolveScope(ctx, what);
  return { where, reply: normalizeReplyScope(scope, what) };
}

/** `GT_SESSION_NOT_FOUND`: no live session `key` in `scope`. */
export function notFound(what: string, key: SessionKey, scope: Scope): SessionError {
  return new SessionError(
    'GT_SESSION_NOT_FOUND',
    `${what}: session ${JSON.stringify(key)} does not exist for ${describeScope(scope)} ` +
      '(it was never created in this scope, was removed, or expired); create() a new session',
    { key },
  );
}

/** `GT_SESSION_CONFLICT`: `save` expected `expected` but the session is at `revision`. */
export function conflict(key: SessionKey, revision: number | string, expected: number): SessionError {
  return new SessionError(
    'GT_SESSION_CONFLICT',
    `save: session ${JSON.stringify(key)} is at revision ${revision}, not ${expected}: ` +
      'it was saved by someone else in between; get() it again, re-apply your change and save with the new revision',
    { key },
  );
}
