import type { ChannelMessageEnvelope } from '@greentic/types';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ConnectorConfig, type ConnectorLookup, PROVIDER_NAMES, toLookup } from './connectors.js';
import { isMessagingError, type MessagingErrorCode } from './errors.js';
import { MemoryReplayGuard, type ReplayGuard } from './stores.js';
import type {
  Connector,
  HeaderValue,
  ProviderName,
  ProviderRequest,
  TenantBinding,
  WebhookRequest,
  WebhookResponse,
} from './types.js';

/** What `onMessage` is told besides the envelopes. */
export interface MessageInfo {
  provider: ProviderName;
  connector: string;
  binding: TenantBinding;
  /** The request's provider id (Telegram update_id, Slack event_id, Teams activity id, first WhatsApp wamid). */
  providerMessageId: string | undefined;
  /** The provider id of each envelope, in the same order. */
  providerMessageIds: string[];
  /** When the webhook arrived (ms since epoch). */
  receivedAt: number;
}

/**
 * Queues the messages of one webhook. It must resolve only once they are durably queued (a NATS JetStream
 * publish ack, an in-memory queue for a single process): the webhook answers 200 right after, and the flow
 * work happens later. A rejection answers 503 and lets the provider redeliver.
 */
export type OnMessage = (envelopes: ChannelMessageEnvelope[], info: MessageInfo) => Promise<void>;

/** What happened to a webhook request, for logs and metrics. `reason` is never sent to the caller. */
export interface GatewayEvent {
  type:
    | 'queued'
    | 'duplicate'
    | 'ignored'
    | 'rejected'
    | 'handshake'
    | 'not_found'
    | 'bad_request'
    | 'error'
    | 'follow_up_failed';
  provider: string;
  connector: string;
  status: number;
  code?: MessagingErrorCode;
  reason?: string;
  providerMessageId?: string;
  count?: number;
}

export interface GatewayOptions {
  /** The connectors to route to: a registry (shared with the outbox) or a list of connectors/configs. */
  connectors: ConnectorLookup | readonly (Connector | ConnectorConfig)[];
  onMessage: OnMessage;
  /** Drops replays and redeliveries by provider message id; default in memory (one process). */
  replayGuard?: ReplayGuard;
  /** Largest accepted webhook body (bytes, default 1 MiB); larger ones are answered 413. */
  bodyLimit?: number;
  /** Status for a replayed/redelivered message (default 200, so the provider stops redelivering). */
  duplicateStatus?: number;
  /** Called for every request's outcome. Must not throw. */
  onEvent?: (event: GatewayEvent) => void;
  /** Sends follow-up provider calls (Telegram `answerCallbackQuery` in `api` mode); default `connector.send`. */
  sendFollowUp?: (request: ProviderRequest, connector: Connector) => Promise<unknown>;
  /** Clock (ms since epoch) for `receivedAt`. */
  now?: () => number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const plain = (status: number, error: string): WebhookResponse => ({ status, body: { error } });

/**
 * The framework-free core of the gateway: one call per webhook request, answering what to reply. Verification
 * runs on the raw bytes first; nothing is parsed, deduplicated or queued before it passes.
 */
export class WebhookGateway {
  private readonly lookup: ConnectorLookup;
  private readonly guard: ReplayGuard;
  private readonly onMessage: OnMessage;
  private readonly duplicateStatus: number;
  private readonly onEvent: ((e: GatewayEvent) => void) | undefined;
  private readonly sendFollowUp: (request: ProviderRequest, connector: Connector) => Promise<unknown>;
  private readonly now: () => number;

  constructor(opts: GatewayOptions) {
    this.lookup = toLookup(opts.connectors);
    this.guard = opts.replayGuard ?? new MemoryReplayGuard();
    this.onMessage = opts.onMessage;
    this.duplicateStatus = opts.duplicateStatus ?? 200;
    this.onEvent = opts.onEvent;
    this.sendFollowUp = opts.sendFollowUp ?? ((r, c) => c.send(r));
    this.now = opts.now ?? Date.now;
  }

  async handle(provider: string, connectorId: string, req: WebhookRequest): Promise<WebhookResponse> {
    const receivedAt = this.now();
    const ev = (e: Omit<GatewayEvent, 'provider' | 'connector'>) =>
      this.onEvent?.({ provider, connector: connectorId, ...e });
    const connector = this.lookup.get(provider, connectorId);
    if (connector === undefined) {
      ev({ type: 'not_found', status: 404, code: 'GT_MSG_UNKNOWN_CONNECTOR' });
      return plain(404, 'not found');
    }
    try {
      if (connector.handshake) {
        const h = await connector.handshake(req);
        if (h !== undefined) {
          ev({
            type: h.status === 200 ? 'handshake' : 'rejected',
            status: h.status,
            ...(h.status === 200 ? {} : { code: 'GT_MSG_VERIFY' }),
          });
          return h;
        }
      }
      if (req.method !== 'POST') return { ...plain(405, 'method not allowed'), headers: { allow: 'POST' } };
      const v = await connector.verify(req);
      if (!v.ok) {
        ev({ type: 'rejected', status: v.status, code: 'GT_MSG_VERIFY', reason: v.reason });
        return plain(v.status, v.status === 401 ? 'unauthorized' : 'forbidden');
      }
      const result = connector.normalize(v.body ?? req.rawBody, connector.binding);
      if (result.messages.length === 0) {
        ev({
          type: 'ignored',
          status: result.response?.status ?? 200,
          ...(result.ignored !== undefined ? { reason: result.ignored } : {}),
          ...(result.providerMessageId !== undefined ? { providerMessageId: result.providerMessageId } : {}),
        });
        this.followUps(result.followUps, connector, ev);
        return result.response ?? { status: 200 };
      }
      const claimed: string[] = [];
      const fresh: ChannelMessageEnvelope[] = [];
      const ids: string[] = [];
      const ttl = connector.replayTtlMs ?? 36 * 60 * 60 * 1000;
      try {
        for (const m of result.messages) {
          const key = `${connector.provider}:${connector.id}:${m.providerMessageId}`;
          if (await this.guard.claim(key, ttl)) {
            claimed.push(key);
            fresh.push(m.envelope);
            ids.push(m.providerMessageId);
          }
        }
        if (fresh.length === 0) {
          ev({
            type: 'duplicate',
            status: this.duplicateStatus,
            code: 'GT_MSG_REPLAY',
            ...(result.providerMessageId !== undefined
              ? { providerMessageId: result.providerMessageId }
              : {}),
          });
          return { status: this.duplicateStatus };
        }
        await this.onMessage(fresh, {
          provider: connector.provider,
          connector: connector.id,
          binding: connector.binding,
          providerMessageId: result.providerMessageId ?? ids[0],
          providerMessageIds: ids,
          receivedAt,
        });
      } catch (e) {
        await Promise.allSettled(claimed.map((k) => this.guard.release(k)));
        ev({
          type: 'error',
          status: 503,
          code: isMessagingError(e) ? e.code : 'GT_MSG_QUEUE',
          reason: (e as Error)?.message ?? String(e),
        });
        return { ...plain(503, 'unavailable'), headers: { 'retry-after': '1' } };
      }
      ev({
        type: 'queued',
        status: result.response?.status ?? 200,
        count: fresh.length,
        ...(result.providerMessageId !== undefined ? { providerMessageId: result.providerMessageId } : {}),
      });
      this.followUps(result.followUps, connector, ev);
      return result.response ?? { status: 200 };
    } catch (e) {
      if (isMessagingError(e) && e.status !== undefined && e.status < 500) {
        ev({ type: 'bad_request', status: e.status, code: e.code, reason: e.message });
        return plain(e.status, 'bad request');
      }
      const status = isMessagingError(e) && e.status !== undefined ? e.status : 500;
      ev({
        type: 'error',
        status,
        ...(isMessagingError(e) ? { code: e.code } : {}),
        reason: (e as Error)?.message ?? String(e),
      });
      return plain(status, status === 503 ? 'unavailable' : 'internal error');
    }
  }

  private followUps(
    list: ProviderRequest[] | undefined,
    connector: Connector,
    ev: (e: Omit<GatewayEvent, 'provider' | 'connector'>) => void,
  ) {
    for (const r of list ?? []) {
      this.sendFollowUp(r, connector).then(
        (res) => {
          const failed = typeof res === 'object' && res !== null && (res as { ok?: unknown }).ok === false;
          if (failed)
            ev({
              type: 'follow_up_failed',
              status: 200,
              reason: (res as { reason?: string }).reason ?? r.op,
            });
        },
        (e) => ev({ type: 'follow_up_failed', status: 200, reason: (e as Error)?.message ?? String(e) }),
      );
    }
  }
}

export interface MessagingGatewayPluginOptions extends GatewayOptions {
  /** A gateway built elsewhere (shares its guard and connectors); otherwise one is built from the options. */
  gateway?: WebhookGateway;
}

/**
 * The Fastify plugin: `GET|POST /{provider}/:connector` for telegram, slack, teams and whatsapp. Register it
 * with a prefix (`app.register(messagingGateway, { prefix: '/webhooks', connectors, onMessage })`). Inside the
 * plugin every body is kept as the raw Buffer (signatures are over the exact bytes); bodies over `bodyLimit`
 * are answered 413; error answers carry no detail.
 */
export async function messagingGateway(
  fastify: FastifyInstance,
  opts: MessagingGatewayPluginOptions,
): Promise<void> {
  const gateway = opts.gateway ?? new WebhookGateway(opts);
  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  fastify.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    const error =
      status === 413
        ? 'payload too large'
        : status === 415
          ? 'unsupported media type'
          : status < 500
            ? 'bad request'
            : 'internal error';
    opts.onEvent?.({ type: status < 500 ? 'bad_request' : 'error', provider: '', connector: '', status });
    return reply.code(status).send({ error });
  });
  const handler = (provider: ProviderName) => async (req: FastifyRequest, reply: FastifyReply) => {
    const params = req.params as { connector: string };
    const res = await gateway.handle(provider, params.connector, {
      method: req.method,
      headers: req.headers as Record<string, HeaderValue>,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      query: (req.query ?? {}) as Record<string, HeaderValue>,
    });
    reply.code(res.status);
    if (res.headers) reply.headers(res.headers);
    if (res.body === undefined) return reply.send();
    if (typeof res.body === 'string' || Buffer.isBuffer(res.body)) {
      if (!res.headers?.['content-type']) reply.type('text/plain; charset=utf-8');
      return reply.send(res.body);
    }
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(res.body));
  };
  for (const provider of PROVIDER_NAMES) {
    fastify.route({
      method: ['GET', 'POST'],
      url: `/${provider}/:connector`,
      bodyLimit,
      handler: handler(provider),
    });
  }
}
