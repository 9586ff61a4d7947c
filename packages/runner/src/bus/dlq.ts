import { type JetStreamClient, type MsgHdrs, headers as natsHeaders } from 'nats';
import { dlqSubject, HEADERS } from './subjects.js';
import { extractTrace, injectTrace, type TraceContext } from './trace.js';

/** Where a dead letter came from: the stream message it was. */
export interface DeadLetterOrigin {
  subject: string;
  stream: string;
  seq: number;
  deliveries: number;
}

/**
 * Publishes a dead letter to `<dlqPrefix>.{env}.{tenant}`: the original payload unchanged, the original headers
 * (except `Nats-Msg-Id`), the reason and origin in `Greentic-Dlq-*` headers, under `Nats-Msg-Id:
 * dlq|<stream>|<seq>` (one dead letter per stream message, however often this is retried).
 */
export async function publishDeadLetter(
  js: JetStreamClient,
  o: {
    dlqPrefix: string;
    env: string | undefined;
    tenant: string | undefined;
    data: Uint8Array;
    original: MsgHdrs | undefined;
    from: DeadLetterOrigin;
    reason: string;
    trace?: TraceContext;
  },
): Promise<void> {
  const h = natsHeaders();
  if (o.original) for (const [k, v] of o.original) if (k !== HEADERS.msgId) for (const x of v) h.append(k, x);
  h.set(HEADERS.dlqReason, o.reason.replace(/[\r\n]+/g, ' ').slice(0, 1024));
  h.set(HEADERS.dlqSubject, o.from.subject);
  h.set(HEADERS.dlqStream, o.from.stream);
  h.set(HEADERS.dlqStreamSeq, String(o.from.seq));
  h.set(HEADERS.dlqDeliveries, String(o.from.deliveries));
  injectTrace(h, o.trace ?? extractTrace(o.original));
  await js.publish(dlqSubject(o.dlqPrefix, o.env, o.tenant), o.data, {
    msgID: `dlq|${o.from.stream}|${o.from.seq}`,
    headers: h,
  });
}
