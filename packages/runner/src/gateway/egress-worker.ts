import type { JetStreamClient, JsMsg } from 'nats';
import { publishDeadLetter } from '../bus/dlq.js';
import type { ConsumerSettings } from '../bus/jetstream.js';
import { decodeEgress, type EgressMessage } from '../bus/messages.js';
import { PullLoop } from '../bus/pull-loop.js';
import { extractTrace } from '../bus/trace.js';
import type { Logger } from '../daemon/log.js';

/**
 * What sending one egress message came to: `sent` (or sent before: `duplicate`), `skipped` (not this worker's: a
 * connector it does not have, a WebChat reply), or `dead` (undeliverable: the reason goes to the DLQ).
 */
export type EgressOutcome = { status: 'sent' | 'duplicate' | 'skipped' } | { status: 'dead'; reason: string };

/** Sends one reply; throws when the reply could not be settled (a sent-log or sink failure): it is redelivered. */
export type EgressSend = (msg: EgressMessage) => Promise<EgressOutcome>;

export interface EgressWorkerOptions {
  js: JetStreamClient;
  /** The durable consumer on the egress stream (shared by the egress workers of a deployment). */
  consumer: ConsumerSettings;
  /** Dead letters go to `<dlqPrefix>.{env}.{tenant}`. */
  dlqPrefix: string;
  /** Replies sent at once (one conversation's replies one after the other, in stream order). */
  concurrency: number;
  send: EgressSend;
  log: Logger;
}

export interface EgressStats {
  /** Egress messages taken (every delivery). */
  received: number;
  redelivered: number;
  sent: number;
  /** Already sent before (a replayed turn, a redelivery): nothing sent again. */
  duplicates: number;
  /** Not for this worker (another gateway's connector, WebChat): acknowledged, nothing sent. */
  skipped: number;
  deadLettered: number;
  /** Deliveries that failed and were given back for a retry. */
  failures: number;
  inFlight: number;
}

/**
 * The egress side with NATS: a pull consumer on the egress stream that sends each reply through the outbox sender
 * (rate limits, retries, 429s, sent log) and acknowledges it once it is sent or dead-lettered. A worker that dies
 * leaves its messages unacknowledged: JetStream redelivers them, and the sent log keeps a reply from going out twice.
 */
export class EgressWorker {
  readonly stats: EgressStats = {
    received: 0,
    redelivered: 0,
    sent: 0,
    duplicates: 0,
    skipped: 0,
    deadLettered: 0,
    failures: 0,
    inFlight: 0,
  };
  private readonly pull: PullLoop;
  /** The last task of each conversation: its next reply waits for it (order within a conversation). */
  private readonly lanes = new Map<string, Promise<void>>();

  constructor(private readonly o: EgressWorkerOptions) {
    this.pull = new PullLoop({
      js: o.js,
      consumer: o.consumer,
      concurrency: o.concurrency,
      name: 'egress',
      crashMessage: 'egress handling crashed',
      stats: this.stats,
      log: o.log,
      handle: (m) => this.dispatch(m),
    });
  }

  async start(): Promise<void> {
    await this.pull.start();
  }

  private dispatch(m: JsMsg): Promise<void> {
    const decoded = decodeEgress(m.data);
    const lane = decoded.ok
      ? `${decoded.message.tenant.env}|${decoded.message.tenant.tenant_id ?? decoded.message.tenant.tenant}|${decoded.message.channel}|${decoded.message.session_id}`
      : `#${m.seq}`;
    const before = this.lanes.get(lane) ?? Promise.resolve();
    // keep the message ours while it waits for its lane and while it is sent
    const done = this.pull.keepWorking(m);
    const task: Promise<void> = before
      .then(() => this.process(m, decoded))
      .catch((e) => this.o.log.error('egress handling crashed', { error: (e as Error).stack }))
      .finally(() => {
        done();
        if (this.lanes.get(lane) === task) this.lanes.delete(lane);
      });
    this.lanes.set(lane, task);
    return task;
  }

  private async process(m: JsMsg, decoded: ReturnType<typeof decodeEgress>) {
    const deliveries = m.info.deliveryCount;
    this.stats.received++;
    if (deliveries > 1) this.stats.redelivered++;
    if (!decoded.ok) {
      await this.deadLetter(m, undefined, `GT_RUNNER_BAD_INPUT: ${decoded.reason}`);
      return;
    }
    const msg = decoded.message;
    let outcome: EgressOutcome;
    try {
      outcome = await this.o.send(msg);
    } catch (e) {
      await this.pull.retryOrDeadLetter(
        m,
        `GT_MSG_BACKEND: ${(e as Error).message}`,
        (reason) => this.deadLetter(m, msg, reason),
        { msg: 'reply not settled; redelivering', id: msg.id },
      );
      return;
    }
    switch (outcome.status) {
      case 'sent':
        this.stats.sent++;
        break;
      case 'duplicate':
        this.stats.duplicates++;
        break;
      case 'skipped':
        this.stats.skipped++;
        break;
      case 'dead':
        await this.deadLetter(m, msg, outcome.reason);
        return;
    }
    m.ack();
  }

  private deadLetter(m: JsMsg, msg: EgressMessage | undefined, reason: string): Promise<void> {
    // env and tenant from the reply, else from the subject tokens (…egress.{env}.{tenant}.…)
    const tokens = m.subject.split('.egress.')[1]?.split('.') ?? [];
    const publish = () =>
      publishDeadLetter(this.o.js, {
        dlqPrefix: this.o.dlqPrefix,
        env: msg?.tenant.env ?? tokens[0],
        tenant: msg ? (msg.tenant.tenant_id ?? msg.tenant.tenant) : tokens[1],
        data: m.data,
        original: m.headers,
        from: {
          subject: m.subject,
          stream: m.info.stream,
          seq: m.info.streamSequence,
          deliveries: m.info.deliveryCount,
        },
        reason,
        trace: extractTrace(m.headers),
      });
    return this.pull.deadLetter(m, reason, publish, {
      failed: 'dead-lettering a reply failed; redelivering',
      done: 'reply dead-lettered',
      fields: { id: msg?.id, subject: m.subject, reason },
    });
  }

  /** Stops fetching, lets the replies being sent finish; resolves with how many were still running after `timeoutMs`. */
  stop(timeoutMs: number): Promise<{ unfinished: number }> {
    return this.pull.stop(timeoutMs);
  }
}
