import type { TenantCtx } from '@greentic/types';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  createContextKey,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import {
  ATTR_BUNDLE_ID,
  ATTR_CHANNEL,
  ATTR_COMPONENT_NAME,
  ATTR_COMPONENT_OPERATION,
  ATTR_COMPONENT_VERSION,
  ATTR_CUSTOMER_ID,
  ATTR_DEPLOYMENT_ID,
  ATTR_ENV_ID,
  ATTR_ERROR_CODE,
  ATTR_FLOW_ID,
  ATTR_MESSAGE_ID,
  ATTR_NODE_ID,
  ATTR_NODE_OP,
  ATTR_PACK_ID,
  ATTR_PACK_VERSION,
  ATTR_REVISION_ID,
  ATTR_RUN_STATUS,
  ATTR_SESSION_ID,
  ATTR_TEAM_ID,
  ATTR_TENANT_ID,
  ATTR_USER_ID,
  SPAN_NODE,
  SPAN_TURN,
  TRACER_NAME,
} from './keys.js';
import { providerGeneration } from './state.js';

/**
 * Outcome recorded as `greentic.run.status`: a turn ends `done`, `pending` (waiting for the next message) or
 * `error`; a node `ok`, `pending` or `error`. Other strings are recorded as given.
 */
export type RunStatus = 'ok' | 'done' | 'pending' | 'error' | (string & {});

/** Attribute values may be left undefined/null: such keys are skipped. */
export type AttributeInit = Record<string, AttributeValue | undefined | null>;

export interface SpanInit {
  /** Parent context, e.g. `extractHttpHeaders(req.headers)`. Default: the active context. */
  parent?: Context;
  kind?: SpanKind;
  attributes?: AttributeInit;
  /** Start a new trace even when the parent context has a span. */
  root?: boolean;
}

export interface TurnSpanInit extends SpanInit {
  /** The message's tenant context: tenant, team, user, env, session and upstream's `gt.*` rollout attributes. */
  tenant?: TenantCtx;
  flowId?: string;
  packId?: string;
  packVersion?: string;
  /** Default: `tenant.session_id`. */
  sessionId?: string;
  channel?: string;
  messageId?: string;
}

export interface NodeSpanInit extends SpanInit {
  flowId: string;
  nodeId: string;
  /** The node's operation (`questions`, `component.exec`, `flow.call`, …). */
  op?: string;
  /** The component the node invokes. */
  component?: string;
  componentVersion?: string;
  /** The component operation invoked. */
  operation?: string;
  packId?: string;
}

export interface GreenticTracerOptions {
  /** Instrumentation scope name; default `@greentic/telemetry`. */
  name?: string;
  version?: string;
  /** Default: the global provider (`initTelemetry` registers one; without it every span is a no-op). */
  tracerProvider?: TracerProvider;
}

/** Attributes a turn span hands down to the node spans started inside it. */
const INHERITED = createContextKey('greentic.telemetry.inherited-attributes');

/**
 * One span, with Greentic helpers. `context` is the parent context with this span set as active: pass it as
 * `parent` (or run code inside {@link GreenticSpan.run}) to make children.
 */
export class GreenticSpan {
  private status: string | undefined;
  private ended = false;

  constructor(
    /** The OpenTelemetry span. */
    readonly span: Span,
    /** The context in which this span is the active one. */
    readonly context: Context,
  ) {}

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  get spanId(): string {
    return this.span.spanContext().spanId;
  }

  /** False for no-op spans (no SDK installed, or not sampled): attribute work can be skipped. */
  get recording(): boolean {
    return this.span.isRecording();
  }

  /** The `greentic.run.status` set so far. */
  get runStatus(): string | undefined {
    return this.status;
  }

  setAttribute(key: string, value: AttributeValue | undefined | null): this {
    if (value !== undefined && value !== null && this.span.isRecording()) this.span.setAttribute(key, value);
    return this;
  }

  setAttributes(attributes: AttributeInit): this {
    if (this.span.isRecording()) this.span.setAttributes(clean(attributes));
    return this;
  }

  /**
   * Records the outcome as `greentic.run.status`. `error` also marks the span status ERROR, with
   * `greentic.error.code` and the message (`code: message`) as the status description.
   */
  setRunStatus(status: RunStatus, error?: { code?: string; message?: string }): this {
    this.status = status;
    if (!this.span.isRecording()) return this;
    this.span.setAttribute(ATTR_RUN_STATUS, status);
    if (status === 'error') {
      if (error?.code) this.span.setAttribute(ATTR_ERROR_CODE, error.code);
      const message = [error?.code, error?.message].filter(Boolean).join(': ');
      this.span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
    }
    return this;
  }

  /** Records a thrown value as an `exception` event and sets the run status to `error`. */
  recordError(err: unknown, code?: string): this {
    const e = err instanceof Error ? err : new Error(String(err));
    const errCode =
      code ??
      (typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined);
    if (this.span.isRecording()) this.span.recordException(e);
    return this.setRunStatus('error', { code: errCode, message: e.message });
  }

  /** Runs `fn` with this span active, so spans started inside become its children. */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  /** Ends the span (later calls do nothing). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}

/**
 * Starts Greentic's spans through `@opentelemetry/api` only: a `greentic.turn` span per handled message and a
 * `greentic.node` span per node, as its child. Costs a few allocations per span when no SDK is installed.
 */
export class GreenticTracer {
  private cached: Tracer | undefined;
  private cachedGeneration = -1;

  constructor(private readonly options: GreenticTracerOptions = {}) {}

  /** The underlying OpenTelemetry tracer (re-resolved after `initTelemetry`/`shutdown`). */
  get tracer(): Tracer {
    const generation = providerGeneration();
    if (this.cached === undefined || this.cachedGeneration !== generation) {
      const provider = this.options.tracerProvider ?? trace.getTracerProvider();
      this.cached = provider.getTracer(this.options.name ?? TRACER_NAME, this.options.version);
      this.cachedGeneration = generation;
    }
    return this.cached;
  }

  /** Starts a span named `name`; it inherits the tenant attributes of an enclosing turn span. */
  startSpan(name: string, init: SpanInit = {}): GreenticSpan {
    return this.start(name, init, undefined);
  }

  /** Starts the `greentic.turn` span of one incoming message. End it (or use {@link withTurn}). */
  startTurn(init: TurnSpanInit = {}): GreenticSpan {
    const inherited: Attributes = {};
    const t = init.tenant;
    if (t) Object.assign(inherited, tenantAttributes(t));
    const sessionId = init.sessionId ?? t?.session_id;
    if (sessionId !== undefined) inherited[ATTR_SESSION_ID] = sessionId;
    if (init.packId !== undefined) inherited[ATTR_PACK_ID] = init.packId;
    if (init.packVersion !== undefined) inherited[ATTR_PACK_VERSION] = init.packVersion;
    const own: Attributes = {};
    if (init.flowId !== undefined) own[ATTR_FLOW_ID] = init.flowId;
    if (init.channel !== undefined) own[ATTR_CHANNEL] = init.channel;
    if (init.messageId !== undefined) own[ATTR_MESSAGE_ID] = init.messageId;
    return this.start(SPAN_TURN, init, inherited, own);
  }

  /** Starts a `greentic.node` span, a child of the active (or `parent`) turn span. */
  startNode(init: NodeSpanInit): GreenticSpan {
    const own: Attributes = { [ATTR_FLOW_ID]: init.flowId, [ATTR_NODE_ID]: init.nodeId };
    if (init.op !== undefined) own[ATTR_NODE_OP] = init.op;
    if (init.component !== undefined) own[ATTR_COMPONENT_NAME] = init.component;
    if (init.componentVersion !== undefined) own[ATTR_COMPONENT_VERSION] = init.componentVersion;
    if (init.operation !== undefined) own[ATTR_COMPONENT_OPERATION] = init.operation;
    if (init.packId !== undefined) own[ATTR_PACK_ID] = init.packId;
    return this.start(SPAN_NODE, init, undefined, own);
  }

  /**
   * Runs `fn` inside a turn span and ends it. When `fn` throws (or rejects) the error is recorded and rethrown;
   * when it returns without setting a run status, the status is `ok`.
   */
  withTurn<T>(init: TurnSpanInit, fn: (span: GreenticSpan) => T | Promise<T>): Promise<T> {
    return this.within(this.startTurn(init), fn);
  }

  /** Runs `fn` inside a node span and ends it; errors as in {@link withTurn}. */
  withNode<T>(init: NodeSpanInit, fn: (span: GreenticSpan) => T | Promise<T>): Promise<T> {
    return this.within(this.startNode(init), fn);
  }

  /** Runs `fn` inside a span named `name` and ends it; errors as in {@link withTurn}. */
  withSpan<T>(name: string, init: SpanInit, fn: (span: GreenticSpan) => T | Promise<T>): Promise<T> {
    return this.within(this.startSpan(name, init), fn);
  }

  private start(name: string, init: SpanInit, newInherited?: Attributes, own?: Attributes): GreenticSpan {
    const parent = init.parent ?? context.active();
    const span = this.tracer.startSpan(
      name,
      { kind: init.kind ?? SpanKind.INTERNAL, ...(init.root ? { root: true } : {}) },
      parent,
    );
    let ctx = trace.setSpan(parent, span);
    const previous = parent.getValue(INHERITED) as Attributes | undefined;
    let inherited = previous;
    if (newInherited && Object.keys(newInherited).length > 0) {
      inherited = previous ? { ...previous, ...newInherited } : newInherited;
      ctx = ctx.setValue(INHERITED, inherited);
    }
    if (span.isRecording()) {
      if (inherited) span.setAttributes(inherited);
      if (own) span.setAttributes(own);
      if (init.attributes) span.setAttributes(clean(init.attributes));
    }
    return new GreenticSpan(span, ctx);
  }

  private async within<T>(span: GreenticSpan, fn: (span: GreenticSpan) => T | Promise<T>): Promise<T> {
    try {
      const result = await context.with(span.context, fn, undefined, span);
      if (span.runStatus === undefined) span.setRunStatus('ok');
      return result;
    } catch (e) {
      span.recordError(e);
      throw e;
    } finally {
      span.end();
    }
  }
}

/** The span attributes of a tenant context: tenant, team, user, env and the `gt.*` rollout ids in `attributes`. */
export function tenantAttributes(ctx: TenantCtx): Attributes {
  const out: Attributes = {};
  const tenant = ctx.tenant_id ?? ctx.tenant;
  if (tenant !== undefined) out[ATTR_TENANT_ID] = tenant;
  const team = ctx.team_id ?? ctx.team;
  if (team !== undefined) out[ATTR_TEAM_ID] = team;
  const user = ctx.user_id ?? ctx.user;
  if (user !== undefined) out[ATTR_USER_ID] = user;
  if (ctx.env !== undefined) out[ATTR_ENV_ID] = ctx.env;
  const extra = ctx.attributes;
  if (extra) {
    for (const key of [ATTR_CUSTOMER_ID, ATTR_DEPLOYMENT_ID, ATTR_BUNDLE_ID, ATTR_REVISION_ID]) {
      const v = extra[key];
      if (v !== undefined) out[key] = v;
    }
  }
  return out;
}

function clean(attributes: AttributeInit): Attributes {
  const out: Attributes = {};
  for (const key in attributes) {
    const v = attributes[key];
    if (v !== undefined && v !== null) out[key] = v;
  }
  return out;
}
