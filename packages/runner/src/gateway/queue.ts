import type { Context } from '@greentic/telemetry';
import type { ChannelMessageEnvelope } from '@greentic/types';
import { conversationKey } from '../bus/subjects.js';
import type { Logger } from '../daemon/log.js';
import { RunnerError } from '../errors.js';

/** One queued incoming message. */
export interface QueuedMessage {
  envelope: ChannelMessageEnvelope;
  /** The provider's id (Telegram update_id, …), for logs. */
  providerMessageId?: string;
  enqueuedAt: number;
  /** The trace context of the request that queued it: the turn's span becomes its child. */
  parent?: Context;
}

export interface MemoryQueueOptions {
  /** Conversations worked on at once (one message of a conversation at a time, in arrival order). */
  concurrency: number;
  /** Messages queued or running before `push` refuses (the webhook answers 503 and the provider retries). */
  maxPending: number;
  /** Tries of a message whose processing throws (a store error); then it is given up. */
  maxAttempts: number;
  /** Runs the turn and sends its replies; throw to have it retried. */
  process(item: QueuedMessage): Promise<void>;
  /** A message that failed `maxAttempts` times. */
  onGiveUp(item: QueuedMessage, error: unknown, attempts: number): void;
  /** Delay before the n-th retry (default 100 ms · 2^(n−1), at most 2 s). */
  retryDelayMs?: (attempt: number) => number;
  log: Logger;
}

export interface MemoryQueueStats {
  /** Messages accepted. */
  queued: number;
  /** Messages processed (replies sent or dead-lettered). */
  processed: number;
  /** Processing attempts that threw and were tried again. */
  retries: number;
  /** Messages given up after `maxAttempts`. */
  failed: number;
  /** Pushes refused (full or closed). */
  refused: number;
  /** Waiting now. */
  pending: number;
  /** Being processed now. */
  inFlight: number;
}

/**
 * The in-process queue of memory mode (no NATS): webhooks are answered once their messages are in it, workers run
 * the turns after. It is "durable" only as long as the process lives — a crash or a restart loses what it holds
 * (with Redis stores, a provider's redelivery of such a message is answered from the conversation's outbox). One
 * lane per conversation keeps each conversation's messages in arrival order; lanes run in parallel up to
 * `concurrency`.
 */
export class MemoryTurnQueue {
  readonly stats: MemoryQueueStats = {
    queued: 0,
    processed: 0,
    retries: 0,
    failed: 0,
    refused: 0,
    pending: 0,
    inFlight: 0,
  };
  private readonly lanes = new Map<string, QueuedMessage[]>();
  /** Lanes with work and no worker, in the order they became ready. */
  private readonly ready: string[] = [];
  private readonly busy = new Set<string>();
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: MemoryQueueOptions) {}

  /** Queues the messages of one webhook, all or none. Throws when the queue is full or closed. */
  push(items: QueuedMessage[]): void {
    if (this.closed) {
      this.stats.refused++;
      throw new RunnerError('GT_RUNNER_BUS', 'the runner is stopping: not accepting messages');
    }
    if (this.stats.pending + this.stats.inFlight + items.length > this.o.maxPending) {
      this.stats.refused++;
      throw new RunnerError(
        'GT_RUNNER_BUS',
        `the in-memory queue is full (gateway.queue.maxPending = ${this.o.maxPending}); the provider will retry`,
      );
    }
    for (const item of items) {
      const key = conversationKey(item.envelope);
      let lane = this.lanes.get(key);
      if (!lane) {
        lane = [];
        this.lanes.set(key, lane);
        if (!this.busy.has(key)) this.ready.push(key);
      }
      lane.push(item);
      this.stats.queued++;
      this.stats.pending++;
    }
    this.pump();
  }

  private pump() {
    while (this.busy.size < this.o.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const lane = this.lanes.get(key);
      const item = lane?.shift();
      if (!item) {
        this.lanes.delete(key);
        continue;
      }
      if (lane!.length === 0) this.lanes.delete(key);
      this.busy.add(key);
      this.stats.pending--;
      this.stats.inFlight++;
      void this.run(item).finally(() => {
        this.stats.inFlight--;
        this.busy.delete(key);
        if (this.lanes.has(key)) this.ready.push(key);
        this.pump();
        if (this.stats.pending === 0 && this.stats.inFlight === 0) {
          const w = this.waiters;
          this.waiters = [];
          for (const f of w) f();
        }
      });
    }
  }

  private async run(item: QueuedMessage) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.process(item);
        this.stats.processed++;
        return;
      } catch (e) {
        if (attempt >= this.o.maxAttempts) {
          this.stats.failed++;
          this.o.onGiveUp(item, e, attempt);
          return;
        }
        this.stats.retries++;
        const delay = this.o.retryDelayMs?.(attempt) ?? Math.min(2000, 100 * 2 ** (attempt - 1));
        this.o.log.warn('processing a queued message failed; retrying', {
          id: item.envelope.id,
          attempt,
          delay_ms: delay,
          error: (e as Error).message,
        });
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.stats.pending === 0 && this.stats.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /**
   * Refuses new messages and lets the queued and running ones finish; resolves with how many were left after
   * `timeoutMs` (they are lost: the queue lives in memory).
   */
  async close(timeoutMs: number): Promise<{ unfinished: number }> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise((r) => {
        timer = setTimeout(r, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return { unfinished: this.stats.pending + this.stats.inFlight };
  }

  /** Refuses new messages from now on (what is queued still runs). */
  refuse(): void {
    this.closed = true;
  }
}
