// A fake WhatsApp Cloud API: `POST /{version}/{phone-number-id}/messages` with a Bearer token, answering
// `{messaging_product, contacts, messages:[{id}]}` or a Graph error object `{error:{message, type, code, fbtrace_id}}`.
import { FakeApi } from './server.js';

export const WHATSAPP_TOKEN = 'EAAG-fake-access-token';

export const graphError = (
  status: number,
  code: number,
  message: string,
  extra: Record<string, unknown> = {},
) => ({
  status,
  body: { error: { message, type: 'OAuthException', code, fbtrace_id: 'AbCdEf123', ...extra } },
});

export function startFakeWhatsApp(token = WHATSAPP_TOKEN): Promise<FakeApi> {
  let n = 0;
  return FakeApi.start((req) => {
    if (req.headers.authorization !== `Bearer ${token}`)
      return graphError(401, 190, 'Invalid OAuth access token.');
    const m = /^\/(v\d+\.\d+)\/(\d+)\/messages$/.exec(req.path);
    if (!m) return graphError(400, 100, 'Unsupported post request.');
    const b = req.body;
    if (b.messaging_product !== 'whatsapp')
      return graphError(400, 100, '(#100) The parameter messaging_product is required.');
    if (typeof b.to !== 'string') return graphError(400, 100, '(#100) The parameter to is required.');
    if (b.type === 'interactive') {
      const it = b.interactive as { action?: { buttons?: unknown[] } };
      if ((it.action?.buttons?.length ?? 0) > 3)
        return graphError(400, 131009, '(#131009) Parameter value is not valid');
    }
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: b.to, wa_id: b.to }],
        messages: [{ id: `wamid.HBgM${++n}` }],
      },
    };
  });
}
