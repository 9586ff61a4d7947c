import {
  type Attachment,
  type ChannelMessageEnvelope,
  channelMessage,
  copyJsonValue,
  EXT_KEYS,
  jsonValueProblem,
  type MessageMetadata,
  type TenantCtx,
} from '@greentic/types';
import { MessagingError } from '../errors.js';

/** The channel name WebChat envelopes carry. */
export const WEBCHAT_CHANNEL = 'webchat';
/** The attachment content type of an Adaptive Card. */
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** A Bot Framework channel account (`from`, `recipient`). */
export interface ChannelAccount {
  id: string;
  name?: string;
  role?: 'user' | 'bot';
}

/** A Bot Framework attachment. */
export interface ActivityAttachment {
  contentType: string;
  contentUrl?: string;
  content?: unknown;
  name?: string;
  thumbnailUrl?: string;
}

/** The subset of a Bot Framework activity (Direct Line 3.0) that this endpoint stores and serves. */
export interface Activity {
  type: string;
  /** `<conversationId>|<7-digit sequence>`, assigned by the store. */
  id: string;
  /** ISO 8601, assigned by the endpoint. */
  timestamp: string;
  channelId: string;
  conversation: { id: string };
  from: ChannelAccount;
  recipient?: ChannelAccount;
  text?: string;
  textFormat?: string;
  locale?: string;
  attachments?: ActivityAttachment[];
  /** Adaptive Card submit data, or an event's value. */
  value?: unknown;
  /** An event activity's name. */
  name?: string;
  channelData?: Record<string, unknown>;
  entities?: unknown[];
  replyToId?: string;
  inputHint?: string;
}

/** An activity before the store has given it an id. */
export type NewActivity = Omit<Activity, 'id'>;

/**
 * A reply of the bot, shaped like the runner's `OutboundMessage`: `id` is stable per turn and position and makes
 * delivery idempotent; `card` is an Adaptive Card (or a ready Bot Framework attachment with `contentType`).
 */
export interface BotMessage {
  id: string;
  text?: string;
  card?: unknown;
  /** Structured output; not rendered by WebChat. */
  payload?: unknown;
  /** The user activity this answers (becomes the activity's `replyToId`). */
  replyToId?: string;
}

/** Activity types a client may post. `message` and `event` go to the bot; `typing` is only relayed. */
export const CLIENT_ACTIVITY_TYPES = new Set(['message', 'event', 'typing']);

const MAX_TEXT = 28_000;
const MAX_ID = 256;
const MAX_ATTACHMENTS = 20;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badRequest(message: string): MessagingError {
  return new MessagingError('GT_MSG_WEBCHAT_BAD_REQUEST', message);
}

function jsonCopy(value: unknown, field: string): unknown {
  const problem = jsonValueProblem(value, { maxDepth: 32 });
  if (problem) throw badRequest(`activity.${field}${problem.pointer}: ${problem.message}`);
  return copyJsonValue(value, { maxDepth: 32 });
}

function optionalString(body: Record<string, unknown>, field: string, max: number): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`activity.${field} must be a string`);
  if (v.length > max) throw badRequest(`activity.${field} is longer than ${max} characters`);
  return v;
}

/**
 * Reads an activity posted by a client. Only known fields are kept; the server's own fields (`id`, `timestamp`,
 * `conversation`, `channelId`, `from.role`, `recipient`) are set here and never taken from the client. `from.id` is
 * the token's user when the token names one (so it cannot be forged), otherwise the client's `from.id`.
 */
export function readClientActivity(
  body: unknown,
  ctx: { conversationId: string; userId?: string; timestamp: string; botId: string },
): NewActivity {
  if (!isRecord(body)) throw badRequest('the activity must be a JSON object');
  const type = body.type;
  if (typeof type !== 'string' || !CLIENT_ACTIVITY_TYPES.has(type)) {
    throw badRequest(
      `activity.type must be one of ${[...CLIENT_ACTIVITY_TYPES].join(', ')} (got ${JSON.stringify(type)})`,
    );
  }
  let fromId = ctx.userId;
  let fromName: string | undefined;
  if (isRecord(body.from)) {
    if (fromId === undefined) {
      const id = body.from.id;
      if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID) fromId = id;
      else if (id !== undefined)
        throw badRequest(`activity.from.id must be a string of 1 to ${MAX_ID} characters`);
    }
    if (typeof body.from.name === 'string') fromName = body.from.name.slice(0, MAX_ID);
  }
  const activity: NewActivity = {
    type,
    timestamp: ctx.timestamp,
    channelId: WEBCHAT_CHANNEL,
    conversation: { id: ctx.conversationId },
    from: { id: fromId ?? 'anonymous', ...(fromName !== undefined ? { name: fromName } : {}), role: 'user' },
    recipient: { id: ctx.botId, role: 'bot' },
  };
  const text = optionalString(body, 'text', MAX_TEXT);
  if (text !== undefined) activity.text = text;
  const textFormat = optionalString(body, 'textFormat', 16);
  if (textFormat !== undefined) activity.textFormat = textFormat;
  const locale = optionalString(body, 'locale', 64);
  if (locale !== undefined) activity.locale = locale;
  const name = optionalString(body, 'name', MAX_ID);
  if (name !== undefined) activity.name = name;
  const replyToId = optionalString(body, 'replyToId', MAX_ID);
  if (replyToId !== undefined) activity.replyToId = replyToId;
  if (body.value !== undefined) activity.value = jsonCopy(body.value, 'value');
  if (body.channelData !== undefined) {
    if (!isRecord(body.channelData)) throw badRequest('activity.channelData must be a JSON object');
    activity.channelData = jsonCopy(body.channelData, 'channelData') as Record<string, unknown>;
  }
  if (body.entities !== undefined) {
    if (!Array.isArray(body.entities)) throw badRequest('activity.entities must be an array');
    activity.entities = jsonCopy(body.entities, 'entities') as unknown[];
  }
  if (body.attachments !== undefined) {
    if (!Array.isArray(body.attachments)) throw badRequest('activity.attachments must be an array');
    if (body.attachments.length > MAX_ATTACHMENTS) {
      throw badRequest(`activity.attachments has more than ${MAX_ATTACHMENTS} items`);
    }
    activity.attachments = body.attachments.map((a, i) => readAttachment(a, i));
  }
  return activity;
}

function readAttachment(a: unknown, i: number): ActivityAttachment {
  if (!isRecord(a) || typeof a.contentType !== 'string' || a.contentType.length === 0) {
    throw badRequest(`activity.attachments[${i}] must be an object with a contentType`);
  }
  const out: ActivityAttachment = { contentType: a.contentType.slice(0, MAX_ID) };
  for (const key of ['contentUrl', 'name', 'thumbnailUrl'] as const) {
    const v = a[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw badRequest(`activity.attachments[${i}].${key} must be a string`);
    out[key] = v;
  }
  if (a.content !== undefined) out.content = jsonCopy(a.content, `attachments[${i}].content`);
  if (out.contentUrl === undefined && out.content === undefined) {
    throw badRequest(`activity.attachments[${i}] needs a contentUrl or a content`);
  }
  return out;
}

/**
 * The envelope of a user activity (message or event) for the flow engine:
 * - `channel` is `webchat`, `session_id` and `reply_scope.conversation` are the Direct Line conversation id, and `id`
 *   is the activity id (stable, so a redelivered activity is recognised);
 * - `text`, and the attachments as envelope attachments (`url` from `contentUrl`, inline content as text/JSON);
 * - an Adaptive Card submit's `value`: `metadata.action` is `value.action` when that is a string, otherwise the value
 *   as JSON; the value's other top-level scalar fields (the card's inputs) are copied into `metadata` as strings;
 *   the whole value is kept in `extensions.value`;
 * - `metadata.locale` (when given), `metadata.event` (an event's name), `extensions.channel_data`/`entities`.
 */
export function activityToEnvelope(activity: Activity, tenant: TenantCtx): ChannelMessageEnvelope {
  const conversation = activity.conversation.id;
  const metadata: MessageMetadata = {};
  const extensions: Record<string, unknown> = {};
  const value = activity.value;
  if (value !== undefined) {
    if (isRecord(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'action') continue;
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') metadata[k] = String(v);
      }
    }
    metadata.action =
      isRecord(value) && typeof value.action === 'string' ? value.action : JSON.stringify(value);
    extensions.value = value;
  }
  if (activity.locale !== undefined) metadata.locale = activity.locale;
  if (activity.type === 'event') metadata.event = activity.name ?? '';
  if (activity.channelData !== undefined) extensions[EXT_KEYS.CHANNEL_DATA] = activity.channelData;
  if (activity.entities !== undefined && activity.entities.length > 0) {
    extensions[EXT_KEYS.ENTITIES] = activity.entities;
  }
  return channelMessage({
    id: activity.id,
    tenant,
    channel: WEBCHAT_CHANNEL,
    session_id: conversation,
    reply_scope: { conversation },
    from: { id: activity.from.id, kind: 'user' },
    text: activity.text,
    attachments: activity.attachments?.map(toEnvelopeAttachment),
    metadata,
    extensions,
  });
}

function toEnvelopeAttachment(a: ActivityAttachment): Attachment {
  const out: Attachment = { mime_type: a.contentType };
  if (a.contentUrl !== undefined) out.url = a.contentUrl;
  else out.content = typeof a.content === 'string' ? a.content : JSON.stringify(a.content);
  if (a.name !== undefined) out.name = a.name;
  return out;
}

/** What a bot message becomes in its activity: the text and the attachments. */
export interface BotMessageContent {
  message: BotMessage;
  text?: string;
  attachments: ActivityAttachment[];
}

/**
 * Checks a bot message given to `deliver()` and renders it for WebChat (which shows Adaptive Cards natively):
 * - `card` with `type: "AdaptiveCard"` → an Adaptive Card attachment; a ready Bot Framework attachment (an object
 *   with a `contentType`) is passed through;
 * - any other object card is a simple card `{title, text, image, buttons}` and becomes an Adaptive Card (a button
 *   `{title, value}` or a string submits `{action: value}`; `{title, url}` opens the URL); a string card is text;
 * - without a card, `payload.buttons` become a card of buttons; `payload.attachments` (`{mime_type, url, name}`)
 *   become attachments with a `contentUrl`.
 */
export function checkBotMessage(message: unknown): BotMessageContent {
  if (!isRecord(message) || typeof message.id !== 'string' || message.id.length === 0) {
    throw new MessagingError(
      'GT_MSG_WEBCHAT_BAD_MESSAGE',
      'deliver() needs a message with a non-empty string id (the OutboundMessage id that makes delivery idempotent)',
    );
  }
  if (message.text !== undefined && typeof message.text !== 'string') {
    throw new MessagingError('GT_MSG_WEBCHAT_BAD_MESSAGE', `message ${message.id}: text must be a string`);
  }
  if (message.replyToId !== undefined && typeof message.replyToId !== 'string') {
    throw new MessagingError(
      'GT_MSG_WEBCHAT_BAD_MESSAGE',
      `message ${message.id}: replyToId must be a string`,
    );
  }
  const msg = message as unknown as BotMessage;
  const texts = msg.text !== undefined && msg.text !== '' ? [msg.text] : [];
  const attachments: ActivityAttachment[] = [];
  const payload = isRecord(msg.payload) ? msg.payload : {};
  if (msg.card !== undefined && msg.card !== null) {
    const problem = jsonValueProblem(msg.card);
    if (problem) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_MESSAGE',
        `message ${msg.id}: card${problem.pointer} ${problem.message}; a card must be JSON`,
      );
    }
    const card = copyJsonValue(msg.card) as unknown;
    if (typeof card === 'string') {
      if (card !== '') texts.push(card);
    } else if (isRecord(card) && typeof card.contentType === 'string') {
      attachments.push(card as unknown as ActivityAttachment);
    } else if (isRecord(card) && card.type !== 'AdaptiveCard' && !Array.isArray(card.body)) {
      attachments.push({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: simpleCardToAdaptive(card) });
    } else {
      attachments.push({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card });
    }
  } else if (Array.isArray(payload.buttons) && payload.buttons.length > 0) {
    const card = simpleCardToAdaptive({ buttons: payload.buttons });
    if (Array.isArray(card.actions) && card.actions.length > 0) {
      attachments.push({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card });
    }
  }
  if (Array.isArray(payload.attachments)) {
    for (const a of payload.attachments) {
      if (isRecord(a) && typeof a.mime_type === 'string' && typeof a.url === 'string') {
        attachments.push({
          contentType: a.mime_type,
          contentUrl: a.url,
          ...(typeof a.name === 'string' ? { name: a.name } : {}),
        });
      }
    }
  }
  return { message: msg, ...(texts.length > 0 ? { text: texts.join('\n\n') } : {}), attachments };
}

const nonEmpty = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** A simple card `{title, text, image, buttons}` as an Adaptive Card 1.5. */
export function simpleCardToAdaptive(card: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown>[] = [];
  const title = nonEmpty(card.title);
  if (title)
    body.push({
      type: 'TextBlock',
      text: title,
      weight: 'Bolder',
      size: 'Medium',
      style: 'heading',
      wrap: true,
    });
  const text = nonEmpty(card.text);
  if (text) body.push({ type: 'TextBlock', text, wrap: true });
  const image = nonEmpty(card.image);
  if (image) body.push({ type: 'Image', url: image, altText: title ?? '' });
  const actions: Record<string, unknown>[] = [];
  const buttons = Array.isArray(card.buttons)
    ? card.buttons
    : Array.isArray(card.actions)
      ? card.actions
      : [];
  for (const b of buttons) {
    if (typeof b === 'string') {
      if (b) actions.push({ type: 'Action.Submit', title: b, data: { action: b } });
      continue;
    }
    if (!isRecord(b)) continue;
    const label = nonEmpty(b.title) ?? nonEmpty(b.label) ?? nonEmpty(b.text);
    const url = nonEmpty(b.url);
    const raw = b.value ?? b.data ?? b.id;
    const value = typeof raw === 'string' ? raw : raw === undefined ? undefined : JSON.stringify(raw);
    if (url && label) actions.push({ type: 'Action.OpenUrl', title: label, url });
    else if (label ?? value) {
      actions.push({ type: 'Action.Submit', title: label ?? value, data: { action: value ?? label } });
    }
  }
  return { type: 'AdaptiveCard', version: '1.5', body, ...(actions.length > 0 ? { actions } : {}) };
}
