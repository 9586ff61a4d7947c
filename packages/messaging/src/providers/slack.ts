import type { Attachment } from '@greentic/types';
import { badPayload, buildEnvelope, META } from '../envelope.js';
import { MessagingError } from '../errors.js';
import { isRecord, joinUrl, retryAfterMs } from '../http.js';
import { isEmptyModel, renderModel } from '../render/model.js';
import { downgradeToText, escapeSlack, splitText } from '../render/text.js';
import { resolveSecret, resolveSecretList, type SecretList, type SecretValue } from '../secrets.js';
import type {
  NormalizeResult,
  OutboundReply,
  ProviderRequest,
  ReplyTarget,
  SendResult,
  TenantBinding,
  VerifyResult,
  WebhookRequest,
} from '../types.js';
import { forbidden, header, hmacSha256Hex, matchesAny, unauthorized } from '../verify.js';
import { BaseConnector, type ConnectorCommonConfig, isFailure, requireSecret } from './base.js';

export const SLACK_API_BASE = 'https://slack.com/api';
export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
/** Slack's documented replay window: requests whose timestamp is more than 5 minutes off are refused. */
export const SLACK_DEFAULT_TOLERANCE_SEC = 300;
/** Block Kit limits: section text 3000 chars, header 150, button text 75, button value 2000, 25 per actions block. */
const SECTION_MAX = 3000;
const HEADER_MAX = 150;
const BUTTON_TEXT_MAX = 75;
const BUTTON_VALUE_MAX = 2000;
const ACTIONS_MAX = 25;
/** `chat.postMessage` errors worth retrying (the rest, like `channel_not_found`, never succeed on a retry). */
const RETRYABLE_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);
/** Message subtypes that are people writing; all others (joins, edits, deletions, bot messages) are ignored. */
const USER_SUBTYPES = new Set([undefined, 'file_share', 'thread_broadcast', 'me_message']);

export interface SlackConfig extends ConnectorCommonConfig {
  /** The app's signing secrets; during a rotation both the old and the new one. */
  signingSecrets: SecretList;
  /** The bot token (`xoxb-…`) used for `chat.postMessage`. */
  botToken: SecretValue;
  /** The bot's user id: its own messages are ignored (also read from `authorizations` when Slack sends them). */
  botUserId?: string;
  /** Allowed clock difference for `X-Slack-Request-Timestamp` (s); default 300. */
  toleranceSec?: number;
  /** Answer top-level channel messages in a thread under them (default: in the channel). */
  replyInThread?: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** Slack connector: Events API and interactivity in (one Request URL for both), `chat.postMessage` out. */
export class SlackConnector extends BaseConnector {
  readonly provider = 'slack' as const;
  private readonly secrets: SecretList;
  private readonly botToken: SecretValue;
  private readonly botUserId: string | undefined;
  private readonly toleranceSec: number;
  private readonly replyInThread: boolean;

  constructor(config: SlackConfig) {
    super('slack', config, SLACK_API_BASE);
    const where = `slack/${this.id}`;
    requireSecret(config.signingSecrets, 'signingSecrets', where);
    requireSecret(config.botToken, 'botToken', where);
    this.secrets = config.signingSecrets;
    this.botToken = config.botToken;
    this.botUserId = config.botUserId;
    this.toleranceSec = config.toleranceSec ?? SLACK_DEFAULT_TOLERANCE_SEC;
    this.replyInThread = config.replyInThread ?? false;
  }

  /** `X-Slack-Signature` = `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`, timestamp within 5 minutes. */
  async verify(req: WebhookRequest): Promise<VerifyResult> {
    const ts = header(req.headers, SLACK_TIMESTAMP_HEADER);
    const sig = header(req.headers, SLACK_SIGNATURE_HEADER);
    if (!ts || !sig) return unauthorized('missing X-Slack-Signature or X-Slack-Request-Timestamp');
    if (!/^\d{1,12}$/.test(ts)) return unauthorized('X-Slack-Request-Timestamp is not a number');
    const skew = Math.abs(this.now() / 1000 - Number(ts));
    if (skew > this.toleranceSec)
      return forbidden(`timestamp is ${Math.round(skew)} s off (limit ${this.toleranceSec} s)`);
    if (!sig.startsWith('v0=')) return forbidden('signature version is not v0');
    const live = await resolveSecretList(this.secrets);
    const expected = live.map((secret) => `v0=${hmacSha256Hex(secret, `v0:${ts}:`, req.rawBody)}`);
    return matchesAny(sig, expected) ? { ok: true } : forbidden('signature does not match');
  }

  normalize(body: Buffer | string | object, binding?: TenantBinding): NormalizeResult {
    const parsed = parseSlackBody(body);
    const tenant = this.tenantFor(binding);
    if (parsed.kind === 'command') return this.fromCommand(parsed.form, tenant);
    const p = parsed.json;
    if (p.type === 'url_verification') {
      const challenge = str(p.challenge);
      if (challenge === undefined) throw badPayload('slack', 'url_verification without challenge');
      return { messages: [], response: { status: 200, body: { challenge } }, ignored: 'url_verification' };
    }
    if (p.type === 'event_callback') return this.fromEvent(p, tenant);
    if (p.type === 'block_actions') return this.fromBlockActions(p, tenant);
    return { messages: [], ignored: `payload type "${String(p.type)}" is not handled` };
  }

  private fromEvent(
    p: Record<string, unknown>,
    tenant: ReturnType<BaseConnector['tenantFor']>,
  ): NormalizeResult {
    const eventId = str(p.event_id);
    const ev = isRecord(p.event) ? p.event : undefined;
    if (eventId === undefined || ev === undefined)
      throw badPayload('slack', 'event_callback needs event_id and event');
    const none = (why: string): NormalizeResult => ({
      messages: [],
      providerMessageId: eventId,
      ignored: why,
    });
    if (ev.type !== 'message' && ev.type !== 'app_mention') return none(`event type "${String(ev.type)}"`);
    const bots = new Set<string>();
    if (this.botUserId) bots.add(this.botUserId);
    if (Array.isArray(p.authorizations))
      for (const a of p.authorizations)
        if (isRecord(a) && a.is_bot === true && str(a.user_id)) bots.add(a.user_id as string);
    if (
      ev.bot_id !== undefined ||
      ev.subtype === 'bot_message' ||
      (str(ev.user) && bots.has(ev.user as string))
    ) {
      return none("the bot's own message");
    }
    if (!USER_SUBTYPES.has(ev.subtype as string | undefined))
      return none(`message subtype "${String(ev.subtype)}"`);
    const channel = str(ev.channel);
    const ts = str(ev.ts);
    if (channel === undefined || ts === undefined)
      throw badPayload('slack', 'message event needs channel and ts');
    let text = typeof ev.text === 'string' ? ev.text : undefined;
    if (text !== undefined)
      for (const b of bots) text = text.replace(new RegExp(`^\\s*<@${escapeRe(b)}(\\|[^>]*)?>\\s*`), '');
    const files: Attachment[] = Array.isArray(ev.files)
      ? ev.files.filter(isRecord).flatMap((f) => {
          const url = str(f.url_private) ?? str(f.permalink);
          if (url === undefined) return [];
          const a: Attachment = { mime_type: str(f.mimetype) ?? 'application/octet-stream', url };
          if (str(f.name)) a.name = f.name as string;
          if (typeof f.size === 'number') a.size_bytes = f.size;
          return [a];
        })
      : [];
    const thread = str(ev.thread_ts) ?? (this.replyInThread && ev.channel_type !== 'im' ? ts : undefined);
    const extensions: Record<string, unknown> = {};
    if (Array.isArray(ev.blocks)) extensions.blocks = ev.blocks;
    return {
      providerMessageId: eventId,
      messages: [
        {
          providerMessageId: eventId,
          envelope: buildEnvelope({
            provider: 'slack',
            connector: this.id,
            tenant,
            providerMessageId: eventId,
            conversation: channel,
            thread,
            from: str(ev.user) ? { id: ev.user as string, kind: 'user' } : undefined,
            text,
            attachments: files,
            metadata: {
              [META.MESSAGE_ID]: ts,
              team_id: str(p.team_id) ?? str(ev.team),
              channel_type: str(ev.channel_type),
              event_type: ev.type as string,
            },
            extensions,
          }),
        },
      ],
    };
  }

  private fromBlockActions(
    p: Record<string, unknown>,
    tenant: ReturnType<BaseConnector['tenantFor']>,
  ): NormalizeResult {
    const action = Array.isArray(p.actions) && isRecord(p.actions[0]) ? p.actions[0] : undefined;
    const id = str(p.trigger_id) ?? (action ? str(action.action_ts) : undefined);
    if (action === undefined || id === undefined)
      throw badPayload('slack', 'block_actions needs actions[0] and trigger_id');
    const container = isRecord(p.container) ? p.container : {};
    const channel = isRecord(p.channel) ? str(p.channel.id) : str(container.channel_id);
    if (channel === undefined)
      return { messages: [], providerMessageId: id, ignored: 'block action outside a channel' };
    const message = isRecord(p.message) ? p.message : {};
    const selected = isRecord(action.selected_option) ? action.selected_option : undefined;
    const value = str(action.value) ?? str(selected?.value) ?? str(action.action_id) ?? '';
    const title = isRecord(action.text)
      ? str(action.text.text)
      : isRecord(selected?.text)
        ? str(selected.text.text)
        : undefined;
    const ts = str(message.ts) ?? str(container.message_ts);
    const thread =
      str(message.thread_ts) ?? str(container.thread_ts) ?? (this.replyInThread ? ts : undefined);
    const user = isRecord(p.user) ? str(p.user.id) : undefined;
    return {
      providerMessageId: id,
      messages: [
        {
          providerMessageId: id,
          envelope: buildEnvelope({
            provider: 'slack',
            connector: this.id,
            tenant,
            providerMessageId: id,
            conversation: channel,
            thread,
            from: user ? { id: user, kind: 'user' } : undefined,
            text: value,
            metadata: {
              [META.ACTION]: value,
              [META.ACTION_SOURCE]: 'block_actions',
              [META.ACTION_TITLE]: title,
              action_id: str(action.action_id),
              block_id: str(action.block_id),
              [META.MESSAGE_ID]: ts,
              team_id: isRecord(p.team) ? str(p.team.id) : undefined,
            },
          }),
        },
      ],
    };
  }

  private fromCommand(
    form: URLSearchParams,
    tenant: ReturnType<BaseConnector['tenantFor']>,
  ): NormalizeResult {
    const id = form.get('trigger_id');
    const channel = form.get('channel_id');
    const command = form.get('command');
    if (!id || !channel || !command)
      throw badPayload('slack', 'slash command needs trigger_id, channel_id and command');
    const user = form.get('user_id');
    return {
      providerMessageId: id,
      messages: [
        {
          providerMessageId: id,
          envelope: buildEnvelope({
            provider: 'slack',
            connector: this.id,
            tenant,
            providerMessageId: id,
            conversation: channel,
            from: user ? { id: user, kind: 'user' } : undefined,
            text: form.get('text') ?? '',
            metadata: { command, team_id: form.get('team_id') ?? undefined, event_type: 'slash_command' },
          }),
        },
      ],
    };
  }

  render(reply: OutboundReply, target: ReplyTarget): ProviderRequest[] {
    const m = renderModel(reply);
    if (isEmptyModel(m)) throw new MessagingError('GT_MSG_RENDER', `reply ${reply.id} has nothing to send`);
    const body: Record<string, unknown> = { channel: target.conversation };
    if (target.thread !== undefined) body.thread_ts = target.thread;
    const fallback = downgradeToText(m);
    const links = m.attachments.map((a) => `<${a.url}|${escapeSlack(a.name ?? a.url ?? 'file')}>`);
    const buttonsFit = m.buttons.every(
      (b) => (b.url ?? b.value ?? '').length <= BUTTON_VALUE_MAX && b.title.length <= BUTTON_TEXT_MAX * 4,
    );
    if (m.title === undefined && m.buttons.length === 0 && m.image === undefined) {
      body.text = [m.text !== undefined ? escapeSlack(m.text) : '', ...links].filter((t) => t).join('\n');
      return [this.request('chat.postMessage', 'chat.postMessage', body)];
    }
    const blocks: Record<string, unknown>[] = [];
    if (m.title !== undefined) {
      blocks.push({
        type: 'header',
        text: { type: 'plain_text', text: clip(m.title, HEADER_MAX), emoji: true },
      });
    }
    const bodyText = buttonsFit ? m.text : downgradeToText({ ...m, title: undefined, image: undefined });
    if (bodyText !== undefined && bodyText !== '') {
      for (const part of splitText(escapeSlack(bodyText), SECTION_MAX)) {
        blocks.push({ type: 'section', text: { type: 'mrkdwn', text: part } });
      }
    }
    if (links.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: links.join('\n') } });
    if (m.image !== undefined)
      blocks.push({ type: 'image', image_url: m.image, alt_text: clip(m.title ?? 'image', 2000) });
    if (buttonsFit) {
      for (let i = 0; i < m.buttons.length; i += ACTIONS_MAX) {
        blocks.push({
          type: 'actions',
          block_id: `gt_actions_${i / ACTIONS_MAX}`,
          elements: m.buttons.slice(i, i + ACTIONS_MAX).map((b, j) => ({
            type: 'button',
            text: { type: 'plain_text', text: clip(b.title, BUTTON_TEXT_MAX), emoji: true },
            action_id: `gt_btn_${i + j}`,
            ...(b.url !== undefined ? { url: b.url } : { value: b.value ?? b.title }),
          })),
        });
      }
    }
    body.text = escapeSlack(clip(fallback, 3000));
    body.blocks = blocks.slice(0, 50);
    return [this.request('chat.postMessage', 'chat.postMessage', body)];
  }

  async send(req: ProviderRequest): Promise<SendResult> {
    let token: string;
    try {
      token = await resolveSecret(this.botToken, `slack/${this.id} botToken`);
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
    const wait = retryAfterMs(answer.headers.get('retry-after'), this.now());
    if (answer.status === 429) {
      return {
        ok: false,
        status: 429,
        retryable: true,
        ...(wait !== undefined ? { retryAfterMs: wait } : {}),
        providerCode: 'ratelimited',
        reason: `slack ${req.op}: rate limited`,
      };
    }
    if (answer.status >= 500) {
      return {
        ok: false,
        status: answer.status,
        retryable: true,
        reason: `slack ${req.op}: HTTP ${answer.status}`,
      };
    }
    if (json?.ok === true) {
      const ts = str(json.ts);
      return {
        ok: true,
        status: answer.status,
        ...(ts !== undefined ? { providerMessageId: ts } : {}),
        response: json,
      };
    }
    const error = str(json?.error) ?? `HTTP ${answer.status}`;
    return {
      ok: false,
      status: answer.status,
      retryable: RETRYABLE_ERRORS.has(error),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      providerCode: error,
      reason: `slack ${req.op}: ${error}`,
    };
  }
}

type SlackBody = { kind: 'json'; json: Record<string, unknown> } | { kind: 'command'; form: URLSearchParams };

/**
 * Events arrive as JSON; interactivity as a form with one `payload` field holding JSON; slash commands as a
 * plain form. Parsed objects (tests, replays) are taken as JSON.
 */
function parseSlackBody(body: Buffer | string | object): SlackBody {
  if (typeof body === 'object' && !Buffer.isBuffer(body)) {
    if (!isRecord(body)) throw badPayload('slack', 'body must be an object');
    return { kind: 'json', json: body };
  }
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const trimmed = text.trimStart();
  try {
    if (trimmed.startsWith('{')) {
      const json = JSON.parse(trimmed);
      if (isRecord(json)) return { kind: 'json', json };
    } else {
      const form = new URLSearchParams(text);
      const payload = form.get('payload');
      if (payload !== null) {
        const json = JSON.parse(payload);
        if (isRecord(json)) return { kind: 'json', json };
      } else if (form.has('command')) return { kind: 'command', form };
    }
  } catch (e) {
    throw new MessagingError('GT_MSG_BAD_PAYLOAD', 'slack webhook body is not valid JSON or form data', {
      status: 400,
      cause: e,
    });
  }
  throw badPayload('slack', 'body is neither an Events API JSON object nor an interactivity payload');
}

const clip = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
