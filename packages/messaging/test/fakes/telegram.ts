// A fake Telegram Bot API: `POST /bot<token>/<method>` answering the documented `{ok, result}` and
// `{ok:false, error_code, description, parameters}` shapes. `sendMessage` with `parse_mode: MarkdownV2` is
// parsed like the Bot API does: an unescaped reserved character is a 400 "can't parse entities".
import { FakeApi, type Recorded } from './server.js';

export const TELEGRAM_TOKEN = '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11';

/** Where MarkdownV2 text breaks the Bot API's rules, or undefined. Only `*bold*` is allowed as formatting here. */
export function markdownV2Problem(text: string): string | undefined {
  let bold = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 1 && next <= 126)) return `Character '\\' at ${i} escapes nothing escapable`;
      i++;
      continue;
    }
    if (c === '*') {
      bold = !bold;
      continue;
    }
    if ('_[]()~`>#+-=|{}.!'.includes(c)) {
      return `Bad Request: can't parse entities: Character '${c}' is reserved and must be escaped with the preceding '\\'`;
    }
  }
  return bold ? "Bad Request: can't parse entities: Can't find end of Bold entity" : undefined;
}

const err = (code: number, description: string, parameters?: Record<string, unknown>) => ({
  status: code,
  body: { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) },
});

export function startFakeTelegram(token = TELEGRAM_TOKEN): Promise<FakeApi> {
  let nextId = 100;
  const opOf = (path: string) => path.replace(/^\/bot[^/]+\//, '');
  return FakeApi.start((req: Recorded) => {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.path);
    if (!m) return err(404, 'Not Found');
    if (m[1] !== token) return err(401, 'Unauthorized');
    const b = req.body;
    switch (m[2]) {
      case 'sendMessage': {
        if (b.chat_id === undefined) return err(400, 'Bad Request: chat_id is empty');
        if (typeof b.text !== 'string' || b.text === '')
          return err(400, 'Bad Request: message text is empty');
        if (b.parse_mode === 'MarkdownV2') {
          const problem = markdownV2Problem(b.text);
          if (problem) return err(400, problem);
        }
        if (b.chat_id === 404) return err(400, 'Bad Request: chat not found');
        return {
          status: 200,
          body: {
            ok: true,
            result: { message_id: nextId++, date: 1700000000, chat: { id: b.chat_id }, text: b.text },
          },
        };
      }
      case 'sendPhoto':
      case 'sendDocument':
        return {
          status: 200,
          body: { ok: true, result: { message_id: nextId++, date: 1700000000, chat: { id: b.chat_id } } },
        };
      case 'answerCallbackQuery':
        return b.callback_query_id
          ? { status: 200, body: { ok: true, result: true } }
          : err(400, 'Bad Request: query is too old');
      case 'setWebhook':
        return { status: 200, body: { ok: true, result: true, description: 'Webhook was set' } };
      default:
        return err(404, 'Not Found: method not found');
    }
  }, opOf);
}

export const telegram429 = (retryAfter: number) =>
  err(429, `Too Many Requests: retry after ${retryAfter}`, { retry_after: retryAfter });
export const telegram400 = (description: string) => err(400, description);
export const telegram502 = { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
