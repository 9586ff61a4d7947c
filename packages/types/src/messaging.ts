import type { ReplyScope } from './session.js';
import type { TenantCtx } from './tenant.js';

/** Sender/initiator of a message (upstream `Actor`). */
export interface Actor {
  /** Id in provider space (Slack user id, Webex person id, ...). */
  id: string;
  /** `user`, `bot`, `system`, ... */
  kind?: string;
}

/** Outbound destination for egress (upstream `Destination`). */
export interface Destination {
  /** Provider-specific id, possibly composite (`teamId:channelId`). */
  id: string;
  /** `chat`, `room`, `user`, `channel`, `email`, `phone`, ... */
  kind?: string;
}

/**
 * Attachment of a message. Upstream `Attachment` is `{mime_type, url, name?, size_bytes?}` with `url` required;
 * Greentic-TS also allows inline `content` (base64 or text) instead of a URL. At least one of `url`/`content` is
 * required. To interoperate with upstream, set `url`.
 */
export interface Attachment {
  mime_type: string;
  url?: string;
  content?: string;
  name?: string;
  size_bytes?: number;
}

/** Free-form string metadata of a message (upstream `MessageMetadata`). */
export type MessageMetadata = Record<string, string>;

/** Well-known keys of {@link ChannelMessageEnvelope.extensions}; unknown keys must be kept and round-tripped. */
export const EXT_KEYS = {
  ADAPTIVE_CARD: 'adaptive_card',
  CHANNEL_DATA: 'channel_data',
  ENTITIES: 'entities',
  ATTACHMENTS: 'attachments',
  RAG: 'rag',
  SUGGESTED_ACTIONS: 'suggested_actions',
  SPEAK: 'speak',
  INPUT_HINT: 'input_hint',
} as const;

/**
 * Channel message exchanged with adapters (upstream `ChannelMessageEnvelope`). Upstream omits `to`,
 * `attachments` and `extensions` when empty and always writes `metadata`; all four default to empty on input.
 */
export interface ChannelMessageEnvelope {
  id: string;
  tenant: TenantCtx;
  channel: string;
  /** Conversation or thread identifier. */
  session_id: string;
  reply_scope?: ReplyScope;
  from?: Actor;
  /** Empty or absent means "unspecified" (provider defaults apply). */
  to?: Destination[];
  correlation_id?: string;
  text?: string;
  attachments?: Attachment[];
  metadata?: MessageMetadata;
  /** Typed JSON extension data keyed by {@link EXT_KEYS} or any other key. */
  extensions?: Record<string, unknown>;
}

export interface ChannelMessageInit {
  id: string;
  tenant: TenantCtx;
  channel: string;
  session_id: string;
  reply_scope?: ReplyScope | undefined;
  from?: Actor | undefined;
  to?: Destination[] | undefined;
  correlation_id?: string | undefined;
  text?: string | undefined;
  attachments?: Attachment[] | undefined;
  metadata?: MessageMetadata | undefined;
  extensions?: Record<string, unknown> | undefined;
}

/**
 * Builds an envelope in upstream's serialized form: absent options left out, empty `to`/`attachments`/
 * `extensions` left out, `metadata` always present.
 */
export function channelMessage(init: ChannelMessageInit): ChannelMessageEnvelope {
  const env: ChannelMessageEnvelope = {
    id: init.id,
    tenant: init.tenant,
    channel: init.channel,
    session_id: init.session_id,
  };
  if (init.reply_scope !== undefined) env.reply_scope = init.reply_scope;
  if (init.from !== undefined) env.from = init.from;
  if (init.to !== undefined && init.to.length > 0) env.to = init.to;
  if (init.correlation_id !== undefined) env.correlation_id = init.correlation_id;
  if (init.text !== undefined) env.text = init.text;
  if (init.attachments !== undefined && init.attachments.length > 0) env.attachments = init.attachments;
  env.metadata = { ...(init.metadata ?? {}) };
  if (init.extensions !== undefined && Object.keys(init.extensions).length > 0)
    env.extensions = init.extensions;
  return env;
}
