// A small fake of the Telegram Bot API for the gateway tests: `POST /bot<token>/<method>` answering the documented
// `{ok, result}` shapes, recording every call; `script()` queues answers (a 429, a 500) for the next sendMessage.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TelegramCall {
  method: string;
  token: string;
  body: Record<string, unknown>;
}

export interface FakeTelegram {
  url: string;
  calls: TelegramCall[];
  /** The texts sent with sendMessage, in order. */
  sent(): string[];
  /** The next sendMessage calls get these answers (status and body) before the normal one. */
  script(...answers: { status: number; body: unknown }[]): void;
  close(): Promise<void>;
}

export async function startFakeTelegram(token: string): Promise<FakeTelegram> {
  const calls: TelegramCall[] = [];
  const scripted: { status: number; body: unknown }[] = [];
  let nextId = 1000;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
      if (!m) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return send(400, { ok: false, error_code: 400, description: 'Bad Request: bad JSON' });
      }
      calls.push({ method: m[2]!, token: m[1]!, body });
      if (m[1] !== token) return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      if (m[2] !== 'sendMessage') return send(200, { ok: true, result: true });
      const s = scripted.shift();
      if (s) return send(s.status, s.body);
      if (body.chat_id === 404)
        return send(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
      send(200, { ok: true, result: { message_id: nextId++, date: 1700000000, chat: { id: body.chat_id } } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    sent: () =>
      calls.filter((c) => c.method === 'sendMessage' && c.token === token).map((c) => String(c.body.text)),
    script: (...answers) => scripted.push(...answers),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A Telegram text-message update from user 42 in private chat `chat`. */
export function telegramUpdate(updateId: number, text: string, chat = 4242): string {
  return JSON.stringify({
    update_id: updateId,
    message: {
      message_id: updateId,
      from: { id: 42, is_bot: false, first_name: 'Ada' },
      chat: { id: chat, type: 'private', first_name: 'Ada' },
      date: 1700000000,
      text,
    },
  });
}
