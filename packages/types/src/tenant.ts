import { describeValue, TypesError, type ValidationIssue } from './errors.js';
import {
  type EnvId,
  type FlowId,
  isValidId,
  type NodeId,
  parseEnvId,
  parseTeamId,
  parseTenantId,
  parseUserId,
  type TeamId,
  type TenantId,
  type UserId,
} from './ids.js';

/** Deadline of an invocation, as Unix epoch milliseconds (upstream `InvocationDeadline`). */
export interface InvocationDeadline {
  unix_millis: number;
}

/** An identity acting on behalf of the context's user (upstream `Impersonation`). */
export interface Impersonation {
  actor_id: UserId;
  reason?: string;
}

/**
 * Context that accompanies every invocation (upstream `TenantCtx`, field for field).
 *
 * `tenant`/`team`/`user` are legacy duplicates of `tenant_id`/`team_id`/`user_id`; upstream writes both and
 * readers should prefer the `*_id` field (see {@link teamOf}, {@link userOf}). Absent optional fields are
 * omitted from the JSON, and so is an empty `attributes` map.
 */
export interface TenantCtx {
  env: EnvId;
  tenant: TenantId;
  tenant_id: TenantId;
  team?: TeamId;
  team_id?: TeamId;
  user?: UserId;
  user_id?: UserId;
  session_id?: string;
  flow_id?: string;
  node_id?: string;
  provider_id?: string;
  trace_id?: string;
  i18n_id?: string;
  correlation_id?: string;
  /** Free-form routing/tracing attributes; omitted from JSON when empty. */
  attributes?: Record<string, string>;
  deadline?: InvocationDeadline;
  /** Attempt counter for retried invocations, starting at 0. */
  attempt: number;
  idempotency_key?: string;
  impersonation?: Impersonation;
}

/** Compact tenant summary shared with tooling (upstream `TenantContext`). */
export interface TenantContext {
  tenant_id: TenantId;
  team_id?: TeamId;
  user_id?: UserId;
  session_id?: string;
  attributes?: Record<string, string>;
}

/** The isolation scope of a context: state, sessions and secrets never cross it. */
export interface IsolationScope {
  env: EnvId;
  tenant: TenantId;
  team?: TeamId;
  user?: UserId;
}

/** Input of {@link tenantCtx}: plain strings are validated as identifiers. */
export interface TenantCtxInit {
  env: string;
  tenant: string;
  team?: string | undefined;
  user?: string | undefined;
  session_id?: string | undefined;
  flow_id?: FlowId | string | undefined;
  node_id?: NodeId | string | undefined;
  provider_id?: string | undefined;
  trace_id?: string | undefined;
  i18n_id?: string | undefined;
  correlation_id?: string | undefined;
  attributes?: Record<string, string> | undefined;
  /** A deadline object, or Unix epoch milliseconds. */
  deadline?: InvocationDeadline | number | undefined;
  attempt?: number | undefined;
  idempotency_key?: string | undefined;
  impersonation?: { actor_id: string; reason?: string | undefined } | undefined;
}

/**
 * Builds a {@link TenantCtx} the way upstream `TenantCtx::new(..).with_team(..).with_user(..)` does: the legacy
 * duplicates (`tenant`, `team`, `user`) always equal `tenant_id`, `team_id`, `user_id`. Identifiers are validated
 * (throws `TypesError` `GT_TYPES_BAD_ID` naming the field). Absent fields are left out, so the result serializes
 * exactly like upstream.
 */
export function tenantCtx(init: TenantCtxInit): TenantCtx {
  const env = parseEnvId(init.env, 'env');
  const tenant = parseTenantId(init.tenant, 'tenant');
  const ctx: TenantCtx = { env, tenant, tenant_id: tenant, attempt: 0 };
  if (init.team !== undefined) {
    const team = parseTeamId(init.team, 'team');
    ctx.team = team;
    ctx.team_id = team;
  }
  if (init.user !== undefined) {
    const user = parseUserId(init.user, 'user');
    ctx.user = user;
    ctx.user_id = user;
  }
  for (const key of [
    'session_id',
    'flow_id',
    'node_id',
    'provider_id',
    'trace_id',
    'i18n_id',
    'correlation_id',
    'idempotency_key',
  ] as const) {
    const value = init[key];
    if (value !== undefined) ctx[key] = value;
  }
  if (init.attributes !== undefined && Object.keys(init.attributes).length > 0) {
    ctx.attributes = { ...init.attributes };
  }
  if (init.deadline !== undefined) {
    const unix_millis = typeof init.deadline === 'number' ? init.deadline : init.deadline.unix_millis;
    if (!Number.isSafeInteger(unix_millis)) {
      throw new TypesError(
        'GT_TYPES_INVALID',
        `deadline: must be integer Unix milliseconds (got ${unix_millis})`,
        {
          field: 'deadline',
        },
      );
    }
    ctx.deadline = { unix_millis };
  }
  if (init.attempt !== undefined) {
    if (!Number.isInteger(init.attempt) || init.attempt < 0 || init.attempt > 0xffff_ffff) {
      throw new TypesError(
        'GT_TYPES_INVALID',
        `attempt: must be an integer 0..4294967295 (got ${init.attempt})`,
        {
          field: 'attempt',
        },
      );
    }
    ctx.attempt = init.attempt;
  }
  if (init.impersonation !== undefined) {
    const imp: Impersonation = {
      actor_id: parseUserId(init.impersonation.actor_id, 'impersonation.actor_id'),
    };
    if (init.impersonation.reason !== undefined) imp.reason = init.impersonation.reason;
    ctx.impersonation = imp;
  }
  return canonicalTenantCtx(ctx);
}

/** Upstream's field order of TenantCtx (serde writes struct fields in declaration order). */
export const TENANT_CTX_FIELDS = [
  'env',
  'tenant',
  'tenant_id',
  'team',
  'team_id',
  'user',
  'user_id',
  'session_id',
  'flow_id',
  'node_id',
  'provider_id',
  'trace_id',
  'i18n_id',
  'correlation_id',
  'attributes',
  'deadline',
  'attempt',
  'idempotency_key',
  'impersonation',
] as const satisfies readonly (keyof TenantCtx)[];

/**
 * A copy of `ctx` shaped as upstream serializes it: fields in upstream order, `undefined` fields and an empty
 * `attributes` map left out. Unknown extra fields are kept (after the known ones). Does not validate.
 */
export function canonicalTenantCtx(ctx: TenantCtx): TenantCtx {
  const source = ctx as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of TENANT_CTX_FIELDS) {
    const value = source[key];
    if (value === undefined) continue;
    if (key === 'attributes' && Object.keys(value as object).length === 0) continue;
    out[key] = value;
  }
  for (const [key, value] of Object.entries(source)) {
    if (!(key in out) && value !== undefined && !(TENANT_CTX_FIELDS as readonly string[]).includes(key)) {
      out[key] = value;
    }
  }
  return out as unknown as TenantCtx;
}

/** Team of a context: `team_id`, falling back to the legacy `team` (as upstream `TenantIdentity::from`). */
export function teamOf(ctx: Pick<TenantCtx, 'team' | 'team_id'>): TeamId | undefined {
  return ctx.team_id ?? ctx.team;
}

/** User of a context: `user_id`, falling back to the legacy `user`. */
export function userOf(ctx: Pick<TenantCtx, 'user' | 'user_id'>): UserId | undefined {
  return ctx.user_id ?? ctx.user;
}

/**
 * The isolation scope `{env, tenant, team?, user?}` of a context (absent team/user are left out). Reads
 * `tenant_id`, `team_id`, `user_id`, falling back to the legacy duplicates. Does not validate: for a ctx from
 * outside, use {@link isolationScopeOf}.
 */
export function scopeOf(ctx: TenantCtx): IsolationScope {
  const scope: IsolationScope = { env: ctx.env, tenant: ctx.tenant_id ?? ctx.tenant };
  const team = teamOf(ctx);
  const user = userOf(ctx);
  if (team !== undefined) scope.team = team;
  if (user !== undefined) scope.user = user;
  return scope;
}

const HOW_TO_BUILD = 'tenantCtx({env, tenant, team?, user?}) from @greentic/types';

/** The scope fields: the current one, its legacy duplicate, and whether a scope needs it. */
const SCOPE_ID_FIELDS = [
  ['tenant_id', 'tenant', true],
  ['team_id', 'team', false],
  ['user_id', 'user', false],
] as const;

function missing(field: string): ValidationIssue {
  return {
    pointer: `/${field}`,
    message:
      'is missing; state, sessions and secrets are isolated by env and tenant (and team and user), ' +
      `so pass a complete TenantCtx (${HOW_TO_BUILD})`,
    keyword: 'required',
  };
}

function notAnId(field: string, value: unknown): ValidationIssue {
  return {
    pointer: `/${field}`,
    message: `${describeValue(value)} is not a valid identifier ([A-Za-z0-9._-]+); fix the TenantCtx the call was made with`,
    keyword: 'pattern',
  };
}

/**
 * Why `ctx` cannot serve as an isolation scope, or `undefined` when it can: it must be an object with a valid
 * `env` and `tenant_id` (or legacy `tenant`), `team_id`/`user_id` (or legacy `team`/`user`) must be valid when
 * present, and a legacy duplicate present next to its `*_id` field must equal it. Checks only these fields
 * (`validateTenantCtx` checks the whole context) and allocates nothing when `ctx` is fine.
 *
 * `pointer` names the field (`/env`, `/tenant_id`, `/team` for a disagreeing legacy duplicate, `""` for a
 * non-object); `message` goes after `ctx.<field>` (`is missing; …`).
 */
export function isolationScopeProblem(ctx: unknown): ValidationIssue | undefined {
  if (typeof ctx !== 'object' || ctx === null) {
    return {
      pointer: '',
      message: `must be a TenantCtx object (got ${describeValue(ctx)}); build one with ${HOW_TO_BUILD}`,
      keyword: 'type',
    };
  }
  const fields = ctx as Record<string, unknown>;
  const env = fields.env;
  if (env === undefined) return missing('env');
  if (!isValidId(env)) return notAnId('env', env);
  for (const [field, legacy, required] of SCOPE_ID_FIELDS) {
    const current = fields[field];
    const old = fields[legacy];
    if (current !== undefined && old !== undefined && current !== old) {
      return {
        pointer: `/${legacy}`,
        message:
          `${describeValue(old)} differs from ctx.${field} ${describeValue(current)}; the legacy field must ` +
          `duplicate ${field} (build the ctx with tenantCtx() from @greentic/types)`,
        keyword: 'consistency',
      };
    }
    const value = current ?? old;
    if (value === undefined) {
      if (required) return missing(field);
    } else if (!isValidId(value)) {
      return notAnId(current === undefined ? legacy : field, value);
    }
  }
  return undefined;
}

/**
 * The isolation scope of a context that may come from outside: {@link isolationScopeProblem}'s checks, then
 * {@link scopeOf}. Throws `TypesError` `GT_TYPES_INVALID` whose message starts with the field
 * (`ctx.env is missing; …`), whose `field` is its JSON pointer and whose `issues[0]` is the problem.
 */
export function isolationScopeOf(ctx: unknown): IsolationScope {
  const problem = isolationScopeProblem(ctx);
  if (problem !== undefined) {
    const where = problem.pointer === '' ? 'ctx' : `ctx.${problem.pointer.slice(1)}`;
    throw new TypesError('GT_TYPES_INVALID', `${where} ${problem.message}`, {
      field: problem.pointer,
      issues: [problem],
    });
  }
  return scopeOf(ctx as TenantCtx);
}

/**
 * A string that identifies a scope: `env:tenant:team:user`, absent parts empty (`dev:acme::`). For scopes of
 * valid identifiers (as {@link isolationScopeOf} returns) distinct scopes have distinct ids: identifiers contain
 * no `:` and are never empty, so an absent team never equals a team called `-` or anything else.
 */
export function isolationScopeId(scope: IsolationScope): string {
  return `${scope.env}:${scope.tenant}:${scope.team ?? ''}:${scope.user ?? ''}`;
}

/** True when two scopes are the same env, tenant, team and user (absent only equals absent). */
export function sameScope(a: IsolationScope, b: IsolationScope): boolean {
  return a.env === b.env && a.tenant === b.tenant && a.team === b.team && a.user === b.user;
}

/** The lightweight {@link TenantContext} of a context (upstream `TenantCtx::tenant_context`). */
export function tenantContextOf(ctx: TenantCtx): TenantContext {
  const out: TenantContext = { tenant_id: ctx.tenant_id };
  const team = teamOf(ctx);
  const user = userOf(ctx);
  if (team !== undefined) out.team_id = team;
  if (user !== undefined) out.user_id = user;
  if (ctx.session_id !== undefined) out.session_id = ctx.session_id;
  if (ctx.attributes !== undefined && Object.keys(ctx.attributes).length > 0)
    out.attributes = { ...ctx.attributes };
  return out;
}

const FNV_OFFSET_BASIS = 0x6c62272e07bb014262b821756295c58dn;
const FNV_PRIME = 0x0000000001000000000000000000013bn;
const MASK_128 = (1n << 128n) - 1n;

/**
 * Stable idempotency key of a node invocation, compatible with upstream `make_idempotency_key`: FNV-1a 128 over
 * `tenant_id|flow_id|node_id|correlation` (UTF-8), as 32 lowercase hex digits. A missing correlation falls back to
 * `ctx.correlation_id`; missing parts are empty.
 */
export function makeIdempotencyKey(
  ctx: TenantCtx,
  flowId: string,
  nodeId?: string,
  correlation?: string,
): string {
  const input = `${ctx.tenant_id}|${flowId}|${nodeId ?? ''}|${correlation ?? ctx.correlation_id ?? ''}`;
  let hash = FNV_OFFSET_BASIS;
  for (const byte of Buffer.from(input, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME) & MASK_128;
  }
  return hash.toString(16).padStart(32, '0');
}
