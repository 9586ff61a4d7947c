// A fake Slack Web API: `POST /chat.postMessage` with a Bearer bot token, answering `{ok, …}` / `{ok:false, error}`
// (HTTP 200) and HTTP 429 with `Retry-After` for rate limits.
import { FakeApi } from './server.js';

export const SLACK_BOT_TOKEN = 'xoxb-1111-2222-fake';

export function startFakeSlack(token = SLACK_BOT_TOKEN): Promise<FakeApi> {
  let ts = 1700000000;
  return FakeApi.start((req) => {
    const auth = req.headers.authorization;
    if (!auth) return { status: 200, body: { ok: false, error: 'not_authed' } };
    if (auth !== `Bearer ${token}`) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    if (req.path !== '/chat.postMessage')
      return { status: 404, body: { ok: false, error: 'unknown_method' } };
    const b = req.body;
    if (!b.channel) return { status: 200, body: { ok: false, error: 'channel_not_found' } };
    if (!b.text && !b.blocks) return { status: 200, body: { ok: false, error: 'no_text' } };
    if (Array.isArray(b.blocks) && b.blocks.length > 50)
      return { status: 200, body: { ok: false, error: 'invalid_blocks' } };
    const stamp = `${ts++}.000100`;
    return {
      status: 200,
      body: { ok: true, channel: b.channel, ts: stamp, message: { text: b.text, ts: stamp } },
    };
  });
}

export const slack429 = (retryAfterSec: number) => ({
  status: 429,
  headers: { 'retry-after': String(retryAfterSec) },
  body: { ok: false, error: 'ratelimited' },
});
export const slackError = (error: string) => ({ status: 200, body: { ok: false, error } });
