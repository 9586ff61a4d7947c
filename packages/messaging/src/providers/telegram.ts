import type { Actor, Attachment } from '@greentic/types';
import { badPayload, buildEnvelope, META, parseJsonBody } from '../envelope.js';
import { MessagingError } from '../errors.js';
import { isRecord, isRetryableStatus, joinUrl } from '../http.js';
import { isEmptyModel, type RenderModel, renderModel } from '../render/model.js';
import { downgradeToText, escapeMarkdownV2, splitText } from '../render/text.js';
import { resolveSecret, resolveSecretList, type SecretList, type SecretValue } from '../secrets.js';
import type {
  NormalizedMessage,
  NormalizeResult,
  OutboundReply,
  ProviderRequest,
  ReplyTarget,
  SendResult,
  TenantBinding,
  VerifyResult,
  WebhookRequest,
} from '../types.js';
import { forbidden, header, matchesAny, unauthorized } from '../verify.js';
import { BaseConnector, type ConnectorCommonConfig, isFailure, requireSecret } from './base.js';

export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';
export const TELEGRAM_API_BASE = 'https://api.telegram.org';
/** Bot API limits: message text 4096 characters, `callback_data` 1–64 bytes. */
export const TELEGRAM_MAX_TEXT = 4096;
export const TELEGRAM_MAX_CALLBACK_DATA = 64;

export interface TelegramConfig extends ConnectorCommonConfig {
  /** The bot token from BotFather (used to send; it goes in the API URL, never in logs or dead letters). */
  botToken: SecretValue;
  /**
   * The `secret_token` given to `setWebhook`, echoed in `X-Telegram-Bot-Api-Secret-Token`. During a rotation
   * list both: call `setWebhook` with the new one, then drop the old one.
   */
  webhookSecrets: SecretList;
  /** `MarkdownV2` (default: text escaped, card titles bold) or `plain`. */
  parseMode?: 'MarkdownV2' | 'plain';
  /**
   * How a button press (`callback_query`) is acknowledged so the client stops its spinner: `webhook` (default)
   * answers `answerCallbackQuery` in the webhook response itself, `api` calls the Bot API after queueing, `off`
   * leaves it to the flow.
   */
  answerCallbacks?: 'webhook' | 'api' | 'off';
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/** Telegram Bot API connector: webhook updates in, `sendMessage`/`sendPhoto`/`sendDocument` out. */
export class TelegramConnector extends BaseConnector {
  readonly provider = 'telegram' as const;
  private readonly botToken: SecretValue;
  private readonly secrets: SecretList;
  private readonly parseMode: 'MarkdownV2' | 'plain';
  private readonly answerCallbacks: 'webhook' | 'api' | 'off';

  constructor(config: TelegramConfig) {
    super('telegram', config, TELEGRAM_API_BASE);
    const where = `telegram/${this.id}`;
    requireSecret(config.botToken, 'botToken', where);
    requireSecret(config.webhookSecrets, 'webhookSecrets (the setWebhook secret_token)', where);
    this.botToken = config.botToken;
    this.secrets = config.webhookSecrets;
    this.parseMode = config.parseMode ?? 'MarkdownV2';
    this.answerCallbacks = config.answerCallbacks ?? 'webhook';
  }

  async verify(req: WebhookRequest): Promise<VerifyResult> {
    const got = header(req.headers, TELEGRAM_SECRET_HEADER);
    if (got === undefined || got === '') return unauthorized(`missing ${TELEGRAM_SECRET_HEADER} header`);
    const live = await resolveSecretList(this.secrets);
    return matchesAny(got, live) ? { ok: true } : forbidden(`${TELEGRAM_SECRET_HEADER} does not match`);
  }

  normalize(body: Buffer | string | object, binding?: TenantBinding): NormalizeResult {
    const update = parseJsonBody(body, 'telegram');
    if (!isRecord(update) || typeof update.update_id !== 'number') {
      throw badPayload('telegram', 'an update needs a numeric update_id');
    }
    const providerMessageId = String(update.update_id);
    const tenant = this.tenantFor(binding);
    const base = { provider: 'telegram' as const, connector: this.id, tenant, providerMessageId };

    if (isRecord(update.callback_query)) {
      const cq = update.callback_query;
      const message = isRecord(cq.message) ? cq.message : undefined;
      const chat = isRecord(message?.chat) ? message.chat : undefined;
      const from = isRecord(cq.from) ? cq.from : undefined;
      const data = str(cq.data);
      const followUps: ProviderRequest[] = [];
      const answer = { callback_query_id: String(cq.id) };
      const result: NormalizeResult = { messages: [], providerMessageId };
      if (this.answerCallbacks === 'webhook') {
        result.response = { status: 200, body: { method: 'answerCallbackQuery', ...answer } };
      } else if (this.answerCallbacks === 'api') {
        followUps.push(this.request('answerCallbackQuery', 'answerCallbackQuery', answer));
        result.followUps = followUps;
      }
      if (data === undefined) return { ...result, ignored: 'callback_query without data (game)' };
      const conversation = str(chat?.id) ?? str(from?.id);
      if (conversation === undefined)
        throw badPayload('telegram', 'callback_query has neither message.chat nor from');
      result.messages.push({
        providerMessageId,
        envelope: buildEnvelope({
          ...base,
          conversation,
          thread: str(message?.message_thread_id),
          from: actorOf(from),
          text: data,
          metadata: {
            [META.ACTION]: data,
            [META.ACTION_SOURCE]: 'callback_query',
            callback_query_id: String(cq.id),
            [META.MESSAGE_ID]: str(message?.message_id),
            inline_message_id: str(cq.inline_message_id),
            chat_type: str(chat?.type),
          },
        }),
      });
      return result;
    }

    const kind = [
      'message',
      'edited_message',
      'channel_post',
      'edited_channel_post',
      'business_message',
    ].find((k) => isRecord(update[k]));
    if (kind === undefined) {
      const type = Object.keys(update).find((k) => k !== 'update_id') ?? 'empty';
      return { messages: [], providerMessageId, ignored: `update type "${type}" carries no message` };
    }
    const message = update[kind] as Record<string, unknown>;
    const chat = isRecord(message.chat) ? message.chat : undefined;
    if (chat?.id === undefined) throw badPayload('telegram', `${kind}.chat.id is missing`);
    const text = str(message.text) ?? str(message.caption);
    const attachments = attachmentsOf(message);
    const extensions: Record<string, unknown> = {};
    const entities = message.entities ?? message.caption_entities;
    if (Array.isArray(entities)) extensions.entities = entities;
    for (const k of ['location', 'venue', 'contact', 'poll', 'dice'] as const) {
      if (isRecord(message[k])) extensions[k] = message[k];
    }
    if (text === undefined && attachments.length === 0 && Object.keys(extensions).length === 0) {
      return { messages: [], providerMessageId, ignored: `${kind} is a service message (no text or media)` };
    }
    const reply = isRecord(message.reply_to_message) ? message.reply_to_message : undefined;
    const msg: NormalizedMessage = {
      providerMessageId,
      envelope: buildEnvelope({
        ...base,
        conversation: String(chat.id),
        thread: str(message.message_thread_id),
        from: isRecord(message.from)
          ? actorOf(message.from)
          : isRecord(message.sender_chat)
            ? { id: String(message.sender_chat.id), kind: 'channel' }
            : undefined,
        text,
        attachments,
        metadata: {
          [META.MESSAGE_ID]: str(message.message_id),
          chat_type: str(chat.type),
          update_kind: kind,
          edited: kind.startsWith('edited_') ? 'true' : undefined,
          reply_to_message_id: str(reply?.message_id),
          media_group_id: str(message.media_group_id),
        },
        extensions,
      }),
    };
    return { messages: [msg], providerMessageId };
  }

  render(reply: OutboundReply, target: ReplyTarget): ProviderRequest[] {
    const m = renderModel(reply);
    if (isEmptyModel(m)) throw new MessagingError('GT_MSG_RENDER', `reply ${reply.id} has nothing to send`);
    const chat = chatId(target.conversation);
    const common: Record<string, unknown> = { chat_id: chat };
    const thread =
      target.thread !== undefined && /^\d+$/.test(target.thread) ? Number(target.thread) : undefined;
    if (thread !== undefined) common.message_thread_id = thread;
    if (target.replyTo !== undefined && /^\d+$/.test(target.replyTo)) {
      common.reply_parameters = { message_id: Number(target.replyTo), allow_sending_without_reply: true };
    }
    const out: ProviderRequest[] = [];
    if (m.image !== undefined)
      out.push(this.request('sendPhoto', 'sendPhoto', { ...common, photo: m.image }));
    for (const a of m.attachments) {
      const [op, field] = mediaMethod(a);
      out.push(
        this.request(op, op, {
          ...common,
          [field]: a.url,
          ...(a.name !== undefined ? { caption: a.name } : {}),
        }),
      );
    }
    const keyboardFits = m.buttons.every(
      (b) => b.url !== undefined || Buffer.byteLength(b.value ?? '', 'utf8') <= TELEGRAM_MAX_CALLBACK_DATA,
    );
    const textModel: RenderModel = keyboardFits ? { ...m, buttons: [] } : m;
    const chunks = this.textChunks(textModel);
    chunks.forEach((text, i) => {
      const body: Record<string, unknown> = { ...common, text };
      if (this.parseMode === 'MarkdownV2') body.parse_mode = 'MarkdownV2';
      if (i === chunks.length - 1 && keyboardFits && m.buttons.length > 0) {
        body.reply_markup = {
          inline_keyboard: m.buttons.map((b) => [
            b.url !== undefined ? { text: b.title, url: b.url } : { text: b.title, callback_data: b.value },
          ]),
        };
      }
      out.push(this.request('sendMessage', 'sendMessage', body));
    });
    return out;
  }

  /** The text messages of a model: title (bold in MarkdownV2) and text, split at 4096 characters. */
  private textChunks(m: RenderModel): string[] {
    const plain = downgradeToText({ ...m, title: undefined }, { withImage: false });
    const hasTitle = m.title !== undefined;
    if (!hasTitle && plain === '') return m.buttons.length > 0 ? [this.escape('…')] : [];
    const titleLen = hasTitle ? (m.title as string).length + 2 : 0;
    const pieces = plain === '' ? [''] : splitText(plain, TELEGRAM_MAX_TEXT - Math.min(titleLen, 2048));
    return pieces.map((p, i) => {
      if (i > 0 || !hasTitle) return this.escape(p);
      const title = this.parseMode === 'MarkdownV2' ? `*${escapeMarkdownV2(m.title as string)}*` : m.title;
      return p === '' ? (title as string) : `${title}\n\n${this.escape(p)}`;
    });
  }

  private escape(text: string): string {
    return this.parseMode === 'MarkdownV2' ? escapeMarkdownV2(text) : text;
  }

  async send(req: ProviderRequest): Promise<SendResult> {
    let token: string;
    try {
      token = await resolveSecret(this.botToken, `telegram/${this.id} botToken`);
    } catch (e) {
      return { ok: false, retryable: false, reason: (e as Error).message };
    }
    const answer = await this.call(joinUrl(req.baseUrl ?? this.apiBaseUrl, `bot${token}/${req.path}`), {
      method: 'POST',
      body: req.body,
    });
    if (isFailure(answer)) return answer;
    const json = isRecord(answer.json) ? answer.json : undefined;
    if (json?.ok === true && answer.status < 300) {
      const result = json.result;
      const id = isRecord(result) ? str(result.message_id) : undefined;
      return {
        ok: true,
        status: answer.status,
        ...(id !== undefined ? { providerMessageId: id } : {}),
        response: result,
      };
    }
    const params = isRecord(json?.parameters) ? json.parameters : undefined;
    const retryAfter = typeof params?.retry_after === 'number' ? params.retry_after * 1000 : undefined;
    const status = typeof json?.error_code === 'number' ? json.error_code : answer.status;
    const description = str(json?.description) ?? `HTTP ${answer.status}`;
    return {
      ok: false,
      status,
      retryable: isRetryableStatus(status) && status !== 412,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
      providerCode: String(status),
      reason: `telegram ${req.op}: ${description}`,
    };
  }
}

function actorOf(from: Record<string, unknown> | undefined): Actor | undefined {
  if (from?.id === undefined) return undefined;
  return { id: String(from.id), kind: from.is_bot === true ? 'bot' : 'user' };
}

/** A Telegram chat id: numeric ids as numbers, `@channel` names as they are. */
function chatId(conversation: string): number | string {
  if (/^-?\d+$/.test(conversation)) {
    const n = Number(conversation);
    if (Number.isSafeInteger(n)) return n;
  }
  return conversation;
}

function mediaMethod(a: Attachment): [string, string] {
  if (a.mime_type.startsWith('image/')) return ['sendPhoto', 'photo'];
  if (a.mime_type.startsWith('video/')) return ['sendVideo', 'video'];
  if (a.mime_type.startsWith('audio/')) return ['sendAudio', 'audio'];
  return ['sendDocument', 'document'];
}

/**
 * Attachments of a message. Telegram sends file ids, not URLs: the URL is `telegram-file:<file_id>`; a flow
 * that needs the bytes resolves it with `getFile` (the download URL contains the bot token, so it is not put in
 * the envelope).
 */
function attachmentsOf(message: Record<string, unknown>): Attachment[] {
  const out: Attachment[] = [];
  const file = (f: unknown, mime: string, name?: string) => {
    if (!isRecord(f) || typeof f.file_id !== 'string') return;
    const a: Attachment = {
      mime_type: typeof f.mime_type === 'string' ? f.mime_type : mime,
      url: `telegram-file:${f.file_id}`,
    };
    const n = typeof f.file_name === 'string' ? f.file_name : name;
    if (n !== undefined) a.name = n;
    if (typeof f.file_size === 'number') a.size_bytes = f.file_size;
    out.push(a);
  };
  if (Array.isArray(message.photo) && message.photo.length > 0) {
    // PhotoSize[]: the same photo in several sizes; keep the largest.
    const sizes = message.photo.filter(isRecord);
    const largest = sizes.reduce((a, b) =>
      Number(b.file_size ?? Number(b.width ?? 0) * Number(b.height ?? 0)) >
      Number(a.file_size ?? Number(a.width ?? 0) * Number(a.height ?? 0))
        ? b
        : a,
    );
    file(largest, 'image/jpeg');
  }
  file(message.document, 'application/octet-stream');
  file(message.video, 'video/mp4');
  file(message.animation, 'video/mp4');
  file(message.audio, 'audio/mpeg');
  file(message.voice, 'audio/ogg');
  file(message.video_note, 'video/mp4');
  file(
    message.sticker,
    isRecord(message.sticker) && message.sticker.is_animated ? 'application/x-tgsticker' : 'image/webp',
  );
  return out;
}
