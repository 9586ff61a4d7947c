/**
 * Attribute keys and span names.
 *
 * The `greentic.*` keys are upstream's canonical OTLP keys (`greentic-types` `OtlpKeys`, `src/telemetry/keys.rs`),
 * spelled the same so dashboards and queries work across the Rust and TypeScript runtimes. The `gt.*` keys are
 * upstream's rollout identifiers (`greentic-types` `telemetry::attr_keys`), read from `TenantCtx.attributes`.
 * Keys marked "Greentic-TS" have no upstream equivalent.
 */

/** `service.name` (resource attribute). */
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_PACK_ID = 'greentic.pack.id';
export const ATTR_PACK_VERSION = 'greentic.pack.version';
export const ATTR_FLOW_ID = 'greentic.flow.id';
export const ATTR_NODE_ID = 'greentic.node.id';
export const ATTR_COMPONENT_NAME = 'greentic.component.name';
export const ATTR_COMPONENT_VERSION = 'greentic.component.version';
export const ATTR_TENANT_ID = 'greentic.tenant.id';
export const ATTR_TEAM_ID = 'greentic.team.id';
export const ATTR_USER_ID = 'greentic.user.id';
export const ATTR_SESSION_ID = 'greentic.session.id';
/** The outcome of a turn (`done`, `pending`, `error`) or of a node (`ok`, `pending`, `error`). */
export const ATTR_RUN_STATUS = 'greentic.run.status';
export const ATTR_CAPABILITY = 'greentic.capability';
export const ATTR_ARTIFACTS_DIR = 'greentic.artifacts.dir';

/** Greentic-TS: the environment of the tenant context (`TenantCtx.env`). */
export const ATTR_ENV_ID = 'greentic.env.id';
/** Greentic-TS: the node's operation (`questions`, `component.exec`, `flow.call`, …). */
export const ATTR_NODE_OP = 'greentic.node.op';
/** Greentic-TS: the component operation a node invokes. */
export const ATTR_COMPONENT_OPERATION = 'greentic.component.operation';
/** Greentic-TS: the messaging channel of the turn (`webchat`, `teams`, …). */
export const ATTR_CHANNEL = 'greentic.channel';
/** Greentic-TS: the id of the message that started the turn. */
export const ATTR_MESSAGE_ID = 'greentic.message.id';
/** Greentic-TS: the error code when the run status is `error` (`GT_RUNNER_NODE_FAILED`, `timeout`, …). */
export const ATTR_ERROR_CODE = 'greentic.error.code';

/** Upstream rollout identifiers, copied from `TenantCtx.attributes` when present. */
export const ATTR_CUSTOMER_ID = 'gt.customer_id';
export const ATTR_DEPLOYMENT_ID = 'gt.deployment_id';
export const ATTR_BUNDLE_ID = 'gt.bundle_id';
export const ATTR_REVISION_ID = 'gt.revision_id';

/** All keys above, by upstream's `OtlpKeys` constant names (plus the Greentic-TS ones). */
export const GreenticAttributes = Object.freeze({
  SERVICE_NAME: ATTR_SERVICE_NAME,
  PACK_ID: ATTR_PACK_ID,
  PACK_VERSION: ATTR_PACK_VERSION,
  FLOW_ID: ATTR_FLOW_ID,
  NODE_ID: ATTR_NODE_ID,
  COMPONENT_NAME: ATTR_COMPONENT_NAME,
  COMPONENT_VERSION: ATTR_COMPONENT_VERSION,
  TENANT_ID: ATTR_TENANT_ID,
  TEAM_ID: ATTR_TEAM_ID,
  USER_ID: ATTR_USER_ID,
  SESSION_ID: ATTR_SESSION_ID,
  RUN_STATUS: ATTR_RUN_STATUS,
  CAPABILITY: ATTR_CAPABILITY,
  ARTIFACTS_DIR: ATTR_ARTIFACTS_DIR,
  ENV_ID: ATTR_ENV_ID,
  NODE_OP: ATTR_NODE_OP,
  COMPONENT_OPERATION: ATTR_COMPONENT_OPERATION,
  CHANNEL: ATTR_CHANNEL,
  MESSAGE_ID: ATTR_MESSAGE_ID,
  ERROR_CODE: ATTR_ERROR_CODE,
  CUSTOMER_ID: ATTR_CUSTOMER_ID,
  DEPLOYMENT_ID: ATTR_DEPLOYMENT_ID,
  BUNDLE_ID: ATTR_BUNDLE_ID,
  REVISION_ID: ATTR_REVISION_ID,
} as const);

/** Name of the span around one turn (one incoming message handled by the flow engine). */
export const SPAN_TURN = 'greentic.turn';
/** Name of the span around one node execution; a child of the turn span. */
export const SPAN_NODE = 'greentic.node';
/** The instrumentation scope name of spans started by `GreenticTracer`. */
export const TRACER_NAME = '@greentic/telemetry';
