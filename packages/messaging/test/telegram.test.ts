import { validateChannelMessageEnvelope } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryDeadLetterSink,
  OutboxSender,
  replyTargetOf,
  TELEGRAM_SECRET_HEADER,
  type TelegramConfig,
  TelegramConnector,
} from '../src/index.js';
import type { FakeApi } from './fakes/server.js';
import {
  startFakeTelegram,
  TELEGRAM_TOKEN,
  telegram400,
  telegram429,
  telegram502,
} from './fakes/telegram.js';
import { telegram as fx } from './fixtures.js';
import { BINDING, fakeTime, gatewayApp } from './helpers.js';

const SECRET = 'old-secret_A1';
const NEW_SECRET = 'new-secret_B2';

let api: FakeApi;
beforeAll(async () => {
  api = await startFakeTelegram();
});
afterAll(() => api.close());

const connector = (extra: Partial<TelegramConfig> = {}) =>
  new TelegramConnector({
    id: 'travel-bot',
    binding: BINDING,
    botToken: TELEGRAM_TOKEN,
    webhookSecrets: [SECRET, NEW_SECRET],
    apiBaseUrl: api.url,
    ...extra,
  });

const post = (app: Awaited<ReturnType<typeof gatewayApp>>['app'], body: unknown, secret?: string) =>
  app.inject({
    method: 'POST',
    url: '/webhooks/telegram/travel-bot',
    headers: {
      'content-type': 'application/json',
      ...(secret !== undefined ? { [TELEGRAM_SECRET_HEADER]: secret } : {}),
    },
    payload: JSON.stringify(body),
  });

describe('telegram webhook verification', () => {
  it('refuses a request without the secret token header with 401 and queues nothing', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h.app, fx.text(), undefined);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized' });
    expect(h.queued).toHaveLength(0);
  });

  it('refuses a wrong secret token with 403 without saying why', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h.app, fx.text(), 'guessed-secret');
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toContain('match');
    expect(h.events.at(-1)).toMatchObject({ type: 'rejected', code: 'GT_MSG_VERIFY' });
    expect(h.queued).toHaveLength(0);
  });

  it('accepts both the old and the new secret during a rotation', async () => {
    const h = await gatewayApp([connector()]);
    expect((await post(h.app, fx.text(1), SECRET)).statusCode).toBe(200);
    expect((await post(h.app, fx.text(2), NEW_SECRET)).statusCode).toBe(200);
    expect(h.queued).toHaveLength(2);
  });

  it('reads the live secrets from a function on every request (rotation without restart)', async () => {
    let live = [SECRET];
    const h = await gatewayApp([connector({ webhookSecrets: () => live })]);
    expect((await post(h.app, fx.text(1), SECRET)).statusCode).toBe(200);
    live = [NEW_SECRET];
    expect((await post(h.app, fx.text(2), SECRET)).statusCode).toBe(403);
    expect((await post(h.app, fx.text(3), NEW_SECRET)).statusCode).toBe(200);
  });

  it('verifies before parsing: a bad body with a wrong token is 403, with the right token 400', async () => {
    const h = await gatewayApp([connector()]);
    const bad = { method: 'POST' as const, url: '/webhooks/telegram/travel-bot', payload: '{not json' };
    expect((await h.app.inject({ ...bad, headers: { [TELEGRAM_SECRET_HEADER]: 'nope' } })).statusCode).toBe(
      403,
    );
    const res = await h.app.inject({ ...bad, headers: { [TELEGRAM_SECRET_HEADER]: SECRET } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'bad request' });
  });

  it('drops a replayed update_id: answered 200, queued once', async () => {
    const h = await gatewayApp([connector()]);
    expect((await post(h.app, fx.text(555), SECRET)).statusCode).toBe(200);
    expect((await post(h.app, fx.text(555), SECRET)).statusCode).toBe(200);
    expect(h.queued).toHaveLength(1);
    expect(h.events.map((e) => e.type)).toEqual(['queued', 'duplicate']);
  });
});

describe('telegram normalisation', () => {
  const c = () => connector();

  it('turns a text message into an envelope bound to the configured tenant', () => {
    const r = c().normalize(fx.text(10001, '/start now'));
    expect(r.providerMessageId).toBe('10001');
    const env = r.messages[0]!.envelope;
    expect(validateChannelMessageEnvelope(env)).toBe(env);
    expect(env).toMatchObject({
      id: 'telegram:travel-bot:10001',
      channel: 'telegram',
      session_id: '777000111',
      reply_scope: { conversation: '777000111' },
      from: { id: '777000111', kind: 'user' },
      text: '/start now',
      metadata: {
        connector: 'travel-bot',
        provider_message_id: '10001',
        message_id: '42',
        chat_type: 'private',
      },
    });
    expect(env.tenant).toMatchObject({ env: 'test', tenant_id: 'acme', team_id: 'support' });
    expect(env.extensions?.entities).toEqual([{ offset: 0, length: 6, type: 'bot_command' }]);
  });

  it('takes the tenant from the binding, never from the payload', () => {
    const payload = { ...fx.text(), tenant: 'evil', env: 'prod' } as Record<string, unknown>;
    const env = c().normalize(Buffer.from(JSON.stringify(payload))).messages[0]!.envelope;
    expect(env.tenant.tenant_id).toBe('acme');
    expect(env.tenant.env).toBe('test');
  });

  it('keeps the forum topic as the reply scope thread', () => {
    const env = c().normalize(fx.topic).messages[0]!.envelope;
    expect(env.reply_scope).toEqual({ conversation: '-1001234567890', thread: '7' });
    expect(env.session_id).toBe('-1001234567890:7');
  });

  it('turns the largest photo size into an attachment and the caption into text', () => {
    const env = c().normalize(fx.photo).messages[0]!.envelope;
    expect(env.text).toBe('my passport');
    expect(env.attachments).toEqual([
      { mime_type: 'image/jpeg', url: 'telegram-file:AgACAgQAAxkBAAIBlarge', size_bytes: 98765 },
    ]);
    expect(validateChannelMessageEnvelope(env)).toBe(env);
  });

  it('turns a document into an attachment with its name and type', () => {
    const env = c().normalize(fx.document).messages[0]!.envelope;
    expect(env.text).toBeUndefined();
    expect(env.attachments).toEqual([
      {
        mime_type: 'application/pdf',
        url: 'telegram-file:BQACAgQAAxkBAAIBdoc',
        name: 'invoice.pdf',
        size_bytes: 54321,
      },
    ]);
  });

  it('keeps a location in extensions', () => {
    const env = c().normalize(fx.location).messages[0]!.envelope;
    expect(env.extensions?.location).toEqual({ latitude: 48.8584, longitude: 2.2945 });
  });

  it('marks edited messages', () => {
    const env = c().normalize(fx.edited).messages[0]!.envelope;
    expect(env.metadata).toMatchObject({ edited: 'true', update_kind: 'edited_message' });
  });

  it('turns a callback_query into an action and answers it in the webhook response', () => {
    const r = c().normalize(fx.callback(10005, 'city_break'));
    const env = r.messages[0]!.envelope;
    expect(env.text).toBe('city_break');
    expect(env.metadata).toMatchObject({
      action: 'city_break',
      action_source: 'callback_query',
      callback_query_id: '4382bfdwdsb323b2d9',
      message_id: '45',
    });
    expect(env.reply_scope).toEqual({ conversation: '777000111' });
    expect(r.response).toEqual({
      status: 200,
      body: { method: 'answerCallbackQuery', callback_query_id: '4382bfdwdsb323b2d9' },
    });
  });

  it('ignores service messages and non-message updates', () => {
    expect(c().normalize(fx.memberJoined)).toMatchObject({
      messages: [],
      ignored: expect.stringContaining('service'),
    });
    expect(c().normalize(fx.myChatMember)).toMatchObject({
      messages: [],
      ignored: expect.stringContaining('my_chat_member'),
    });
  });

  it('refuses an update without update_id', () => {
    expect(() => c().normalize({ message: {} })).toThrow(/update_id/);
  });
});

describe('telegram gateway and follow-ups', () => {
  it('answers a button press with answerCallbackQuery in the 200 response', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h.app, fx.callback(20001), SECRET);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ method: 'answerCallbackQuery', callback_query_id: '4382bfdwdsb323b2d9' });
    expect(h.queued[0]!.info).toMatchObject({
      provider: 'telegram',
      connector: 'travel-bot',
      providerMessageId: '20001',
    });
  });

  it('calls answerCallbackQuery on the Bot API in api mode, after queueing', async () => {
    const h = await gatewayApp([connector({ answerCallbacks: 'api' })]);
    const before = api.calls('answerCallbackQuery').length;
    const res = await post(h.app, fx.callback(20002), SECRET);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    await expect.poll(() => api.calls('answerCallbackQuery').length).toBe(before + 1);
    expect(api.calls('answerCallbackQuery').at(-1)!.body).toEqual({
      callback_query_id: '4382bfdwdsb323b2d9',
    });
  });

  it('answers 503 when the queue fails and lets the redelivery through', async () => {
    let fail = true;
    const h = await gatewayApp([connector()], {
      onMessage: async () => {
        if (fail) throw new Error('nats down');
      },
    });
    const first = await post(h.app, fx.text(30001), SECRET);
    expect(first.statusCode).toBe(503);
    expect(first.body).not.toContain('nats');
    fail = false;
    expect((await post(h.app, fx.text(30001), SECRET)).statusCode).toBe(200);
    expect(h.events.map((e) => e.type)).toEqual(['error', 'queued']);
  });
});

describe('telegram rendering', () => {
  const target = () => replyTargetOf(connector().normalize(fx.text()).messages[0]!.envelope);

  it('escapes every MarkdownV2 special character so the Bot API parses the text', async () => {
    const special = '_*[]()~`>#+-=|{}.!\\';
    const reqs = connector().render({ id: 'r1', text: `Price: 5.00 (approx) ${special} a_b *c*` }, target());
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.body).toMatchObject({ chat_id: 777000111, parse_mode: 'MarkdownV2' });
    expect(reqs[0]!.body.text).toBe(
      'Price: 5\\.00 \\(approx\\) \\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!\\\\ a\\_b \\*c\\*',
    );
    const res = await connector().send(reqs[0]!);
    expect(res).toMatchObject({ ok: true, status: 200 });
  });

  it('renders buttons as an inline keyboard and the title in bold', async () => {
    const reqs = connector().render(
      {
        id: 'r2',
        card: {
          title: 'Trip type?',
          text: 'Pick one.',
          buttons: [
            'Beach',
            { title: 'City break', value: 'city_break' },
            { title: 'Docs', url: 'https://example.com/a_b' },
          ],
        },
      },
      target(),
    );
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.body.text).toBe('*Trip type?*\n\nPick one\\.');
    expect(reqs[0]!.body.reply_markup).toEqual({
      inline_keyboard: [
        [{ text: 'Beach', callback_data: 'Beach' }],
        [{ text: 'City break', callback_data: 'city_break' }],
        [{ text: 'Docs', url: 'https://example.com/a_b' }],
      ],
    });
    expect(await connector().send(reqs[0]!)).toMatchObject({ ok: true });
  });

  it('downgrades to numbered options when a button value exceeds 64 bytes of callback_data', () => {
    const long = 'x'.repeat(65);
    const reqs = connector().render(
      { id: 'r3', text: 'Choose', payload: { buttons: [{ title: 'A', value: long }, 'B'] } },
      target(),
    );
    expect(reqs[0]!.body.reply_markup).toBeUndefined();
    expect(reqs[0]!.body.text).toBe('Choose\n\n1\\. A\n2\\. B');
  });

  it('downgrades an Adaptive Card to title, text and an inline keyboard', () => {
    const card = {
      type: 'AdaptiveCard',
      version: '1.5',
      body: [
        { type: 'TextBlock', text: 'Your trip', weight: 'Bolder', size: 'Large' },
        { type: 'TextBlock', text: 'Paris, 2 people' },
        { type: 'FactSet', facts: [{ title: 'Nights', value: '3' }] },
      ],
      actions: [{ type: 'Action.Submit', title: 'Book', data: { action: 'book' } }],
    };
    const reqs = connector().render({ id: 'r4', card }, target());
    expect(reqs[0]!.body.text).toBe('*Your trip*\n\nParis, 2 people\n\nNights: 3');
    expect(reqs[0]!.body.reply_markup).toEqual({
      inline_keyboard: [[{ text: 'Book', callback_data: 'book' }]],
    });
  });

  it('splits text longer than 4096 characters into several messages, keyboard on the last', () => {
    const text = `${'word '.repeat(1000)}\n\n${'more '.repeat(1000)}`;
    const reqs = connector().render({ id: 'r5', text, payload: { buttons: ['ok'] } }, target());
    expect(reqs.length).toBeGreaterThan(1);
    for (const r of reqs) expect((r.body.text as string).length).toBeLessThanOrEqual(4096);
    expect(reqs.at(-1)!.body.reply_markup).toBeDefined();
    expect(reqs[0]!.body.reply_markup).toBeUndefined();
  });

  it('sends images and files before the text, and keeps the topic thread', () => {
    const t = replyTargetOf(connector().normalize(fx.topic).messages[0]!.envelope);
    const reqs = connector().render(
      {
        id: 'r6',
        text: 'See attached',
        payload: {
          attachments: [{ mime_type: 'application/pdf', url: 'https://x.test/a.pdf', name: 'a.pdf' }],
        },
      },
      t,
    );
    expect(reqs.map((r) => r.op)).toEqual(['sendDocument', 'sendMessage']);
    expect(reqs[0]!.body).toMatchObject({
      chat_id: -1001234567890,
      message_thread_id: 7,
      document: 'https://x.test/a.pdf',
    });
    expect(reqs[1]!.body).toMatchObject({ message_thread_id: 7 });
  });

  it('sends plain text without parse_mode when configured', () => {
    const reqs = connector({ parseMode: 'plain' }).render({ id: 'r7', text: 'a.b' }, target());
    expect(reqs[0]!.body).toEqual({ chat_id: 777000111, text: 'a.b' });
  });

  it('refuses an empty reply', () => {
    expect(() => connector().render({ id: 'r8' }, target())).toThrow(
      expect.objectContaining({ code: 'GT_MSG_RENDER' }),
    );
  });
});

describe('telegram sending through the outbox', () => {
  const inbound = () => connector().normalize(fx.text(40001)).messages[0]!.envelope;

  it("sends a turn's replies in order and reports the message ids", async () => {
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t });
    const reports = await outbox.sendReplies(inbound(), [
      { id: 'turn1:0', text: 'first' },
      { id: 'turn1:1', text: 'second' },
    ]);
    expect(reports.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(reports[0]!.providerMessageIds[0]).toMatch(/^\d+$/);
    const sent = api
      .calls('sendMessage')
      .slice(-2)
      .map((r) => r.body.text);
    expect(sent).toEqual(['first', 'second']);
  });

  it('delivers a runner egress message, finding the connector from in_reply_to', async () => {
    const env = inbound();
    const outbox = new OutboxSender({ connectors: [connector()], ...fakeTime() });
    const egress = {
      id: `${env.id}:0`,
      in_reply_to: env.id,
      tenant: env.tenant,
      channel: 'telegram',
      session_id: env.session_id,
      reply_scope: env.reply_scope,
      text: 'via egress',
    };
    expect(await outbox.sendEgress(egress)).toMatchObject({ status: 'sent' });
    expect(await outbox.sendEgress(egress)).toMatchObject({ status: 'duplicate' });
    expect(api.calls('sendMessage').at(-1)!.body).toMatchObject({ chat_id: 777000111, text: 'via egress' });
  });

  it('waits parameters.retry_after seconds after a 429 and then sends', async () => {
    api.script('sendMessage', telegram429(3));
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'rl:0', text: 'after the wait' }]);
    expect(r).toMatchObject({ status: 'sent', attempts: 2 });
    expect(t.sleeps).toEqual([3000]);
  });

  it('retries a 502 with backoff, then succeeds', async () => {
    api.script('sendMessage', telegram502, telegram502);
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t, retry: { baseDelayMs: 100 } });
    const [r] = await outbox.sendReplies(inbound(), [{ id: '502:0', text: 'eventually' }]);
    expect(r).toMatchObject({ status: 'sent', attempts: 3 });
    expect(t.sleeps).toEqual([75, 150]);
  });

  it('dead-letters "chat not found" at once with the provider\'s reason', async () => {
    api.script('sendMessage', telegram400('Bad Request: chat not found'));
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({ connectors: [connector()], deadLetters: dlq, ...fakeTime() });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'dl:0', text: 'nobody there' }]);
    expect(r).toMatchObject({
      status: 'dead_lettered',
      attempts: 1,
      error: { code: 'GT_MSG_SEND_REJECTED', status: 400 },
    });
    expect(dlq.letters[0]).toMatchObject({
      replyId: 'dl:0',
      provider: 'telegram',
      connector: 'travel-bot',
      tenant: { env: 'test', tenant: 'acme', team: 'support' },
      conversation: '777000111',
      code: 'GT_MSG_SEND_REJECTED',
      reason: 'telegram sendMessage: Bad Request: chat not found',
    });
    expect(JSON.stringify(dlq.letters)).not.toContain(TELEGRAM_TOKEN);
  });

  it('dead-letters with the bot token kept out of the letter when the token is wrong', async () => {
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({
      connectors: [connector({ botToken: '1:wrong' })],
      deadLetters: dlq,
      ...fakeTime(),
    });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'auth:0', text: 'x' }]);
    expect(r!.error).toMatchObject({ code: 'GT_MSG_SEND_REJECTED', status: 401 });
    expect(JSON.stringify(dlq.letters)).not.toContain('1:wrong');
  });
});
