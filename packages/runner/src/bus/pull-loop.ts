import type { ConsumerMessages, JetStreamClient, JsMsg } from 'nats';
import type { Logger } from '../daemon/log.js';
import type { ConsumerSettings } from './jetstream.js';

/** The counters a pull loop keeps in its owner's stats. */
export interface PullStats {
  /** Messages being handled now. */
  inFlight: number;
  /** Deliveries that failed and were given back for a retry. */
  failures: number;
  /** Messages moved to the dead-letter subject. */
  deadLettered: number;
}

export interface PullLoopOptions {
  js: JetStreamClient;
  /** The durable pull consumer to take messages from. */
  consumer: ConsumerSettings;
  /** Messages handled at the same time (held unacknowledged). */
  concurrency: number;
  /** Fetches only once this many handlers are free (1 by default). */
  minBatch?: number;
  /** Names the stream in log lines: `ingress`, `egress`. */
  name: string;
  /** Logged (at error, with the stack) when `handle` throws. */
  crashMessage: string;
  stats: PullStats;
  log: Logger;
  /** Handles one message: acknowledges, naks or dead-letters it. */
  handle: (m: JsMsg) => Promise<void>;
}

/**
 * Pulls a JetStream durable consumer in batches of at most the free handlers, hands each message to `handle`, and
 * on `stop` gives back what was taken but not started and waits for the running handlers. Shared by the runner's
 * ingress consumer and the gateway's egress worker.
 */
export class PullLoop {
  private stopping = false;
  private loopDone?: Promise<void>;
  private current?: ConsumerMessages;
  private readonly tasks = new Set<Promise<void>>();
  private wake?: () => void;

  constructor(private readonly o: PullLoopOptions) {}

  /** True once `stop` was called. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Starts pulling. Resolves once the consumer is bound (its stream and consumer exist). */
  async start(): Promise<void> {
    const consumer = await this.o.js.consumers.get(this.o.consumer.stream, this.o.consumer.durable);
    this.loopDone = this.loop(consumer);
  }

  private async loop(consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>): Promise<void> {
    const { concurrency, stats, log, name } = this.o;
    const minBatch = this.o.minBatch ?? 1;
    while (!this.stopping) {
      const free = concurrency - stats.inFlight;
      if (free < minBatch) {
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
        log.warn(`fetch from the ${name} consumer failed; retrying`, { error: (e as Error).message });
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      this.current = batch;
      try {
        for await (const m of batch) {
          if (this.stopping) {
            // taken but not started: give it straight back to the other consumers
            m.nak();
            continue;
          }
          this.dispatch(m);
        }
      } catch (e) {
        if (!this.stopping) log.warn(`${name} fetch ended with an error`, { error: (e as Error).message });
      }
      this.current = undefined;
    }
  }

  private dispatch(m: JsMsg) {
    const { stats } = this.o;
    stats.inFlight++;
    const task = this.o
      .handle(m)
      .catch((e) => this.o.log.error(this.o.crashMessage, { error: (e as Error).stack }))
      .finally(() => {
        stats.inFlight--;
        this.tasks.delete(task);
        const w = this.wake;
        this.wake = undefined;
        w?.();
      });
    this.tasks.add(task);
  }

  /**
   * Keeps `m` from being redelivered while it is handled (`working` every third of `ackWait`); call the returned
   * function when done.
   */
  keepWorking(m: JsMsg): () => void {
    const heartbeat = setInterval(
      () => m.working(),
      Math.max(100, Math.floor(this.o.consumer.ackWaitMs / 3)),
    );
    return () => clearInterval(heartbeat);
  }

  /**
   * A handling that failed: on the last delivery (`maxDeliver`) the message is dead-lettered (through
   * `deadLetter`), else it is given back with a delay that grows with each delivery (250 ms to 5 s).
   */
  async retryOrDeadLetter(
    m: JsMsg,
    reason: string,
    deadLetter: (reason: string) => Promise<void>,
    warn: { msg: string; id: string },
  ): Promise<void> {
    const deliveries = m.info.deliveryCount;
    if (deliveries >= this.o.consumer.maxDeliver) {
      await deadLetter(`${reason} (after ${deliveries} deliveries)`);
      return;
    }
    this.o.stats.failures++;
    this.o.log.warn(warn.msg, { id: warn.id, reason, deliveries });
    m.nak(Math.min(5000, 250 * 2 ** (deliveries - 1)));
  }

  /**
   * Dead-letters `m` with `publish` and acknowledges it (the DLQ has it now); when publishing fails the message is
   * given back for a retry instead.
   */
  async deadLetter(
    m: JsMsg,
    reason: string,
    publish: () => Promise<void>,
    logs: { failed: string; done: string; fields: Record<string, unknown> },
  ): Promise<void> {
    try {
      await publish();
    } catch (e) {
      this.o.stats.failures++;
      this.o.log.error(logs.failed, { reason, error: (e as Error).message });
      m.nak(1000);
      return;
    }
    this.o.stats.deadLettered++;
    this.o.log.warn(logs.done, logs.fields);
    m.ack();
  }

  /**
   * Stops fetching, lets the running handlers finish, and resolves when none is left — or after `timeoutMs`, with
   * the number still running.
   */
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
    return { unfinished: this.o.stats.inFlight };
  }
}
