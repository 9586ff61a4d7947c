/**
 * The Telegram Bot API calls the deployer makes: `setWebhook`, `deleteWebhook`, `getWebhookInfo`. The bot token is
 * part of the URL path, so URLs are never logged and error messages name the method, not the URL.
 */
import { TELEGRAM_SECRET_TOKEN } from './connectors.js';
import { DeployerError } from './errors.js';

export interface TelegramCallOptions {
  apiBase: string;
  botToken: string;
  resource: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface SetWebhookParams {
  url: string;
  secretToken: string;
  maxConnections?: number;
  allowedUpdates?: string[];
  dropPendingUpdates?: boolean;
}

export interface WebhookInfo {
  url: string;
  pending_update_count?: number;
  last_error_message?: string;
  max_connections?: number;
  allowed_updates?: string[];
}

async function call<T>(method: string, body: Record<string, unknown>, o: TelegramCallOptions): Promise<T> {
  const base = o.apiBase.replace(/\/+$/, '');
  const url = `${base}/bot${o.botToken}/${method}`;
  const doFetch = o.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      redirect: 'error',
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new DeployerError('GT_DEPLOY_PROVIDER', `Telegram ${method}: cannot reach ${base} (${cause})`, {
      step: 'webhook',
      resource: o.resource,
      hint: 'check the network and the connector api_base_url, then run again (the step is safe to repeat)',
      cause: e,
    });
  }
  let answer: { ok?: boolean; result?: unknown; description?: string; error_code?: number } = {};
  try {
    answer = (await res.json()) as typeof answer;
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok || answer.ok !== true) {
    const status = answer.error_code ?? res.status;
    const detail = answer.description ?? `HTTP ${res.status}`;
    const hint =
      status === 401 || status === 404
        ? 'the bot token is wrong or revoked: store the right one (remove it with greentic-secrets, then run bootstrap again)'
        : status === 429
          ? 'Telegram rate-limited the call: wait a little and run again'
          : status === 400
            ? 'Telegram refused the parameters: the webhook URL must be a public HTTPS URL (target.public_url) on port 443, 80, 88 or 8443'
            : 'run again later; the step is safe to repeat';
    throw new DeployerError('GT_DEPLOY_PROVIDER', `Telegram ${method} failed: ${status} ${detail}`, {
      step: 'webhook',
      resource: o.resource,
      hint,
    });
  }
  return answer.result as T;
}

export async function setWebhook(p: SetWebhookParams, o: TelegramCallOptions): Promise<void> {
  if (!TELEGRAM_SECRET_TOKEN.test(p.secretToken))
    throw new DeployerError(
      'GT_DEPLOY_PROVIDER',
      'the webhook secret token is not 1–256 characters of A-Z, a-z, 0-9, _ and -',
      {
        step: 'webhook',
        resource: o.resource,
        hint: 'delete the stored webhook_secret so bootstrap generates a valid one',
      },
    );
  await call<boolean>(
    'setWebhook',
    {
      url: p.url,
      secret_token: p.secretToken,
      ...(p.maxConnections !== undefined ? { max_connections: p.maxConnections } : {}),
      ...(p.allowedUpdates ? { allowed_updates: p.allowedUpdates } : {}),
      ...(p.dropPendingUpdates !== undefined ? { drop_pending_updates: p.dropPendingUpdates } : {}),
    },
    o,
  );
}

export async function deleteWebhook(o: TelegramCallOptions): Promise<void> {
  await call<boolean>('deleteWebhook', { drop_pending_updates: false }, o);
}

export async function getWebhookInfo(o: TelegramCallOptions): Promise<WebhookInfo> {
  return call<WebhookInfo>('getWebhookInfo', {}, o);
}
