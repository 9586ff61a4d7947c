import { ID_PATTERN } from './ids.js';
import { ERROR_CODES, ERROR_KINDS } from './outcome.js';

/** A JSON Schema (draft-07) as a plain object. */
export type JsonSchema = { readonly [key: string]: unknown };

const U32_MAX = 0xffff_ffff;

const str = { type: 'string' } as const;
const id = (description: string) => ({ type: 'string', pattern: ID_PATTERN, description }) as const;
const u32 = { type: 'integer', minimum: 0, maximum: U32_MAX } as const;
const u64 = { type: 'integer', minimum: 0 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;

const impersonation = {
  title: 'Impersonation',
  type: 'object',
  required: ['actor_id'],
  properties: { actor_id: id('UserId of the acting identity'), reason: str },
} as const;

const tenantCtx = {
  title: 'TenantCtx',
  type: 'object',
  required: ['env', 'tenant', 'tenant_id', 'attempt'],
  properties: {
    env: id('EnvId'),
    tenant: id('TenantId (legacy duplicate of tenant_id)'),
    tenant_id: id('TenantId'),
    team: id('TeamId (legacy duplicate of team_id)'),
    team_id: id('TeamId'),
    user: id('UserId (legacy duplicate of user_id)'),
    user_id: id('UserId'),
    session_id: str,
    flow_id: str,
    node_id: str,
    provider_id: str,
    trace_id: str,
    i18n_id: str,
    correlation_id: str,
    attributes: stringMap,
    deadline: {
      type: 'object',
      required: ['unix_millis'],
      properties: { unix_millis: { type: 'integer', description: 'Unix epoch milliseconds' } },
    },
    attempt: u32,
    idempotency_key: str,
    impersonation,
  },
} as const;

const tenantContext = {
  title: 'TenantContext',
  type: 'object',
  required: ['tenant_id'],
  properties: {
    tenant_id: id('TenantId'),
    team_id: id('TeamId'),
    user_id: id('UserId'),
    session_id: str,
    attributes: stringMap,
  },
} as const;

const replyScope = {
  title: 'ReplyScope',
  type: 'object',
  required: ['conversation'],
  properties: { conversation: str, thread: str, reply_to: str, correlation: str },
} as const;

const sessionCursor = {
  title: 'SessionCursor',
  type: 'object',
  required: ['node_pointer'],
  properties: { node_pointer: str, wait_reason: str, outbox_marker: str },
} as const;

const sessionData = {
  title: 'SessionData',
  type: 'object',
  required: ['tenant_ctx', 'flow_id', 'cursor', 'context_json'],
  properties: {
    tenant_ctx: tenantCtx,
    flow_id: id('FlowId'),
    pack_id: id('PackId'),
    cursor: sessionCursor,
    context_json: { type: 'string', description: 'serialized JSON snapshot (a string, not an object)' },
  },
} as const;

const statePath = {
  title: 'StatePath',
  type: 'object',
  required: ['segments'],
  properties: { segments: { type: 'array', items: { type: 'string', minLength: 1 } } },
} as const;

const outcome = {
  title: 'Outcome',
  description: 'must have exactly one of "Done", "Pending" or "Error"',
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: {
    Done: {},
    Pending: {
      type: 'object',
      required: ['reason'],
      properties: { reason: str, expected_input: stringList },
    },
    Error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', enum: ERROR_CODES }, message: str },
    },
  },
} as const;

const errorDetail = {
  description: 'must be null, {"Text": string} or {"Binary": [bytes]}',
  type: ['object', 'null'],
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: {
    Text: str,
    Binary: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 } },
  },
} as const;

const nodeError = {
  title: 'NodeError',
  type: 'object',
  required: ['code', 'message', 'retryable'],
  properties: {
    code: str,
    message: str,
    retryable: { type: 'boolean' },
    backoff_ms: { type: ['integer', 'null'], minimum: 0 },
    details: errorDetail,
  },
} as const;

const nodeIoError = {
  title: 'NodeIoError',
  type: 'object',
  required: ['code', 'message', 'kind', 'retryable'],
  properties: {
    code: str,
    message: str,
    kind: { type: 'string', enum: ERROR_KINDS },
    retryable: { type: 'boolean' },
    source: { type: 'object', required: ['node'], properties: { node: str, input: str } },
    details: {},
  },
} as const;

const protocol = {
  description: 'must be "http", "https", "tcp", "udp", "grpc" or {"custom": string}',
  anyOf: [
    { type: 'string', enum: ['http', 'https', 'tcp', 'udp', 'grpc'] },
    {
      type: 'object',
      required: ['custom'],
      additionalProperties: false,
      properties: { custom: str },
    },
  ],
} as const;

const allowList = {
  title: 'AllowList',
  type: 'object',
  properties: {
    domains: stringList,
    ports: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 65535 } },
    protocols: { type: 'array', items: protocol },
  },
} as const;

const networkPolicy = {
  title: 'NetworkPolicy',
  type: 'object',
  required: ['egress', 'deny_on_miss'],
  properties: { egress: allowList, deny_on_miss: { type: 'boolean' } },
} as const;

const policyDecision = {
  title: 'PolicyDecision',
  description: 'status/reasons, or the legacy allow/reason fields',
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['allow', 'deny'] },
    reasons: stringList,
    allow: { type: ['boolean', 'null'] },
    reason: { type: ['string', 'null'] },
  },
} as const;

const capabilities = {
  title: 'Capabilities',
  type: 'object',
  properties: {
    http: { type: 'object', properties: { allow_list: allowList, max_body_bytes: u64 } },
    secrets: { type: 'object', properties: { required: { type: 'array', items: { type: 'object' } } } },
    kv: { type: 'object', properties: { namespaces: stringList } },
    fs: { type: 'object', properties: { paths: stringList, read_only: { type: 'boolean' } } },
    net: { type: 'object', properties: { policy: networkPolicy } },
    tools: { type: 'object', properties: { allowed: stringList } },
    auth: {
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['none', 'apikey', 'oauth'] },
        oauth: {
          type: 'object',
          required: ['authorizeUrl', 'tokenUrl'],
          properties: {
            authorizeUrl: str,
            tokenUrl: str,
            scopes: stringList,
            pkce: { type: 'boolean' },
            extraAuthParams: stringMap,
            tokenAuthStyle: { type: 'string', enum: ['basic', 'body'] },
          },
        },
      },
    },
  },
} as const;

const limits = {
  title: 'Limits',
  type: 'object',
  required: ['memory_mb', 'wall_time_ms'],
  properties: { memory_mb: u32, wall_time_ms: u64, fuel: u64, files: u32 },
} as const;

const actor = {
  title: 'Actor',
  type: 'object',
  required: ['id'],
  properties: { id: str, kind: str },
} as const;
const destination = {
  title: 'Destination',
  type: 'object',
  required: ['id'],
  properties: { id: str, kind: str },
} as const;

const attachment = {
  title: 'Attachment',
  type: 'object',
  required: ['mime_type'],
  properties: { mime_type: str, url: str, content: str, name: str, size_bytes: u64 },
} as const;

const channelMessageEnvelope = {
  title: 'ChannelMessageEnvelope',
  type: 'object',
  required: ['id', 'tenant', 'channel', 'session_id'],
  properties: {
    id: str,
    tenant: tenantCtx,
    channel: str,
    session_id: str,
    reply_scope: replyScope,
    from: actor,
    to: { type: 'array', items: destination },
    correlation_id: str,
    text: str,
    attachments: { type: 'array', items: attachment },
    metadata: stringMap,
    extensions: { type: 'object' },
  },
} as const;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * JSON Schemas (draft-07) of the types, keyed by type name. Unknown properties are allowed (as upstream serde
 * ignores them); rules that a schema cannot express (legacy duplicates agreeing, an attachment having `url` or
 * `content`) are checked by the `validate*` functions.
 */
export const SCHEMAS = deepFreeze({
  TenantCtx: tenantCtx,
  TenantContext: tenantContext,
  Impersonation: impersonation,
  ReplyScope: replyScope,
  SessionCursor: sessionCursor,
  SessionData: sessionData,
  StatePath: statePath,
  Outcome: outcome,
  NodeError: nodeError,
  NodeIoError: nodeIoError,
  AllowList: allowList,
  NetworkPolicy: networkPolicy,
  PolicyDecision: policyDecision,
  Capabilities: capabilities,
  Limits: limits,
  Actor: actor,
  Destination: destination,
  Attachment: attachment,
  ChannelMessageEnvelope: channelMessageEnvelope,
});

export type SchemaName = keyof typeof SCHEMAS;
