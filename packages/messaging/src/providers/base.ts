import type { TenantCtx } from '@greentic/types';
import { bindingContext, checkConnectorId } from '../envelope.js';
import { MessagingError } from '../errors.js';
import { type CallAnswer, type CallOptions, callJson, describeNetworkError } from '../http.js';
import type {
  Connector,
  NormalizeResult,
  OutboundReply,
  ProviderName,
  ProviderRequest,
  RateLimitOptions,
  ReplyTarget,
  SendResult,
  TenantBinding,
  VerifyResult,
  WebhookRequest,
  WebhookResponse,
} from '../types.js';

/** Settings every connector has. */
export interface ConnectorCommonConfig {
  /** The `:id` of the webhook URL `/{provider}/{id}` and the name replies are routed by. `[A-Za-z0-9._-]+`. */
  id: string;
  /** The tenant every message of this connector belongs to. */
  binding: TenantBinding;
  /** The provider API base URL (a fake server in tests, a proxy in production). */
  apiBaseUrl?: string;
  /** Per-tenant send rate through this connector; the outbox default applies when absent. */
  rateLimit?: RateLimitOptions;
  /** How long provider message ids are remembered to drop replays (ms); default 36 h. */
  replayTtlMs?: number;
  /** Deadline of one provider API call (ms); default 10 000. */
  requestTimeoutMs?: number;
  /** `fetch` to use (tests, proxies); default the global one. */
  fetch?: typeof fetch;
  /** Clock for verification windows and token expiry (ms since epoch); default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_REPLAY_TTL_MS = 36 * 60 * 60 * 1000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export abstract class BaseConnector implements Connector {
  abstract readonly provider: ProviderName;
  readonly id: string;
  readonly binding: TenantBinding;
  readonly rateLimit?: RateLimitOptions;
  readonly replayTtlMs: number;
  protected readonly ctx: TenantCtx;
  protected readonly apiBaseUrl: string;
  protected readonly timeoutMs: number;
  protected readonly fetchImpl: typeof fetch | undefined;
  protected readonly now: () => number;

  protected constructor(provider: ProviderName, config: ConnectorCommonConfig, defaultApiBase: string) {
    if (typeof config !== 'object' || config === null) {
      throw new MessagingError('GT_MSG_CONFIG', `${provider} connector config must be an object`);
    }
    this.id = checkConnectorId(config.id, provider);
    this.binding = { ...config.binding };
    this.ctx = bindingContext(config.binding ?? ({} as TenantBinding), provider, `${provider}/${this.id}`);
    if (config.rateLimit !== undefined)
      this.rateLimit = checkRate(config.rateLimit, `${provider}/${this.id}`);
    this.replayTtlMs = config.replayTtlMs ?? DEFAULT_REPLAY_TTL_MS;
    this.apiBaseUrl = checkUrl(config.apiBaseUrl ?? defaultApiBase, `${provider}/${this.id} apiBaseUrl`);
    this.timeoutMs = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.fetchImpl = config.fetch;
    this.now = config.now ?? Date.now;
  }

  abstract verify(req: WebhookRequest): Promise<VerifyResult>;
  abstract normalize(body: Buffer | string | object, binding?: TenantBinding): NormalizeResult;
  abstract render(reply: OutboundReply, target: ReplyTarget): ProviderRequest[];
  abstract send(req: ProviderRequest): Promise<SendResult>;
  handshake?(req: WebhookRequest): Promise<WebhookResponse | undefined>;

  /** The TenantCtx for a binding: the connector's own (checked once) unless another one is passed. */
  protected tenantFor(binding: TenantBinding | undefined): TenantCtx {
    if (binding === undefined || binding === this.binding) return this.ctx;
    return bindingContext(binding, this.provider, `${this.provider}/${this.id}`);
  }

  protected request(
    op: string,
    path: string,
    body: Record<string, unknown>,
    baseUrl?: string,
  ): ProviderRequest {
    return {
      provider: this.provider,
      connector: this.id,
      op,
      method: 'POST',
      path,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      body,
    };
  }

  /** One API call; a network error or timeout comes back as a retryable failure instead of a rejection. */
  protected async call(
    url: string,
    opts: Omit<CallOptions, 'timeoutMs' | 'fetch'>,
  ): Promise<CallAnswer | Extract<SendResult, { ok: false }>> {
    try {
      return await callJson(url, {
        ...opts,
        timeoutMs: this.timeoutMs,
        ...(this.fetchImpl ? { fetch: this.fetchImpl } : {}),
      });
    } catch (e) {
      return { ok: false, retryable: true, reason: describeNetworkError(e) };
    }
  }
}

export function checkUrl(url: string, what: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
    return url.replace(/\/+$/, '');
  } catch (e) {
    throw new MessagingError('GT_MSG_CONFIG', `${what} ${JSON.stringify(url)} is not an http(s) URL`, {
      cause: e,
    });
  }
}

export function checkRate(r: RateLimitOptions, where: string): RateLimitOptions {
  if (!(r.rps > 0) || !(r.burst >= 1)) {
    throw new MessagingError(
      'GT_MSG_CONFIG',
      `${where}: rateLimit needs rps > 0 and burst ≥ 1 (got ${JSON.stringify(r)})`,
    );
  }
  return { rps: r.rps, burst: r.burst };
}

export function requireSecret(value: unknown, what: string, where: string): void {
  if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
    throw new MessagingError('GT_MSG_CONFIG', `${where}: ${what} is required`);
  }
}

export const isFailure = (v: CallAnswer | SendResult): v is Extract<SendResult, { ok: false }> =>
  'ok' in v && v.ok === false;
