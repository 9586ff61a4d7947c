/**
 * A local stand-in for the Telegram Bot API: what the deployer calls (`setWebhook`, `deleteWebhook`,
 * `getWebhookInfo`, `getMe`) and what a runner replies with (`sendMessage`, `answerCallbackQuery`), on 127.0.0.1. It checks what Telegram checks — a known bot token, an https/http URL,
 * `secret_token` of 1–256 characters [A-Za-z0-9_-], `max_connections` 1–100 — and records every call.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTelegramCall {
  token: string;
  method: string;
  params: Record<string, unknown>;
}

export interface FakeTelegramWebhook {
  url: string;
  secret_token?: string;
  max_connections?: number;
  allowed_updates?: string[];
}

export interface FakeTelegram {
  /** Base URL to use as api_base_url (`http://127.0.0.1:<port>`). */
  url: string;
  calls: FakeTelegramCall[];
  /** The webhook currently set per bot token. */
  webhooks: Map<string, FakeTelegramWebhook>;
  /** Messages sent with `sendMessage` (the runner's replies). */
  sent: { chat_id: number | string; text: string }[];
  /** Makes the next `n` calls of `method` fail with this HTTP status (500 by default). */
  failNext(method: string, n?: number, status?: number): void;
  close(): Promise<void>;
}

const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export async function startFakeTelegram(options: { tokens?: string[] } = {}): Promise<FakeTelegram> {
  const tokens = new Set(options.tokens ?? ['123456:TEST-token']);
  const calls: FakeTelegramCall[] = [];
  const webhooks = new Map<string, FakeTelegramWebhook>();
  const sent: { chat_id: number | string; text: string }[] = [];
  const failures = new Map<string, { n: number; status: number }>();

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, description: string) =>
    answer(res, status, { ok: false, error_code: status, description });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (!m) return fail(res, 404, 'Not Found');
    const token = decodeURIComponent(m[1]!);
    const method = m[2]!;
    let body = '';
    for await (const chunk of req) body += chunk;
    let params: Record<string, unknown> = {};
    if (body) {
      try {
        params = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return fail(res, 400, 'Bad Request: invalid JSON');
      }
    }
    calls.push({ token, method, params });
    const f = failures.get(method);
    if (f && f.n > 0) {
      f.n--;
      return fail(res, f.status, 'Internal Server Error (injected)');
    }
    if (!tokens.has(token)) return fail(res, 401, 'Unauthorized');
    switch (method) {
      case 'getMe':
        return answer(res, 200, { ok: true, result: { id: 1, is_bot: true, username: 'fake_bot' } });
      case 'setWebhook': {
        const url = params.url;
        if (typeof url !== 'string' || !/^https?:\/\/[^/]+/.test(url))
          return fail(res, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        const st = params.secret_token;
        if (st !== undefined && (typeof st !== 'string' || !SECRET_TOKEN.test(st)))
          return fail(res, 400, 'Bad Request: secret token contains unallowed characters');
        const mc = params.max_connections;
        if (mc !== undefined && (typeof mc !== 'number' || mc < 1 || mc > 100))
          return fail(res, 400, 'Bad Request: bad max_connections');
        webhooks.set(token, {
          url,
          ...(typeof st === 'string' ? { secret_token: st } : {}),
          ...(typeof mc === 'number' ? { max_connections: mc } : {}),
          ...(Array.isArray(params.allowed_updates)
            ? { allowed_updates: params.allowed_updates as string[] }
            : {}),
        });
        return answer(res, 200, { ok: true, result: true, description: 'Webhook was set' });
      }
      case 'sendMessage': {
        // replies of the runner: recorded in `calls` (and `sent`)
        sent.push({ chat_id: params.chat_id as number | string, text: String(params.text ?? '') });
        return answer(res, 200, {
          ok: true,
          result: {
            message_id: sent.length,
            date: 0,
            chat: { id: params.chat_id, type: 'private' },
            text: params.text,
          },
        });
      }
      case 'answerCallbackQuery':
        return answer(res, 200, { ok: true, result: true });
      case 'deleteWebhook':
        webhooks.delete(token);
        return answer(res, 200, { ok: true, result: true, description: 'Webhook was deleted' });
      case 'getWebhookInfo': {
        const w = webhooks.get(token);
        return answer(res, 200, {
          ok: true,
          result: { url: w?.url ?? '', has_custom_certificate: false, pending_update_count: 0 },
        });
      }
      default:
        return fail(res, 404, 'Not Found: method not found');
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, 'Internal Server Error'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    webhooks,
    sent,
    failNext(method, n = 1, status = 500) {
      failures.set(method, { n, status });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
