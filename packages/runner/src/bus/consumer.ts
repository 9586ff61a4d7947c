import type { ChannelMessageEnvelope } from '@greentic/types';
import {
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
  type NatsConnection,
  headers as natsHeaders,
  type Subscription,
} from 'nats';
import type { Logger } from '../daemon/log.js';
import type { HandleMessageOptions, TurnResult } from '../engine/engine.js';
import { publishDeadLetter } from './dlq.js';
import type { BusTopology, ConsumerSettings } from './jetstream.js';
import { decodeEnvelope, egressMessages, encodeJson } from './messages.js';
import { PullLoop } from './pull-loop.js';
import { egressMsgId, egressSubject, HEADERS, subjectParts } from './subjects.js';
import { extractTrace, injectTrace, type TraceContext } from './trace.js';

/** Runs one turn: the daemon passes its current engine's `handleMessage`. */
export type TurnHandler = (msg: ChannelMessageEnvelope, options: HandleMessageOptions) => Promise<TurnResult>;

export interface RunnerConsumerOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: BusTopology;
  consumer: ConsumerSettings;
  /** Turns this runner runs at the same time (messages it holds unacknowledged). */
  concurrency: number;
  handle: TurnHandler;
  /** First redelivery delay of a message ahead of its turn (grows with each delivery, up to 2 s). */
  deferDelayMs: number;
  /** A message that waited this long for a missing predecessor is applied anyway. */
  gapTimeoutMs: number;
  log: Logger;
}

/** What a runner did since it started (GET /admin/stats, and the summary it logs when it stops). */
export interface ConsumerStats {
  /** Messages taken from the ingress stream (every delivery). */
  received: number;
  /** Deliveries that were redeliveries (delivery count > 1: a runner died, a nak, an ack that got lost). */
  redelivered: number;
  /** Turns run (done, pending or error). */
  turns: number;
  /** Turns that ended with status error (their replies, if any, are still sent). */
  turnErrors: number;
  /** Messages already applied: their recorded replies were published again (JetStream dropped the copies). */
  duplicates: number;
  /** Messages ahead of their turn, given back with a delay. */
  deferred: number;
  /** Messages applied past a gap in their conversation's numbering (the missing message never came). */
  gapsSkipped: number;
  /** Replies published to egress. */
  repliesPublished: number;
  /** Messages moved to the dead-letter subject. */
  deadLettered: number;
  /** Deliveries that failed (store or bus error) and were given back for a retry. */
  failures: number;
  /** Turns running now. */
  inFlight: number;
}

const GONE = /not found|no message/i;

/**
 * The runner side of the bus. Pulls from the shared durable consumer (so N runners split the work), runs each
 * message's turn, publishes its replies, and only then acknowledges: a runner that dies leaves its messages
 * unacknowledged, and JetStream redelivers them (after `ackWait`) to another runner, whose engine finds the turn
 * in the conversation's outbox and publishes the same replies again under the same Nats-Msg-Id.
 */
export class RunnerConsumer {
  readonly stats: ConsumerStats = {
    received: 0,
    redelivered: 0,
    turns: 0,
    turnErrors: 0,
    duplicates: 0,
    deferred: 0,
    gapsSkipped: 0,
    repliesPublished: 0,
    deadLettered: 0,
    failures: 0,
    inFlight: 0,
  };
  private readonly pull: PullLoop;
  private advisories?: Subscription;
  /** Messages waiting in this process for their predecessor, and how many may (the rest go back to the stream). */
  private held = 0;
  private readonly maxHeld: number;

  constructor(private readonly o: RunnerConsumerOptions) {
    this.maxHeld = Math.max(1, Math.floor(o.concurrency / 2));
    this.pull = new PullLoop({
      js: o.js,
      consumer: o.consumer,
      concurrency: o.concurrency,
      minBatch: Math.max(1, Math.ceil(o.concurrency / 4)),
      name: 'ingress',
      crashMessage: 'message handling crashed',
      stats: this.stats,
      log: o.log,
      handle: (m) => this.process(m),
    });
  }

  /** Starts pulling. Resolves once the consumer is bound (its stream and consumer exist). */
  async start(): Promise<void> {
    await this.pull.start();
    // a message whose last delivery was on a runner that died never comes back: JetStream announces it instead
    const subject = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${this.o.consumer.stream}.${this.o.consumer.durable}`;
    this.advisories = this.o.nc.subscribe(subject, {
      queue: `${this.o.consumer.durable}-dlq`,
      callback: (err, msg) => {
        if (err) return;
        void this.onMaxDeliveries(msg.data).catch((e) =>
          this.o.log.error('dead-lettering after max deliveries failed', { error: (e as Error).message }),
        );
      },
    });
  }

  private async process(m: JsMsg): Promise<void> {
    const deliveries = m.info.deliveryCount;
    this.stats.received++;
    if (deliveries > 1) this.stats.redelivered++;
    const decoded = decodeEnvelope(m.data);
    if (!decoded.ok) {
      await this.deadLetter(m, undefined, undefined, `GT_RUNNER_BAD_INPUT: ${decoded.reason}`);
      return;
    }
    const msg = decoded.envelope;
    const trace = extractTrace(m.headers);
    const seqHeader = m.headers?.get(HEADERS.seq);
    const seq = seqHeader ? Number(seqHeader) : undefined;
    if (seq !== undefined && !(Number.isInteger(seq) && seq > 0)) {
      await this.deadLetter(
        m,
        msg,
        trace,
        `GT_RUNNER_BAD_INPUT: header ${HEADERS.seq} is not a positive integer (${seqHeader})`,
      );
      return;
    }
    const publishedAt = m.info.timestampNanos / 1e6;
    const lastChance = deliveries >= this.o.consumer.maxDeliver;

    // keep the message ours while its turn runs (or waits for its predecessor), so it is not redelivered meanwhile
    const done = this.pull.keepWorking(m);
    let result: TurnResult;
    let gapSkipped = false;
    try {
      const run = (allowGap: boolean) =>
        this.o.handle(msg, {
          parent: trace, // the turn span becomes a child of the gateway's trace
          ...(seq === undefined ? {} : { seq, firstSeq: 1, ...(allowGap ? { allowGap } : {}) }),
        });
      result = await run(false);
      // ahead of its turn: wait here for the predecessor (another runner may be running it right now) and try
      // again; after gapTimeoutMs run it anyway. Waiting costs no delivery (maxDeliver stays for real failures);
      // when too many messages wait already, it goes back to the stream with a delay instead.
      for (let attempt = 0; result.status === 'deferred'; attempt++) {
        this.stats.deferred++;
        const remaining = this.o.gapTimeoutMs - (Date.now() - publishedAt);
        if (remaining <= 0) {
          result = await run(true);
          gapSkipped = result.status !== 'duplicate';
          break;
        }
        const delay = Math.max(1, Math.min(remaining, 1000, this.o.deferDelayMs * 2 ** attempt));
        if (this.pull.stopped || (this.held >= this.maxHeld && !lastChance)) {
          this.o.log.debug('message ahead of its turn; redelivering later', { id: msg.id, seq, delay });
          m.nak(delay);
          return;
        }
        this.held++;
        try {
          await new Promise((r) => setTimeout(r, delay));
        } finally {
          this.held--;
        }
        result = await run(false);
      }
    } catch (e) {
      await this.retryOrDeadLetter(m, msg, trace, `GT_RUNNER_TURN_FAILED: ${(e as Error).message}`);
      return;
    } finally {
      done();
    }

    if (result.status === 'duplicate' && !result.duplicate) {
      // numbered at or below what its conversation applied, and not in its outbox: it came after a gap was skipped
      // (or, redelivered, it was applied more than outboxSize turns ago). Never dropped silently: dead-lettered.
      await this.deadLetter(
        m,
        msg,
        trace,
        `GT_RUNNER_LATE_MESSAGE: sequence ${seq} arrived after its conversation had moved past it (a gap skipped after ${this.o.gapTimeoutMs} ms${deliveries > 1 ? ', or a redelivery of a turn older than the outbox' : ''})`,
      );
      return;
    }
    if (result.duplicate) this.stats.duplicates++;
    else {
      this.stats.turns++;
      if (result.status === 'error') this.stats.turnErrors++;
      if (gapSkipped) this.stats.gapsSkipped++;
    }
    if (result.status === 'error' && !result.duplicate) {
      this.o.log.warn('turn failed', { id: msg.id, code: result.error?.code, error: result.error?.message });
    }
    try {
      await this.publishReplies(msg, result, seq, trace);
    } catch (e) {
      // the turn is saved; a retry replays it from the outbox and publishes the same replies
      await this.retryOrDeadLetter(
        m,
        msg,
        trace,
        `GT_RUNNER_BUS: publishing replies failed: ${(e as Error).message}`,
      );
      return;
    }
    m.ack();
  }

  /** Publishes a turn's replies in order, each under `Nats-Msg-Id: <egress subject>|<reply id>`. */
  private async publishReplies(
    msg: ChannelMessageEnvelope,
    r: TurnResult,
    seq: number | undefined,
    trace?: TraceContext,
  ) {
    if (r.replies.length === 0) return;
    const subject = egressSubject(this.o.topology.subjectPrefix, subjectParts(msg));
    const out = egressMessages(msg, r, seq);
    // one connection keeps publish order; the acks are awaited together
    const acks = out.map((e) => {
      const h = natsHeaders();
      h.set(HEADERS.inReplyTo, msg.id);
      h.set(HEADERS.turnStatus, e.status);
      if (seq !== undefined) h.set(HEADERS.seq, String(seq));
      injectTrace(h, trace);
      return this.o.js.publish(subject, encodeJson(e), { msgID: egressMsgId(subject, e.id), headers: h });
    });
    const results = await Promise.all(acks);
    for (const a of results) if (!a.duplicate) this.stats.repliesPublished++;
  }

  private retryOrDeadLetter(
    m: JsMsg,
    msg: ChannelMessageEnvelope,
    trace: TraceContext | undefined,
    reason: string,
  ): Promise<void> {
    return this.pull.retryOrDeadLetter(m, reason, (r) => this.deadLetter(m, msg, trace, r), {
      msg: 'turn not completed; redelivering',
      id: msg.id,
    });
  }

  /** Publishes the message with the reason to `<dlq>.{env}.{tenant}` and acknowledges it (the DLQ has it now). */
  private deadLetter(
    m: JsMsg,
    msg: ChannelMessageEnvelope | undefined,
    trace: TraceContext | undefined,
    reason: string,
  ): Promise<void> {
    const from = { stream: m.info.stream, seq: m.info.streamSequence, deliveries: m.info.deliveryCount };
    return this.pull.deadLetter(
      m,
      reason,
      () => this.publishDeadLetter(m.subject, m.data, m.headers, from, reason, msg, trace),
      {
        failed: 'dead-lettering failed; redelivering',
        done: 'message dead-lettered',
        fields: { subject: m.subject, reason, stream_seq: m.info.streamSequence },
      },
    );
  }

  private async publishDeadLetter(
    subject: string,
    data: Uint8Array,
    original: MsgHdrs | undefined,
    from: { stream: string; seq: number; deliveries: number },
    reason: string,
    msg?: ChannelMessageEnvelope,
    trace?: TraceContext,
  ) {
    // tenant and env from the envelope, else from the subject tokens (…ingress.{env}.{tenant}.…)
    const tokens = subject.slice(this.o.topology.subjectPrefix.length + '.ingress.'.length).split('.');
    const env = msg?.tenant.env ?? tokens[0];
    const tenant = msg ? (msg.tenant.tenant_id ?? msg.tenant.tenant) : tokens[1];
    await publishDeadLetter(this.o.js, {
      dlqPrefix: this.o.topology.dlqSubject,
      env,
      tenant,
      data,
      original,
      from: { subject, ...from },
      reason,
      ...(trace ? { trace } : {}),
    });
  }

  /** `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES`: the last delivery was never acknowledged. */
  private async onMaxDeliveries(data: Uint8Array) {
    const adv = JSON.parse(Buffer.from(data).toString('utf8')) as {
      stream: string;
      stream_seq: number;
      deliveries: number;
    };
    let stored: Awaited<ReturnType<JetStreamManager['streams']['getMessage']>>;
    try {
      stored = await this.o.jsm.streams.getMessage(adv.stream, { seq: adv.stream_seq });
    } catch (e) {
      // already gone: dead-lettered and acknowledged by the runner that ran its last delivery
      if (GONE.test((e as Error).message)) return;
      throw e;
    }
    await this.publishDeadLetter(
      stored.subject,
      stored.data,
      stored.header,
      { stream: adv.stream, seq: adv.stream_seq, deliveries: adv.deliveries },
      `GT_RUNNER_MAX_DELIVERIES: delivered ${adv.deliveries} times without being acknowledged (runners died or timed out while running it)`,
    );
    await this.o.jsm.streams.deleteMessage(adv.stream, adv.stream_seq, false);
    this.stats.deadLettered++;
    this.o.log.warn('message dead-lettered after max deliveries', { stream_seq: adv.stream_seq });
  }

  /**
   * Stops taking messages, lets the running turns finish (replies published, messages acknowledged), and
   * resolves when none is left — or after `timeoutMs`, with the number still running.
   */
  async stop(timeoutMs: number): Promise<{ unfinished: number }> {
    this.advisories?.unsubscribe();
    return this.pull.stop(timeoutMs);
  }
}
