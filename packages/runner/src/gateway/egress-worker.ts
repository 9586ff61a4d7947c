import type { ConsumerMessages, JetStreamClient, JsMsg } from 'nats';
import { publishDeadLetter } from '../bus/dlq.js';
import type { ConsumerSettings } from '../bus/jetstream.js';
import { decodeEgress, type EgressMessage } from '../bus/messages.js';
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
  private stopping = false;
  private loopDone?: Promise<void>;
  private current?: ConsumerMessages;
  private readonly tasks = new Set<Promise<void>>();
  /** The last task of each conversation: its next reply waits for it (order within a conversation). */
  private readonly lanes = new Map<string, Promise<void>>();
  private wake?: () => void;

  constructor(private readonly o: EgressWorkerOptions) {}

  async start(): Promise<void> {
    const consumer = await this.o.js.consumers.get(this.o.consumer.stream, this.o.consumer.durable);
    this.loopDone = this.loop(consumer);
  }

  private async loop(consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>) {
    while (!this.stopping) {
      const free = this.o.concurrency - this.stats.inFlight;
      if (free < 1) {
        await new Promise<void>((r) => {
          this.wake = r;
        });
        continue;
      }
      let batch: ConsumerMessages;
      try {
        batch = await consumer.fetch({ max_messages: free, expires: 1000 });
      } catch (e) {
        if (this.stopping) break;
        this.o.log.warn('fetch from the egress consumer failed; retrying', { error: (e as Error).message });
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      this.current = batch;
      try {
        for await (const m of batch) {
          if (this.stopping) {
            m.nak();
            continue;
          }
          this.dispatch(m);
        }
      } catch (e) {
        if (!this.stopping)
          this.o.log.warn('egress fetch ended with an error', { error: (e as Error).message });
      }
      this.current = undefined;
    }
  }

  private dispatch(m: JsMsg) {
    this.stats.inFlight++;
    const decoded = decodeEgress(m.data);
    const lane = decoded.ok
      ? `${decoded.message.tenant.env}|${decoded.message.tenant.tenant_id ?? decoded.message.tenant.tenant}|${decoded.message.channel}|${decoded.message.session_id}`
      : `#${m.seq}`;
    const before = this.lanes.get(lane) ?? Promise.resolve();
    // keep the message ours while it waits for its lane and while it is sent
    const heartbeat = setInterval(
      () => m.working(),
      Math.max(100, Math.floor(this.o.consumer.ackWaitMs / 3)),
    );
    const task: Promise<void> = before
      .then(() => this.process(m, decoded))
      .catch((e) => this.o.log.error('egress handling crashed', { error: (e as Error).stack }))
      .finally(() => {
        clearInterval(heartbeat);
        this.stats.inFlight--;
        this.tasks.delete(task);
        if (this.lanes.get(lane) === task) this.lanes.delete(lane);
        const w = this.wake;
        this.wake = undefined;
        w?.();
      });
    this.lanes.set(lane, task);
    this.tasks.add(task);
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
      const reason = `GT_MSG_BACKEND: ${(e as Error).message}`;
      if (deliveries >= this.o.consumer.maxDeliver) {
        await this.deadLetter(m, msg, `${reason} (after ${deliveries} deliveries)`);
        return;
      }
      this.stats.failures++;
      this.o.log.warn('reply not settled; redelivering', { id: msg.id, reason, deliveries });
      m.nak(Math.min(5000, 250 * 2 ** (deliveries - 1)));
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

  private async deadLetter(m: JsMsg, msg: EgressMessage | undefined, reason: string) {
    // env and tenant from the reply, else from the subject tokens (…egress.{env}.{tenant}.…)
    const tokens = m.subject.split('.egress.')[1]?.split('.') ?? [];
    try {
      await publishDeadLetter(this.o.js, {
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
    } catch (e) {
      this.stats.failures++;
      this.o.log.error('dead-lettering a reply failed; redelivering', {
        reason,
        error: (e as Error).message,
      });
      m.nak(1000);
      return;
    }
    this.stats.deadLettered++;
    this.o.log.warn('reply dead-lettered', { id: msg?.id, subject: m.subject, reason });
    m.ack();
  }

  /** Stops fetching, lets the replies being sent finish; resolves with how many were still running after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<{ unfinished: number }> {
    this.stopping = true;
    try {
      await this.current?.close();
    } catch {
      // already closed
    }
    const w = this.wake;
    this.wake = undefined;
    w?.();
    await this.loopDone?.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.tasks]),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return { unfinished: this.stats.inFlight };
  }
}
