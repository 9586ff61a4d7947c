import { createHmac } from 'node:crypto';
import { validateChannelMessageEnvelope } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryDeadLetterSink,
  OutboxSender,
  replyTargetOf,
  type SlackConfig,
  SlackConnector,
} from '../src/index.js';
import type { FakeApi } from './fakes/server.js';
import { SLACK_BOT_TOKEN, slack429, slackError, startFakeSlack } from './fakes/slack.js';
import { slack as fx } from './fixtures.js';
import { BINDING, fakeTime, gatewayApp } from './helpers.js';

const OLD = '8f742231b10e8888abcd99yyyzzz85a5';
const NEW = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const NOW = 1_700_000_000_000;

let api: FakeApi;
beforeAll(async () => {
  api = await startFakeSlack();
});
afterAll(() => api.close());

const connector = (extra: Partial<SlackConfig> = {}) =>
  new SlackConnector({
    id: 'acme-slack',
    binding: BINDING,
    signingSecrets: [OLD, NEW],
    botToken: SLACK_BOT_TOKEN,
    apiBaseUrl: api.url,
    now: () => NOW,
    ...extra,
  });

const sign = (secret: string, ts: string, body: string) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;

function signed(body: string, opts: { secret?: string; ts?: number; type?: string; sig?: string } = {}) {
  const ts = String(opts.ts ?? NOW / 1000);
  return {
    method: 'POST' as const,
    url: '/webhooks/slack/acme-slack',
    headers: {
      'content-type': opts.type ?? 'application/json',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': opts.sig ?? sign(opts.secret ?? OLD, ts, body),
    },
    payload: body,
  };
}

describe('slack request signing', () => {
  it('accepts a request signed with the current secret', async () => {
    const h = await gatewayApp([connector()]);
    const res = await h.app.inject(signed(JSON.stringify(fx.message())));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(h.queued).toHaveLength(1);
  });

  it('accepts the old and the new signing secret during a rotation', async () => {
    const h = await gatewayApp([connector()]);
    expect((await h.app.inject(signed(JSON.stringify(fx.message('Ev1')), { secret: OLD }))).statusCode).toBe(
      200,
    );
    expect((await h.app.inject(signed(JSON.stringify(fx.message('Ev2')), { secret: NEW }))).statusCode).toBe(
      200,
    );
    expect(
      (await h.app.inject(signed(JSON.stringify(fx.message('Ev3')), { secret: 'retired' }))).statusCode,
    ).toBe(403);
  });

  it('refuses missing signature headers with 401', async () => {
    const h = await gatewayApp([connector()]);
    const res = await h.app.inject({
      method: 'POST',
      url: '/webhooks/slack/acme-slack',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(fx.message()),
    });
    expect(res.statusCode).toBe(401);
    expect(h.queued).toHaveLength(0);
  });

  it('refuses a wrong signature with 403', async () => {
    const h = await gatewayApp([connector()]);
    const res = await h.app.inject(signed(JSON.stringify(fx.message()), { sig: `v0=${'0'.repeat(64)}` }));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'forbidden' });
  });

  it('refuses a signature over different bytes (the raw body is what is signed)', async () => {
    const h = await gatewayApp([connector()]);
    const body = JSON.stringify(fx.message());
    const req = signed(body);
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    expect((await h.app.inject({ ...req, payload: reformatted })).statusCode).toBe(403);
  });

  it('refuses a timestamp more than five minutes old, even correctly signed', async () => {
    const h = await gatewayApp([connector()]);
    const res = await h.app.inject(signed(JSON.stringify(fx.message()), { ts: NOW / 1000 - 301 }));
    expect(res.statusCode).toBe(403);
    expect(h.events.at(-1)?.reason).toMatch(/301 s off/);
    expect(
      (await h.app.inject(signed(JSON.stringify(fx.message('Ev9')), { ts: NOW / 1000 - 299 }))).statusCode,
    ).toBe(200);
  });

  it('answers url_verification only after the signature passes', async () => {
    const h = await gatewayApp([connector()]);
    const body = JSON.stringify(fx.urlVerification);
    const bad = await h.app.inject(signed(body, { secret: 'wrong' }));
    expect(bad.statusCode).toBe(403);
    expect(bad.body).not.toContain(fx.urlVerification.challenge);
    const ok = await h.app.inject(signed(body));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ challenge: fx.urlVerification.challenge });
    expect(h.queued).toHaveLength(0);
  });

  it('drops a redelivered event_id (Slack retry with X-Slack-Retry-Num) and acks it', async () => {
    const h = await gatewayApp([connector()]);
    const body = JSON.stringify(fx.message('EvRETRY'));
    expect((await h.app.inject(signed(body))).statusCode).toBe(200);
    const retry = signed(body);
    const res = await h.app.inject({
      ...retry,
      headers: { ...retry.headers, 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
    });
    expect(res.statusCode).toBe(200);
    expect(h.queued).toHaveLength(1);
    expect(h.events.at(-1)).toMatchObject({ type: 'duplicate', providerMessageId: 'EvRETRY' });
  });
});

describe('slack normalisation', () => {
  it('turns a message event into an envelope keyed by event_id', () => {
    const r = connector().normalize(Buffer.from(JSON.stringify(fx.message('Ev08MFMKH6'))));
    expect(r.providerMessageId).toBe('Ev08MFMKH6');
    const env = r.messages[0]!.envelope;
    expect(validateChannelMessageEnvelope(env)).toBe(env);
    expect(env).toMatchObject({
      id: 'slack:acme-slack:Ev08MFMKH6',
      channel: 'slack',
      reply_scope: { conversation: 'C123ABC456' },
      from: { id: 'U123ABC456', kind: 'user' },
      text: 'Live long and prospect.',
      metadata: { message_id: '1355517523.000005', team_id: 'T123ABC456', channel_type: 'channel' },
    });
  });

  it('keeps thread_ts as the reply scope thread', () => {
    const env = connector().normalize(fx.message('Ev1', { thread_ts: '1355517000.000001' })).messages[0]!
      .envelope;
    expect(env.reply_scope).toEqual({ conversation: 'C123ABC456', thread: '1355517000.000001' });
  });

  it('threads top-level messages under themselves with replyInThread', () => {
    const env = connector({ replyInThread: true }).normalize(fx.message()).messages[0]!.envelope;
    expect(env.reply_scope?.thread).toBe('1355517523.000005');
  });

  it("ignores the bot's own messages, bot_message subtypes and edits", () => {
    const c = connector();
    expect(c.normalize(fx.message('E1', { user: 'UBOT000001' })).ignored).toMatch(/own message/);
    expect(c.normalize(fx.message('E2', { bot_id: 'B123' })).ignored).toMatch(/own message/);
    expect(c.normalize(fx.message('E3', { subtype: 'message_changed' })).ignored).toMatch(/message_changed/);
    expect(c.normalize(fx.message('E4', { type: 'reaction_added' })).ignored).toMatch(/reaction_added/);
  });

  it('strips the leading bot mention of an app_mention', () => {
    const env = connector().normalize(
      fx.message('E5', { type: 'app_mention', text: '<@UBOT000001> weather in Paris' }),
    ).messages[0]!.envelope;
    expect(env.text).toBe('weather in Paris');
  });

  it('turns shared files into attachments', () => {
    const env = connector().normalize(fx.fileShare).messages[0]!.envelope;
    expect(env.attachments).toEqual([
      {
        mime_type: 'text/csv',
        url: 'https://files.slack.com/files-pri/T123ABC456-F0123ABCD/report.csv',
        name: 'report.csv',
        size_bytes: 2048,
      },
    ]);
    expect(env.metadata?.channel_type).toBe('im');
  });

  it('turns a form-encoded block_actions payload into an action in its thread', async () => {
    const h = await gatewayApp([connector()]);
    const body = `payload=${encodeURIComponent(JSON.stringify(fx.blockActions))}`;
    const res = await h.app.inject(signed(body, { type: 'application/x-www-form-urlencoded' }));
    expect(res.statusCode).toBe(200);
    const env = h.queued[0]!.envelopes[0]!;
    expect(env).toMatchObject({
      text: 'city_break',
      reply_scope: { conversation: 'C123ABC456', thread: '1700000000.000100' },
      metadata: {
        action: 'city_break',
        action_source: 'block_actions',
        action_title: 'City break',
        action_id: 'gt_btn_1',
        block_id: 'gt_actions_0',
      },
    });
    expect(h.queued[0]!.info.providerMessageId).toBe(fx.blockActions.trigger_id);
  });

  it('turns a slash command into a message', async () => {
    const h = await gatewayApp([connector()]);
    const res = await h.app.inject(signed(fx.slashCommand, { type: 'application/x-www-form-urlencoded' }));
    expect(res.statusCode).toBe(200);
    expect(h.queued[0]!.envelopes[0]).toMatchObject({
      text: '94070',
      reply_scope: { conversation: 'C2147483705' },
      metadata: { command: '/weather' },
    });
  });

  it('answers 400 for a verified body that is not a Slack payload', async () => {
    const h = await gatewayApp([connector()]);
    expect(
      (await h.app.inject(signed('hello=world', { type: 'application/x-www-form-urlencoded' }))).statusCode,
    ).toBe(400);
  });
});

describe('slack rendering', () => {
  const target = () =>
    replyTargetOf(connector().normalize(fx.message('Ev1', { thread_ts: '1.2' })).messages[0]!.envelope);

  it('sends plain text as mrkdwn text with Slack escaping, in the thread', () => {
    const [req] = connector().render({ id: 'r1', text: 'a < b & c > d' }, target());
    expect(req!.body).toEqual({ channel: 'C123ABC456', thread_ts: '1.2', text: 'a &lt; b &amp; c &gt; d' });
  });

  it('renders a card as header, section and actions blocks with a text fallback', () => {
    const [req] = connector().render(
      {
        id: 'r2',
        card: {
          title: 'Trip type?',
          text: 'Pick *one*',
          buttons: ['Beach', { title: 'Docs', url: 'https://x.test' }],
        },
      },
      target(),
    );
    expect(req!.body.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: 'Trip type?', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: 'Pick *one*' } },
      {
        type: 'actions',
        block_id: 'gt_actions_0',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Beach', emoji: true },
            action_id: 'gt_btn_0',
            value: 'Beach',
          },
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Docs', emoji: true },
            action_id: 'gt_btn_1',
            url: 'https://x.test',
          },
        ],
      },
    ]);
    expect(req!.body.text).toBe('Trip type?\n\nPick *one*\n\n1. Beach\n2. Docs: https://x.test');
  });

  it('downgrades an Adaptive Card to blocks', () => {
    const card = {
      type: 'AdaptiveCard',
      body: [
        { type: 'TextBlock', text: 'Weather', style: 'heading' },
        { type: 'Image', url: 'https://x.test/sun.png' },
        { type: 'Input.ChoiceSet', id: 'units', choices: [{ title: 'Celsius', value: 'c' }] },
      ],
      actions: [{ type: 'Action.OpenUrl', title: 'More', url: 'https://x.test/more' }],
    };
    const [req] = connector().render({ id: 'r3', card }, target());
    const blocks = req!.body.blocks as { type: string }[];
    expect(blocks.map((b) => b.type)).toEqual(['header', 'image', 'actions']);
    expect(blocks[1]).toEqual({ type: 'image', image_url: 'https://x.test/sun.png', alt_text: 'Weather' });
  });
});

describe('slack sending through the outbox', () => {
  const inbound = () => connector().normalize(fx.message('EvSEND')).messages[0]!.envelope;

  it('posts with the bot token and reports the message ts', async () => {
    const outbox = new OutboxSender({ connectors: [connector()], ...fakeTime() });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 's:0', text: 'hi' }]);
    expect(r).toMatchObject({ status: 'sent', providerMessageIds: [expect.stringMatching(/^\d+\.\d+$/)] });
    expect(api.calls('/chat.postMessage').at(-1)!.headers.authorization).toBe(`Bearer ${SLACK_BOT_TOKEN}`);
  });

  it('honours Retry-After on HTTP 429', async () => {
    api.script('/chat.postMessage', slack429(2));
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 's429:0', text: 'later' }]);
    expect(r).toMatchObject({ status: 'sent', attempts: 2 });
    expect(t.sleeps).toEqual([2000]);
  });

  it('dead-letters channel_not_found at once; retries internal_error', async () => {
    api.script('/chat.postMessage', slackError('internal_error'), slackError('channel_not_found'));
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({ connectors: [connector()], deadLetters: dlq, ...fakeTime() });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'snf:0', text: 'x' }]);
    expect(r).toMatchObject({ status: 'dead_lettered', attempts: 2 });
    expect(dlq.letters[0]).toMatchObject({ code: 'GT_MSG_SEND_REJECTED', providerCode: 'channel_not_found' });
  });
});
