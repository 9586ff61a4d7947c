import type { Attachment, ChannelMessageEnvelope, TenantCtx } from '@greentic/types';

/** The providers this package implements. */
export type ProviderName = 'telegram' | 'slack' | 'teams' | 'whatsapp';

export type HeaderValue = string | string[] | undefined;

/** A webhook request as it arrived: header names in lower case, the body as the raw bytes (never re-serialised). */
export interface WebhookRequest {
  method: string;
  headers: Record<string, HeaderValue>;
  rawBody: Buffer;
  query: Record<string, HeaderValue>;
}

/**
 * The answer of {@link Connector.verify}. `body` is the JSON the connector had to parse after the signature
 * check passed (Teams compares the token's `serviceurl` claim with the activity), handed to `normalize`.
 * `reason` is for logs only: the gateway never sends it to the caller.
 */
export type VerifyResult = { ok: true; body?: unknown } | { ok: false; status: 401 | 403; reason: string };

/** What the gateway answers a webhook with. An object `body` is sent as JSON. */
export interface WebhookResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | Record<string, unknown>;
}

/** The tenant a webhook route belongs to. It comes from configuration, never from the payload. */
export interface TenantBinding {
  env: string;
  tenant: string;
  team?: string;
}

/** One inbound message and the provider's id for it (used to drop replays and redeliveries). */
export interface NormalizedMessage {
  envelope: ChannelMessageEnvelope;
  providerMessageId: string;
}

export interface NormalizeResult {
  /** Messages to queue, in order. Empty when the request carries nothing for a flow (see `ignored`). */
  messages: NormalizedMessage[];
  /** The request's own provider id (Telegram `update_id`, Slack `event_id`, Teams activity id, WhatsApp message id). */
  providerMessageId?: string;
  /** Answer to send instead of the default `200` (Slack `url_verification`, a Telegram webhook method, Teams invoke). */
  response?: WebhookResponse;
  /** Provider calls to make once the messages are queued (Telegram `answerCallbackQuery` in `api` mode). */
  followUps?: ProviderRequest[];
  /** Why nothing was queued: an event type flows do not see, the bot's own message, a status update. */
  ignored?: string;
}

/**
 * A reply of a flow turn. Structurally the runner's `OutboundMessage`: `id` is stable for a turn and position,
 * `card` is an Adaptive Card or a {@link SimpleCard}, `payload` the raw reply value (`buttons`, `title`,
 * `attachments`, `channel_data` are read from it when present).
 */
export interface OutboundReply {
  id: string;
  text?: string;
  card?: unknown;
  payload?: unknown;
}

/** A button of a reply. `value` is what comes back as the action when it is pressed; `url` opens a link. */
export interface ReplyButton {
  title: string;
  value?: string;
  url?: string;
}

/** A card without Adaptive Card syntax: rendered natively where the channel can, as text elsewhere. */
export interface SimpleCard {
  title?: string;
  text?: string;
  buttons?: (ReplyButton | string)[];
  /** An image URL shown with the card. */
  image?: string;
}

/** Where a reply goes: read from the inbound envelope ({@link replyTargetOf}) or built for a proactive message. */
export interface ReplyTarget {
  provider: ProviderName;
  /** The connector id (the `:id` of the webhook URL). */
  connector: string;
  tenant: TenantCtx;
  /** Telegram chat id, Slack channel, Teams conversation id, WhatsApp wa_id. */
  conversation: string;
  /** Telegram `message_thread_id`, Slack `thread_ts`. */
  thread?: string;
  /** The message to answer (Teams activity id to reply to). */
  replyTo?: string;
  /** Provider details from the inbound envelope's metadata (`service_url`, `phone_number_id`, `bot_id`, ...). */
  metadata: Record<string, string>;
}

/**
 * One provider API call, ready to send. It holds no credential: the connector adds the token when it sends,
 * so a request can be logged and dead-lettered as it is.
 */
export interface ProviderRequest {
  provider: ProviderName;
  connector: string;
  /** The API operation (`sendMessage`, `chat.postMessage`, `activities`, `messages`, `answerCallbackQuery`). */
  op: string;
  method: 'POST' | 'PUT';
  /** Path below the connector's API base URL (below `baseUrl` when set). */
  path: string;
  /** An absolute base URL for this call instead of the connector's (Teams: the conversation's `serviceUrl`). */
  baseUrl?: string;
  /** The JSON body. */
  body: Record<string, unknown>;
}

/** The outcome of one provider call. */
export type SendResult =
  | { ok: true; status: number; providerMessageId?: string; response?: unknown }
  | {
      ok: false;
      /** HTTP status; absent for network errors and timeouts. */
      status?: number;
      /** 5xx, network, timeouts, 429, Teams 412: try again. Other 4xx: dead-letter. */
      retryable: boolean;
      /** How long the provider asked to wait (Telegram `parameters.retry_after`, `Retry-After`). */
      retryAfterMs?: number;
      /** The provider's own error code (`chat_not_found`, Telegram `error_code`, Graph `error.code`). */
      providerCode?: string;
      reason: string;
    };

/** Tokens per second and bucket size of a per-tenant rate limit. */
export interface RateLimitOptions {
  rps: number;
  burst: number;
}

/**
 * One configured channel endpoint: a provider bound to a tenant, with its secrets. The gateway routes
 * `/{provider}/{id}` to it; the outbox sends through it.
 */
export interface Connector {
  readonly provider: ProviderName;
  readonly id: string;
  readonly binding: TenantBinding;
  /** Per-tenant send rate for this connector, overriding the outbox default. */
  readonly rateLimit?: RateLimitOptions;
  /** How long provider message ids are remembered for replay protection (ms). */
  readonly replayTtlMs?: number;
  /** Answers requests that are handshakes rather than messages (WhatsApp `GET` subscribe); `undefined` otherwise. */
  handshake?(req: WebhookRequest): Promise<WebhookResponse | undefined>;
  /** Checks the request's signature or token on the raw bytes, before anything is parsed or stored. */
  verify(req: WebhookRequest): Promise<VerifyResult>;
  /** Turns a verified body (raw bytes or parsed JSON) into envelopes for the tenant of `binding`. */
  normalize(body: Buffer | string | object, binding?: TenantBinding): NormalizeResult;
  /** Turns one reply into the provider calls that deliver it, in order. */
  render(reply: OutboundReply, target: ReplyTarget): ProviderRequest[];
  /** Makes one provider call (adds the credentials, reads the provider's success/error shape). */
  send(req: ProviderRequest): Promise<SendResult>;
}

/** Shared by rendered attachments of every provider. */
export type ReplyAttachment = Attachment;
