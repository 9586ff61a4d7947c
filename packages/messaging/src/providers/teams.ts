import type { Attachment } from '@greentic/types';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { badPayload, buildEnvelope, META, parseJsonBody } from '../envelope.js';
import { MessagingError } from '../errors.js';
import {
  callJson,
  describeNetworkError,
  isRecord,
  isRetryableStatus,
  joinUrl,
  retryAfterMs,
} from '../http.js';
import { ADAPTIVE_CARD_CONTENT_TYPE, isEmptyModel, type RenderModel, renderModel } from '../render/model.js';
import { resolveSecret, type SecretValue } from '../secrets.js';
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
import { forbidden, header, unauthorized } from '../verify.js';
import { BaseConnector, type ConnectorCommonConfig, checkUrl, isFailure, requireSecret } from './base.js';

export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
export const BOT_FRAMEWORK_OPENID_METADATA =
  'https://login.botframework.com/v1/.well-known/openidconfiguration';
export const BOT_FRAMEWORK_TOKEN_SCOPE = 'https://api.botframework.com/.default';
export const BOT_FRAMEWORK_DEFAULT_CLOCK_TOLERANCE_SEC = 300;
/** JWT errors that mean "this token is not acceptable" (403); anything else is our key source failing (503). */
const TOKEN_REJECTIONS = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
]);

export interface TeamsConfig extends ConnectorCommonConfig {
  /** The bot's Microsoft App ID: the audience of inbound tokens and the client id of outbound ones. */
  appId: string;
  /** The app's client secret, for the outbound Bot Connector token. */
  appPassword: SecretValue;
  /** For single-tenant bots: the Entra tenant whose token endpoint issues outbound tokens. */
  appTenantId?: string;
  /**
   * Inbound signing keys: a JWKS URL, or inline keys. Default: the keys named by `openIdMetadataUrl`. Rotation
   * is the key set's business: every key in the set is accepted.
   */
  jwks?: { url: string } | { keys: JSONWebKeySet['keys'] };
  /** OpenID metadata document whose `jwks_uri` names the signing keys; default Bot Framework's. */
  openIdMetadataUrl?: string;
  /** Accepted token issuers; default `https://api.botframework.com`. */
  issuers?: string[];
  /** Allowed clock skew for `exp`/`nbf` (s); default 300. */
  clockToleranceSec?: number;
  /**
   * After a token with an unknown key id, the key set is fetched again at most this often (ms, default 30 000):
   * a key added to the set is picked up then, and forged key ids cannot make us hammer the key server.
   */
  jwksCooldownMs?: number;
  /** Refuse tokens without a `serviceurl` claim equal to the activity's `serviceUrl` (default true). */
  requireServiceUrlClaim?: boolean;
  /** Outbound token endpoint; default `https://login.microsoftonline.com/{appTenantId|botframework.com}/oauth2/v2.0/token`. */
  tokenUrl?: string;
  /** Outbound token scope; default `https://api.botframework.com/.default`. */
  tokenScope?: string;
  /** When set, replies go only to service URLs starting with one of these (a guard against a tampered target). */
  serviceUrls?: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const trimSlash = (u: string) => u.replace(/\/+$/, '');

/** Microsoft Teams through the Bot Framework: activities in (Bearer JWT), Bot Connector REST out. */
export class TeamsConnector extends BaseConnector {
  readonly provider = 'teams' as const;
  private readonly appId: string;
  private readonly appPassword: SecretValue;
  private readonly issuers: string[];
  private readonly clockTolerance: number;
  private readonly requireServiceUrlClaim: boolean;
  private readonly tokenUrl: string;
  private readonly tokenScope: string;
  private readonly serviceUrls: string[] | undefined;
  private readonly jwksConfig: TeamsConfig['jwks'];
  private readonly openIdMetadataUrl: string;
  private readonly jwksCooldownMs: number;
  private keys: Promise<JWTVerifyGetKey> | undefined;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(config: TeamsConfig) {
    super('teams', config, 'https://smba.trafficmanager.net/teams');
    const where = `teams/${this.id}`;
    if (typeof config.appId !== 'string' || config.appId === '') {
      throw new MessagingError('GT_MSG_CONFIG', `${where}: appId (the Microsoft App ID) is required`);
    }
    requireSecret(config.appPassword, 'appPassword', where);
    this.appId = config.appId;
    this.appPassword = config.appPassword;
    this.issuers = config.issuers ?? [BOT_FRAMEWORK_ISSUER];
    this.clockTolerance = config.clockToleranceSec ?? BOT_FRAMEWORK_DEFAULT_CLOCK_TOLERANCE_SEC;
    this.requireServiceUrlClaim = config.requireServiceUrlClaim ?? true;
    this.tokenUrl = checkUrl(
      config.tokenUrl ??
        `https://login.microsoftonline.com/${config.appTenantId ?? 'botframework.com'}/oauth2/v2.0/token`,
      `${where} tokenUrl`,
    );
    this.tokenScope = config.tokenScope ?? BOT_FRAMEWORK_TOKEN_SCOPE;
    this.serviceUrls = config.serviceUrls?.map(trimSlash);
    this.jwksConfig = config.jwks;
    this.jwksCooldownMs = config.jwksCooldownMs ?? 30_000;
    this.openIdMetadataUrl = checkUrl(
      config.openIdMetadataUrl ?? BOT_FRAMEWORK_OPENID_METADATA,
      `${where} openIdMetadataUrl`,
    );
    if (config.jwks !== undefined && 'keys' in config.jwks)
      this.keys = Promise.resolve(createLocalJWKSet({ keys: config.jwks.keys }));
  }

  /** The key resolver: inline keys, a JWKS URL, or the `jwks_uri` of the OpenID metadata (fetched once). */
  private keySet(): Promise<JWTVerifyGetKey> {
    if (this.keys) return this.keys;
    const remote = (url: string) =>
      createRemoteJWKSet(new URL(url), {
        timeoutDuration: this.timeoutMs,
        cooldownDuration: this.jwksCooldownMs,
      });
    if (this.jwksConfig !== undefined && 'url' in this.jwksConfig) {
      this.keys = Promise.resolve(remote(this.jwksConfig.url));
      return this.keys;
    }
    const pending = callJson(this.openIdMetadataUrl, {
      method: 'GET',
      timeoutMs: this.timeoutMs,
      ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
    }).then((answer) => {
      const uri = isRecord(answer.json) ? str(answer.json.jwks_uri) : undefined;
      if (answer.status !== 200 || uri === undefined) {
        throw new Error(`OpenID metadata answered HTTP ${answer.status} without jwks_uri`);
      }
      return remote(uri);
    });
    this.keys = pending;
    pending.catch(() => {
      if (this.keys === pending) this.keys = undefined;
    });
    return pending;
  }

  /**
   * Checks `Authorization: Bearer <JWT>`: signature against the configured keys, issuer, audience = app id,
   * `exp`/`nbf` with the clock tolerance; then (the token being good) that its `serviceurl` claim names the
   * activity's `serviceUrl`.
   */
  async verify(req: WebhookRequest): Promise<VerifyResult> {
    const auth = header(req.headers, 'authorization');
    const m = auth === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) return unauthorized('missing Authorization: Bearer token');
    let payload: JWTPayload;
    try {
      const getKey = await this.keySet();
      ({ payload } = await jwtVerify(m[1]!, getKey, {
        issuer: this.issuers,
        audience: this.appId,
        clockTolerance: this.clockTolerance,
        currentDate: new Date(this.now()),
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
      }));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== undefined && TOKEN_REJECTIONS.has(code))
        return forbidden(`token refused: ${code}: ${(e as Error).message}`);
      throw new MessagingError(
        'GT_MSG_VERIFY',
        `teams/${this.id}: signing keys unavailable (${describeNetworkError(e)})`,
        {
          status: 503,
          cause: e,
        },
      );
    }
    const activity = parseJsonBody(req.rawBody, 'teams');
    if (!isRecord(activity)) throw badPayload('teams', 'activity must be a JSON object');
    const claim = str(payload.serviceurl) ?? str(payload.serviceUrl);
    const serviceUrl = str(activity.serviceUrl);
    if (claim === undefined) {
      if (this.requireServiceUrlClaim) return forbidden('token has no serviceurl claim');
    } else if (serviceUrl === undefined || trimSlash(claim) !== trimSlash(serviceUrl)) {
      return forbidden('serviceurl claim does not match the activity serviceUrl');
    }
    return { ok: true, body: activity };
  }

  normalize(body: Buffer | string | object, binding?: TenantBinding): NormalizeResult {
    const a = parseJsonBody(body, 'teams');
    if (!isRecord(a)) throw badPayload('teams', 'activity must be a JSON object');
    const id = str(a.id);
    const conversation = isRecord(a.conversation) ? str(a.conversation.id) : undefined;
    if (id === undefined || conversation === undefined)
      throw badPayload('teams', 'activity needs id and conversation.id');
    const type = str(a.type);
    const invokeAction = type === 'invoke' && a.name === 'adaptiveCard/action';
    if (type !== 'message' && !invokeAction) {
      return {
        messages: [],
        providerMessageId: id,
        ignored: `activity type "${String(type)}"${a.name ? ` (${String(a.name)})` : ''}`,
      };
    }
    const recipient = isRecord(a.recipient) ? a.recipient : {};
    const from = isRecord(a.from) ? a.from : undefined;
    const metadata: Record<string, string | undefined> = {
      activity_id: id,
      service_url: str(a.serviceUrl),
      channel_id: str(a.channelId),
      bot_id: str(recipient.id),
      bot_name: str(recipient.name),
      conversation_type: isRecord(a.conversation) ? str(a.conversation.conversationType) : undefined,
      aad_object_id: from ? str(from.aadObjectId) : undefined,
      ms_tenant_id:
        isRecord(a.channelData) && isRecord(a.channelData.tenant) ? str(a.channelData.tenant.id) : undefined,
      locale: str(a.locale),
    };
    const extensions: Record<string, unknown> = {};
    if (Array.isArray(a.entities) && a.entities.length > 0) extensions.entities = a.entities;
    if (isRecord(a.channelData)) extensions.channel_data = a.channelData;
    let text =
      typeof a.text === 'string' ? stripBotMention(a.text, a.entities, str(recipient.id)) : undefined;
    // Action.Submit posts a message whose `value` is the action's data; Action.Execute an `adaptiveCard/action` invoke.
    let data: unknown = a.value;
    if (invokeAction && isRecord(a.value) && isRecord(a.value.action)) {
      data = a.value.action.data ?? {};
      metadata.verb = str(a.value.action.verb);
    }
    if (data !== undefined && data !== null) {
      const action = isRecord(data)
        ? (str(data.action) ?? metadata.verb ?? JSON.stringify(data))
        : typeof data === 'string'
          ? data
          : JSON.stringify(data);
      metadata[META.ACTION] = action;
      metadata[META.ACTION_SOURCE] = 'adaptive_card';
      extensions.action_data = data;
      if (text === undefined || text === '') text = action;
    }
    const attachments: Attachment[] = [];
    const raw = Array.isArray(a.attachments) ? a.attachments.filter(isRecord) : [];
    for (const att of raw) {
      const ct = str(att.contentType) ?? 'application/octet-stream';
      if (ct === 'text/html') continue; // Teams repeats the message text as HTML
      if (ct === ADAPTIVE_CARD_CONTENT_TYPE && isRecord(att.content)) extensions.adaptive_card = att.content;
      const content = isRecord(att.content) ? att.content : undefined;
      const url = str(att.contentUrl) ?? (content ? str(content.downloadUrl) : undefined);
      if (url === undefined) continue;
      const item: Attachment = {
        mime_type:
          ct === 'application/vnd.microsoft.teams.file.download.info' ? fileMime(content?.fileType) : ct,
        url,
      };
      if (str(att.name)) item.name = att.name as string;
      attachments.push(item);
    }
    if (raw.length > 0) extensions.attachments = raw;
    const envelope = buildEnvelope({
      provider: 'teams',
      connector: this.id,
      tenant: this.tenantFor(binding),
      providerMessageId: id,
      conversation,
      replyTo: str(a.replyToId),
      from:
        from && str(from.id)
          ? { id: from.id as string, kind: from.role === 'bot' ? 'bot' : 'user' }
          : undefined,
      text,
      attachments,
      metadata,
      extensions,
    });
    const result: NormalizeResult = {
      messages: [{ envelope, providerMessageId: id }],
      providerMessageId: id,
    };
    if (invokeAction) {
      // The invoke must be answered in the HTTP response; the flow's reply follows as a normal message.
      result.response = {
        status: 200,
        body: { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: '' },
      };
    }
    return result;
  }

  render(reply: OutboundReply, target: ReplyTarget): ProviderRequest[] {
    const m = renderModel(reply);
    if (isEmptyModel(m)) throw new MessagingError('GT_MSG_RENDER', `reply ${reply.id} has nothing to send`);
    // The conversation's serviceUrl from the inbound activity; else the connector's apiBaseUrl (the global
    // https://smba.trafficmanager.net/teams by default, which Microsoft documents for proactive messages).
    const serviceUrl = target.metadata.service_url ?? this.apiBaseUrl;
    const activity: Record<string, unknown> = { type: 'message', conversation: { id: target.conversation } };
    const botId = target.metadata.bot_id;
    if (botId !== undefined)
      activity.from = { id: botId, ...(target.metadata.bot_name ? { name: target.metadata.bot_name } : {}) };
    const replyTo = target.metadata.activity_id ?? target.replyTo;
    if (replyTo !== undefined) activity.replyToId = replyTo;
    const attachments: Record<string, unknown>[] = [];
    const card =
      m.adaptiveCard ??
      (m.title !== undefined || m.buttons.length > 0 || m.image !== undefined ? buildCard(m) : undefined);
    if (card !== undefined) {
      attachments.push({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card });
      if (m.adaptiveCard !== undefined && reply.text) activity.text = reply.text;
    } else if (m.text !== undefined) activity.text = m.text;
    if (activity.text !== undefined) activity.textFormat = 'plain';
    const links: string[] = [];
    for (const a of m.attachments) {
      if (a.mime_type.startsWith('image/'))
        attachments.push({ contentType: a.mime_type, contentUrl: a.url, name: a.name ?? 'image' });
      else links.push(`${a.name ?? 'file'}: ${a.url}`);
    }
    if (links.length > 0) activity.text = [activity.text, ...links].filter((t) => t).join('\n');
    if (attachments.length > 0) activity.attachments = attachments;
    if (m.channelData !== undefined) activity.channelData = m.channelData;
    const path = `v3/conversations/${encodeURIComponent(target.conversation)}/activities${
      replyTo !== undefined ? `/${encodeURIComponent(replyTo)}` : ''
    }`;
    return [this.request('activities', path, activity, trimSlash(serviceUrl))];
  }

  /** A Bot Connector access token (client credentials), cached until five minutes before it expires. */
  private async accessToken(): Promise<string | Extract<SendResult, { ok: false }>> {
    if (this.token && this.token.expiresAt > this.now()) return this.token.value;
    let secret: string;
    try {
      secret = await resolveSecret(this.appPassword, `teams/${this.id} appPassword`);
    } catch (e) {
      return { ok: false, retryable: false, reason: (e as Error).message };
    }
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.appId,
      client_secret: secret,
      scope: this.tokenScope,
    });
    const answer = await this.call(this.tokenUrl, { method: 'POST', body: form });
    if (isFailure(answer)) return { ...answer, reason: `teams token: ${answer.reason}` };
    const json = isRecord(answer.json) ? answer.json : {};
    const token = str(json.access_token);
    if (answer.status !== 200 || token === undefined) {
      return {
        ok: false,
        status: answer.status,
        retryable: isRetryableStatus(answer.status),
        providerCode: str(json.error) ?? 'GT_MSG_AUTH',
        reason: `teams token endpoint answered HTTP ${answer.status}${json.error ? ` (${String(json.error)})` : ''}`,
      };
    }
    const ttl = typeof json.expires_in === 'number' ? json.expires_in : Number(json.expires_in ?? 3600);
    this.token = { value: token, expiresAt: this.now() + Math.max(0, ttl - 300) * 1000 };
    return token;
  }

  async send(req: ProviderRequest): Promise<SendResult> {
    const base = req.baseUrl ?? this.apiBaseUrl;
    if (this.serviceUrls && !this.serviceUrls.some((u) => base === u || base.startsWith(`${u}/`))) {
      return {
        ok: false,
        retryable: false,
        reason: `teams: serviceUrl ${base} is not in the connector's serviceUrls`,
      };
    }
    const token = await this.accessToken();
    if (typeof token !== 'string') return token;
    const answer = await this.call(joinUrl(base, req.path), {
      method: req.method,
      headers: { authorization: `Bearer ${token}` },
      body: req.body,
    });
    if (isFailure(answer)) return answer;
    if (answer.status >= 200 && answer.status < 300) {
      const id = isRecord(answer.json) ? str(answer.json.id) : undefined;
      return {
        ok: true,
        status: answer.status,
        ...(id !== undefined ? { providerMessageId: id } : {}),
        response: answer.json,
      };
    }
    if (answer.status === 401) this.token = undefined; // a revoked or stale token: fetch a new one on the retry
    const wait = retryAfterMs(answer.headers.get('retry-after'), this.now());
    const err = isRecord(answer.json) && isRecord(answer.json.error) ? answer.json.error : undefined;
    return {
      ok: false,
      status: answer.status,
      retryable: isRetryableStatus(answer.status) || answer.status === 401,
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
      ...(err && str(err.code) ? { providerCode: err.code as string } : {}),
      reason: `teams ${req.op}: HTTP ${answer.status}${err && str(err.message) ? ` ${String(err.message)}` : ''}`,
    };
  }
}

/** Removes `<at>Bot</at>` mentions of the bot itself (Teams puts them in channel messages). */
function stripBotMention(text: string, entities: unknown, botId: string | undefined): string {
  if (!Array.isArray(entities) || botId === undefined) return text.trim();
  let out = text;
  for (const e of entities) {
    if (
      isRecord(e) &&
      e.type === 'mention' &&
      isRecord(e.mentioned) &&
      e.mentioned.id === botId &&
      str(e.text)
    ) {
      out = out.split(e.text as string).join('');
    }
  }
  return out.trim();
}

function fileMime(fileType: unknown): string {
  const t = typeof fileType === 'string' ? fileType.toLowerCase() : '';
  const known: Record<string, string> = {
    pdf: 'application/pdf',
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    txt: 'text/plain',
    docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  };
  return known[t] ?? 'application/octet-stream';
}

/** An Adaptive Card (1.4, what Teams renders everywhere) for a reply with a title, image or buttons. */
export function buildCard(m: RenderModel): Record<string, unknown> {
  const body: Record<string, unknown>[] = [];
  if (m.title !== undefined)
    body.push({ type: 'TextBlock', text: m.title, size: 'Large', weight: 'Bolder', wrap: true });
  if (m.text !== undefined) body.push({ type: 'TextBlock', text: m.text, wrap: true });
  if (m.image !== undefined)
    body.push({ type: 'Image', url: m.image, ...(m.title ? { altText: m.title } : {}) });
  const actions = m.buttons.map((b) =>
    b.url !== undefined
      ? { type: 'Action.OpenUrl', title: b.title, url: b.url }
      : { type: 'Action.Submit', title: b.title, data: { action: b.value ?? b.title } },
  );
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}
