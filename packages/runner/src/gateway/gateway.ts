import { randomBytes } from 'node:crypto';
import {
  type BotMessage,
  ConnectorRegistry,
  createDirectLine,
  type DeadLetter,
  type DeadLetterSink,
  type DirectLine,
  type GatewayEvent,
  MemoryReplayGuard,
  MemorySentLog,
  type MessageInfo,
  messagingGateway,
  OutboxSender,
  RedisSentLog,
  replyTargetOf,
  WEBCHAT_CHANNEL,
} from '@greentic/messaging';
import type { SecretsProvider } from '@greentic/secrets';
import { type Context, traceparentOf } from '@greentic/telemetry';
import { type ChannelMessageEnvelope, tenantCtx } from '@greentic/types';
import type { FastifyInstance } from 'fastify';
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager } from 'nats';
import { type BusTopology, ensureConsumer } from '../bus/jetstream.js';
import { decodeEgress, type EgressMessage } from '../bus/messages.js';
import type { IngressPublisher } from '../bus/publisher.js';
import { egressFilter, egressSubject } from '../bus/subjects.js';
import type { RunnerConfig } from '../config/config.js';
import type { Logger } from '../daemon/log.js';
import type { RunnerStores } from '../daemon/stores.js';
import { requestTraceContext } from '../daemon/trace.js';
import type { HandleMessageOptions, OutboundMessage, TurnResult } from '../engine/engine.js';
import { RunnerError } from '../errors.js';
import { type EgressOutcome, EgressWorker } from './egress-worker.js';
import { MemoryTurnQueue, type QueuedMessage } from './queue.js';
import { resolveGatewaySecrets } from './secrets.js';

export interface RunnerGatewayOptions {
  config: RunnerConfig;
  log: Logger;
  /** Environment of `env:` secret references (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Providers of `secrets://` references (default: environment, then the encrypted file store). */
  secretsProviders?: SecretsProvider[];
}

/** What the daemon hands the gateway once its stores, flows and (with NATS) bus are up. */
export interface GatewayRuntime {
  stores: RunnerStores;
  /** Runs one turn on the daemon's current engine (memory mode); `parent`: the queueing request's trace context. */
  handle(msg: ChannelMessageEnvelope, opts?: Pick<HandleMessageOptions, 'parent'>): Promise<TurnResult>;
  /** With NATS: where messages are queued and replies read from. */
  bus?: {
    js: JetStreamClient;
    jsm: JetStreamManager;
    publisher: IngressPublisher;
    topology: BusTopology;
  };
}

export interface GatewayStats {
  mode: 'memory' | 'nats' | 'starting';
  connectors: string[];
  webchat: boolean;
  /** Webhook outcomes by type (queued, duplicate, rejected, …). */
  webhooks: Record<string, number>;
  /** WebChat messages accepted. */
  webchatMessages: number;
  /** Replies sent in process (memory mode; WebChat in both modes). */
  repliesSent: number;
  /** Replies that could not be delivered (kept in memory; with NATS also on the DLQ subject). */
  deadLetters: number;
  queue: MemoryTurnQueue['stats'] | null;
  egress: EgressWorker['stats'] | null;
}

/** The last dead letters, for `/admin/stats` and logs (memory: bounded). */
class RecentDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  total = 0;
  constructor(private readonly log: Logger) {}
  async put(letter: DeadLetter): Promise<void> {
    this.total++;
    this.letters.push(letter);
    if (this.letters.length > 100) this.letters.shift();
    this.log.warn('reply dead-lettered', {
      reply_id: letter.replyId,
      part: letter.part,
      provider: letter.provider,
      connector: letter.connector,
      tenant: letter.tenant.tenant,
      code: letter.code,
      reason: letter.reason,
      status: letter.status,
      provider_code: letter.providerCode,
      attempts: letter.attempts,
    });
  }
}

const botMessage = (r: OutboundMessage | EgressMessage): BotMessage => ({
  id: r.id,
  ...(r.text !== undefined ? { text: r.text } : {}),
  ...(r.card !== undefined ? { card: r.card } : {}),
  ...(r.payload !== undefined ? { payload: r.payload } : {}),
});

/**
 * The messaging side of the runner daemon: the webhook gateway of the configured connectors (under `/webhooks`),
 * WebChat (Direct Line and its page), and the way back — the outbox sender and, with NATS, the egress worker.
 *
 * - **Memory mode** (no NATS): a webhook is answered once its messages are in an in-process queue
 *   ({@link MemoryTurnQueue}); workers run the turn on the engine and send its replies (outbox sender, or
 *   `directLine.deliver` for WebChat).
 * - **NATS mode**: a webhook is answered once `publishIngress` has it on the ingress stream (provider message id →
 *   dedupe); the runner consumers run the turns and publish the replies to the egress stream; the egress worker
 *   sends them (durable consumer shared by the runners) and each process delivers the WebChat replies of the
 *   conversations it holds.
 */
export class RunnerGateway {
  readonly connectors: ConnectorRegistry;
  readonly directLine: DirectLine | undefined;
  private readonly cfg: RunnerConfig;
  private readonly log: Logger;
  private readonly deadLetters: RecentDeadLetters;
  private readonly replayGuard = new MemoryReplayGuard();
  private readonly webhookCounts: Record<string, number> = {};
  private webchatMessages = 0;
  private repliesSent = 0;
  private mode: 'memory' | 'nats' | undefined;
  private accepting = false;
  private outbox?: OutboxSender;
  private queue?: MemoryTurnQueue;
  private publisher?: IngressPublisher;
  private egress?: EgressWorker;
  private webchatReader?: { messages: ConsumerMessages; done: Promise<void> };

  private constructor(
    o: RunnerGatewayOptions,
    resolved: Awaited<ReturnType<typeof resolveGatewaySecrets>>,
    webchatSecret: string,
  ) {
    this.cfg = o.config;
    this.log = o.log;
    this.deadLetters = new RecentDeadLetters(o.log);
    try {
      this.connectors = new ConnectorRegistry(resolved.connectors);
    } catch (e) {
      // which connector: the message of GT_MSG_CONFIG names its provider/id or field
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `connectors: ${(e as Error).message}`,
        { field: 'connectors' },
        { cause: e },
      );
    }
    const wc = this.cfg.webchat;
    if (wc.enabled && resolved.webchat) {
      const b = wc.binding ?? { env: this.cfg.tenancy.env, tenant: this.cfg.tenancy.tenant ?? 'demo' };
      const secrets = resolved.webchat.secrets.length > 0 ? resolved.webchat.secrets : [webchatSecret];
      try {
        this.directLine = createDirectLine({
          tenant: tenantCtx({
            env: b.env,
            tenant: b.tenant,
            ...(b.team !== undefined ? { team: b.team } : {}),
          }),
          secrets,
          ...(resolved.webchat.signingKey !== undefined ? { signingKey: resolved.webchat.signingKey } : {}),
          ...(wc.tokenTtlSec !== undefined ? { tokenTtlSec: wc.tokenTtlSec } : {}),
          ...(wc.maxTokenMintsPerMinute !== undefined
            ? { maxTokenMintsPerMinute: wc.maxTokenMintsPerMinute }
            : {}),
          ...(wc.publicUrl !== undefined ? { publicUrl: wc.publicUrl } : {}),
          botAccount: { id: 'bot', name: wc.botName },
          page: {
            title: wc.title,
            ...(wc.frameAncestors !== undefined ? { frameAncestors: wc.frameAncestors } : {}),
          },
          onActivity: (envelope) => this.ingestWebChat(envelope),
        });
      } catch (e) {
        throw new RunnerError(
          'GT_RUNNER_CONFIG',
          `webchat: ${(e as Error).message}`,
          { field: 'webchat' },
          { cause: e },
        );
      }
    }
  }

  /**
   * Resolves the secret references and builds the connectors and the WebChat endpoint; `undefined` when the
   * configuration has neither connectors nor WebChat. Fails with `GT_RUNNER_CONFIG` naming the field.
   */
  static async create(o: RunnerGatewayOptions): Promise<RunnerGateway | undefined> {
    if (o.config.connectors.length === 0 && !o.config.webchat.enabled) return undefined;
    const resolved = await resolveGatewaySecrets(o.config, {
      ...(o.env ? { env: o.env } : {}),
      ...(o.secretsProviders ? { providers: o.secretsProviders } : {}),
    });
    return new RunnerGateway(o, resolved, randomBytes(24).toString('base64url'));
  }

  /** The webhook routes, for logs: `/webhooks/telegram/acme-bot`, … */
  get webhookPaths(): string[] {
    return this.connectors.list().map((c) => `/webhooks/${c.provider}/${c.id}`);
  }

  /** The WebChat page's path (`/webchat/` below `webchat.prefix`), when WebChat is on. */
  get webchatPath(): string | undefined {
    return this.directLine ? `${this.cfg.webchat.prefix}/webchat/` : undefined;
  }

  /** Registers the webhook routes and the WebChat endpoint on the daemon's server (before it listens). */
  async mount(app: FastifyInstance): Promise<void> {
    if (this.connectors.list().length > 0) {
      await app.register(messagingGateway, {
        prefix: '/webhooks',
        connectors: this.connectors,
        // a first, per-process filter: across processes, publishIngress's ledger drops provider retries (NATS mode)
        replayGuard: this.replayGuard,
        bodyLimit: this.cfg.gateway.bodyLimit,
        onMessage: (envelopes, info) => this.ingest(envelopes, info),
        onEvent: (e) => this.onEvent(e),
      });
    }
    if (this.directLine) await app.register(this.directLine.plugin, { prefix: this.cfg.webchat.prefix });
  }

  private onEvent(e: GatewayEvent) {
    this.webhookCounts[e.type] = (this.webhookCounts[e.type] ?? 0) + 1;
    const fields = {
      provider: e.provider,
      connector: e.connector,
      status: e.status,
      code: e.code,
      reason: e.reason,
      provider_message_id: e.providerMessageId,
    };
    if (e.type === 'error' || e.type === 'follow_up_failed') this.log.warn(`webhook ${e.type}`, fields);
    else if (e.type === 'rejected') this.log.info('webhook rejected', fields);
    else this.log.debug(`webhook ${e.type}`, fields);
  }

  /** The webhook's messages, queued before the webhook is answered (a throw answers 503: the provider retries). */
  private async ingest(envelopes: ChannelMessageEnvelope[], info: Pick<MessageInfo, 'providerMessageIds'>) {
    if (!this.accepting)
      throw new RunnerError('GT_RUNNER_BUS', 'the runner is not accepting messages (starting or stopping)');
    await this.enqueue(envelopes, {
      providerMessageIds: info.providerMessageIds,
      parent: requestTraceContext(),
    });
  }

  /**
   * Queues messages the way webhooks do — memory mode: the in-process queue (their turns run in their
   * conversation's lane and the replies go out through the outbox sender or WebChat); NATS mode: `publishIngress`.
   * What the daemon uses for messages that do not come from a webhook (an OAuth consent resuming a conversation).
   * `parent` is the trace context the turn continues (default: the active request's).
   */
  async enqueue(
    envelopes: ChannelMessageEnvelope[],
    opts: { providerMessageIds?: (string | undefined)[]; parent?: Context } = {},
  ): Promise<void> {
    const ids = opts.providerMessageIds ?? [];
    const parent = opts.parent ?? requestTraceContext();
    if (this.queue) {
      const now = Date.now();
      this.queue.push(
        envelopes.map((envelope, i) => ({
          envelope,
          enqueuedAt: now,
          ...(ids[i] !== undefined ? { providerMessageId: ids[i] } : {}),
          ...(parent !== undefined ? { parent } : {}),
        })),
      );
      return;
    }
    if (this.publisher) {
      const traceparent = parent === undefined ? undefined : traceparentOf(parent);
      for (const [i, envelope] of envelopes.entries()) {
        const pmid = ids[i];
        await this.publisher.publishIngress(envelope, {
          ...(pmid !== undefined ? { providerMessageId: pmid } : {}),
          ...(traceparent !== undefined ? { traceparent } : {}),
        });
      }
      return;
    }
    throw new RunnerError('GT_RUNNER_BUS', 'the gateway has no queue yet');
  }

  private async ingestWebChat(envelope: ChannelMessageEnvelope) {
    // the activity id is stable across a client's re-posts: the ledger drops a second copy (NATS mode)
    await this.ingest([envelope], { providerMessageIds: [envelope.id] });
    this.webchatMessages++;
  }

  /** Starts the way in and out: the in-process queue (memory mode) or the NATS publisher and egress worker. */
  async start(rt: GatewayRuntime): Promise<void> {
    const e = this.cfg.egress;
    const namespace = this.cfg.stores.redis.namespace;
    this.outbox = new OutboxSender({
      connectors: this.connectors,
      rateLimit: e.rateLimit,
      retry: e.retry,
      sentTtlMs: e.sentTtlMs,
      sentLog: rt.stores.redis
        ? new RedisSentLog(rt.stores.redis, { prefix: `${namespace}:messaging:sent:` })
        : new MemorySentLog(),
      deadLetters: this.deadLetters,
    });
    if (!rt.bus) {
      const q = this.cfg.gateway.queue;
      this.queue = new MemoryTurnQueue({
        concurrency: q.concurrency,
        maxPending: q.maxPending,
        maxAttempts: q.maxAttempts,
        log: this.log,
        process: (item) => this.runQueued(item, rt),
        onGiveUp: (item, error, attempts) => {
          this.deadLetters.total++;
          this.log.error('message given up: its turn kept failing', {
            id: item.envelope.id,
            attempts,
            code: 'GT_RUNNER_TURN_FAILED',
            error: (error as Error).message,
          });
        },
      });
      this.mode = 'memory';
      this.accepting = true;
      return;
    }
    this.publisher = rt.bus.publisher;
    const { js, jsm, topology } = rt.bus;
    if (e.enabled && this.connectors.list().length > 0) {
      const consumer = {
        stream: topology.streams.egress,
        durable: e.consumer,
        filterSubject: egressFilter(topology.subjectPrefix, this.cfg.tenancy.env, this.cfg.tenancy.tenant),
        maxDeliver: e.maxDeliver,
        ackWaitMs: e.ackWaitMs,
        maxAckPending: Math.max(1000, e.concurrency * 4),
        deliverPolicy: 'new' as const,
      };
      await ensureConsumer(jsm, consumer);
      this.egress = new EgressWorker({
        js,
        consumer,
        dlqPrefix: topology.dlqSubject,
        concurrency: e.concurrency,
        send: (msg) => this.sendEgress(msg),
        log: this.log,
      });
      await this.egress.start();
    }
    if (this.directLine) await this.startWebChatReader(js, topology);
    this.mode = 'nats';
    this.accepting = true;
  }

  /** Memory mode: one queued message's turn, then its replies. A throw retries it (the engine replays a saved turn). */
  private async runQueued(item: QueuedMessage, rt: GatewayRuntime) {
    const r = await rt.handle(item.envelope, item.parent !== undefined ? { parent: item.parent } : {});
    if (r.status === 'error' && !r.duplicate)
      this.log.warn('turn failed', { id: item.envelope.id, code: r.error?.code, error: r.error?.message });
    if (r.replies.length > 0) await this.deliverTurn(item.envelope, r.replies);
  }

  private async deliverTurn(envelope: ChannelMessageEnvelope, replies: OutboundMessage[]) {
    if (envelope.channel === WEBCHAT_CHANNEL && this.directLine) {
      for (const reply of replies)
        await this.deliverWebChat(envelope.session_id, botMessage(reply), envelope.id);
      return;
    }
    const reports = await this.outbox!.sendReplies(envelope, replies);
    for (const r of reports) if (r.status === 'sent') this.repliesSent++;
  }

  private async deliverWebChat(conversation: string, reply: BotMessage, replyToId: string): Promise<boolean> {
    try {
      const r = await this.directLine!.deliver(conversation, reply, { replyToId });
      if (!r.duplicate && !r.skipped) this.repliesSent++;
      return true;
    } catch (e) {
      // forgotten (idle) or held by another process
      if ((e as { code?: string }).code === 'GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND') {
        this.log.debug('webchat reply for a conversation this process does not hold', { conversation });
        return false;
      }
      throw e;
    }
  }

  /** NATS mode: one reply of the egress stream, through the outbox sender (provider connectors only). */
  private async sendEgress(msg: EgressMessage): Promise<EgressOutcome> {
    // WebChat replies are delivered by the process that holds the conversation (its reader below)
    if (msg.channel === WEBCHAT_CHANNEL) return { status: 'skipped' };
    let target: ReturnType<typeof replyTargetOf>;
    try {
      target = replyTargetOf(msg);
    } catch {
      return { status: 'skipped' }; // not from a messaging connector (another gateway's channel)
    }
    if (!this.connectors.get(target.provider, target.connector)) return { status: 'skipped' };
    const report = await this.outbox!.sendEgress(msg);
    if (report.status === 'dead_lettered') {
      const err = report.error;
      return {
        status: 'dead',
        reason: `${err?.code ?? 'GT_MSG_SEND_REJECTED'}: ${err?.reason ?? 'undeliverable'}${err?.status !== undefined ? ` (HTTP ${err.status})` : ''}`,
      };
    }
    return { status: report.status === 'duplicate' ? 'duplicate' : 'sent' };
  }

  /**
   * NATS mode: this process's WebChat replies. Direct Line conversations live in this process, so each process
   * reads the WebChat egress subject of its binding (an ordered consumer from now on) and delivers the replies of
   * the conversations it holds; `deliver` is idempotent by reply id.
   */
  private async startWebChatReader(js: JetStreamClient, topology: BusTopology) {
    const b = this.cfg.webchat.binding!;
    const subject = egressSubject(topology.subjectPrefix, {
      env: b.env,
      tenant: b.tenant,
      ...(b.team !== undefined ? { team: b.team } : {}),
      channel: WEBCHAT_CHANNEL,
    });
    const consumer = await js.consumers.get(topology.streams.egress, {
      filterSubjects: subject,
      deliver_policy: DeliverPolicy.New,
    });
    const messages = await consumer.consume();
    const done = (async () => {
      for await (const m of messages) {
        const d = decodeEgress(m.data);
        if (!d.ok) continue;
        try {
          await this.deliverWebChat(d.message.session_id, botMessage(d.message), d.message.in_reply_to);
        } catch (e) {
          this.log.warn('webchat reply not delivered', { id: d.message.id, error: (e as Error).message });
        }
      }
    })();
    this.webchatReader = { messages, done };
  }

  /** Queues and egress are up and messages are accepted. */
  ready(): boolean {
    return this.accepting;
  }

  /** Memory mode: resolves when every queued message has been processed (tests, benchmarks). */
  idle(): Promise<void> {
    return this.queue?.idle() ?? Promise.resolve();
  }

  /** From now on webhooks are answered 503 and WebChat posts 502 (the clients retry, e.g. on another runner). */
  stopIntake(): void {
    this.accepting = false;
    this.queue?.refuse();
  }

  /** Lets queued turns and replies being sent finish (within `timeoutMs`); resolves with what was left. */
  async stop(timeoutMs: number): Promise<{ unfinished: number }> {
    this.stopIntake();
    const [q, eg] = await Promise.all([
      this.queue?.close(timeoutMs) ?? { unfinished: 0 },
      this.egress?.stop(timeoutMs) ?? { unfinished: 0 },
    ]);
    if (this.webchatReader) {
      await this.webchatReader.messages.close().catch(() => {});
      await this.webchatReader.done.catch(() => {});
    }
    return { unfinished: q.unfinished + eg.unfinished };
  }

  /** Closes the WebChat sockets (after `stop`). */
  async close(): Promise<void> {
    await this.directLine?.close().catch(() => {});
  }

  stats(): GatewayStats {
    return {
      mode: this.mode ?? 'starting',
      connectors: this.connectors.list().map((c) => `${c.provider}/${c.id}`),
      webchat: this.directLine !== undefined,
      webhooks: { ...this.webhookCounts },
      webchatMessages: this.webchatMessages,
      repliesSent: this.repliesSent,
      deadLetters: this.deadLetters.total,
      queue: this.queue ? { ...this.queue.stats } : null,
      egress: this.egress ? { ...this.egress.stats } : null,
    };
  }
}
