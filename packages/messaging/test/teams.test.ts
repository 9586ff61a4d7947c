import { validateChannelMessageEnvelope } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTIVE_CARD_CONTENT_TYPE,
  MemoryDeadLetterSink,
  OutboxSender,
  replyTargetOf,
  type TeamsConfig,
  TeamsConnector,
} from '../src/index.js';
import type { FakeApi } from './fakes/server.js';
import {
  APP_ID,
  APP_PASSWORD,
  channelToken,
  makeKey,
  type SigningKey,
  startFakeBotFramework,
  type TokenInit,
} from './fakes/teams.js';
import { teams as fx } from './fixtures.js';
import { BINDING, fakeTime, gatewayApp } from './helpers.js';

let api: FakeApi & { tokensIssued: number };
let key: SigningKey;
let nextKey: SigningKey;
let stranger: SigningKey;
let published: SigningKey[] = [];

beforeAll(async () => {
  [key, nextKey, stranger] = await Promise.all([makeKey('key-1'), makeKey('key-2'), makeKey('key-x')]);
  published = [key];
  api = await startFakeBotFramework(() => published.map((k) => k.jwk));
});
afterAll(() => api.close());

const connector = (extra: Partial<TeamsConfig> = {}) =>
  new TeamsConnector({
    id: 'acme-teams',
    binding: BINDING,
    appId: APP_ID,
    appPassword: APP_PASSWORD,
    openIdMetadataUrl: `${api.url}/.well-known/openidconfiguration`,
    tokenUrl: `${api.url}/botframework.com/oauth2/v2.0/token`,
    ...extra,
  });

async function post(
  h: Awaited<ReturnType<typeof gatewayApp>>,
  activity: Record<string, unknown>,
  token: Partial<TokenInit> | null = {},
) {
  const auth =
    token === null
      ? {}
      : {
          authorization: `Bearer ${await channelToken({ key, serviceUrl: activity.serviceUrl as string, ...token })}`,
        };
  return h.app.inject({
    method: 'POST',
    url: '/webhooks/teams/acme-teams',
    headers: { 'content-type': 'application/json; charset=utf-8', ...auth },
    payload: JSON.stringify(activity),
  });
}

const now = () => Math.floor(Date.now() / 1000);

describe('teams JWT verification', () => {
  it('accepts a token signed by a key of the JWKS named in the OpenID metadata', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h, fx.message(api.url));
    expect(res.statusCode).toBe(200);
    expect(h.queued).toHaveLength(1);
    expect(api.calls('/.well-known/openidconfiguration').length).toBeGreaterThanOrEqual(1);
  });

  it('refuses a request without a bearer token with 401', async () => {
    const h = await gatewayApp([connector()]);
    expect((await post(h, fx.message(api.url), null)).statusCode).toBe(401);
    expect(h.queued).toHaveLength(0);
  });

  it('refuses a token signed by a key outside the JWKS', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h, fx.message(api.url), { key: stranger });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ error: 'forbidden' });
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const h = await gatewayApp([connector()]);
    expect((await post(h, fx.message(api.url), { aud: 'someone-else' })).statusCode).toBe(403);
    expect((await post(h, fx.message(api.url), { iss: 'https://evil.example' })).statusCode).toBe(403);
    expect(h.events.map((e) => e.reason)).toEqual([
      expect.stringContaining('ERR_JWT_CLAIM_VALIDATION_FAILED'),
      expect.stringContaining('ERR_JWT_CLAIM_VALIDATION_FAILED'),
    ]);
  });

  it('refuses an expired token beyond the 5-minute clock skew, accepts one within it', async () => {
    const h = await gatewayApp([connector()]);
    const expired = await post(h, fx.message(api.url), { iat: now() - 4000, exp: now() - 301 });
    expect(expired.statusCode).toBe(403);
    expect(h.events.at(-1)?.reason).toContain('ERR_JWT_EXPIRED');
    expect((await post(h, fx.message(api.url), { iat: now() - 4000, exp: now() - 200 })).statusCode).toBe(
      200,
    );
  });

  it('refuses a token whose serviceurl claim differs from the activity serviceUrl', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h, fx.message(api.url), { serviceUrl: 'https://attacker.example/' });
    expect(res.statusCode).toBe(403);
    expect(h.events.at(-1)?.reason).toMatch(/serviceurl/);
    expect((await post(h, fx.message(api.url), { serviceUrl: undefined })).statusCode).toBe(403);
  });

  it('accepts inline keys, both the current and the next one during a key rotation', async () => {
    const h = await gatewayApp([connector({ jwks: { keys: [key.jwk, nextKey.jwk] } })]);
    expect((await post(h, fx.message(api.url, { id: 'a1' }), { key })).statusCode).toBe(200);
    expect((await post(h, fx.message(api.url, { id: 'a2' }), { key: nextKey })).statusCode).toBe(200);
  });

  it('picks up a key added to a JWKS URL', async () => {
    const h = await gatewayApp([connector({ jwks: { url: `${api.url}/keys` }, jwksCooldownMs: 0 })]);
    expect((await post(h, fx.message(api.url, { id: 'b1' }), { key })).statusCode).toBe(200);
    published = [key, nextKey];
    try {
      expect((await post(h, fx.message(api.url, { id: 'b2' }), { key: nextKey })).statusCode).toBe(200);
    } finally {
      published = [key];
    }
  });

  it('answers 503 (not 401) when the signing keys cannot be fetched', async () => {
    const h = await gatewayApp([connector({ openIdMetadataUrl: 'http://127.0.0.1:9/.well-known/openid' })]);
    const res = await post(h, fx.message(api.url));
    expect(res.statusCode).toBe(503);
    expect(h.events.at(-1)).toMatchObject({ type: 'error', code: 'GT_MSG_VERIFY' });
  });

  it('drops a replayed activity id', async () => {
    const h = await gatewayApp([connector()]);
    const activity = fx.message(api.url, { id: 'replay-1' });
    expect((await post(h, activity)).statusCode).toBe(200);
    expect((await post(h, activity)).statusCode).toBe(200);
    expect(h.queued).toHaveLength(1);
  });
});

describe('teams normalisation', () => {
  it('turns a channel message into an envelope, without the bot mention', () => {
    const r = connector().normalize(fx.message('https://smba.trafficmanager.net/emea/'));
    const env = r.messages[0]!.envelope;
    expect(validateChannelMessageEnvelope(env)).toBe(env);
    expect(env).toMatchObject({
      id: 'teams:acme-teams:1700000000000',
      channel: 'teams',
      text: 'book a trip',
      reply_scope: {
        conversation: '19:abcdef0123456789@thread.tacv2;messageid=1699999999999',
        reply_to: '1699999999999',
      },
      from: { id: '29:1a2b3c4d5e6f', kind: 'user' },
      metadata: {
        service_url: 'https://smba.trafficmanager.net/emea/',
        activity_id: '1700000000000',
        bot_id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc',
        conversation_type: 'channel',
        ms_tenant_id: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      },
    });
    expect(env.extensions?.entities).toHaveLength(2);
    expect(env.extensions?.channel_data).toMatchObject({ teamsTeamId: '19:team@thread.tacv2' });
    expect(env.attachments).toBeUndefined();
  });

  it('round-trips unknown extension keys through validation and JSON', () => {
    const env = connector().normalize(fx.message(api.url)).messages[0]!.envelope;
    const withUnknown = { ...env, extensions: { ...env.extensions, 'x-vendor': { nested: [1, 'two'] } } };
    const again = validateChannelMessageEnvelope(JSON.parse(JSON.stringify(withUnknown)));
    expect(again.extensions?.['x-vendor']).toEqual({ nested: [1, 'two'] });
    expect(again.extensions?.channel_data).toEqual(env.extensions?.channel_data);
  });

  it('turns an Action.Submit value into action metadata', () => {
    const env = connector().normalize(fx.submit(api.url)).messages[0]!.envelope;
    expect(env).toMatchObject({
      text: 'city_break',
      metadata: { action: 'city_break', action_source: 'adaptive_card' },
      extensions: { action_data: { action: 'city_break', people: '2' } },
      reply_scope: { conversation: 'a:1personalConversationId', reply_to: '1:activity-1' },
    });
  });

  it('answers an Action.Execute invoke in the HTTP response and queues the action', async () => {
    const h = await gatewayApp([connector()]);
    const res = await post(h, fx.execute(api.url));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      statusCode: 200,
      type: 'application/vnd.microsoft.activity.message',
      value: '',
    });
    expect(h.queued[0]!.envelopes[0]!.metadata).toMatchObject({ action: 'book', verb: 'book' });
    expect(h.queued[0]!.envelopes[0]!.extensions?.action_data).toEqual({ city: 'Paris' });
  });

  it('turns file and image attachments into attachments', () => {
    const env = connector().normalize(fx.file(api.url)).messages[0]!.envelope;
    expect(env.attachments).toEqual([
      {
        mime_type: 'application/pdf',
        url: 'https://contoso.sharepoint.com/personal/ada/Documents/report.pdf',
        name: 'report.pdf',
      },
      {
        mime_type: 'image/png',
        url: 'https://smba.trafficmanager.net/amer/v3/attachments/img-1/views/original',
      },
    ]);
    expect(env.extensions?.attachments).toHaveLength(2);
  });

  it('ignores conversationUpdate activities', () => {
    expect(connector().normalize(fx.conversationUpdate(api.url))).toMatchObject({
      messages: [],
      ignored: 'activity type "conversationUpdate"',
    });
  });
});

describe('teams rendering', () => {
  const target = () => replyTargetOf(connector().normalize(fx.submit(api.url)).messages[0]!.envelope);

  it('sends an Adaptive Card natively as an attachment, replying to the activity', () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'Hi' }] };
    const [req] = connector().render({ id: 'r1', text: 'Here:', card }, target());
    expect(req!.baseUrl).toBe(api.url);
    expect(req!.path).toBe('v3/conversations/a%3A1personalConversationId/activities/1700000000500');
    expect(req!.body).toMatchObject({
      type: 'message',
      text: 'Here:',
      replyToId: '1700000000500',
      from: { id: '28:8e8b2f3a-1c2d-4e5f-9a0b-123456789abc', name: 'TravelBot' },
      attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }],
    });
  });

  it('builds an Adaptive Card for a reply with buttons', () => {
    const [req] = connector().render(
      { id: 'r2', text: 'Trip type?', payload: { buttons: ['Beach', 'City'] } },
      target(),
    );
    const content = (req!.body.attachments as { content: Record<string, unknown> }[])[0]!.content;
    expect(content).toMatchObject({
      type: 'AdaptiveCard',
      version: '1.4',
      body: [{ type: 'TextBlock', text: 'Trip type?', wrap: true }],
      actions: [
        { type: 'Action.Submit', title: 'Beach', data: { action: 'Beach' } },
        { type: 'Action.Submit', title: 'City', data: { action: 'City' } },
      ],
    });
  });

  it('sends plain text as plain text', () => {
    const [req] = connector().render({ id: 'r3', text: '**not bold**' }, target());
    expect(req!.body).toMatchObject({ text: '**not bold**', textFormat: 'plain' });
    expect(req!.body.attachments).toBeUndefined();
  });

  it('falls back to the connector apiBaseUrl when the target has no service URL', () => {
    const t = { ...target(), metadata: {} };
    const [req] = connector({ apiBaseUrl: 'https://smba.trafficmanager.net/teams/' }).render(
      { id: 'r4', text: 'x' },
      t,
    );
    expect(req!.baseUrl).toBe('https://smba.trafficmanager.net/teams');
    expect(req!.path).toBe('v3/conversations/a%3A1personalConversationId/activities/1%3Aactivity-1');
  });
});

describe('teams sending through the outbox', () => {
  const inbound = () => connector().normalize(fx.submit(api.url)).messages[0]!.envelope;

  it('gets a client-credentials token once and posts the activity with it', async () => {
    const c = connector();
    const before = api.tokensIssued;
    const outbox = new OutboxSender({ connectors: [c], ...fakeTime() });
    const reports = await outbox.sendReplies(inbound(), [
      { id: 't:0', text: 'one' },
      { id: 't:1', text: 'two' },
    ]);
    expect(reports.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(reports[0]!.providerMessageIds[0]).toMatch(/^1:activity-/);
    expect(api.tokensIssued).toBe(before + 1);
    expect(api.calls('activities').at(-1)!.headers.authorization).toBe(`Bearer bf-token-${api.tokensIssued}`);
  });

  it('delivers a runner egress message (no metadata) to the activity it answers, via apiBaseUrl', async () => {
    const env = inbound();
    const egress = {
      id: `${env.id}:0`,
      in_reply_to: env.id,
      status: 'done',
      index: 0,
      count: 1,
      tenant: env.tenant,
      channel: env.channel,
      session_id: env.session_id,
      reply_scope: env.reply_scope,
      to: [{ id: env.from!.id, kind: 'user' }],
      text: 'from the egress stream',
    };
    const outbox = new OutboxSender({ connectors: [connector({ apiBaseUrl: api.url })], ...fakeTime() });
    expect(await outbox.sendEgress(egress)).toMatchObject({ status: 'sent' });
    const call = api.calls('activities').at(-1)!;
    expect(call.path).toBe('/v3/conversations/a%3A1personalConversationId/activities/1700000000500');
    expect(call.body).toMatchObject({ text: 'from the egress stream', replyToId: '1700000000500' });
  });

  it('retries 412 and 502 as the Teams rate-limit guidance says', async () => {
    api.script(
      'activities',
      { status: 412, body: { error: { code: 'PreconditionFailed', message: 'busy' } } },
      { status: 502 },
    );
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 't412:0', text: 'x' }]);
    expect(r).toMatchObject({ status: 'sent', attempts: 3 });
    expect(t.sleeps).toEqual([188, 375]);
  });

  it('honours Retry-After on 429', async () => {
    api.script('activities', {
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: { code: 'TooManyRequests' } },
    });
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector()], ...t });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 't429:0', text: 'x' }]);
    expect(r).toMatchObject({ status: 'sent', attempts: 2 });
    expect(t.sleeps).toEqual([7000]);
  });

  it('dead-letters a 403 (bot not in the conversation)', async () => {
    api.script('activities', {
      status: 403,
      body: {
        error: {
          code: 'BotNotInConversationRoster',
          message: 'The bot is not part of the conversation roster.',
        },
      },
    });
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({ connectors: [connector()], deadLetters: dlq, ...fakeTime() });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 't403:0', text: 'x' }]);
    expect(r!.status).toBe('dead_lettered');
    expect(dlq.letters[0]).toMatchObject({ status: 403, providerCode: 'BotNotInConversationRoster' });
  });

  it('dead-letters when the app password is refused by the token endpoint', async () => {
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({
      connectors: [connector({ appPassword: 'wrong' })],
      deadLetters: dlq,
      ...fakeTime(),
    });
    const [r] = await outbox.sendReplies(inbound(), [{ id: 'tauth:0', text: 'x' }]);
    expect(r).toMatchObject({ status: 'dead_lettered', attempts: 1 });
    expect(dlq.letters[0]).toMatchObject({ status: 401, providerCode: 'invalid_client' });
    expect(JSON.stringify(dlq.letters)).not.toContain('wrong');
  });
});
