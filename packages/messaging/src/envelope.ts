import {
  type Actor,
  type Attachment,
  type ChannelMessageEnvelope,
  channelMessage,
  isValidId,
  type ReplyScope,
  type TenantCtx,
  tenantCtx,
} from '@greentic/types';
import { MessagingError } from './errors.js';
import type { ProviderName, ReplyTarget, TenantBinding } from './types.js';

/** Metadata keys every normalised envelope carries (all values are strings, as upstream `MessageMetadata`). */
export const META = {
  /** The connector id: where replies go back through. */
  CONNECTOR: 'connector',
  /** The provider's id of the message (Telegram update_id, Slack event_id, …). */
  PROVIDER_MESSAGE_ID: 'provider_message_id',
  /** The provider's id of the message itself when it differs (Telegram message_id, Slack ts, WhatsApp wamid). */
  MESSAGE_ID: 'message_id',
  /** The pressed button's value (also in `text`). */
  ACTION: 'action',
  /** Where the action came from: `callback_query`, `block_actions`, `adaptive_card`, `button_reply`, … */
  ACTION_SOURCE: 'action_source',
  /** The pressed button's label, when the provider tells it. */
  ACTION_TITLE: 'action_title',
} as const;

/** Checks a binding and turns it into the TenantCtx of the envelopes of a connector. */
export function bindingContext(binding: TenantBinding, provider: ProviderName, where: string): TenantCtx {
  try {
    return tenantCtx({
      env: binding.env,
      tenant: binding.tenant,
      ...(binding.team !== undefined ? { team: binding.team } : {}),
      provider_id: provider,
    });
  } catch (e) {
    throw new MessagingError('GT_MSG_CONFIG', `${where}: bad tenant binding: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Checks a connector id: it is a URL path segment, so the id rules of `@greentic/types` apply. */
export function checkConnectorId(id: unknown, provider: string): string {
  if (typeof id !== 'string' || !isValidId(id)) {
    throw new MessagingError(
      'GT_MSG_CONFIG',
      `${provider} connector id ${JSON.stringify(id)} must match [A-Za-z0-9._-]+ (it is the :id of /${provider}/:id)`,
    );
  }
  return id;
}

export interface EnvelopeParts {
  provider: ProviderName;
  connector: string;
  tenant: TenantCtx;
  providerMessageId: string;
  conversation: string;
  thread?: string | undefined;
  replyTo?: string | undefined;
  from?: Actor | undefined;
  text?: string | undefined;
  attachments?: Attachment[] | undefined;
  metadata?: Record<string, string | undefined>;
  extensions?: Record<string, unknown>;
}

/**
 * Builds a normalised envelope. Its id is `{provider}:{connector}:{providerMessageId}`: stable across
 * redeliveries, so reply ids derived from it (the engine's `{id}:{n}`) are stable too and sends stay idempotent.
 */
export function buildEnvelope(p: EnvelopeParts): ChannelMessageEnvelope {
  const scope: ReplyScope = { conversation: p.conversation };
  if (p.thread !== undefined) scope.thread = p.thread;
  if (p.replyTo !== undefined) scope.reply_to = p.replyTo;
  const metadata: Record<string, string> = {
    [META.CONNECTOR]: p.connector,
    [META.PROVIDER_MESSAGE_ID]: p.providerMessageId,
  };
  for (const [k, v] of Object.entries(p.metadata ?? {})) if (v !== undefined) metadata[k] = v;
  return channelMessage({
    id: `${p.provider}:${p.connector}:${p.providerMessageId}`,
    tenant: { ...p.tenant },
    channel: p.provider,
    session_id: p.thread !== undefined ? `${p.conversation}:${p.thread}` : p.conversation,
    reply_scope: scope,
    from: p.from,
    text: p.text,
    attachments: p.attachments,
    metadata,
    extensions: p.extensions,
  });
}

const PROVIDERS = new Set<string>(['telegram', 'slack', 'teams', 'whatsapp']);

/**
 * A reply as the runner publishes it on the egress stream (its `EgressMessage`): the fields a sender needs.
 * `metadata` (the incoming envelope's) is optional: without it the connector and the provider message id are read
 * from `in_reply_to`, the incoming envelope id `{provider}:{connector}:{providerMessageId}`.
 */
export interface EgressMessageLike {
  id: string;
  in_reply_to: string;
  tenant: TenantCtx;
  channel: string;
  session_id: string;
  reply_scope?: ReplyScope;
  text?: string;
  card?: unknown;
  payload?: unknown;
  metadata?: Record<string, string>;
}

/** Splits an envelope id made by {@link buildEnvelope}; `undefined` for ids made elsewhere. */
export function parseEnvelopeId(
  id: string,
): { provider: ProviderName; connector: string; providerMessageId: string } | undefined {
  const m = /^(telegram|slack|teams|whatsapp):([A-Za-z0-9._-]+):(.+)$/s.exec(id);
  return m ? { provider: m[1] as ProviderName, connector: m[2]!, providerMessageId: m[3]! } : undefined;
}

const isEgress = (v: ChannelMessageEnvelope | EgressMessageLike): v is EgressMessageLike =>
  typeof (v as EgressMessageLike).in_reply_to === 'string';

/**
 * Where the replies to an inbound envelope (or an egress message answering one) go: its channel, connector
 * (`metadata.connector`, else read from the envelope id), tenant, conversation and thread (reply scope) and the
 * provider details in its metadata.
 */
export function replyTargetOf(source: ChannelMessageEnvelope | EgressMessageLike): ReplyTarget {
  const inboundId = isEgress(source) ? source.in_reply_to : source.id;
  const metadata: Record<string, string> = { ...(source.metadata ?? {}) };
  if (!PROVIDERS.has(source.channel)) {
    throw new MessagingError(
      'GT_MSG_TARGET',
      `message ${inboundId} is on channel "${source.channel}", which no messaging connector serves (telegram, slack, teams, whatsapp)`,
    );
  }
  const parsed = parseEnvelopeId(inboundId);
  const connector =
    metadata[META.CONNECTOR] ?? (parsed?.provider === source.channel ? parsed.connector : undefined);
  if (connector === undefined) {
    throw new MessagingError(
      'GT_MSG_TARGET',
      `message ${inboundId} has no metadata.connector and its id is not {provider}:{connector}:{id}: only messages from the messaging gateway can be answered this way; build a ReplyTarget for proactive messages`,
    );
  }
  if (parsed !== undefined && source.channel === 'teams') metadata.activity_id ??= parsed.providerMessageId;
  const scope = source.reply_scope ?? { conversation: source.session_id };
  const target: ReplyTarget = {
    provider: source.channel as ProviderName,
    connector,
    tenant: source.tenant,
    conversation: scope.conversation,
    metadata,
  };
  if (scope.thread !== undefined) target.thread = scope.thread;
  if (scope.reply_to !== undefined) target.replyTo = scope.reply_to;
  return target;
}

/** Parses a verified body: raw bytes or text as JSON, objects as they are. */
export function parseJsonBody(body: Buffer | string | object, provider: string): unknown {
  if (typeof body === 'object' && !Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (e) {
    throw new MessagingError('GT_MSG_BAD_PAYLOAD', `${provider} webhook body is not JSON`, {
      status: 400,
      cause: e,
    });
  }
}

export const badPayload = (provider: string, what: string) =>
  new MessagingError('GT_MSG_BAD_PAYLOAD', `${provider} webhook: ${what}`, { status: 400 });
