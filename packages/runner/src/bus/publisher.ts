import { type ChannelMessageEnvelope, checkChannelMessageEnvelope, formatIssues } from '@greentic/types';
import { type JetStreamClient, headers as natsHeaders } from 'nats';
import { RunnerError } from '../errors.js';
import type { IngressLedger } from './ledger.js';
import { encodeJson } from './messages.js';
import {
  conversationKey,
  HEADERS,
  ingressMsgId,
  ingressSubject,
  sanitizeToken,
  subjectParts,
} from './subjects.js';
import { ingressTraceContext, injectTrace } from './trace.js';

export interface IngressPublisherOptions {
  js: JetStreamClient;
  ledger: IngressLedger;
  /** Subject prefix (`greentic.messaging`). */
  subjectPrefix: string;
  /** Prefix of the ledger's keys (the Redis namespace). */
  keyPrefix: string;
  /** How long a provider message id is remembered (default 36 h). */
  dedupeTtlMs?: number;
  /** Lifetime of a conversation's sequence counter (default 25 h: it must outlive the conversation). */
  sequenceTtlMs?: number;
  /** The ingress stream's duplicate window: a retry within it is published again (JetStream drops it if it got the first). */
  duplicateWindowMs?: number;
  /** Publish acknowledgement timeout (default 5 s). */
  timeoutMs?: number;
}

export interface PublishIngressOptions {
  /**
   * The provider's id for this message (Telegram `update_id`, Slack `event_id`, a webhook's Idempotency-Key):
   * a retry with the same id is not published twice. Without it the envelope id is the JetStream message id only.
   */
  providerMessageId?: string;
  /** W3C trace context of the request that brought the message (a new root when absent or invalid). */
  traceparent?: string;
  tracestate?: string;
}

export interface PublishIngressResult {
  subject: string;
  /** The message's number in its conversation (header Greentic-Seq). */
  seq: number;
  /** The message had been published before (same provider id): nothing new was queued. */
  duplicate: boolean;
  /** The stream sequence, when this call published (JetStream's answer). */
  streamSeq?: number;
}

const HOUR = 60 * 60 * 1000;

/**
 * Publishes incoming messages to `<prefix>.ingress.{env}.{tenant}.{team}.{channel}` for the runners. Used by
 * gateways (and tests and benchmarks):
 * 1. the provider message id is claimed in the ledger (Redis `SET NX PX`, memory without Redis) — a retry of an
 *    already published message returns `duplicate: true`;
 * 2. the conversation's next number is taken (`INCR`) and stamped in the `Greentic-Seq` header, so runners apply
 *    turns in order whatever order JetStream delivers them in;
 * 3. the message is published with `Nats-Msg-Id`, so JetStream drops a second copy within its duplicate window.
 * A gateway that crashed between 1 and 3 is covered: its retry within the duplicate window publishes again,
 * with the first number.
 */
export class IngressPublisher {
  private readonly dedupeTtlMs: number;
  private readonly sequenceTtlMs: number;
  private readonly duplicateWindowMs: number;

  constructor(private readonly o: IngressPublisherOptions) {
    this.dedupeTtlMs = o.dedupeTtlMs ?? 36 * HOUR;
    this.sequenceTtlMs = o.sequenceTtlMs ?? 25 * HOUR;
    this.duplicateWindowMs = o.duplicateWindowMs ?? 2 * 60 * 1000;
  }

  async publishIngress(
    envelope: ChannelMessageEnvelope,
    options: PublishIngressOptions = {},
  ): Promise<PublishIngressResult> {
    const checked = checkChannelMessageEnvelope(envelope);
    if (!checked.ok) {
      throw new RunnerError(
        'GT_RUNNER_BAD_INPUT',
        `publishIngress: not a valid envelope: ${formatIssues('ChannelMessageEnvelope', checked.errors)}`,
      );
    }
    const parts = subjectParts(envelope);
    const subject = ingressSubject(this.o.subjectPrefix, parts);
    const pmid = options.providerMessageId;
    const scope = [parts.env, parts.tenant, parts.team, parts.channel].map(sanitizeToken).join(':');
    const dedupeKey =
      pmid === undefined ? undefined : `${this.o.keyPrefix}:runner:ingress:dedupe:${scope}:${pmid}`;
    const seqKey = `${this.o.keyPrefix}:runner:ingress:seq:${conversationKey(envelope)}`;
    const claim = await this.o.ledger.claim(dedupeKey, seqKey, {
      dedupeTtlMs: this.dedupeTtlMs,
      seqTtlMs: this.sequenceTtlMs,
    });
    // an old duplicate: the first copy was published long ago (JetStream no longer remembers it)
    if (!claim.fresh && Date.now() - claim.claimedAt >= this.duplicateWindowMs) {
      return { subject, seq: claim.seq, duplicate: true };
    }
    const h = natsHeaders();
    h.set(HEADERS.seq, String(claim.seq));
    if (pmid !== undefined) h.set(HEADERS.providerMessageId, pmid);
    injectTrace(h, ingressTraceContext(options.traceparent, options.tracestate));
    try {
      const ack = await this.o.js.publish(subject, encodeJson(envelope), {
        msgID: ingressMsgId(subject, pmid ?? envelope.id),
        headers: h,
        timeout: this.o.timeoutMs ?? 5000,
      });
      return { subject, seq: claim.seq, duplicate: !claim.fresh || ack.duplicate, streamSeq: ack.seq };
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_BUS',
        `publishIngress: publishing to ${subject} failed (${(e as Error).message}); retry with the same providerMessageId`,
        { subject },
        { cause: e },
      );
    }
  }

  async close(): Promise<void> {
    await this.o.ledger.close();
  }
}
