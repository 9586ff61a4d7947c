import { describeValue, TypesError } from './errors.js';

declare const idBrand: unique symbol;
/** A string that has passed identifier validation for kind `K`. */
export type Brand<K extends string> = string & { readonly [idBrand]: K };

/** Environment identifier (`dev`, `staging`, `prod`, ...). */
export type EnvId = Brand<'EnvId'>;
/** Tenant identifier within an environment. */
export type TenantId = Brand<'TenantId'>;
/** Team identifier belonging to a tenant. */
export type TeamId = Brand<'TeamId'>;
/** User identifier within a tenant. */
export type UserId = Brand<'UserId'>;
/** Globally unique pack identifier. */
export type PackId = Brand<'PackId'>;
/** Identifier of a component binding in a pack. */
export type ComponentId = Brand<'ComponentId'>;
/** Identifier of a flow inside a pack. */
export type FlowId = Brand<'FlowId'>;
/** Identifier of a node inside a flow graph. */
export type NodeId = Brand<'NodeId'>;

export interface IdKinds {
  EnvId: EnvId;
  TenantId: TenantId;
  TeamId: TeamId;
  UserId: UserId;
  PackId: PackId;
  ComponentId: ComponentId;
  FlowId: FlowId;
  NodeId: NodeId;
}
export type IdKind = keyof IdKinds;

export const ID_KINDS: readonly IdKind[] = [
  'EnvId',
  'TenantId',
  'TeamId',
  'UserId',
  'PackId',
  'ComponentId',
  'FlowId',
  'NodeId',
];

/**
 * Upstream rule (greentic-types `validate_identifier`): non-empty, only ASCII letters, digits, `.`, `_`, `-`.
 * Upstream sets no maximum length, and neither do we.
 */
export const ID_PATTERN = '^[A-Za-z0-9._-]+$';
const ID_RE = /^[A-Za-z0-9._-]+$/;

/** The JSON field name each kind usually lives in; used when the caller names no field. */
const DEFAULT_FIELD: Record<IdKind, string> = {
  EnvId: 'env',
  TenantId: 'tenant_id',
  TeamId: 'team_id',
  UserId: 'user_id',
  PackId: 'pack_id',
  ComponentId: 'component_id',
  FlowId: 'flow_id',
  NodeId: 'node_id',
};

/** True when `value` is a valid identifier (any kind: all kinds share one rule). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

/** Why `value` is not a valid identifier, or `undefined` when it is. */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `must be a string (got ${describeValue(value)})`;
  if (value.length === 0) return 'must not be empty';
  if (!ID_RE.test(value)) return `must match [A-Za-z0-9._-]+ (got ${describeValue(value)})`;
  return undefined;
}

/**
 * Validates `value` as an identifier of `kind` and returns it branded.
 * Throws `TypesError` `GT_TYPES_BAD_ID` whose message starts with `field` (default: the usual JSON field name).
 */
export function parseId<K extends IdKind>(
  kind: K,
  value: unknown,
  field: string = DEFAULT_FIELD[kind],
): IdKinds[K] {
  const problem = idProblem(value);
  if (problem !== undefined) {
    throw new TypesError('GT_TYPES_BAD_ID', `${field}: ${problem} (not a valid ${kind})`, { field });
  }
  return value as IdKinds[K];
}

export const parseEnvId = (value: unknown, field?: string): EnvId => parseId('EnvId', value, field);
export const parseTenantId = (value: unknown, field?: string): TenantId => parseId('TenantId', value, field);
export const parseTeamId = (value: unknown, field?: string): TeamId => parseId('TeamId', value, field);
export const parseUserId = (value: unknown, field?: string): UserId => parseId('UserId', value, field);
export const parsePackId = (value: unknown, field?: string): PackId => parseId('PackId', value, field);
export const parseComponentId = (value: unknown, field?: string): ComponentId =>
  parseId('ComponentId', value, field);
export const parseFlowId = (value: unknown, field?: string): FlowId => parseId('FlowId', value, field);
export const parseNodeId = (value: unknown, field?: string): NodeId => parseId('NodeId', value, field);
