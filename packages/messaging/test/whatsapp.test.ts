import { createHmac } from 'node:crypto';
import { validateChannelMessageEnvelope } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryDeadLetterSink,
  OutboxSender,
  replyTargetOf,
  type WhatsAppConfig,
  WhatsAppConnector,
} from '../src/index.js';
import type { FakeApi } from './fakes/server.js';
import { graphError, startFakeWhatsApp, WHATSAPP_TOKEN } from './fakes/whatsapp.js';
import { whatsapp as fx } from './fixtures.js';
import { BINDING, fakeTime, gatewayApp } from './helpers.js';

const APP_SECRET = 'meta-app-secret-old';
const APP_SECRET_NEW = 'meta-app-secret-new';
const VERIFY = 'verify-me-please';
const PHONE = fx.PHONE_ID;

let api: FakeApi;
beforeAll(async () => {
  api = await startFakeWhatsApp();
});
afterAll(() => api.close());

const connector = (extra: Partial<WhatsAppConfig> = {}) =>
  new WhatsAppConnector({
    id: 'acme-wa',
    binding: BINDING,
    appSecrets: [APP_SECRET, APP_SECRET_NEW],
    verifyTokens: VERIFY,
    accessToken: WHATSAPP_TOKEN,
    phoneNumberId: PHONE,
    apiBaseUrl: api.url,
    ...extra,
  });

function signed(body: string, secret = APP_SECRET, sig?: string) {
  return {
    method: 'POST' as const,
    url: '/webhooks/whatsapp/acme-wa',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': sig ?? `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
    payload: body,
  };
}

describe('whatsapp subscribe handshake', () => {
  it('echoes hub.challenge for the right verify token', async () => {
    const h = await gatewayApp([connector()]);
    const res = await h.app.inject({
      method: 'GET',
      url: `/webhooks/whatsapp/acme-wa?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('1158201444');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('refuses a wrong verify token or mode with 403', async () => {
    const h = await gatewayApp([connector()]);
    const wrong = await h.app.inject({
      method: 'GET',
      url: '/webhooks/whatsapp/acme-wa?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444',
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).not.toContain('1158201444');
    const mode = await h.app.inject({
      method: 'GET',
      url: `/webhooks/whatsapp/acme-wa?hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`,
    });
    expect(mode.statusCode).toBe(403);
  });
});

describe('whatsapp signature', () => {
  it('accepts X-Hub-Signature-256 from either live app secret', async () => {
    const h = await gatewayApp([connector()]);
    expect((await h.app.inject(signed(JSON.stringify(fx.text(PHONE, 'wamid.A'))))).statusCode).toBe(200);
    expect(
      (await h.app.inject(signed(JSON.stringify(fx.text(PHONE, 'wamid.B')), APP_SECRET_NEW))).statusCode,
    ).toBe(200);
    expect(h.queued).toHaveLength(2);
  });

  it('refuses a missing signature with 401 and a wrong one with 403', async () => {
    const h = await gatewayApp([connector()]);
    const body = JSON.stringify(fx.text(PHONE));
    const missing = await h.app.inject({ ...signed(body), headers: { 'content-type': 'application/json' } });
    expect(missing.statusCode).toBe(401);
    expect((await h.app.inject(signed(body, 'some-other-secret'))).statusCode).toBe(403);
    expect((await h.app.inject(signed(body, APP_SECRET, 'sha1=abc'))).statusCode).toBe(403);
    expect(h.queued).toHaveLength(0);
  });

  it('drops a replayed message id', async () => {
    const h = await gatewayApp([connector()]);
    const body = JSON.stringify(fx.text(PHONE, 'wamid.REPLAY'));
    await h.app.inject(signed(body));
    await h.app.inject(signed(body));
    expect(h.queued).toHaveLength(1);
    expect(h.events.map((e) => e.type)).toEqual(['queued', 'duplicate']);
  });

  it('queues only the new messages of a batch that was partly seen', async () => {
    const h = await gatewayApp([connector()]);
    await h.app.inject(signed(JSON.stringify(fx.text(PHONE, 'wamid.M1', 'one'))));
    await h.app.inject(signed(JSON.stringify(fx.twoMessages(PHONE))));
    expect(h.queued.map((q) => q.envelopes.map((e) => e.text))).toEqual([['one'], ['two']]);
    expect(h.queued[1]!.info.providerMessageIds).toEqual(['wamid.M2']);
  });
});

describe('whatsapp normalisation', () => {
  it('turns a text message into an envelope, conversation = wa_id', () => {
    const r = connector().normalize(fx.text(PHONE));
    const env = r.messages[0]!.envelope;
    expect(validateChannelMessageEnvelope(env)).toBe(env);
    expect(env).toMatchObject({
      channel: 'whatsapp',
      text: 'Hi there',
      reply_scope: { conversation: '16505551234' },
      from: { id: '16505551234', kind: 'user' },
      metadata: { phone_number_id: PHONE, message_type: 'text', display_phone_number: '15550783881' },
    });
    expect(r.providerMessageId).toBe('wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=');
  });

  it('turns an image into an attachment and its caption into text', () => {
    const env = connector().normalize(fx.image(PHONE)).messages[0]!.envelope;
    expect(env.text).toBe('the broken part');
    expect(env.attachments).toEqual([{ mime_type: 'image/jpeg', url: 'whatsapp-media:1003383421387256' }]);
  });

  it('turns button and list replies into actions', () => {
    const b = connector().normalize(fx.buttonReply(PHONE)).messages[0]!.envelope;
    expect(b).toMatchObject({
      text: 'city_break',
      metadata: {
        action: 'city_break',
        action_source: 'button_reply',
        action_title: 'City break',
        context_message_id: 'wamid.BOTQUESTION',
      },
    });
    const l = connector().normalize(fx.listReply(PHONE)).messages[0]!.envelope;
    expect(l.metadata).toMatchObject({ action: 'mountains', action_source: 'list_reply' });
  });

  it('ignores status updates and messages to other phone numbers of the app', () => {
    expect(connector().normalize(fx.statuses(PHONE))).toMatchObject({
      messages: [],
      ignored: 'status updates',
    });
    expect(connector().normalize(fx.text('999999'))).toMatchObject({
      messages: [],
      ignored: expect.stringContaining('not this connector'),
    });
  });
});

describe('whatsapp rendering', () => {
  const target = () => replyTargetOf(connector().normalize(fx.text(PHONE)).messages[0]!.envelope);

  it('renders up to three buttons as interactive reply buttons', () => {
    const [req] = connector().render(
      {
        id: 'r1',
        card: {
          title: 'Trip',
          text: 'What kind of trip?',
          buttons: ['Beach', { title: 'City', value: 'city_break' }],
        },
      },
      target(),
    );
    expect(req!.path).toBe(`v21.0/${PHONE}/messages`);
    expect(req!.body).toEqual({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '16505551234',
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Trip' },
        body: { text: 'What kind of trip?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'Beach', title: 'Beach' } },
            { type: 'reply', reply: { id: 'city_break', title: 'City' } },
          ],
        },
      },
    });
  });

  it('falls back to text with numbered options for more than three buttons', () => {
    const [req] = connector().render(
      { id: 'r2', text: 'Pick', payload: { buttons: ['A', 'B', 'C', 'D'] } },
      target(),
    );
    expect(req!.body).toMatchObject({
      type: 'text',
      text: { body: 'Pick\n\n1. A\n2. B\n3. C\n4. D', preview_url: false },
    });
  });

  it('falls back to text when a button title exceeds 20 characters', () => {
    const [req] = connector().render(
      { id: 'r3', text: 'Pick', payload: { buttons: ['A much too long button title'] } },
      target(),
    );
    expect(req!.body.type).toBe('text');
  });
});

describe('whatsapp sending through the outbox', () => {
  const inbound = () => connector().normalize(fx.text(PHONE)).messages[0]!.envelope;

  it('posts to /{version}/{phone-number-id}/messages and reports the wamid', async () => {
    const outbox = new OutboxSender({ connectors: [connector()], ...fakeTime() });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'w:0', text: 'hello' }]);
    expect(r).toMatchObject({ status: 'sent', providerMessageIds: [expect.stringMatching(/^wamid\./)] });
  });

  it('dead-letters a 400 Graph error with its code', async () => {
    api.script(
      `/v21.0/${PHONE}/messages`,
      graphError(400, 131030, '(#131030) Recipient phone number not in allowed list', {
        error_data: { messaging_product: 'whatsapp', details: 'Recipient phone number not in allowed list' },
      }),
    );
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({ connectors: [connector()], deadLetters: dlq, ...fakeTime() });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'w400:0', text: 'x' }]);
    expect(r).toMatchObject({ status: 'dead_lettered', attempts: 1 });
    expect(dlq.letters[0]).toMatchObject({
      code: 'GT_MSG_SEND_REJECTED',
      status: 400,
      providerCode: '131030',
      reason: 'whatsapp messages: HTTP 400 (#131030) Recipient phone number not in allowed list',
    });
  });

  it('retries a throttling error (code 130429) and honours Retry-After on 429', async () => {
    api.script(`/v21.0/${PHONE}/messages`, graphError(400, 130429, '(#130429) Rate limit hit'), {
      status: 429,
      headers: { 'retry-after': '4' },
      body: { error: { message: 'throttled', code: 4 } },
    });
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'w429:0', text: 'x' }]);
    expect(r).toMatchObject({ status: 'sent', attempts: 3 });
    expect(t.sleeps).toEqual([188, 4000]);
  });

  it('dead-letters an invalid access token', async () => {
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({
      connectors: [connector({ accessToken: 'bad' })],
      deadLetters: dlq,
      ...fakeTime(),
    });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'wauth:0', text: 'x' }]);
    expect(r!.error).toMatchObject({ code: 'GT_MSG_SEND_REJECTED', status: 401 });
  });
});
