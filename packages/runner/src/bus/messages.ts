import {
  type ChannelMessageEnvelope,
  checkChannelMessageEnvelope,
  type Destination,
  formatIssues,
  type ReplyScope,
  type TenantCtx,
} from '@greentic/types';
import type { OutboundMessage, TurnResult } from '../engine/engine.js';

/**
 * One reply as the runner publishes it on `<prefix>.egress.{env}.{tenant}.{team}.{channel}` (JSON). A channel
 * sender needs nothing else to deliver it; `id` is stable for a turn, so a sender deduplicates on it.
 */
export interface EgressMessage {
  /** The reply id, `<incoming message id>:<n>`; the stream's Nats-Msg-Id ends with it. */
  id: string;
  /** The incoming message this answers. */
  in_reply_to: string;
  /** Status of the turn that produced it. */
  status: 'done' | 'pending' | 'error';
  /** Position among the turn's replies (0-based) and how many there are, so a sender can keep them together. */
  index: number;
  count: number;
  tenant: TenantCtx;
  channel: string;
  session_id: string;
  reply_scope?: ReplyScope;
  /** Where to send it: the incoming message's sender. */
  to: Destination[];
  /**
   * The incoming envelope's metadata (connector, provider message id and the provider's keys — e.g. Teams'
   * `service_url`): what a channel sender needs to answer in the right place. Absent when the message had none.
   */
  metadata?: Record<string, string>;
  text?: string;
  card?: unknown;
  payload?: unknown;
  /** The incoming message's number in its conversation, when it had one. */
  seq?: number;
  error?: { code: string; message: string };
}

export function egressMessages(msg: ChannelMessageEnvelope, r: TurnResult, seq?: number): EgressMessage[] {
  const status: EgressMessage['status'] =
    r.status === 'done' || r.status === 'pending' || r.status === 'error' ? r.status : 'done';
  const to: Destination[] = msg.from ? [{ id: msg.from.id, kind: msg.from.kind ?? 'user' }] : [];
  return r.replies.map((reply: OutboundMessage, index) => ({
    id: reply.id,
    in_reply_to: msg.id,
    status,
    index,
    count: r.replies.length,
    tenant: msg.tenant,
    channel: msg.channel,
    session_id: msg.session_id,
    ...(msg.reply_scope ? { reply_scope: msg.reply_scope } : {}),
    to,
    ...(msg.metadata && Object.keys(msg.metadata).length > 0 ? { metadata: msg.metadata } : {}),
    ...(reply.text !== undefined ? { text: reply.text } : {}),
    ...(reply.card !== undefined ? { card: reply.card } : {}),
    ...(reply.payload !== undefined ? { payload: reply.payload } : {}),
    ...(seq !== undefined ? { seq } : {}),
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
  }));
}

/** Parses an ingress payload: a ChannelMessageEnvelope as JSON. The error says what is wrong (for the DLQ). */
export function decodeEnvelope(
  data: Uint8Array,
): { ok: true; envelope: ChannelMessageEnvelope } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `payload is not JSON (${(e as Error).message})` };
  }
  const checked = checkChannelMessageEnvelope(json);
  if (!checked.ok) return { ok: false, reason: formatIssues('ChannelMessageEnvelope', checked.errors) };
  const env = checked.value;
  return {
    ok: true,
    envelope: { ...env, to: env.to ?? [], attachments: env.attachments ?? [], metadata: env.metadata ?? {} },
  };
}

/** Parses an egress payload (an {@link EgressMessage} as JSON); the error says what is wrong (for the DLQ). */
export function decodeEgress(
  data: Uint8Array,
): { ok: true; message: EgressMessage } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `payload is not JSON (${(e as Error).message})` };
  }
  const m = json as Partial<EgressMessage> | null;
  if (typeof m !== 'object' || m === null || Array.isArray(m))
    return { ok: false, reason: 'payload is not an object' };
  for (const k of ['id', 'in_reply_to', 'channel', 'session_id'] as const)
    if (typeof m[k] !== 'string' || m[k] === '')
      return { ok: false, reason: `${k} must be a non-empty string` };
  if (typeof m.tenant !== 'object' || m.tenant === null || typeof m.tenant.env !== 'string')
    return { ok: false, reason: 'tenant must be a TenantCtx' };
  if (m.metadata !== undefined && (typeof m.metadata !== 'object' || m.metadata === null))
    return { ok: false, reason: 'metadata must be an object of strings' };
  return { ok: true, message: m as EgressMessage };
}

export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value));
}
