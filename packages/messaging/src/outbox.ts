import type { ChannelMessageEnvelope } from '@greentic/types';
import { type ConnectorConfig, type ConnectorLookup, toLookup } from './connectors.js';
import { type EgressMessageLike, replyTargetOf } from './envelope.js';
import { isMessagingError, MessagingError, type MessagingErrorCode } from './errors.js';
import { TokenBucketLimiter } from './rate-limit.js';
import { MemorySentLog, type SentLog } from './stores.js';
import type {
  Connector,
  OutboundReply,
  ProviderName,
  ProviderRequest,
  RateLimitOptions,
  ReplyTarget,
  SendResult,
} from './types.js';

/** A reply (part) that could not be delivered, with why. It holds no credential. */
export interface DeadLetter {
  replyId: string;
  /** Which provider request of the reply failed (0-based); the earlier ones were delivered. */
  part: number;
  provider: ProviderName;
  connector: string;
  tenant: { env: string; tenant: string; team?: string };
  conversation: string;
  thread?: string;
  code: MessagingErrorCode;
  reason: string;
  /** HTTP status of the last answer, absent for network errors. */
  status?: number;
  providerCode?: string;
  attempts: number;
  /** The provider request that failed (absent when rendering failed). */
  request?: ProviderRequest;
  /** When it was dead-lettered (ISO 8601). */
  at: string;
}

/** Where undeliverable replies go (the runner maps it to its DLQ subject). */
export interface DeadLetterSink {
  put(letter: DeadLetter): Promise<void>;
}

/** Keeps dead letters in an array (tests, single-process setups). */
export class MemoryDeadLetterSink implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async put(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }
}

export interface RetryOptions {
  /** Attempts per provider request, the first included (default 5). */
  maxAttempts?: number;
  /** First backoff (ms, default 250); doubled per attempt. */
  baseDelayMs?: number;
  /** Longest backoff (ms, default 30 000). */
  maxDelayMs?: number;
  /** A 429 asking to wait longer than this (ms, default 120 000) dead-letters the reply instead. */
  maxRetryAfterMs?: number;
}

export interface OutboxOptions {
  connectors: ConnectorLookup | readonly (Connector | ConnectorConfig)[];
  /** Per-tenant, per-connector send rate unless the connector sets its own; default 10 rps, burst 20. */
  rateLimit?: RateLimitOptions;
  retry?: RetryOptions;
  /** Delivered reply parts, for idempotency; default in memory. */
  sentLog?: SentLog;
  /** How long a delivered reply id is remembered (ms, default 36 h). */
  sentTtlMs?: number;
  deadLetters?: DeadLetterSink;
  /** Injectable time for deterministic tests. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
  /** Called for every attempt's outcome (metrics, logs). Must not throw. */
  onAttempt?: (info: AttemptInfo) => void;
}

export interface AttemptInfo {
  replyId: string;
  part: number;
  attempt: number;
  request: ProviderRequest;
  result: SendResult;
  /** The wait before the next attempt, when there is one (ms). */
  nextDelayMs?: number;
}

/**
 * `sent`: every part delivered now or before; `duplicate`: every part had been delivered before (nothing sent);
 * `dead_lettered`: a part failed for good (it and the parts after it are in the dead-letter sink's letter).
 */
export interface DeliveryReport {
  replyId: string;
  status: 'sent' | 'duplicate' | 'dead_lettered';
  /** Provider requests the reply rendered to. */
  parts: number;
  /** Parts skipped because the sent log had them. */
  skipped: number;
  /** Provider calls made, retries included. */
  attempts: number;
  /** Provider ids of the messages sent (Telegram message_id, Slack ts, Teams activity id, WhatsApp wamid). */
  providerMessageIds: string[];
  error?: { code: MessagingErrorCode; reason: string; status?: number };
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { rps: 10, burst: 20 };
export const DEFAULT_SENT_TTL_MS = 36 * 60 * 60 * 1000;

/**
 * Sends replies through their connectors: rendered per channel, rate-limited per tenant and connector (token
 * bucket), retried with exponential backoff and jitter on 5xx/network errors, 429s waited out as the provider
 * asks, other 4xx dead-lettered at once, and each reply part sent at most once (by reply id, via the sent log).
 */
export class OutboxSender {
  private readonly lookup: ConnectorLookup;
  private readonly limiter: TokenBucketLimiter;
  private readonly defaultRate: RateLimitOptions;
  private readonly maxAttempts: number;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly maxRetryAfter: number;
  private readonly sentLog: SentLog;
  private readonly sentTtl: number;
  private readonly deadLetters: DeadLetterSink;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onAttempt: ((info: AttemptInfo) => void) | undefined;

  constructor(opts: OutboxOptions) {
    this.lookup = toLookup(opts.connectors);
    this.defaultRate = opts.rateLimit ?? DEFAULT_RATE_LIMIT;
    this.clock = opts.clock ?? Date.now;
    this.limiter = new TokenBucketLimiter(this.defaultRate, this.clock);
    this.maxAttempts = Math.max(1, opts.retry?.maxAttempts ?? 5);
    this.baseDelay = opts.retry?.baseDelayMs ?? 250;
    this.maxDelay = opts.retry?.maxDelayMs ?? 30_000;
    this.maxRetryAfter = opts.retry?.maxRetryAfterMs ?? 120_000;
    this.sentLog = opts.sentLog ?? new MemorySentLog({ now: this.clock });
    this.sentTtl = opts.sentTtlMs ?? DEFAULT_SENT_TTL_MS;
    this.deadLetters = opts.deadLetters ?? new MemoryDeadLetterSink();
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    this.onAttempt = opts.onAttempt;
  }

  /** Sends a turn's replies to where `inbound` came from, one after the other (order kept). */
  async sendReplies(
    inbound: ChannelMessageEnvelope,
    replies: readonly OutboundReply[],
  ): Promise<DeliveryReport[]> {
    const target = replyTargetOf(inbound);
    const out: DeliveryReport[] = [];
    for (const r of replies) out.push(await this.deliver(target, r));
    return out;
  }

  /**
   * Delivers one reply of the runner's egress stream (an `EgressMessage`): the target comes from the message
   * itself ({@link replyTargetOf}), the reply is `{id, text, card, payload}`.
   */
  async sendEgress(msg: EgressMessageLike): Promise<DeliveryReport> {
    const reply: OutboundReply = { id: msg.id };
    if (msg.text !== undefined) reply.text = msg.text;
    if (msg.card !== undefined) reply.card = msg.card;
    if (msg.payload !== undefined) reply.payload = msg.payload;
    return this.deliver(replyTargetOf(msg), reply);
  }

  /**
   * Delivers one reply. Never rejects for delivery problems (they end in the dead-letter sink and the report);
   * rejects only when the sent log or the dead-letter sink fails, so the caller can retry the whole reply.
   */
  async deliver(target: ReplyTarget, reply: OutboundReply): Promise<DeliveryReport> {
    const report: DeliveryReport = {
      replyId: reply.id,
      status: 'sent',
      parts: 0,
      skipped: 0,
      attempts: 0,
      providerMessageIds: [],
    };
    const connector = this.lookup.get(target.provider, target.connector);
    if (connector === undefined) {
      return this.dead(report, target, 0, {
        code: 'GT_MSG_TARGET',
        reason: `no connector ${target.provider}/${target.connector} is configured`,
      });
    }
    let requests: ProviderRequest[];
    try {
      requests = connector.render(reply, target);
    } catch (e) {
      const code = isMessagingError(e) ? e.code : 'GT_MSG_RENDER';
      return this.dead(report, target, 0, { code, reason: (e as Error).message });
    }
    report.parts = requests.length;
    const rate = connector.rateLimit ?? this.defaultRate;
    const t = target.tenant;
    const bucket = `${t.env}/${t.tenant_id}/${target.provider}/${target.connector}`;
    const keyBase = `${t.env}:${t.tenant_id}:${t.team_id ?? ''}:${target.provider}:${target.connector}:${reply.id}`;
    for (const [part, req] of requests.entries()) {
      const key = `${keyBase}#${part}`;
      if (await this.sentLog.has(key)) {
        report.skipped++;
        continue;
      }
      for (let attempt = 1; ; attempt++) {
        const wait = this.limiter.reserve(bucket, rate);
        if (wait > 0) await this.sleep(wait);
        report.attempts++;
        let result: SendResult;
        try {
          result = await connector.send(req);
        } catch (e) {
          result = {
            ok: false,
            retryable: true,
            reason: `send threw: ${(e as Error)?.message ?? String(e)}`,
          };
        }
        if (result.ok) {
          this.onAttempt?.({ replyId: reply.id, part, attempt, request: req, result });
          if (result.providerMessageId !== undefined)
            report.providerMessageIds.push(result.providerMessageId);
          await this.sentLog.record(key, this.sentTtl);
          break;
        }
        const fail = (code: MessagingErrorCode) =>
          this.dead(report, target, part, {
            code,
            reason: result.ok ? '' : result.reason,
            ...(result.ok || result.status === undefined ? {} : { status: result.status }),
            ...(result.ok || result.providerCode === undefined ? {} : { providerCode: result.providerCode }),
            request: req,
          });
        if (!result.retryable) {
          this.onAttempt?.({ replyId: reply.id, part, attempt, request: req, result });
          return fail('GT_MSG_SEND_REJECTED');
        }
        if (result.retryAfterMs !== undefined && result.retryAfterMs > this.maxRetryAfter) {
          this.onAttempt?.({ replyId: reply.id, part, attempt, request: req, result });
          return fail('GT_MSG_RATE_LIMITED');
        }
        if (attempt >= this.maxAttempts) {
          this.onAttempt?.({ replyId: reply.id, part, attempt, request: req, result });
          return fail('GT_MSG_SEND_EXHAUSTED');
        }
        let delay: number;
        if (result.retryAfterMs !== undefined) {
          delay = result.retryAfterMs;
          this.limiter.pause(bucket, delay);
        } else {
          delay = this.backoff(attempt);
        }
        this.onAttempt?.({ replyId: reply.id, part, attempt, request: req, result, nextDelayMs: delay });
        // The limiter also holds the bucket after a 429, so the next reserve() waits the rest.
        if (result.retryAfterMs === undefined) await this.sleep(delay);
      }
    }
    if (report.skipped === report.parts && report.parts > 0) report.status = 'duplicate';
    return report;
  }

  /** Equal jitter: half the exponential delay fixed, half random, capped at `maxDelayMs`. */
  backoff(attempt: number): number {
    const exp = Math.min(this.maxDelay, this.baseDelay * 2 ** (attempt - 1));
    return Math.round(exp / 2 + this.random() * (exp / 2));
  }

  private async dead(
    report: DeliveryReport,
    target: ReplyTarget,
    part: number,
    e: {
      code: MessagingErrorCode;
      reason: string;
      status?: number;
      providerCode?: string;
      request?: ProviderRequest;
    },
  ): Promise<DeliveryReport> {
    const t = target.tenant;
    const letter: DeadLetter = {
      replyId: report.replyId,
      part,
      provider: target.provider,
      connector: target.connector,
      tenant: { env: t.env, tenant: t.tenant_id, ...(t.team_id !== undefined ? { team: t.team_id } : {}) },
      conversation: target.conversation,
      ...(target.thread !== undefined ? { thread: target.thread } : {}),
      code: e.code,
      reason: e.reason,
      ...(e.status !== undefined ? { status: e.status } : {}),
      ...(e.providerCode !== undefined ? { providerCode: e.providerCode } : {}),
      attempts: report.attempts,
      ...(e.request !== undefined ? { request: e.request } : {}),
      at: new Date(this.clock()).toISOString(),
    };
    try {
      await this.deadLetters.put(letter);
    } catch (err) {
      throw new MessagingError('GT_MSG_BACKEND', `dead-letter sink failed: ${(err as Error)?.message}`, {
        cause: err,
      });
    }
    report.status = 'dead_lettered';
    report.error = {
      code: e.code,
      reason: e.reason,
      ...(e.status !== undefined ? { status: e.status } : {}),
    };
    return report;
  }
}
