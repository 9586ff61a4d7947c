import type { Attachment } from '@greentic/types';
import { badPayload, buildEnvelope, META, parseJsonBody } from '../envelope.js';
import { MessagingError } from '../errors.js';
import { isRecord, joinUrl, retryAfterMs } from '../http.js';
import { isEmptyModel, renderModel } from '../render/model.js';
import { downgradeToText, splitText } from '../render/text.js';
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
  WebhookResponse,
} from '../types.js';
import { constantTimeEqual, forbidden, header, hmacSha256Hex, matchesAny, unauthorized } from '../verify.js';
import { BaseConnector, type ConnectorCommonConfig, isFailure, requireSecret } from './base.js';

export const WHATSAPP_API_BASE = 'https://graph.facebook.com';
export const WHATSAPP_DEFAULT_API_VERSION = 'v21.0';
export const WHATSAPP_SIGNATURE_HEADER = 'x-hub-signature-256';
/** Cloud API limits: text body 4096, interactive body 1024, ≤ 3 reply buttons with titles ≤ 20 and ids ≤ 256. */
const TEXT_MAX = 4096;
const INTERACTIVE_BODY_MAX = 1024;
const MAX_BUTTONS = 3;
const BUTTON_TITLE_MAX = 20;
const BUTTON_ID_MAX = 256;
/** Graph error codes that are throttling or transient service trouble: retried with backoff. */
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004]);

export interface WhatsAppConfig extends ConnectorCommonConfig {
  /** The Meta app secret(s) that sign `X-Hub-Signature-256`; during a rotation both. */
  appSecrets: SecretList;
  /** The verify token(s) of the `GET hub.mode=subscribe` handshake. */
  verifyTokens: SecretList;
  /** The system-user or app access token for the Cloud API. */
  accessToken: SecretValue;
  /** The business phone number id replies are sent from; messages to other numbers of the app are ignored. */
  phoneNumberId: string;
  /** Graph API version in the send URL; default `v21.0`. */
  apiVersion?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** WhatsApp Cloud API connector: webhook notifications in, `POST /{version}/{phone-number-id}/messages` out. */
export class WhatsAppConnector extends BaseConnector {
  readonly provider = 'whatsapp' as const;
  private readonly appSecrets: SecretList;
  private readonly verifyTokens: SecretList;
  private readonly accessToken: SecretValue;
  private readonly phoneNumberId: string;
  private readonly apiVersion: string;

  constructor(config: WhatsAppConfig) {
    super('whatsapp', config, WHATSAPP_API_BASE);
    const where = `whatsapp/${this.id}`;
    requireSecret(config.appSecrets, 'appSecrets', where);
    requireSecret(config.verifyTokens, 'verifyTokens', where);
    requireSecret(config.accessToken, 'accessToken', where);
    if (typeof config.phoneNumberId !== 'string' || !/^\d+$/.test(config.phoneNumberId)) {
      throw new MessagingError(
        'GT_MSG_CONFIG',
        `${where}: phoneNumberId must be the numeric phone number id`,
      );
    }
    this.appSecrets = config.appSecrets;
    this.verifyTokens = config.verifyTokens;
    this.accessToken = config.accessToken;
    this.phoneNumberId = config.phoneNumberId;
    this.apiVersion = config.apiVersion ?? WHATSAPP_DEFAULT_API_VERSION;
  }

  /** The subscribe handshake: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` echoes the challenge. */
  override async handshake(req: WebhookRequest): Promise<WebhookResponse | undefined> {
    if (req.method !== 'GET') return undefined;
    const q = (k: string) => {
      const v = req.query[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const token = q('hub.verify_token');
    const challenge = q('hub.challenge');
    if (q('hub.mode') !== 'subscribe' || token === undefined || challenge === undefined) {
      return { status: 403, body: { error: 'forbidden' } };
    }
    const live = await resolveSecretList(this.verifyTokens);
    if (!matchesAny(token, live)) return { status: 403, body: { error: 'forbidden' } };
    return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: challenge };
  }

  /** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`. */
  async verify(req: WebhookRequest): Promise<VerifyResult> {
    const sig = header(req.headers, WHATSAPP_SIGNATURE_HEADER);
    if (!sig) return unauthorized('missing X-Hub-Signature-256');
    if (!sig.startsWith('sha256=')) return forbidden('X-Hub-Signature-256 is not sha256=');
    const live = await resolveSecretList(this.appSecrets);
    let ok = false;
    for (const secret of live)
      ok = constantTimeEqual(sig, `sha256=${hmacSha256Hex(secret, req.rawBody)}`) || ok;
    return ok ? { ok: true } : forbidden('signature does not match');
  }

  normalize(body: Buffer | string | object, binding?: TenantBinding): NormalizeResult {
    const p = parseJsonBody(body, 'whatsapp');
    if (!isRecord(p) || !Array.isArray(p.entry))
      throw badPayload('whatsapp', 'notification needs an entry array');
    if (p.object !== 'whatsapp_business_account') {
      return { messages: [], ignored: `object "${String(p.object)}" is not whatsapp_business_account` };
    }
    const tenant = this.tenantFor(binding);
    const messages: NormalizedMessage[] = [];
    const ignored: string[] = [];
    for (const entry of p.entry.filter(isRecord)) {
      for (const change of Array.isArray(entry.changes) ? entry.changes.filter(isRecord) : []) {
        const value = isRecord(change.value) ? change.value : undefined;
        if (change.field !== 'messages' || value === undefined) {
          ignored.push(`field "${String(change.field)}"`);
          continue;
        }
        const meta = isRecord(value.metadata) ? value.metadata : {};
        const phoneId = str(meta.phone_number_id);
        if (phoneId !== this.phoneNumberId) {
          ignored.push(`phone number ${String(phoneId)} is not this connector's`);
          continue;
        }
        if (Array.isArray(value.statuses) && value.statuses.length > 0) ignored.push('status updates');
        for (const msg of Array.isArray(value.messages) ? value.messages.filter(isRecord) : []) {
          const n = this.message(msg, tenant, phoneId, str(meta.display_phone_number));
          if (typeof n === 'string') ignored.push(n);
          else messages.push(n);
        }
      }
    }
    const result: NormalizeResult = { messages };
    if (messages[0]) result.providerMessageId = messages[0].providerMessageId;
    if (messages.length === 0) result.ignored = ignored.join('; ') || 'no messages';
    return result;
  }

  private message(
    msg: Record<string, unknown>,
    tenant: ReturnType<BaseConnector['tenantFor']>,
    phoneId: string,
    display: string | undefined,
  ): NormalizedMessage | string {
    const id = str(msg.id);
    const from = str(msg.from);
    if (id === undefined || from === undefined) throw badPayload('whatsapp', 'a message needs id and from');
    const type = str(msg.type) ?? 'unknown';
    const metadata: Record<string, string | undefined> = {
      [META.MESSAGE_ID]: id,
      phone_number_id: phoneId,
      display_phone_number: display,
      message_type: type,
      wa_timestamp: str(msg.timestamp),
      context_message_id: isRecord(msg.context) ? str(msg.context.id) : undefined,
    };
    const extensions: Record<string, unknown> = {};
    const attachments: Attachment[] = [];
    let text: string | undefined;
    switch (type) {
      case 'text':
        text = isRecord(msg.text) ? str(msg.text.body) : undefined;
        break;
      case 'image':
      case 'video':
      case 'audio':
      case 'document':
      case 'sticker': {
        const media = isRecord(msg[type]) ? (msg[type] as Record<string, unknown>) : {};
        const mediaId = str(media.id);
        if (mediaId === undefined) return `${type} without media id`;
        // Media comes as an id; its download URL needs the access token (GET /{media-id}), so keep the id.
        const a: Attachment = {
          mime_type: str(media.mime_type) ?? 'application/octet-stream',
          url: `whatsapp-media:${mediaId}`,
        };
        if (str(media.filename)) a.name = media.filename as string;
        attachments.push(a);
        text = str(media.caption);
        break;
      }
      case 'interactive': {
        const it = isRecord(msg.interactive) ? msg.interactive : {};
        const reply = isRecord(it.button_reply)
          ? it.button_reply
          : isRecord(it.list_reply)
            ? it.list_reply
            : undefined;
        if (reply === undefined || str(reply.id) === undefined)
          return 'interactive message without a reply id';
        text = reply.id as string;
        metadata[META.ACTION] = text;
        metadata[META.ACTION_SOURCE] = str(it.type) ?? 'interactive';
        metadata[META.ACTION_TITLE] = str(reply.title);
        break;
      }
      case 'button': {
        // A quick-reply button of a template message.
        const b = isRecord(msg.button) ? msg.button : {};
        text = str(b.payload) ?? str(b.text);
        if (text === undefined) return 'button message without payload';
        metadata[META.ACTION] = text;
        metadata[META.ACTION_SOURCE] = 'template_button';
        metadata[META.ACTION_TITLE] = str(b.text);
        break;
      }
      case 'location':
      case 'contacts':
        extensions[type] = msg[type];
        break;
      default:
        return `message type "${type}"`;
    }
    return {
      providerMessageId: id,
      envelope: buildEnvelope({
        provider: 'whatsapp',
        connector: this.id,
        tenant,
        providerMessageId: id,
        conversation: from,
        from: { id: from, kind: 'user' },
        text,
        attachments,
        metadata,
        extensions,
      }),
    };
  }

  render(reply: OutboundReply, target: ReplyTarget): ProviderRequest[] {
    const m = renderModel(reply);
    if (isEmptyModel(m)) throw new MessagingError('GT_MSG_RENDER', `reply ${reply.id} has nothing to send`);
    const phoneId = target.metadata.phone_number_id ?? this.phoneNumberId;
    const path = `${this.apiVersion}/${phoneId}/messages`;
    const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: target.conversation };
    const out: ProviderRequest[] = [];
    const send = (body: Record<string, unknown>) =>
      out.push(this.request('messages', path, { ...base, ...body }));
    if (m.image !== undefined) send({ type: 'image', image: { link: m.image } });
    for (const a of m.attachments) {
      const kind = a.mime_type.startsWith('image/')
        ? 'image'
        : a.mime_type.startsWith('video/')
          ? 'video'
          : a.mime_type.startsWith('audio/')
            ? 'audio'
            : 'document';
      send({
        type: kind,
        [kind]: { link: a.url, ...(kind === 'document' && a.name ? { filename: a.name } : {}) },
      });
    }
    const bodyText = m.text ?? m.title;
    const interactive =
      m.buttons.length > 0 &&
      m.buttons.length <= MAX_BUTTONS &&
      m.buttons.every(
        (b) =>
          b.url === undefined &&
          b.title.length <= BUTTON_TITLE_MAX &&
          (b.value ?? b.title).length <= BUTTON_ID_MAX,
      ) &&
      bodyText !== undefined &&
      bodyText.length <= INTERACTIVE_BODY_MAX;
    if (interactive) {
      send({
        type: 'interactive',
        interactive: {
          type: 'button',
          ...(m.title !== undefined && m.text !== undefined
            ? { header: { type: 'text', text: m.title.slice(0, 60) } }
            : {}),
          body: { text: bodyText },
          action: {
            buttons: m.buttons.map((b) => ({
              type: 'reply',
              reply: { id: b.value ?? b.title, title: b.title },
            })),
          },
        },
      });
    } else {
      const text = downgradeToText(m, { withImage: false });
      if (text !== '')
        for (const part of splitText(text, TEXT_MAX))
          send({ type: 'text', text: { body: part, preview_url: false } });
    }
    if (target.replyTo !== undefined && out[0]) out[0].body.context = { message_id: target.replyTo };
    return out;
  }

  async send(req: ProviderRequest): Promise<SendResult> {
    let token: string;
    try {
      token = await resolveSecret(this.accessToken, `whatsapp/${this.id} accessToken`);
    } catch (e) {
      return { ok: false, retryable: false, reason: (e as Error).message };
    }
    const answer = await this.call(joinUrl(req.baseUrl ?? this.apiBaseUrl, req.path), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: req.body,
    });
    if (isFailure(answer)) return answer;
    const json = isRecord(answer.json) ? answer.json : undefined;
    if (answer.status >= 200 && answer.status < 300) {
      const first =
        Array.isArray(json?.messages) && isRecord(json.messages[0]) ? str(json.messages[0].id) : undefined;
      return {
        ok: true,
        status: answer.status,
        ...(first !== undefined ? { providerMessageId: first } : {}),
        response: json,
      };
    }
    const err = isRecord(json?.error) ? json.error : {};
    const code = typeof err.code === 'number' ? err.code : undefined;
    const wait = retryAfterMs(answer.headers.get('retry-after'), this.now());
    const retryable =
      answer.status >= 500 ||
      answer.status === 429 ||
      answer.status === 408 ||
      err.is_transient === true ||
      (code !== undefined && RETRYABLE_CODES.has(code));
    return {
      ok: false,
      status: answer.status,
      retryable,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      ...(code !== undefined ? { providerCode: String(code) } : {}),
      reason: `whatsapp ${req.op}: HTTP ${answer.status}${str(err.message) ? ` ${String(err.message)}` : ''}`,
    };
  }
}
