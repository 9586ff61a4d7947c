import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fastifyWebsocket from '@fastify/websocket';
import type { ChannelMessageEnvelope, TenantCtx } from '@greentic/types';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { isMessagingError, isWebChatCode, MessagingError } from '../errors.js';
import {
  type Activity,
  activityToEnvelope,
  type BotMessage,
  checkBotMessage,
  type NewActivity,
  readClientActivity,
  WEBCHAT_CHANNEL,
} from './activity.js';
import { registerPage, type WebChatPageOptions } from './page.js';
import { SlidingWindowLimiter } from './rate-limit.js';
import { type ActivitySet, type ActivityStore, MemoryActivityStore, watermarkOfId } from './store.js';
import { DirectLineTokens, type MintedToken, type TokenClaims } from './tokens.js';

/** Direct Line 3.0's base path; routes sit below the prefix the plugin is registered with. */
export const DIRECTLINE_BASE = '/v3/directline';
/** Upstream's Direct Line provider allows this many token mints per client and minute. */
export const DEFAULT_MAX_TOKEN_MINTS_PER_MINUTE = 5;
/** Secrets shorter than this are refused. */
export const MIN_SECRET_LENGTH = 16;
/** The largest activity a client may post (bytes of JSON), as Direct Line. */
export const MAX_ACTIVITY_BYTES = 256 * 1024;
const POLL_PAGE_SIZE = 100;

/** What `onActivity` gets besides the envelope. */
export interface ActivityContext {
  conversationId: string;
  /** The stored Bot Framework activity the envelope was made from. */
  activity: Activity;
  /** Sends a bot reply into this conversation (`replyToId` defaults to this activity). */
  deliver(message: BotMessage, options?: DeliverOptions): Promise<DeliverResult>;
}

export interface DeliverOptions {
  /** The user activity this answers; becomes `replyToId`. Default: the message's own `replyToId`. */
  replyToId?: string;
}

export interface DeliverResult {
  /** The activity id (absent when skipped). */
  activityId?: string;
  watermark?: number;
  /** This reply id had been delivered before: nothing was added, `activityId` is the first delivery's. */
  duplicate: boolean;
  /** The message had neither text nor card (e.g. a payload-only reply): there was nothing to show. */
  skipped?: boolean;
}

export interface DirectLineOptions {
  /** The tenant this endpoint serves: envelopes carry it, and tokens are bound to it (see `audience`). */
  tenant: TenantCtx;
  /** Direct Line secrets (master keys that never expire). At least one, each at least 16 characters. */
  secrets: string | readonly string[];
  /**
   * Called with each user message or event. Resolve once the envelope is durably queued (the client's POST waits for
   * it); reject and the client gets `GT_MSG_WEBCHAT_DISPATCH_FAILED` (502) and may post again.
   */
  onActivity(envelope: ChannelMessageEnvelope, context: ActivityContext): Promise<void> | void;
  /** Token lifetime, 60–604 800 s. Default: `GREENTIC_DIRECTLINE_TOKEN_TTL_SECS`, else 1800. */
  tokenTtlSec?: number;
  /** Token mints per client (user id, else address) and sliding minute. Default 5. */
  maxTokenMintsPerMinute?: number;
  /** HS256 key for tokens, ≥ 32 bytes. Default: random per process (set it when several processes serve one chat). */
  signingKey?: string | Uint8Array;
  /** Token audience. Default `greentic-directline:<env>:<tenant>:<team>`: tokens of another tenant are refused. */
  audience?: string;
  /** Where conversations and activities live. Default: a {@link MemoryActivityStore}. */
  store?: ActivityStore;
  /** The bot's channel account in activities. Default `{id: 'bot', name: 'Bot'}`. */
  botAccount?: { id?: string; name?: string };
  /**
   * The public origin (e.g. `https://chat.example.com`) for `streamUrl`s. Default: the request's protocol and Host
   * (behind a proxy, set this or Fastify's `trustProxy`).
   */
  publicUrl?: string;
  /** The WebChat page (`<prefix>/webchat/`). Default on; `false` serves no page and no anonymous token route. */
  page?: WebChatPageOptions | false;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/** A Direct Line endpoint: register {@link DirectLine.plugin} with Fastify, send bot replies with `deliver`. */
export interface DirectLine {
  /** The Fastify plugin: `app.register(dl.plugin, {prefix: '/v1/messaging/webchat/acme'})`. */
  readonly plugin: FastifyPluginAsync;
  readonly store: ActivityStore;
  readonly tokens: DirectLineTokens;
  /** Adds the bot's reply to a conversation: pushed to its WebSockets, readable by polling. Idempotent by `message.id`. */
  deliver(conversationId: string, message: BotMessage, options?: DeliverOptions): Promise<DeliverResult>;
  /** Starts a conversation server-side and returns its token (what `tokens/generate` does for a secret holder). */
  generateToken(options?: { userId?: string }): Promise<MintedToken>;
  /** Closes open WebSockets; later `deliver` calls fail with `GT_MSG_WEBCHAT_CLOSED`. */
  close(): Promise<void>;
}

type Principal = { kind: 'secret' } | { kind: 'token'; token: string; claims: TokenClaims };

interface ConversationParams {
  conversationId: string;
}

/** Creates a Direct Line endpoint. Register its `plugin` with Fastify; keep the handle to `deliver` replies. */
export function createDirectLine(options: DirectLineOptions): DirectLine {
  return new DirectLineEndpoint(options);
}

/**
 * The Direct Line endpoint as a plain Fastify plugin. Replies are sent through `onActivity`'s `context.deliver`;
 * use {@link createDirectLine} to deliver from elsewhere (an outbox sender).
 */
export const directLine: FastifyPluginAsync<DirectLineOptions> = async (fastify, options) => {
  const endpoint = new DirectLineEndpoint(options);
  fastify.addHook('onClose', () => endpoint.close());
  await endpoint.routes(fastify);
};

const SERVER_MARK = Symbol.for('greentic.webchat.websocket');

class DirectLineEndpoint implements DirectLine {
  readonly store: ActivityStore;
  readonly tokens: DirectLineTokens;
  readonly plugin: FastifyPluginAsync;
  private readonly secretDigests: Buffer[];
  private readonly limiter: SlidingWindowLimiter;
  private readonly now: () => number;
  private readonly botAccount: { id: string; name: string };
  private readonly sockets = new Set<WebSocket>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly dispatched = new Set<string>();
  private closed = false;

  constructor(private readonly options: DirectLineOptions) {
    if (typeof options.onActivity !== 'function') {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_OPTIONS',
        'directLine: onActivity(envelope, context) is required',
      );
    }
    const tenant = options.tenant;
    if (!tenant || typeof tenant.env !== 'string' || typeof tenant.tenant_id !== 'string') {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_OPTIONS',
        'directLine: tenant must be a TenantCtx (build it with tenantCtx({env, tenant}))',
      );
    }
    const secrets = typeof options.secrets === 'string' ? [options.secrets] : [...(options.secrets ?? [])];
    if (secrets.length === 0 || secrets.some((s) => typeof s !== 'string' || s.length < MIN_SECRET_LENGTH)) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_OPTIONS',
        `directLine: secrets must hold at least one secret, each a string of ${MIN_SECRET_LENGTH}+ characters (e.g. 32 random bytes, base64url)`,
      );
    }
    this.secretDigests = secrets.map(digest);
    const perMinute = options.maxTokenMintsPerMinute ?? DEFAULT_MAX_TOKEN_MINTS_PER_MINUTE;
    if (!Number.isSafeInteger(perMinute) || perMinute < 1) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_OPTIONS',
        'directLine: maxTokenMintsPerMinute must be an integer ≥ 1',
      );
    }
    this.now = options.now ?? Date.now;
    this.limiter = new SlidingWindowLimiter(perMinute, 60_000, this.now);
    this.tokens = new DirectLineTokens({
      ttlSec: options.tokenTtlSec,
      signingKey: options.signingKey,
      audience:
        options.audience ??
        `greentic-directline:${tenant.env}:${tenant.tenant_id}:${tenant.team_id ?? tenant.team ?? ''}`,
      now: this.now,
    });
    this.store = options.store ?? new MemoryActivityStore({ now: this.now });
    this.botAccount = { id: options.botAccount?.id ?? 'bot', name: options.botAccount?.name ?? 'Bot' };
    this.plugin = async (fastify) => {
      fastify.addHook('onClose', () => this.close());
      await this.routes(fastify);
    };
  }

  async deliver(
    conversationId: string,
    message: BotMessage,
    options: DeliverOptions = {},
  ): Promise<DeliverResult> {
    if (this.closed) throw new MessagingError('GT_MSG_WEBCHAT_CLOSED', 'the Direct Line endpoint is closed');
    const { message: msg, text, attachments } = checkBotMessage(message);
    if (text === undefined && attachments.length === 0) return { duplicate: false, skipped: true };
    const conversation = await this.store.getConversation(conversationId);
    if (!conversation) throw notFound(conversationId);
    const replyToId = options.replyToId ?? msg.replyToId;
    const activity: NewActivity = {
      type: 'message',
      timestamp: new Date(this.now()).toISOString(),
      channelId: WEBCHAT_CHANNEL,
      conversation: { id: conversationId },
      from: { ...this.botAccount, role: 'bot' },
      ...(conversation.userId !== undefined
        ? { recipient: { id: conversation.userId, role: 'user' as const } }
        : {}),
      ...(text !== undefined ? { text } : {}),
      ...(attachments.length > 0 ? { attachments } : {}),
      ...(replyToId !== undefined ? { replyToId } : {}),
    };
    const r = await this.store.append(conversationId, activity, { key: `reply:${msg.id}` });
    return { activityId: r.activity.id, watermark: r.watermark, duplicate: r.duplicate };
  }

  async generateToken(options: { userId?: string } = {}): Promise<MintedToken> {
    const conversationId = newConversationId();
    await this.store.createConversation(conversationId, options);
    return this.tokens.mint(conversationId, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ws of this.sockets) ws.close(1001, 'server shutting down');
    this.sockets.clear();
    await this.store.close?.();
  }

  /** Adds the routes to `fastify` (the current encapsulation context). */
  async routes(fastify: FastifyInstance): Promise<void> {
    await this.ensureWebsocket(fastify);
    const defaultJson = fastify.getDefaultJsonParser('error', 'error');
    fastify.removeContentTypeParser('application/json');
    // Direct Line clients POST with `Content-Type: application/json` and no body (tokens/generate, refresh).
    fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if (body === '' || (typeof body === 'string' && body.trim() === '')) done(null, undefined);
      else defaultJson(req, body as string, done);
    });
    fastify.setErrorHandler((error, request, reply) => this.sendError(request, reply, error));
    const base = DIRECTLINE_BASE;
    const prefix = fastify.prefix;

    fastify.post(`${base}/tokens/generate`, async (request, reply) => {
      const principal = await this.authenticate(request);
      if (principal.kind !== 'secret') throw forbidden('tokens/generate needs the secret, not a token');
      const userId = readUserId(request.body);
      this.takeMint(userId !== undefined ? `user:${userId}` : `ip:${request.ip}`);
      const minted = await this.generateToken(userId !== undefined ? { userId } : {});
      noStore(reply);
      return { conversationId: minted.conversationId, token: minted.token, expires_in: minted.expiresIn };
    });

    fastify.post(`${base}/tokens/refresh`, async (request, reply) => {
      const principal = await this.authenticate(request);
      if (principal.kind !== 'token')
        throw forbidden('tokens/refresh needs a token (a secret does not expire)');
      const { conversationId, userId } = principal.claims;
      const minted = await this.tokens.mint(conversationId, userId !== undefined ? { userId } : {});
      noStore(reply);
      return { conversationId, token: minted.token, expires_in: minted.expiresIn };
    });

    fastify.post(`${base}/conversations`, async (request, reply) => {
      const principal = await this.authenticate(request);
      let minted: MintedToken;
      if (principal.kind === 'secret') {
        const userId = readUserId(request.body);
        this.takeMint(userId !== undefined ? `user:${userId}` : `ip:${request.ip}`);
        minted = await this.generateToken(userId !== undefined ? { userId } : {});
      } else {
        const { conversationId, userId, expiresAt } = principal.claims;
        await this.store.createConversation(conversationId, userId !== undefined ? { userId } : {});
        minted = {
          token: principal.token,
          conversationId,
          expiresAt,
          expiresIn: Math.max(0, expiresAt - Math.floor(this.now() / 1000)),
        };
      }
      noStore(reply);
      reply.code(201);
      return {
        conversationId: minted.conversationId,
        token: minted.token,
        expires_in: minted.expiresIn,
        streamUrl: await this.streamUrl(request, prefix, minted.conversationId, minted.expiresAt, undefined),
      };
    });

    fastify.get<{ Params: ConversationParams; Querystring: { watermark?: string } }>(
      `${base}/conversations/:conversationId`,
      async (request, reply) => {
        const { conversationId } = request.params;
        const principal = await this.authorize(request, conversationId);
        const watermark = parseWatermark(request.query.watermark);
        const conversation = await this.store.getConversation(conversationId);
        if (!conversation) throw notFound(conversationId);
        let minted: MintedToken;
        if (principal.kind === 'secret') {
          minted = await this.tokens.mint(
            conversationId,
            conversation.userId !== undefined ? { userId: conversation.userId } : {},
          );
        } else {
          const { expiresAt } = principal.claims;
          minted = {
            token: principal.token,
            conversationId,
            expiresAt,
            expiresIn: Math.max(0, expiresAt - Math.floor(this.now() / 1000)),
          };
        }
        noStore(reply);
        return {
          conversationId,
          token: minted.token,
          expires_in: minted.expiresIn,
          streamUrl: await this.streamUrl(request, prefix, conversationId, minted.expiresAt, watermark),
        };
      },
    );

    fastify.get<{ Params: ConversationParams; Querystring: { watermark?: string } }>(
      `${base}/conversations/:conversationId/activities`,
      async (request, reply) => {
        const { conversationId } = request.params;
        await this.authorize(request, conversationId);
        const watermark = parseWatermark(request.query.watermark);
        const set = await this.store.list(conversationId, watermark, POLL_PAGE_SIZE);
        if (!set) throw notFound(conversationId);
        noStore(reply);
        return { activities: set.activities, watermark: String(set.watermark) };
      },
    );

    fastify.post<{ Params: ConversationParams }>(
      `${base}/conversations/:conversationId/activities`,
      { bodyLimit: MAX_ACTIVITY_BYTES },
      async (request) => {
        const { conversationId } = request.params;
        const principal = await this.authorize(request, conversationId);
        const conversation = await this.store.getConversation(conversationId);
        if (!conversation) throw notFound(conversationId);
        const userId =
          principal.kind === 'token' ? (principal.claims.userId ?? conversation.userId) : conversation.userId;
        const activity = readClientActivity(request.body, {
          conversationId,
          timestamp: new Date(this.now()).toISOString(),
          botId: this.botAccount.id,
          ...(userId !== undefined ? { userId } : {}),
        });
        const clientId = activity.channelData?.clientActivityID;
        const key = typeof clientId === 'string' && clientId.length > 0 ? `client:${clientId}` : undefined;
        const stored = await this.store.append(conversationId, activity, key === undefined ? {} : { key });
        if (stored.activity.type !== 'typing') await this.dispatch(request, conversationId, stored.activity);
        return { id: stored.activity.id };
      },
    );

    fastify.post<{ Params: ConversationParams }>(
      `${base}/conversations/:conversationId/upload`,
      async (request) => {
        await this.authorize(request, request.params.conversationId);
        throw new MessagingError(
          'GT_MSG_WEBCHAT_UNSUPPORTED',
          'file upload is not supported: post the activity with attachments that carry a contentUrl',
        );
      },
    );

    fastify.get<{ Params: ConversationParams; Querystring: { watermark?: string; t?: string } }>(
      `${base}/conversations/:conversationId/stream`,
      {
        websocket: true,
        preValidation: async (request) => {
          await this.authorizeStream(request);
        },
      },
      (socket, request) => {
        void this.stream(socket, request);
      },
    );

    if (this.options.page !== false) {
      registerPage(fastify, this.options.page ?? {}, {
        directLinePath: `${prefix}${base}`,
        botName: this.botAccount.name,
        mint: async (request) => {
          this.takeMint(`ip:${request.ip}`);
          const userId = `dl_${randomBytes(12).toString('base64url')}`;
          const minted = await this.generateToken({ userId });
          return { ...minted, userId };
        },
      });
    }
  }

  private async ensureWebsocket(fastify: FastifyInstance) {
    if (fastify.hasDecorator('websocketServer')) return;
    const server = fastify.server as unknown as Record<symbol, boolean>;
    if (server[SERVER_MARK]) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_BAD_OPTIONS',
        'several Direct Line endpoints share this server: register @fastify/websocket once at the root, before them',
      );
    }
    server[SERVER_MARK] = true;
    await fastify.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  }

  private sendError(request: FastifyRequest, reply: FastifyReply, error: unknown) {
    let e: MessagingError;
    let status: number | undefined;
    // Only the endpoint's own codes are answered as they are; anything else (another GT_MSG_* code included) is
    // a 4xx from Fastify or an internal failure.
    if (isMessagingError(error) && isWebChatCode(error.code)) e = error;
    else {
      const statusCode = (error as { statusCode?: number }).statusCode;
      if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
        e = new MessagingError('GT_MSG_WEBCHAT_BAD_REQUEST', (error as Error).message, { cause: error });
        status = statusCode;
      } else {
        request.log.error({ err: error }, 'Direct Line request failed');
        e = new MessagingError('GT_MSG_WEBCHAT_INTERNAL', 'internal error (see the server log)');
      }
    }
    if (e.code === 'GT_MSG_WEBCHAT_DISPATCH_FAILED') request.log.error({ err: e.cause }, e.message);
    if (e.retryAfterSec !== undefined) reply.header('retry-after', String(e.retryAfterSec));
    reply.code(status ?? e.status ?? 500);
    // Direct Line's error body.
    return reply.send({ error: { code: e.code, message: e.message } });
  }

  private isSecret(value: string): boolean {
    const d = digest(value);
    let match = false;
    for (const s of this.secretDigests) match = timingSafeEqual(s, d) || match;
    return match;
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m?.[1]) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_UNAUTHORIZED',
        'send "Authorization: Bearer <secret or token>" (get a token from tokens/generate)',
      );
    }
    const value = m[1];
    if (this.isSecret(value)) return { kind: 'secret' };
    return { kind: 'token', token: value, claims: await this.tokens.verify(value, 'conversation') };
  }

  private async authorize(request: FastifyRequest, conversationId: string): Promise<Principal> {
    const principal = await this.authenticate(request);
    if (principal.kind === 'token' && principal.claims.conversationId !== conversationId) {
      throw forbidden('the token is for another conversation');
    }
    return principal;
  }

  private readonly streamAuth = new WeakMap<FastifyRequest, { conversationExpiresAt?: number }>();

  private async authorizeStream(request: FastifyRequest) {
    const { conversationId } = request.params as ConversationParams;
    const t = (request.query as { t?: string }).t;
    if (typeof t === 'string' && t.length > 0) {
      const claims = await this.tokens.verify(t, 'stream');
      if (claims.conversationId !== conversationId)
        throw forbidden('the stream token is for another conversation');
      this.streamAuth.set(
        request,
        claims.conversationExpiresAt !== undefined
          ? { conversationExpiresAt: claims.conversationExpiresAt }
          : {},
      );
    } else {
      const principal = await this.authorize(request, conversationId);
      this.streamAuth.set(
        request,
        principal.kind === 'token' ? { conversationExpiresAt: principal.claims.expiresAt } : {},
      );
    }
    if (!(await this.store.getConversation(conversationId))) throw notFound(conversationId);
    parseWatermark((request.query as { watermark?: string }).watermark);
  }

  private async streamUrl(
    request: FastifyRequest,
    prefix: string,
    conversationId: string,
    conversationExpiresAt: number | undefined,
    watermark: number | undefined,
  ): Promise<string> {
    const t = await this.tokens.mintStream(conversationId, conversationExpiresAt);
    const origin = this.options.publicUrl
      ? this.options.publicUrl.replace(/\/+$/, '').replace(/^http/i, 'ws')
      : `${request.protocol === 'https' ? 'wss' : 'ws'}://${request.host}`;
    const query = new URLSearchParams({ t });
    if (watermark !== undefined) query.set('watermark', String(watermark));
    return `${origin}${prefix}${DIRECTLINE_BASE}/conversations/${encodeURIComponent(conversationId)}/stream?${query}`;
  }

  /** Pushes `{activities, watermark}` frames: the ones after the URL's watermark first, then each new one. */
  private async stream(socket: WebSocket, request: FastifyRequest) {
    const { conversationId } = request.params as ConversationParams;
    const auth = this.streamAuth.get(request) ?? {};
    if (this.closed) {
      socket.close(1001, 'server shutting down');
      return;
    }
    this.sockets.add(socket);
    let sent = parseWatermark((request.query as { watermark?: string }).watermark) ?? 0;
    let backlogDone = false;
    const pending: ActivitySet[] = [];
    const send = (set: ActivitySet) => {
      const fresh = set.activities.filter((a) => (watermarkOfId(a.id) ?? 0) > sent);
      const last = fresh.at(-1);
      if (!last || socket.readyState !== socket.OPEN) return;
      sent = watermarkOfId(last.id) ?? sent;
      socket.send(JSON.stringify({ activities: fresh, watermark: String(sent) }));
    };
    const unsubscribe = this.store.subscribe(conversationId, (set) => {
      if (backlogDone) send(set);
      else pending.push(set);
    });
    let expiry: NodeJS.Timeout | undefined;
    if (auth.conversationExpiresAt !== undefined) {
      // The stream lives as long as the token it was opened with; the client reconnects with its refreshed token.
      const ms = Math.max(0, auth.conversationExpiresAt * 1000 - this.now());
      expiry = setTimeout(() => socket.close(4001, 'token expired'), ms);
    }
    socket.on('close', () => {
      unsubscribe();
      if (expiry) clearTimeout(expiry);
      this.sockets.delete(socket);
    });
    socket.on('error', () => socket.terminate());
    // Clients ping with empty frames; anything else is ignored (activities are posted over HTTP).
    socket.on('message', () => {});
    try {
      for (;;) {
        const set = await this.store.list(conversationId, sent, POLL_PAGE_SIZE);
        if (!set || set.activities.length === 0) break;
        send(set);
        if (set.activities.length < POLL_PAGE_SIZE) break;
      }
    } catch (e) {
      request.log.error({ err: e }, 'Direct Line stream backlog failed');
      socket.close(1011, 'internal error');
      return;
    }
    backlogDone = true;
    for (const set of pending.splice(0)) send(set);
  }

  private async dispatch(request: FastifyRequest, conversationId: string, activity: Activity) {
    const key = `${conversationId}\u0000${activity.id}`;
    if (this.dispatched.has(key)) return;
    let run = this.inflight.get(key);
    if (!run) {
      const envelope = activityToEnvelope(activity, this.options.tenant);
      const context: ActivityContext = {
        conversationId,
        activity,
        deliver: (message, options) =>
          this.deliver(conversationId, message, { replyToId: activity.id, ...stripUndefined(options) }),
      };
      run = (async () => this.options.onActivity(envelope, context))();
      this.inflight.set(key, run);
    }
    try {
      await run;
      this.dispatched.add(key);
      if (this.dispatched.size > 10_000)
        this.dispatched.delete(this.dispatched.values().next().value as string);
    } catch (e) {
      request.log.debug({ activity: activity.id }, 'onActivity rejected');
      throw new MessagingError(
        'GT_MSG_WEBCHAT_DISPATCH_FAILED',
        `activity ${activity.id} was stored but not accepted by the bot; post it again with the same channelData.clientActivityID`,
        { cause: e },
      );
    } finally {
      if (this.inflight.get(key) === run) this.inflight.delete(key);
    }
  }

  private takeMint(key: string) {
    const r = this.limiter.take(key);
    if (!r.ok) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_RATE_LIMITED',
        `too many tokens minted for this client in the last minute; retry in ${r.retryAfterSec} s`,
        { retryAfterSec: r.retryAfterSec },
      );
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function newConversationId(): string {
  return randomBytes(16).toString('base64url');
}

function noStore(reply: FastifyReply) {
  reply.header('cache-control', 'no-store');
}

function forbidden(message: string): MessagingError {
  return new MessagingError('GT_MSG_WEBCHAT_FORBIDDEN', message);
}

function notFound(conversationId: string): MessagingError {
  return new MessagingError(
    'GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND',
    `conversation ${conversationId} does not exist (never created, or forgotten after being idle): start a new one`,
  );
}

function parseWatermark(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '' || raw === '-') return undefined;
  if (typeof raw === 'string' && /^\d{1,15}$/.test(raw)) return Number(raw);
  throw new MessagingError(
    'GT_MSG_WEBCHAT_BAD_REQUEST',
    `watermark must be a non-negative integer from an earlier response (got ${JSON.stringify(raw)})`,
  );
}

function readUserId(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const user = (body as { user?: unknown }).user;
  if (typeof user !== 'object' || user === null) return undefined;
  const id = (user as { id?: unknown }).id;
  if (id === undefined || id === null) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) {
    throw new MessagingError('GT_MSG_WEBCHAT_BAD_REQUEST', 'user.id must be a string of 1 to 256 characters');
  }
  return id;
}

function stripUndefined<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
