import {
  type Condition,
  compileTemplate,
  type ExpressionScope,
  type FlowIR,
  type NodeIR,
  parseCondition,
  type Route,
} from '@greentic/flow';
import type { ComponentRef, ComponentRegistry } from '@greentic/interfaces';
import type { SessionStore } from '@greentic/session';
import type { StateStore } from '@greentic/state';
import { type Context, type GreenticSpan, GreenticTracer } from '@greentic/telemetry';
import {
  type ChannelMessageEnvelope,
  type FlowId,
  type ReplyScope,
  replyScopeHash,
  type SessionData,
  type TenantCtx,
} from '@greentic/types';
import { RunnerError } from '../errors.js';
import { checkAnswer, promptText, type QaSpec, readQaSpec } from './qa.js';
import {
  type ConversationRecord,
  decodeRecord,
  encodeRecord,
  type Frame,
  newRecord,
  type OutboxEntry,
  type RunSnapshot,
} from './snapshot.js';

/** One message the flow sends back. `id` is stable for a given turn and position, for exactly-once delivery. */
export interface OutboundMessage {
  id: string;
  text?: string;
  /** A card (e.g. an Adaptive Card) when the node produced one. */
  card?: unknown;
  /** The raw reply value for channels that render structured output. */
  payload?: unknown;
}

/**
 * `done`: the run ended; `pending`: the flow waits for the next message; `error`: the turn failed (see `error`);
 * `duplicate`: this message was already applied (its replies are returned again when still in the outbox);
 * `deferred`: the message is ahead of its conversation's sequence (`expectedSeq` says which comes first) — retry later.
 */
export type TurnStatus = 'done' | 'pending' | 'error' | 'duplicate' | 'deferred';

export interface TurnResult {
  status: TurnStatus;
  replies: OutboundMessage[];
  /** The flow that handled the turn (the outermost one). */
  flowId: string;
  /** The session key while the conversation is parked; undefined once it ended. */
  sessionKey?: string;
  /** The node ids executed in this turn, in order. */
  trail: string[];
  /** Why the flow is waiting (pending turns). */
  waitReason?: string;
  /** The last node's output (done turns). */
  output?: unknown;
  warnings: string[];
  error?: { code: string; message: string; node?: string; flow?: string };
  /** The message had been applied before; `replies` are the ones recorded then (send them idempotently by id). */
  duplicate?: boolean;
  /** With `deferred`: the sequence number the conversation expects next. */
  expectedSeq?: number;
}

/** Options of one {@link FlowEngine.handleMessage} call. */
export interface HandleMessageOptions {
  /** Start new conversations with this flow instead of the default one. */
  flowId?: string;
  /** The message's sequence number in its conversation: old ones are `duplicate`, early ones `deferred`. */
  seq?: number;
  /**
   * The number the sender gives a conversation's first message (e.g. 1). When set, a message numbered above it
   * for a conversation that does not exist yet is `deferred` too. Unset: a new conversation accepts any number.
   */
  firstSeq?: number;
  /** Trace context of the caller (extracted from HTTP or NATS headers): the turn span becomes its child. */
  parent?: Context;
  /** Apply a message that is ahead of its sequence anyway: the missing ones are given up on (they come back `duplicate`). */
  allowGap?: boolean;
}

/** A flow as a run uses it: the IR and the version (e.g. the pack version) it belongs to. */
export interface FlowRef {
  flow: FlowIR;
  /** The version of the pack (or flow set) the flow came from; parked runs stay on it. */
  version?: string;
}

/**
 * Where the engine finds flows. The default is the engine's own map (`registerFlow`); the runner plugs in its
 * per-tenant pack registry so each tenant runs its own packs and parked conversations keep the version they started on.
 */
export interface FlowSource {
  /** The flow that starts a new conversation for this tenant and channel (or `flowId` when the caller names one). */
  entry(ctx: TenantCtx, channel: string, flowId?: string): FlowRef | undefined;
  /** A flow by id: in `version` when given (a parked run's), else the tenant's current version. */
  get(ctx: TenantCtx, flowId: string, version?: string): FlowRef | undefined;
  /** Flow ids the tenant can use, for error messages. */
  list(ctx: TenantCtx): string[];
  /** The components that belong to a version (a pack's Wasm components); consulted before `EngineOptions.components`. */
  components?(ctx: TenantCtx, version: string | undefined): ComponentRegistry | undefined;
}

export interface EngineOptions {
  /** Where flows come from; defaults to the flows given to `registerFlow`. */
  flows?: FlowSource;
  sessions: SessionStore;
  /** Spans for turns and nodes (`greentic.turn`, `greentic.node`); a no-op until `initTelemetry` installs an SDK. */
  tracer?: GreenticTracer;
  state: StateStore;
  components?: ComponentRegistry;
  /** Upper bound on nodes executed in one turn; a loop that never waits ends with GT_RUNNER_STEP_LIMIT. */
  maxStepsPerTurn?: number;
  /** Missing template paths become errors instead of warnings. */
  strictTemplates?: boolean;
  /** How long a conversation (its state, parked run and outbox) is kept after its last message (ms). */
  conversationTtlMs?: number;
  /** How many recent turns per conversation are remembered for deduplication of redelivered messages. */
  outboxSize?: number;
  /** Deadline for a single component call (ms). */
  componentTimeoutMs?: number;
}

interface NodeResult {
  park?: { reason: string };
  status: 'ok' | 'error' | 'pending';
  output: unknown;
  /** The node already sent its output (emit.response), so the end-of-flow auto-reply must not repeat it. */
  replied?: boolean;
  /** The node was resumed by a typed message (for `on_message` routes). */
  resumedByMessage?: boolean;
}

/** Data for one turn, shared by all nodes it runs. */
interface Turn {
  msg: ChannelMessageEnvelope;
  ctx: TenantCtx;
  entry: { input: Record<string, unknown>; [k: string]: unknown };
  response: Record<string, unknown>;
  state: Record<string, unknown>;
  replies: OutboundMessage[];
  trail: string[];
  warnings: string[];
  steps: number;
  /** The version of the flows the run uses (a parked run keeps the one it started on). */
  version?: string;
  /** The turn's span: node spans are its children. */
  span?: GreenticSpan;
}

const QA_OPS = new Set(['questions', 'qa.process']);
const TEMPLATE_OPS = new Set(['template', 'templating.handlebars', 'handlebars']);
const EMIT_OPS = new Set(['emit.response', 'messaging.emit', 'emit.message', 'reply']);
const BUILTIN_OPS = new Set([
  ...QA_OPS,
  ...TEMPLATE_OPS,
  ...EMIT_OPS,
  'state.get',
  'state.set',
  'state.delete',
  'session.wait',
  'flow.call',
]);

const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
/** A conversation is forgotten this long after its last message unless `conversationTtlMs` says otherwise. */
export const DEFAULT_CONVERSATION_TTL_MS = 24 * 60 * 60 * 1000;
/** StateStore prefix of user/team/tenant-scoped flow state. */
const FLOW_STATE_PREFIX = 'flow-state';

/**
 * The flow engine: runs registered flows one turn at a time. A message arrives, the conversation for its
 * ReplyScope is resumed (or a new run starts at the flow's entry), nodes run until the flow ends or waits for
 * input, and the session and conversation state are saved. Turns of one conversation are applied one at a time,
 * in arrival order.
 */
export class FlowEngine {
  private readonly flows = new Map<string, FlowIR>();
  private defaultFlow?: string;
  private readonly maxSteps: number;
  private readonly source: FlowSource;
  private readonly tracer: GreenticTracer;
  private readonly outboxSize: number;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly templates = new WeakMap<object, ReturnType<typeof compileTemplate>>();
  private readonly conditions = new Map<string, Condition>();
  private readonly qaSpecs = new WeakMap<NodeIR, QaSpec>();

  constructor(private readonly opts: EngineOptions) {
    this.maxSteps = opts.maxStepsPerTurn ?? 100;
    this.source = opts.flows ?? {
      entry: (_ctx, _channel, flowId) => {
        const f = this.flows.get(flowId ?? this.defaultFlow ?? '');
        return f ? { flow: f } : undefined;
      },
      get: (_ctx, flowId) => {
        const f = this.flows.get(flowId);
        return f ? { flow: f } : undefined;
      },
      list: () => [...this.flows.keys()],
    };
    this.tracer = opts.tracer ?? new GreenticTracer();
    this.outboxSize = opts.outboxSize ?? 16;
  }

  /** Makes a flow runnable. The first flow registered (or one registered with `{default: true}`) handles new conversations. */
  registerFlow(flow: FlowIR, options: { default?: boolean } = {}): this {
    this.flows.set(flow.id, flow);
    if (options.default || this.defaultFlow === undefined) this.defaultFlow = flow.id;
    return this;
  }

  flow(id: string): FlowIR | undefined {
    return this.flows.get(id);
  }

  /** The state of the conversation a message with this TenantCtx and ReplyScope would continue (for tools and tests). */
  async conversationState(ctx: TenantCtx, scope: ReplyScope): Promise<Record<string, unknown> | undefined> {
    const key = await this.opts.sessions.findWait(ctx, scope);
    const rec = key === undefined ? undefined : await this.opts.sessions.get(ctx, key);
    return rec ? decodeRecord(rec.data.context_json, rec.key).state : undefined;
  }

  /** The flow that handles new conversations. */
  get entryFlowId(): string | undefined {
    return this.defaultFlow;
  }

  /** Handles one incoming message. Never throws for flow problems: they come back as `status: 'error'`. */
  handleMessage(msg: ChannelMessageEnvelope, options: HandleMessageOptions = {}): Promise<TurnResult> {
    const scope = replyScopeOf(msg);
    const lane = `${msg.tenant.env}\u0000${msg.tenant.tenant_id}\u0000${msg.tenant.team_id ?? ''}\u0000${msg.tenant.user_id ?? ''}\u0000${replyScopeHash(scope)}`;
    const previous = this.queues.get(lane) ?? Promise.resolve();
    const run = previous.then(
      () => this.tracedTurn(msg, scope, options),
      () => this.tracedTurn(msg, scope, options),
    );
    this.queues.set(lane, run);
    // the caller gets `run` (and its rejection, when a store fails); this side chain must not reject unhandled
    run
      .finally(() => {
        if (this.queues.get(lane) === run) this.queues.delete(lane);
      })
      .catch(() => {});
    return run;
  }

  /** One span per turn, around the run (not the wait in the conversation's queue). */
  private tracedTurn(
    msg: ChannelMessageEnvelope,
    scope: ReplyScope,
    options: HandleMessageOptions,
  ): Promise<TurnResult> {
    return this.tracer.withTurn(
      {
        tenant: msg.tenant,
        flowId: options.flowId ?? this.defaultFlow,
        channel: msg.channel,
        messageId: msg.id,
        sessionId: msg.session_id,
        parent: options.parent,
      },
      async (span) => {
        const r = await this.runTurn(msg, scope, options.flowId, options.seq, options, span);
        if (r.flowId) span.setAttribute('greentic.flow.id', r.flowId);
        if (r.sessionKey) span.setAttribute('greentic.session.id', r.sessionKey);
        span.setRunStatus(r.status, r.error);
        return r;
      },
    );
  }

  private async runTurn(
    msg: ChannelMessageEnvelope,
    scope: ReplyScope,
    flowId: string | undefined,
    seq: number | undefined,
    order: Pick<HandleMessageOptions, 'allowGap' | 'firstSeq'> = {},
    span?: GreenticSpan,
  ): Promise<TurnResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryTurn(msg, scope, flowId, seq, order, span);
      } catch (e) {
        // Another runner saved this conversation first: reload and apply the turn on top of its result.
        if (isConflict(e) && attempt < 5) continue;
        if (isConflict(e)) {
          return this.fail(
            this.newTurn(msg, {}),
            flowId ?? '',
            new RunnerError(
              'GT_RUNNER_CONFLICT',
              'the conversation kept changing while this turn ran; the turn was not applied',
              {},
              { cause: e },
            ),
          );
        }
        throw e;
      }
    }
  }

  private async tryTurn(
    msg: ChannelMessageEnvelope,
    scope: ReplyScope,
    flowId: string | undefined,
    seq: number | undefined,
    order: Pick<HandleMessageOptions, 'allowGap' | 'firstSeq'> = {},
    span?: GreenticSpan,
  ): Promise<TurnResult> {
    const ctx = msg.tenant;
    const { sessions } = this.opts;
    let record = newRecord();
    let session: { key: string; revision: number } | undefined;
    const warnings: string[] = [];

    const key = await sessions.findWait(ctx, scope);
    if (key !== undefined) {
      const rec = await sessions.get(ctx, key);
      if (rec) {
        session = { key: rec.key, revision: rec.revision };
        try {
          record = decodeRecord(rec.data.context_json, rec.key);
        } catch (e) {
          warnings.push((e as Error).message);
        }
      }
    }

    const seen = record.outbox.find((o) => o.id === msg.id);
    if (seen) return this.replay(seen, record, session?.key, warnings);
    // a conversation that does not exist yet waits for its first message (when the caller says which number that is)
    const applied =
      record.seq ?? (session === undefined && order.firstSeq !== undefined ? order.firstSeq - 1 : undefined);
    if (seq !== undefined && applied !== undefined) {
      if (record.seq !== undefined && seq <= record.seq) {
        return {
          status: 'duplicate',
          replies: [],
          flowId: record.run?.flow ?? '',
          trail: [],
          warnings,
          sessionKey: session?.key,
        };
      }
      if (seq > applied + 1 && !order.allowGap) {
        return {
          status: 'deferred',
          replies: [],
          flowId: record.run?.flow ?? '',
          trail: [],
          warnings,
          sessionKey: session?.key,
          expectedSeq: applied + 1,
        };
      }
    }

    const turn = this.newTurn(msg, record.state);
    turn.span = span;
    turn.warnings.push(...warnings);
    let result: TurnResult;
    let run = record.run;
    let rootFlow: FlowIR | undefined;
    if (run) {
      const pinned = this.source.get(ctx, run.flow, run.version);
      if (pinned) {
        rootFlow = pinned.flow;
        turn.version = run.version;
      } else {
        const migrated = this.migrate(ctx, run);
        if (migrated) {
          turn.warnings.push(
            `version ${run.version ?? '(unversioned)'} of flow "${run.flow}" is no longer loaded; the conversation continues on version ${migrated.version ?? '(unversioned)'} at the same node`,
          );
          run.version = migrated.version;
          rootFlow = migrated.flow;
          turn.version = migrated.version;
        } else {
          turn.warnings.push(
            `flow "${run.flow}" (version ${run.version ?? 'unversioned'}) of the parked conversation is no longer loaded and its nodes are gone from the current version; starting afresh`,
          );
          run = undefined;
        }
      }
    }
    if (!run) {
      const entry = this.source.entry(ctx, msg.channel, flowId);
      rootFlow = entry?.flow;
      turn.version = entry?.version;
      if (rootFlow)
        run = {
          flow: rootFlow.id,
          ...(entry?.version !== undefined ? { version: entry.version } : {}),
          frames: [{ flow: rootFlow.id, node: entryNode(rootFlow, msg.channel), outputs: {}, prev: null }],
        };
    }
    if (!run || !rootFlow) {
      const id = flowId ?? this.defaultFlow;
      result = this.fail(
        turn,
        id ?? '',
        new RunnerError(
          'GT_RUNNER_FLOW_NOT_FOUND',
          `no flow "${id ?? '(default)'}" is registered for tenant "${ctx.tenant_id}" (registered: ${this.source.list(ctx).join(', ') || 'none'})`,
        ),
      );
      record.run = undefined;
    } else {
      try {
        const outcome = await this.execute(turn, run, record.run !== undefined && run === record.run);
        if (outcome.status === 'pending') {
          record.run = run;
          result = {
            status: 'pending',
            replies: turn.replies,
            flowId: rootFlow.id,
            trail: turn.trail,
            waitReason: outcome.reason,
            warnings: turn.warnings,
          };
        } else {
          record.run = undefined;
          result = {
            status: 'done',
            replies: turn.replies,
            flowId: rootFlow.id,
            trail: turn.trail,
            output: outcome.output,
            warnings: turn.warnings,
          };
        }
      } catch (e) {
        record.run = undefined;
        result = this.fail(turn, rootFlow.id, e);
      }
    }

    record.state = turn.state;
    record.outbox.push({
      id: msg.id,
      status: result.status as OutboxEntry['status'],
      replies: result.replies,
      ...(result.error ? { error: result.error } : {}),
      ...(result.waitReason !== undefined ? { waitReason: result.waitReason } : {}),
    });
    if (record.outbox.length > this.outboxSize)
      record.outbox.splice(0, record.outbox.length - this.outboxSize);
    if (seq !== undefined) record.seq = seq;

    const data: SessionData = {
      tenant_ctx: ctx,
      // flow ids were checked against the identifier rules when the flow was loaded
      flow_id: (record.run?.flow ?? rootFlow?.id ?? flowId ?? this.defaultFlow ?? '-') as FlowId,
      cursor: {
        node_pointer: record.run ? record.run.frames.map((f) => `${f.flow}#${f.node}`).join('>') : '',
        ...(result.waitReason !== undefined ? { wait_reason: result.waitReason } : {}),
        outbox_marker: msg.id,
      },
      context_json: encodeRecord(record),
    };
    const ttlMs = this.opts.conversationTtlMs ?? DEFAULT_CONVERSATION_TTL_MS;
    if (session) {
      await sessions.save(ctx, session.key, data, { expectedRevision: session.revision, ttlMs });
      // keep the ReplyScope pointing at the conversation for as long as the conversation lives
      await sessions.registerWait(ctx, scope, session.key, { ttlMs });
      result.sessionKey = session.key;
    } else {
      const rec = await sessions.create(ctx, data, { ttlMs });
      await sessions.registerWait(ctx, scope, rec.key, { ttlMs });
      result.sessionKey = rec.key;
    }
    return result;
  }

  /**
   * A parked run whose version was unloaded moves to the tenant's current version when every flow and node of its
   * call stack still exists there (same ids); otherwise it cannot continue.
   */
  private migrate(ctx: TenantCtx, run: RunSnapshot): FlowRef | undefined {
    const current = this.source.get(ctx, run.flow);
    if (!current) return undefined;
    for (const frame of run.frames) {
      const f = this.source.get(ctx, frame.flow, current.version)?.flow;
      if (!f || !Object.hasOwn(f.nodes, frame.node)) return undefined;
    }
    return current;
  }

  private replay(
    entry: OutboxEntry,
    record: ConversationRecord,
    key: string | undefined,
    warnings: string[],
  ): TurnResult {
    return {
      status: entry.status,
      replies: entry.replies,
      flowId: record.run?.flow ?? '',
      trail: [],
      warnings,
      duplicate: true,
      sessionKey: key,
      ...(entry.error ? { error: entry.error } : {}),
      ...(entry.waitReason !== undefined ? { waitReason: entry.waitReason } : {}),
    };
  }

  private fail(turn: Turn, flowId: string, e: unknown): TurnResult {
    const err = e instanceof RunnerError ? e : undefined;
    const code = (e as { code?: string })?.code ?? 'GT_RUNNER_NODE_FAILED';
    return {
      status: 'error',
      replies: turn.replies,
      flowId,
      trail: turn.trail,
      warnings: turn.warnings,
      error: {
        code,
        message: (e as Error)?.message ?? String(e),
        node: err?.details.node as string | undefined,
        flow: (err?.details.flow as string | undefined) ?? flowId,
      },
    };
  }

  private newTurn(msg: ChannelMessageEnvelope, state: Record<string, unknown>): Turn {
    const metadata = msg.metadata ?? {};
    const action = metadata.action ?? (msg.extensions?.action as string | undefined);
    const input: Record<string, unknown> = {
      text: msg.text ?? '',
      attachments: msg.attachments ?? [],
      metadata,
      ...(action !== undefined ? { action } : {}),
    };
    return {
      msg,
      ctx: msg.tenant,
      entry: { input, channel: msg.channel, session_id: msg.session_id, from: msg.from, message_id: msg.id },
      response: { ...metadata, text: msg.text ?? '', ...(action !== undefined ? { action } : {}) },
      state,
      replies: [],
      trail: [],
      warnings: [],
      steps: 0,
    };
  }

  /** Runs from the top frame until the outermost flow ends or something waits for input. */
  private async execute(
    turn: Turn,
    snap: RunSnapshot,
    resuming: boolean,
  ): Promise<{ status: 'done' | 'pending'; reason?: string; output?: unknown }> {
    let resume = resuming;
    for (;;) {
      const frame = snap.frames[snap.frames.length - 1]!;
      const flow = this.source.get(turn.ctx, frame.flow, turn.version)?.flow;
      if (!flow)
        throw new RunnerError('GT_RUNNER_FLOW_NOT_FOUND', `flow "${frame.flow}" is not registered`, {
          flow: frame.flow,
        });
      const node = flow.nodes[frame.node];
      if (!node) {
        throw new RunnerError('GT_RUNNER_NODE_FAILED', `flow "${flow.id}" has no node "${frame.node}"`, {
          flow: flow.id,
          node: frame.node,
        });
      }
      if (++turn.steps > this.maxSteps) {
        throw new RunnerError(
          'GT_RUNNER_STEP_LIMIT',
          `turn stopped after ${this.maxSteps} steps without waiting for input (last node "${node.id}" of flow "${flow.id}"); the flow loops — add a questions/session.wait node to the loop or fix its routing`,
          { flow: flow.id, node: node.id },
        );
      }
      turn.trail.push(snap.frames.length > 1 ? `${flow.id}#${node.id}` : node.id);

      // flow.call: entering the child happens here; its result arrives when the child frame pops.
      if (node.op === 'flow.call' && !resume) {
        const child = this.startCall(turn, flow, node, frame);
        snap.frames.push(child);
        continue;
      }

      const ref = BUILTIN_OPS.has(node.op) ? undefined : componentRef(node);
      const result = await this.tracer.withNode(
        {
          parent: turn.span?.context,
          flowId: flow.id,
          nodeId: node.id,
          op: node.op,
          ...(ref ? { component: ref.component, operation: ref.operation } : {}),
        },
        async (span) => {
          const r = await this.runNode(turn, flow, node, frame, resume);
          span.setRunStatus(
            r.park ? 'pending' : r.status,
            r.status === 'error'
              ? (r.output as { error?: { code?: string; message?: string } }).error
              : undefined,
          );
          return r;
        },
      );
      resume = false;
      if (result.park) return { status: 'pending', reason: result.park.reason };

      let cur: { frame: Frame; flow: FlowIR; node: NodeIR; result: NodeResult } = {
        frame,
        flow,
        node,
        result,
      };
      for (;;) {
        const next = this.route(turn, cur.flow, cur.node, cur.frame, cur.result);
        if (next !== undefined) {
          cur.frame.node = next;
          break;
        }
        // this frame's flow ended
        if (snap.frames.length === 1) {
          this.autoReply(turn, cur.node, cur.result);
          return { status: 'done', output: cur.result.output };
        }
        snap.frames.pop();
        const parent = snap.frames[snap.frames.length - 1]!;
        const pflow = this.source.get(turn.ctx, parent.flow, turn.version)!.flow;
        const pnode = pflow.nodes[parent.node]!;
        const output = cur.result.output;
        parent.outputs[pnode.id] = output;
        cur = { frame: parent, flow: pflow, node: pnode, result: { status: 'ok', output } };
      }
    }
  }

  private startCall(turn: Turn, flow: FlowIR, node: NodeIR, frame: Frame): Frame {
    const p = this.render(turn, flow, node, frame, node.payload) as Record<string, unknown> | undefined;
    const target =
      typeof p?.flow_id === 'string' ? p.flow_id : typeof p?.flow === 'string' ? p.flow : undefined;
    const child = target === undefined ? undefined : this.source.get(turn.ctx, target, turn.version)?.flow;
    if (!child) {
      throw new RunnerError(
        'GT_RUNNER_FLOW_NOT_FOUND',
        `node "${node.id}" calls flow "${target ?? '(none: set flow_id)'}", which is not registered`,
        { flow: flow.id, node: node.id },
      );
    }
    return { flow: child.id, node: child.start, outputs: {}, prev: null, callInput: p?.input ?? {} };
  }

  /** Picks the first matching route. Returns the next node id, or undefined when the flow ends here. */
  private route(
    turn: Turn,
    flow: FlowIR,
    node: NodeIR,
    frame: Frame,
    result: NodeResult,
  ): string | undefined {
    frame.outputs[node.id] = result.output;
    frame.prev = result.output;
    let chosen: Route | undefined;
    let scope: ExpressionScope | undefined;
    for (const r of node.routes) {
      if (r.status !== undefined ? r.status !== result.status : result.status === 'error') continue;
      if (r.on_message === true && !result.resumedByMessage) continue;
      if (r.condition) {
        scope ??= this.scope(turn, flow, frame);
        if (!r.condition.evaluate(scope)) continue;
      }
      chosen = r;
      break;
    }
    if (result.status === 'error' && !chosen) {
      const err = (result.output as { error?: { code?: string; message?: string } })?.error;
      throw new RunnerError(
        'GT_RUNNER_NODE_FAILED',
        `node "${node.id}" of flow "${flow.id}" failed (${err?.code ?? 'error'}: ${err?.message ?? 'no message'}) and has no "status: error" route`,
        { flow: flow.id, node: node.id },
      );
    }
    if (node.routingForm === 'reply' || chosen?.reply) {
      this.reply(turn, result.output);
      result.replied = true;
    }
    if (!chosen || chosen.out || chosen.to === undefined || chosen.to === 'out') return undefined;
    return chosen.to;
  }

  /** Upstream's runner returns the last output of a messaging flow as the response: a template that ends the flow replies. */
  private autoReply(turn: Turn, node: NodeIR, result: NodeResult) {
    if (result.replied) return;
    if (TEMPLATE_OPS.has(node.op)) this.reply(turn, result.output);
  }

  private reply(turn: Turn, value: unknown) {
    const push = (v: unknown) => {
      const id = `${turn.msg.id}:${turn.replies.length}`;
      if (typeof v === 'string') turn.replies.push({ id, text: v });
      else if (isRecord(v)) {
        const text = typeof v.text === 'string' ? v.text : undefined;
        const card = v.card ?? v.adaptive_card;
        turn.replies.push({
          id,
          ...(text !== undefined ? { text } : {}),
          ...(card !== undefined ? { card } : {}),
          payload: v,
        });
      } else if (v !== undefined && v !== null) turn.replies.push({ id, text: JSON.stringify(v) });
    };
    if (isRecord(value) && Array.isArray(value.messages)) value.messages.forEach(push);
    else push(value);
  }

  private scope(turn: Turn, flow: FlowIR, frame: Frame): ExpressionScope {
    const entry = frame.callInput === undefined ? turn.entry : { ...turn.entry, input: frame.callInput };
    return {
      entry,
      prev: frame.prev,
      node: frame.outputs,
      state: turn.state,
      parameters: flow.parameters,
      response: turn.response,
    };
  }

  private render(turn: Turn, flow: FlowIR, node: NodeIR, frame: Frame, value: unknown): unknown {
    if (value === null || (typeof value !== 'object' && typeof value !== 'string')) return value;
    let compiled = typeof value === 'object' ? this.templates.get(value as object) : undefined;
    if (!compiled) {
      compiled = compileTemplate(value);
      if (typeof value === 'object') this.templates.set(value as object, compiled);
    }
    const { value: out, warnings } = compiled.render(this.scope(turn, flow, frame), {
      strict: this.opts.strictTemplates,
    });
    for (const w of warnings) turn.warnings.push(`flow "${flow.id}" node "${node.id}": ${w.message}`);
    return out;
  }

  private condition(source: string): Condition {
    let c = this.conditions.get(source);
    if (!c) {
      c = parseCondition(source);
      this.conditions.set(source, c);
    }
    return c;
  }

  private async runNode(
    turn: Turn,
    flow: FlowIR,
    node: NodeIR,
    frame: Frame,
    resuming: boolean,
  ): Promise<NodeResult> {
    const op = node.op;
    if (QA_OPS.has(op)) return this.runQuestions(turn, flow, node, frame, resuming);
    if (TEMPLATE_OPS.has(op)) {
      const p = node.payload;
      const text = typeof p === 'string' ? p : isRecord(p) && typeof p.text === 'string' ? p.text : undefined;
      if (text === undefined) {
        const rendered = this.render(turn, flow, node, frame, p);
        return { status: 'ok', output: rendered };
      }
      const rendered = this.render(turn, flow, node, frame, text);
      if (op === 'template' && typeof rendered === 'string' && /^\s*[[{]/.test(rendered)) {
        try {
          return { status: 'ok', output: JSON.parse(rendered) };
        } catch {
          // not JSON after all: a text template
        }
      }
      return { status: 'ok', output: typeof rendered === 'string' ? { text: rendered } : rendered };
    }
    if (EMIT_OPS.has(op)) {
      const out = this.render(turn, flow, node, frame, node.payload);
      this.reply(turn, out);
      return { status: 'ok', output: out, replied: true };
    }
    if (op === 'state.get' || op === 'state.set' || op === 'state.delete')
      return await this.runState(turn, flow, node, frame);
    if (op === 'session.wait') {
      if (!resuming) {
        const p = this.render(turn, flow, node, frame, node.payload);
        const prompt = isRecord(p) ? (p.prompt ?? p.text ?? p.message) : undefined;
        if (prompt !== undefined) this.reply(turn, prompt);
        const reason =
          isRecord(p) && typeof p.reason === 'string' ? p.reason : 'waiting for the next message';
        return { park: { reason }, status: 'pending', output: null };
      }
      return { status: 'ok', output: { ...turn.entry.input }, resumedByMessage: true };
    }
    if (op === 'flow.call') {
      // Only reached on resume of a parent frame, which never parks on flow.call itself.
      throw new RunnerError('GT_RUNNER_SNAPSHOT', `flow.call node "${node.id}" cannot be resumed directly`, {
        flow: flow.id,
        node: node.id,
      });
    }
    return this.runComponent(turn, flow, node, frame, resuming);
  }

  private runQuestions(turn: Turn, flow: FlowIR, node: NodeIR, frame: Frame, resuming: boolean): NodeResult {
    let spec = this.qaSpecs.get(node);
    if (!spec) {
      try {
        spec = readQaSpec(node.payload, node.id);
      } catch (e) {
        throw new RunnerError(
          'GT_RUNNER_NODE_FAILED',
          (e as Error).message,
          { flow: flow.id, node: node.id },
          { cause: e },
        );
      }
      this.qaSpecs.set(node, spec);
    }
    const s = spec;
    const applicable = (i: number) => {
      const q = s.questions[i]!;
      if (q.showIf === undefined) return true;
      return this.condition(q.showIf).evaluate(this.scope(turn, flow, frame));
    };
    const nextIndex = (from: number) => {
      let i = from;
      while (i < s.questions.length && !applicable(i)) i++;
      return i;
    };
    const ask = (i: number, prefix?: string) => {
      const q = s.questions[i]!;
      const prompt = this.render(turn, flow, node, frame, promptText(q));
      this.reply(turn, prefix ? `${prefix}\n${String(prompt)}` : prompt);
    };
    const finish = (answers: Record<string, unknown>): NodeResult => {
      frame.qa = undefined;
      return { status: 'ok', output: { ...answers }, resumedByMessage: resuming };
    };

    if (!resuming || !frame.qa) {
      const qa = { index: nextIndex(0), answers: {} as Record<string, unknown> };
      if (s.welcome) this.reply(turn, this.render(turn, flow, node, frame, s.welcome));
      if (qa.index >= s.questions.length) return finish(qa.answers);
      frame.qa = qa;
      ask(qa.index);
      return { park: { reason: `question ${s.questions[qa.index]!.id}` }, status: 'pending', output: null };
    }

    const qa = frame.qa;
    const q = s.questions[qa.index];
    if (!q) return finish(qa.answers);
    const check = checkAnswer(q, String(turn.entry.input.text ?? ''), flow.slotSchema);
    if (!check.ok) {
      ask(qa.index, q.invalidMessage ?? check.reason);
      return { park: { reason: `question ${q.id} (answer was invalid)` }, status: 'pending', output: null };
    }
    qa.answers[q.id] = check.value;
    turn.state[q.id] = check.value;
    qa.index = nextIndex(qa.index + 1);
    if (qa.index >= s.questions.length) return finish(qa.answers);
    ask(qa.index);
    return { park: { reason: `question ${s.questions[qa.index]!.id}` }, status: 'pending', output: null };
  }

  private async runState(turn: Turn, flow: FlowIR, node: NodeIR, frame: Frame): Promise<NodeResult> {
    const p = this.render(turn, flow, node, frame, node.payload);
    const key = isRecord(p) ? p.key : undefined;
    if (typeof key !== 'string' || key === '') {
      return errorResult('invalid_input', `node "${node.id}": ${node.op} needs a non-empty string "key"`);
    }
    const path = key.replace(/^state\./, '').split('.');
    if (path.some((seg) => seg === '' || UNSAFE_KEYS.has(seg))) {
      return errorResult('invalid_input', `node "${node.id}": state key "${key}" is not a valid dotted path`);
    }
    const scope = isRecord(p) && p.scope !== undefined ? p.scope : 'conversation';
    if (scope !== 'conversation') {
      if (scope !== 'user' && scope !== 'team' && scope !== 'tenant') {
        return errorResult(
          'invalid_input',
          `node "${node.id}": state scope "${String(scope)}" must be conversation, user, team or tenant`,
        );
      }
      return this.runScopedState(turn, node, p as Record<string, unknown>, key, path, scope);
    }
    if (node.op === 'state.get') {
      const value = getPath(turn.state, path);
      const fallback = isRecord(p) ? (p.default ?? p.fallback) : undefined;
      return { status: 'ok', output: { key, value: value === undefined ? (fallback ?? null) : value } };
    }
    if (node.op === 'state.set') {
      const value = isRecord(p) ? p.value : undefined;
      if (value === undefined)
        return errorResult('invalid_input', `node "${node.id}": state.set needs a "value"`);
      // rendered values may share structure with the scope (typed insertion): store a copy
      setPath(turn.state, path, typeof value === 'object' && value !== null ? structuredClone(value) : value);
      return { status: 'ok', output: { key, value } };
    }
    const existed = deletePath(turn.state, path);
    return { status: 'ok', output: { key, deleted: existed } };
  }

  /** `scope: user|team|tenant` state lives in the StateStore, shared by all conversations of that user/team/tenant. */
  private async runScopedState(
    turn: Turn,
    node: NodeIR,
    p: Record<string, unknown>,
    key: string,
    path: string[],
    scope: 'user' | 'team' | 'tenant',
  ): Promise<NodeResult> {
    const { user: _u, user_id: _uid, ...withoutUser } = turn.ctx;
    const { team: _t, team_id: _tid, ...tenantOnly } = withoutUser;
    const ctx = scope === 'user' ? turn.ctx : scope === 'team' ? withoutUser : tenantOnly;
    const [docKey, ...rest] = path as [string, ...string[]];
    const pointer = rest.length
      ? `/${rest.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`
      : undefined;
    const opts = pointer ? { path: pointer } : {};
    try {
      if (node.op === 'state.get') {
        const value = await this.opts.state.get(ctx as TenantCtx, FLOW_STATE_PREFIX, docKey, opts);
        return {
          status: 'ok',
          output: { key, value: value === undefined ? (p.default ?? p.fallback ?? null) : value },
        };
      }
      if (node.op === 'state.set') {
        if (p.value === undefined)
          return errorResult('invalid_input', `node "${node.id}": state.set needs a "value"`);
        const ttlMs = typeof p.ttl_ms === 'number' ? p.ttl_ms : undefined;
        await this.opts.state.set(ctx as TenantCtx, FLOW_STATE_PREFIX, docKey, p.value, {
          ...opts,
          ...(ttlMs !== undefined ? { ttlMs } : {}),
        });
        return { status: 'ok', output: { key, value: p.value } };
      }
      const deleted = await this.opts.state.delete(ctx as TenantCtx, FLOW_STATE_PREFIX, docKey, opts);
      return { status: 'ok', output: { key, deleted } };
    } catch (e) {
      return errorResult('invalid_input', `node "${node.id}": ${(e as Error).message}`);
    }
  }

  private async runComponent(
    turn: Turn,
    flow: FlowIR,
    node: NodeIR,
    frame: Frame,
    resuming: boolean,
  ): Promise<NodeResult> {
    const ref = componentRef(node);
    // the run's own version's components first (a parked run keeps its pack version), then the engine-wide ones
    const versioned = this.source.components?.(turn.ctx, turn.version);
    const invoker =
      (versioned ? await versioned.resolve(ref, turn.ctx) : undefined) ??
      (this.opts.components ? await this.opts.components.resolve(ref, turn.ctx) : undefined);
    if (!invoker) {
      throw new RunnerError(
        'GT_RUNNER_COMPONENT_NOT_FOUND',
        `node "${node.id}" of flow "${flow.id}" needs ${ref.kind} "${ref.component}" (operation "${ref.operation}"), which no component registry provides`,
        { flow: flow.id, node: node.id },
      );
    }
    const raw =
      node.op === 'mcp.exec' && isRecord(node.payload)
        ? (node.payload.args ?? {})
        : ref.kind === 'component' && isRecord(node.payload) && 'input' in node.payload
          ? node.payload.input
          : node.payload;
    const payload = this.render(
      turn,
      flow,
      node,
      frame,
      ref.kind === 'mcp' && isRecord(raw) ? (raw.arguments ?? {}) : raw,
    );
    const timeout = this.opts.componentTimeoutMs ?? 30_000;
    const ac = new AbortController();
    const timer = setTimeout(
      () => ac.abort(new Error(`component call timed out after ${timeout} ms`)),
      timeout,
    );
    try {
      const outcome = await Promise.race([
        invoker.invoke(
          ref.operation,
          {
            ctx: { ...turn.ctx, flow_id: flow.id, node_id: node.id },
            flow_id: flow.id,
            step_id: node.id,
            component_id: ref.component,
            attempt: 1,
            payload,
            metadata: {
              ...(resuming ? { resumed: true, input: turn.entry.input } : {}),
              // where the conversation is, so a component that parks it (e.g. OAuth consent) can resume it later
              conversation: {
                reply_scope: replyScopeOf(turn.msg),
                channel: turn.msg.channel,
                session_id: turn.msg.session_id,
              },
            },
          },
          { signal: ac.signal, deadline: Date.now() + timeout },
        ),
        new Promise<never>((_, reject) =>
          ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true }),
        ),
      ]);
      if ('Done' in outcome) return { status: 'ok', output: outcome.Done, resumedByMessage: resuming };
      if ('Pending' in outcome) {
        // a component that parks the conversation may say why to the user (a consent link, a card)
        if (outcome.Pending.reply !== undefined) this.reply(turn, outcome.Pending.reply);
        return { park: { reason: outcome.Pending.reason }, status: 'pending', output: null };
      }
      return errorResult(outcome.Error.code, outcome.Error.message);
    } catch (e) {
      const timedOut = ac.signal.aborted;
      return errorResult(timedOut ? 'timeout' : 'internal', (e as Error)?.message ?? String(e));
    } finally {
      clearTimeout(timer);
    }
  }
}

function errorResult(code: string, message: string): NodeResult {
  return { status: 'error', output: { error: { code, message } } };
}

export function componentRef(node: NodeIR): ComponentRef {
  const p = isRecord(node.payload) ? node.payload : {};
  if (node.kind === 'mcp') {
    return { kind: 'mcp', component: String(p.server ?? ''), operation: String(p.tool ?? '') };
  }
  if (node.op === 'component.exec') {
    return {
      kind: 'component',
      component: String(p.component ?? ''),
      operation: String(node.operation ?? p.operation ?? ''),
    };
  }
  if (node.kind === 'adapter') {
    const i = node.op.lastIndexOf('.');
    return { kind: 'adapter', component: node.op.slice(0, i), operation: node.op.slice(i + 1) };
  }
  if (node.op === 'mcp.exec') {
    return { kind: 'component', component: String(p.component ?? ''), operation: String(p.action ?? '') };
  }
  return { kind: 'builtin', component: node.op, operation: node.operation ?? node.op };
}

/** Builtin ops the engine implements itself; anything else goes to the component registry. */
export function isBuiltinOp(op: string): boolean {
  return BUILTIN_OPS.has(op);
}

function replyScopeOf(msg: ChannelMessageEnvelope): ReplyScope {
  if (msg.reply_scope) return msg.reply_scope;
  return { conversation: msg.session_id };
}

function entryNode(flow: FlowIR, channel: string): string {
  const named = flow.entrypoints?.[channel] ?? flow.entrypoints?.default;
  return typeof named === 'string' && flow.nodes[named] ? named : flow.start;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function getPath(obj: Record<string, unknown>, path: string[]): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (!isRecord(cur) || !Object.hasOwn(cur, seg)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown) {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    const next = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    if (!isRecord(next)) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

function deletePath(obj: Record<string, unknown>, path: string[]): boolean {
  const parent = path.length === 1 ? obj : getPath(obj, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (!isRecord(parent) || !Object.hasOwn(parent, last)) return false;
  delete parent[last];
  return true;
}

function isConflict(e: unknown): boolean {
  return (e as { code?: string })?.code === 'GT_SESSION_CONFLICT';
}
