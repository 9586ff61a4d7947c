import { createHmac } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  ConnectorRegistry,
  createConnector,
  isMessagingError,
  messagingGateway,
  TELEGRAM_SECRET_HEADER,
  TelegramConnector,
  type TenantBinding,
  WebhookGateway,
} from '../src/index.js';
import { telegram as fx } from './fixtures.js';
import { BINDING, gatewayApp } from './helpers.js';

const tg = (id = 'bot', binding: TenantBinding = BINDING) =>
  new TelegramConnector({ id, binding, botToken: 't', webhookSecrets: 'sekret' });

const tgPost = (url: string, payload: string | Buffer, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  url,
  headers: { [TELEGRAM_SECRET_HEADER]: 'sekret', 'content-type': 'application/json', ...headers },
  payload,
});

describe('gateway routing', () => {
  it('answers 404 for an unknown connector id, without detail', async () => {
    const h = await gatewayApp([tg()]);
    const res = await h.app.inject(tgPost('/webhooks/telegram/nope', JSON.stringify(fx.text())));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not found' });
    expect(h.events[0]).toMatchObject({ type: 'not_found', code: 'GT_MSG_UNKNOWN_CONNECTOR' });
  });

  it('routes each connector to its own tenant binding', async () => {
    const h = await gatewayApp([tg('acme-bot'), tg('globex-bot', { env: 'prod', tenant: 'globex' })]);
    await h.app.inject(tgPost('/webhooks/telegram/acme-bot', JSON.stringify(fx.text(1))));
    await h.app.inject(tgPost('/webhooks/telegram/globex-bot', JSON.stringify(fx.text(1))));
    expect(
      h.queued.map((q) => [q.info.connector, q.envelopes[0]!.tenant.tenant_id, q.envelopes[0]!.tenant.env]),
    ).toEqual([
      ['acme-bot', 'acme', 'test'],
      ['globex-bot', 'globex', 'prod'],
    ]);
  });

  it('answers 405 to a GET on a provider without a handshake', async () => {
    const h = await gatewayApp([tg()]);
    const res = await h.app.inject({ method: 'GET', url: '/webhooks/telegram/bot' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('answers 413 for a body over the limit, before verification', async () => {
    const h = await gatewayApp([tg()], { bodyLimit: 1024 });
    const res = await h.app.inject(
      tgPost('/webhooks/telegram/bot', JSON.stringify(fx.text(1, 'x'.repeat(2000)))),
    );
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'payload too large' });
    expect(h.queued).toHaveLength(0);
  });

  it('keeps the raw body whatever the content type says', async () => {
    const h = await gatewayApp([tg()]);
    const body = JSON.stringify(fx.text(7, 'Grüße 👋'));
    for (const type of ['text/plain', 'application/octet-stream', 'application/json; charset=utf-8']) {
      const res = await h.app.inject(tgPost('/webhooks/telegram/bot', body, { 'content-type': type }));
      expect(res.statusCode).toBe(200);
    }
    expect(h.queued[0]!.envelopes[0]!.text).toBe('Grüße 👋');
    const none = await h.app.inject({
      method: 'POST',
      url: '/webhooks/telegram/bot',
      headers: { [TELEGRAM_SECRET_HEADER]: 'sekret' },
      payload: JSON.stringify(fx.text(8)),
    });
    expect(none.statusCode).toBe(200);
  });

  it('verifies Slack signatures over the exact bytes, odd spacing and unicode included', async () => {
    const slack = createConnector({
      provider: 'slack',
      id: 'ws',
      binding: BINDING,
      signingSecrets: 'sig',
      botToken: 'xoxb-1',
      now: () => 1_700_000_000_000,
    });
    const h = await gatewayApp([slack]);
    const body = `{ "type" : "event_callback",  "event_id":"EvU", "event": {"type":"message","channel":"C1","user":"U1","ts":"1.1","text":"caf\\u00e9 ☕"} }`;
    const sig = `v0=${createHmac('sha256', 'sig').update(`v0:1700000000:${body}`).digest('hex')}`;
    const res = await h.app.inject({
      method: 'POST',
      url: '/webhooks/slack/ws',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': '1700000000',
        'x-slack-signature': sig,
      },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(h.queued[0]!.envelopes[0]!.text).toBe('café ☕');
  });

  it('answers only after onMessage resolved (the message is queued before the 200)', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const h = await gatewayApp([tg()], {
      onMessage: async () => {
        order.push('queue-start');
        await gate;
        order.push('queued');
      },
    });
    const pending = h.app.inject(tgPost('/webhooks/telegram/bot', JSON.stringify(fx.text(9)))).then((r) => {
      order.push(`answered ${r.statusCode}`);
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['queue-start']);
    release();
    await pending;
    expect(order).toEqual(['queue-start', 'queued', 'answered 200']);
  });

  it('ignores events that carry no message: 200, nothing queued, no replay id used up', async () => {
    const h = await gatewayApp([tg()]);
    const res = await h.app.inject(tgPost('/webhooks/telegram/bot', JSON.stringify(fx.myChatMember)));
    expect(res.statusCode).toBe(200);
    expect(h.queued).toHaveLength(0);
    expect(h.events[0]).toMatchObject({ type: 'ignored', reason: expect.stringContaining('my_chat_member') });
  });

  it('lets a replay be answered with another status when configured', async () => {
    const h = await gatewayApp([tg()], { duplicateStatus: 409 });
    await h.app.inject(tgPost('/webhooks/telegram/bot', JSON.stringify(fx.text(77))));
    expect(
      (await h.app.inject(tgPost('/webhooks/telegram/bot', JSON.stringify(fx.text(77))))).statusCode,
    ).toBe(409);
  });

  it('does not change how the rest of the app parses JSON', async () => {
    const app = Fastify();
    app.post('/api/echo', async (req) => ({ got: req.body }));
    await app.register(messagingGateway, {
      prefix: '/webhooks',
      connectors: [tg()],
      onMessage: async () => {},
    });
    const res = await app.inject({ method: 'POST', url: '/api/echo', payload: { a: 1 } });
    expect(res.json()).toEqual({ got: { a: 1 } });
  });

  it('answers 503 when the replay guard backend fails', async () => {
    const h = await gatewayApp([tg()], {
      replayGuard: {
        claim: async () => {
          throw new Error('redis down');
        },
        release: async () => {},
      },
    });
    const res = await h.app.inject(tgPost('/webhooks/telegram/bot', JSON.stringify(fx.text(5))));
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('redis');
    expect(h.queued).toHaveLength(0);
  });
});

describe('WebhookGateway without Fastify', () => {
  it('handles a request given as headers, raw bytes and query', async () => {
    const queued: string[] = [];
    const gw = new WebhookGateway({
      connectors: new ConnectorRegistry([tg()]),
      onMessage: async (envs) => {
        queued.push(...envs.map((e) => e.id));
      },
    });
    const res = await gw.handle('telegram', 'bot', {
      method: 'POST',
      headers: { [TELEGRAM_SECRET_HEADER]: 'sekret' },
      rawBody: Buffer.from(JSON.stringify(fx.text(31))),
      query: {},
    });
    expect(res).toEqual({ status: 200 });
    expect(queued).toEqual(['telegram:bot:31']);
  });
});

describe('connector configuration', () => {
  it('builds connectors from tagged configs and refuses duplicates', () => {
    const reg = new ConnectorRegistry([
      { provider: 'telegram', id: 'a', binding: BINDING, botToken: 't', webhookSecrets: 's' },
      {
        provider: 'whatsapp',
        id: 'a',
        binding: BINDING,
        appSecrets: 's',
        verifyTokens: 'v',
        accessToken: 't',
        phoneNumberId: '1',
      },
    ]);
    expect(reg.list().map((c) => `${c.provider}/${c.id}`)).toEqual(['telegram/a', 'whatsapp/a']);
    expect(() => reg.add(tg('a'))).toThrow(/configured twice/);
  });

  it.each([
    [
      { provider: 'telegram', id: 'bad id', binding: BINDING, botToken: 't', webhookSecrets: 's' },
      /connector id/,
    ],
    [
      {
        provider: 'telegram',
        id: 'x',
        binding: { env: 'test', tenant: 'a b' },
        botToken: 't',
        webhookSecrets: 's',
      },
      /tenant binding/,
    ],
    [
      { provider: 'telegram', id: 'x', binding: BINDING, botToken: 't', webhookSecrets: [] },
      /webhookSecrets/,
    ],
    [{ provider: 'slack', id: 'x', binding: BINDING, botToken: 't' }, /signingSecrets/],
    [{ provider: 'teams', id: 'x', binding: BINDING, appPassword: 'p' }, /appId/],
    [
      {
        provider: 'whatsapp',
        id: 'x',
        binding: BINDING,
        appSecrets: 's',
        verifyTokens: 'v',
        accessToken: 't',
        phoneNumberId: '+1 555',
      },
      /phoneNumberId/,
    ],
    [
      {
        provider: 'telegram',
        id: 'x',
        binding: BINDING,
        botToken: 't',
        webhookSecrets: 's',
        apiBaseUrl: 'ftp://x',
      },
      /apiBaseUrl/,
    ],
    [
      {
        provider: 'telegram',
        id: 'x',
        binding: BINDING,
        botToken: 't',
        webhookSecrets: 's',
        rateLimit: { rps: 0, burst: 1 },
      },
      /rateLimit/,
    ],
    [{ provider: 'webex', id: 'x', binding: BINDING }, /not one of/],
  ])('refuses a bad config with GT_MSG_CONFIG (%#)', (config, message) => {
    const err = (() => {
      try {
        createConnector(config as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isMessagingError(err, 'GT_MSG_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});
