import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Capabilities, Limits } from './capabilities.js';
import { describeValue, TypesError, type ValidationIssue } from './errors.js';
import { ID_PATTERN } from './ids.js';
import type { Actor, Attachment, ChannelMessageEnvelope, Destination } from './messaging.js';
import type { NodeError, NodeIoError, Outcome } from './outcome.js';
import {
  type AllowList,
  type NetworkPolicy,
  normalizePolicyDecision,
  type PolicyDecision,
  type PolicyDecisionInput,
} from './policy.js';
import { SCHEMAS, type SchemaName } from './schemas.js';
import type { ReplyScope, SessionCursor, SessionData } from './session.js';
import { escapePointerSegment, type StatePath } from './state.js';
import type { Impersonation, TenantContext, TenantCtx } from './tenant.js';

/** The TypeScript type each schema describes. */
export interface SchemaTypes {
  TenantCtx: TenantCtx;
  TenantContext: TenantContext;
  Impersonation: Impersonation;
  ReplyScope: ReplyScope;
  SessionCursor: SessionCursor;
  SessionData: SessionData;
  StatePath: StatePath;
  Outcome: Outcome<unknown>;
  NodeError: NodeError;
  NodeIoError: NodeIoError;
  AllowList: AllowList;
  NetworkPolicy: NetworkPolicy;
  PolicyDecision: PolicyDecision;
  Capabilities: Capabilities;
  Limits: Limits;
  Actor: Actor;
  Destination: Destination;
  Attachment: Attachment;
  ChannelMessageEnvelope: ChannelMessageEnvelope;
}

/** Result of a non-throwing validation. */
export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: ValidationIssue[] };

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const compiled = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (fn === undefined) {
    fn = ajv.compile(SCHEMAS[name]);
    compiled.set(name, fn);
  }
  return fn;
}

function child(pointer: string, key: string | number): string {
  return `${pointer}/${escapePointerSegment(String(key))}`;
}

function schemaDescription(error: ErrorObject): string | undefined {
  const parent = error.parentSchema as { description?: unknown } | undefined;
  return typeof parent?.description === 'string' ? parent.description : undefined;
}

function toIssue(error: ErrorObject): ValidationIssue {
  const pointer = error.instancePath;
  const got = `(got ${describeValue(error.data)})`;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return {
        pointer: child(pointer, String(params.missingProperty)),
        message: 'is required',
        keyword: 'required',
      };
    case 'additionalProperties': {
      const desc = schemaDescription(error);
      return {
        pointer: child(pointer, String(params.additionalProperty)),
        message: desc
          ? `is not allowed here (${desc.replace(/^must /, 'expected: ')})`
          : 'is not allowed here',
        keyword: 'additionalProperties',
      };
    }
    case 'pattern':
      if (params.pattern === ID_PATTERN) {
        return {
          pointer,
          message: error.data === '' ? 'must not be empty' : `must match [A-Za-z0-9._-]+ ${got}`,
          keyword: 'pattern',
        };
      }
      return { pointer, message: `must match ${String(params.pattern)} ${got}`, keyword: 'pattern' };
    case 'type':
      return {
        pointer,
        message: `must be ${String(params.type).replace(',', ' or ')} ${got}`,
        keyword: 'type',
      };
    case 'enum':
      return {
        pointer,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => describeValue(v)).join(', ')} ${got}`,
        keyword: 'enum',
      };
    case 'minLength':
      if (params.limit === 1) return { pointer, message: 'must not be empty', keyword: 'minLength' };
      return { pointer, message: `${error.message} ${got}`, keyword: 'minLength' };
    case 'minProperties':
    case 'maxProperties':
    case 'anyOf':
    case 'oneOf':
      return {
        pointer,
        message: `${schemaDescription(error) ?? error.message} ${got}`,
        keyword: error.keyword,
      };
    default:
      return { pointer, message: `${error.message ?? 'is invalid'} ${got}`, keyword: error.keyword };
  }
}

function ajvIssues(errors: readonly ErrorObject[]): ValidationIssue[] {
  // Drop the sub-errors of a failed anyOf/oneOf: the combinator's own (described) error says it better.
  const combinators = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .map((e) => e.schemaPath);
  const kept = errors.filter((e) => !combinators.some((path) => e.schemaPath.startsWith(`${path}/`)));
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of kept) {
    const issue = toIssue(error);
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  // Object-level counts (min/maxProperties) summarize; the property-level issues name the field, so go first.
  const summary = (i: ValidationIssue) => i.keyword === 'minProperties' || i.keyword === 'maxProperties';
  return [...issues.filter((i) => !summary(i)), ...issues.filter(summary)];
}

function checkTenantCtxRules(ctx: TenantCtx, base: string, issues: ValidationIssue[]): void {
  const pairs = [
    ['tenant', 'tenant_id'],
    ['team', 'team_id'],
    ['user', 'user_id'],
  ] as const;
  for (const [legacy, current] of pairs) {
    const a = ctx[legacy];
    const b = ctx[current];
    if (a !== undefined && b !== undefined && a !== b) {
      issues.push({
        pointer: child(base, legacy),
        message: `must equal ${current} ${describeValue(b)}: it is its legacy duplicate (got ${describeValue(a)})`,
        keyword: 'consistency',
      });
    }
  }
}

function checkAttachmentRules(att: Attachment, pointer: string, issues: ValidationIssue[]): void {
  if (att.url === undefined && att.content === undefined) {
    issues.push({ pointer, message: 'must have "url" or "content"', keyword: 'required' });
  }
}

/** Rules beyond JSON Schema, run only when the schema passed (so shapes are known). */
const EXTRA_RULES: Partial<Record<SchemaName, (value: never, issues: ValidationIssue[]) => void>> = {
  TenantCtx: (v: TenantCtx, issues) => checkTenantCtxRules(v, '', issues),
  SessionData: (v: SessionData, issues) => checkTenantCtxRules(v.tenant_ctx, '/tenant_ctx', issues),
  Attachment: (v: Attachment, issues) => checkAttachmentRules(v, '', issues),
  ChannelMessageEnvelope: (v: ChannelMessageEnvelope, issues) => {
    checkTenantCtxRules(v.tenant, '/tenant', issues);
    v.attachments?.forEach((att, i) => {
      checkAttachmentRules(att, `/attachments/${i}`, issues);
    });
  },
};

/**
 * Validates untrusted JSON against the schema of `name` without throwing. On success `value` is the input
 * itself (not a copy), typed; unknown properties are kept. PolicyDecision input is normalized (legacy fields).
 */
export function check<K extends SchemaName>(name: K, json: unknown): ValidationResult<SchemaTypes[K]> {
  const fn = validatorFor(name);
  if (!fn(json)) return { ok: false, errors: ajvIssues(fn.errors ?? []) };
  const issues: ValidationIssue[] = [];
  EXTRA_RULES[name]?.(json as never, issues);
  if (issues.length > 0) return { ok: false, errors: issues };
  if (name === 'PolicyDecision') {
    return { ok: true, value: normalizePolicyDecision(json as PolicyDecisionInput) as SchemaTypes[K] };
  }
  return { ok: true, value: json as SchemaTypes[K] };
}

/** Formats validation issues as one message: the first issue, its pointer first. */
export function formatIssues(name: string, issues: readonly ValidationIssue[]): string {
  const first = issues[0];
  if (first === undefined) return `invalid ${name}`;
  const where = first.pointer === '' ? '(root)' : first.pointer;
  const more = issues.length > 1 ? `; ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}` : '';
  return `${where}: ${first.message} (invalid ${name}${more})`;
}

/**
 * Validates untrusted JSON against the schema of `name` and returns it typed. Throws `TypesError`
 * `GT_TYPES_INVALID` whose `field` is the JSON pointer of the first problem and `issues` lists them all.
 */
export function validate<K extends SchemaName>(name: K, json: unknown): SchemaTypes[K] {
  const result = check(name, json);
  if (result.ok) return result.value;
  throw new TypesError('GT_TYPES_INVALID', formatIssues(name, result.errors), {
    field: result.errors[0]?.pointer,
    issues: result.errors,
  });
}

export const validateTenantCtx = (json: unknown): TenantCtx => validate('TenantCtx', json);
export const checkTenantCtx = (json: unknown): ValidationResult<TenantCtx> => check('TenantCtx', json);
export const validateTenantContext = (json: unknown): TenantContext => validate('TenantContext', json);
export const validateReplyScope = (json: unknown): ReplyScope => validate('ReplyScope', json);
export const validateSessionCursor = (json: unknown): SessionCursor => validate('SessionCursor', json);
export const validateSessionData = (json: unknown): SessionData => validate('SessionData', json);
export const checkSessionData = (json: unknown): ValidationResult<SessionData> => check('SessionData', json);
export const validateStatePath = (json: unknown): StatePath => validate('StatePath', json);
/** Validates the Outcome envelope; the `Done` value is not checked (validate it with its own schema). */
export const validateOutcome = <T = unknown>(json: unknown): Outcome<T> =>
  validate('Outcome', json) as Outcome<T>;
export const checkOutcome = <T = unknown>(json: unknown): ValidationResult<Outcome<T>> =>
  check('Outcome', json) as ValidationResult<Outcome<T>>;
export const validateNodeError = (json: unknown): NodeError => validate('NodeError', json);
export const validateNodeIoError = (json: unknown): NodeIoError => validate('NodeIoError', json);
export const validateNetworkPolicy = (json: unknown): NetworkPolicy => validate('NetworkPolicy', json);
/** Validates a PolicyDecision and returns it normalized (legacy `allow`/`reason` mapped to `status`/`reasons`). */
export const validatePolicyDecision = (json: unknown): PolicyDecision => validate('PolicyDecision', json);
export const validateCapabilities = (json: unknown): Capabilities => validate('Capabilities', json);
export const validateLimits = (json: unknown): Limits => validate('Limits', json);
export const validateChannelMessageEnvelope = (json: unknown): ChannelMessageEnvelope =>
  validate('ChannelMessageEnvelope', json);
export const checkChannelMessageEnvelope = (json: unknown): ValidationResult<ChannelMessageEnvelope> =>
  check('ChannelMessageEnvelope', json);
