import { tenantCtx, validateChannelMessageEnvelope } from '@greentic/types';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { isMessagingError, isWebChatCode, MessagingError, WEBCHAT_ERROR_STATUS } from '../../src/index.js';
import {
  type Activity,
  MemoryActivityStore,
  resolveTokenTtlSec,
  TOKEN_TTL_ENV,
} from '../../src/webchat/index.js';
import { manualClock, SECRET, type TestServer, testServer, weatherCard } from './helpers.js';

const DL = '/v3/directline';
const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
const bearer = (value: string) => ({ authorization: `Bearer ${value}` });

let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(options: Parameters<typeof testServer>[0] = {}) {
  const s = await testServer(options);
  servers.push(s);
  return s;
}

async function generate(app: FastifyInstance, body?: unknown, secret = SECRET) {
  const res = await app.inject({
    method: 'POST',
    url: `${DL}/tokens/generate`,
    headers: bearer(secret),
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { conversationId: string; token: string; expires_in: number };
}

async function postActivity(app: FastifyInstance, token: string, conversationId: string, activity: unknown) {
  return app.inject({
    method: 'POST',
    url: `${DL}/conversations/${conversationId}/activities`,
    headers: bearer(token),
    payload: activity as object,
  });
}

async function activities(app: FastifyInstance, token: string, conversationId: string, watermark = '') {
  const res = await app.inject({
    method: 'GET',
    url: `${DL}/conversations/${conversationId}/activities?watermark=${watermark}`,
    headers: bearer(token),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { activities: Activity[]; watermark: string };
}

function errorCode(res: { json(): unknown }): string {
  return (res.json() as { error: { code: string } }).error.code;
}

describe('tokens', () => {
  it('mints an HS256 token scoped to one new conversation with Direct Line’s 1800 s lifetime', async () => {
    const { app } = await server();
    const t = await generate(app);
    expect(t.expires_in).toBe(1800);
    expect(decodeProtectedHeader(t.token)).toMatchObject({ alg: 'HS256', typ: 'JWT' });
    const claims = decodeJwt(t.token);
    expect(claims).toMatchObject({ conv: t.conversationId, kind: 'conversation' });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1800);
    expect(t.token).not.toContain(SECRET);
  });

  it('binds the user named at tokens/generate into the token (the `user` claim DirectLineJS reads)', async () => {
    const { app, received } = await server();
    const t = await generate(app, { user: { id: 'dl_alice' } });
    expect(decodeJwt(t.token).user).toBe('dl_alice');
    const res = await postActivity(app, t.token, t.conversationId, {
      type: 'message',
      text: 'hi',
      from: { id: 'mallory', role: 'bot' },
    });
    expect(res.statusCode).toBe(200);
    expect(received[0]?.from).toEqual({ id: 'dl_alice', kind: 'user' });
    const posted = (await activities(app, t.token, t.conversationId)).activities[0];
    expect(posted?.from).toEqual({ id: 'dl_alice', role: 'user' });
  });

  it('answers 401 without credentials, 403 for a wrong secret, and needs the secret to generate', async () => {
    const { app } = await server();
    const none = await app.inject({ method: 'POST', url: `${DL}/tokens/generate` });
    expect(none.statusCode).toBe(401);
    expect(errorCode(none)).toBe('GT_MSG_WEBCHAT_UNAUTHORIZED');
    const wrong = await app.inject({
      method: 'POST',
      url: `${DL}/tokens/generate`,
      headers: bearer('not-the-secret-at-all'),
    });
    expect(wrong.statusCode).toBe(403);
    expect(errorCode(wrong)).toBe('GT_MSG_WEBCHAT_TOKEN_INVALID');
    const t = await generate(app);
    const withToken = await app.inject({
      method: 'POST',
      url: `${DL}/tokens/generate`,
      headers: bearer(t.token),
    });
    expect(withToken.statusCode).toBe(403);
    expect(errorCode(withToken)).toBe('GT_MSG_WEBCHAT_FORBIDDEN');
  });

  it('accepts any of several secrets (rotation)', async () => {
    const { app } = await server({ secrets: ['old-secret-0123456789', 'new-secret-0123456789'] });
    await generate(app, undefined, 'old-secret-0123456789');
    await generate(app, undefined, 'new-secret-0123456789');
  });

  it('refresh slides the window: the new token outlives the old one, which then expires with 403', async () => {
    const clock = manualClock();
    const { app } = await server({ now: clock.now });
    const t = await generate(app);
    clock.advance(1000);
    const res = await app.inject({ method: 'POST', url: `${DL}/tokens/refresh`, headers: bearer(t.token) });
    expect(res.statusCode).toBe(200);
    const refreshed = res.json() as { token: string; conversationId: string; expires_in: number };
    expect(refreshed.conversationId).toBe(t.conversationId);
    expect(refreshed.expires_in).toBe(1800);
    expect((decodeJwt(refreshed.token).exp ?? 0) - (decodeJwt(t.token).exp ?? 0)).toBe(1000);
    clock.advance(801); // the old token's 1800 s are over, the new one has 999 s left
    const old = await app.inject({
      method: 'GET',
      url: `${DL}/conversations/${t.conversationId}/activities`,
      headers: bearer(t.token),
    });
    expect(old.statusCode).toBe(403);
    expect(errorCode(old)).toBe('GT_MSG_WEBCHAT_TOKEN_EXPIRED');
    await activities(app, refreshed.token, t.conversationId);
  });

  it('refuses to refresh an expired token, and a secret (which never expires)', async () => {
    const clock = manualClock();
    const { app } = await server({ now: clock.now });
    const t = await generate(app);
    clock.advance(1800);
    const expired = await app.inject({
      method: 'POST',
      url: `${DL}/tokens/refresh`,
      headers: bearer(t.token),
    });
    expect(expired.statusCode).toBe(403);
    expect(errorCode(expired)).toBe('GT_MSG_WEBCHAT_TOKEN_EXPIRED');
    const secret = await app.inject({ method: 'POST', url: `${DL}/tokens/refresh`, headers: bearer(SECRET) });
    expect(secret.statusCode).toBe(403);
    expect(errorCode(secret)).toBe('GT_MSG_WEBCHAT_FORBIDDEN');
  });

  it('rejects an expired token on every conversation route with 403 TOKEN_EXPIRED', async () => {
    const clock = manualClock();
    const { app } = await server({ now: clock.now });
    const t = await generate(app);
    clock.advance(1801);
    for (const [method, url] of [
      ['POST', `${DL}/conversations`],
      ['GET', `${DL}/conversations/${t.conversationId}`],
      ['GET', `${DL}/conversations/${t.conversationId}/activities`],
      ['POST', `${DL}/conversations/${t.conversationId}/activities`],
    ] as const) {
      const res = await app.inject({
        method,
        url,
        headers: bearer(t.token),
        ...(method === 'POST' ? { payload: { type: 'message', text: 'late' } } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(errorCode(res)).toBe('GT_MSG_WEBCHAT_TOKEN_EXPIRED');
    }
  });

  it('takes the lifetime from tokenTtlSec, else GREENTIC_DIRECTLINE_TOKEN_TTL_SECS, within 60–604800 s', async () => {
    expect(resolveTokenTtlSec(undefined, {})).toBe(1800);
    expect(resolveTokenTtlSec(undefined, { [TOKEN_TTL_ENV]: '120' })).toBe(120);
    expect(resolveTokenTtlSec(90, { [TOKEN_TTL_ENV]: '120' })).toBe(90);
    expect(resolveTokenTtlSec(604_800, {})).toBe(604_800);
    for (const [option, env] of [
      [59, {}],
      [604_801, {}],
      [1.5, {}],
      [undefined, { [TOKEN_TTL_ENV]: 'abc' }],
      [undefined, { [TOKEN_TTL_ENV]: '30' }],
    ] as const) {
      const err = (() => {
        try {
          resolveTokenTtlSec(option, env);
        } catch (e) {
          return e;
        }
      })();
      expect(isMessagingError(err, 'GT_MSG_WEBCHAT_BAD_OPTIONS'), JSON.stringify([option, env])).toBe(true);
    }
    const { app } = await server({ tokenTtlSec: 60 });
    expect((await generate(app)).expires_in).toBe(60);
  });

  it('limits token mints per client and minute, with Retry-After, and per named user', async () => {
    const clock = manualClock();
    const { app } = await server({ now: clock.now, maxTokenMintsPerMinute: 5 });
    for (let i = 0; i < 5; i++) await generate(app);
    const sixth = await app.inject({ method: 'POST', url: `${DL}/tokens/generate`, headers: bearer(SECRET) });
    expect(sixth.statusCode).toBe(429);
    expect(errorCode(sixth)).toBe('GT_MSG_WEBCHAT_RATE_LIMITED');
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    const page = await app.inject({ method: 'POST', url: '/webchat/token' });
    expect(page.statusCode).toBe(429);
    // Mints for a named user count for that user, not for the (shared) backend address.
    await generate(app, { user: { id: 'dl_bob' } });
    clock.advance(60);
    await generate(app);
  });

  it('binds tokens to the tenant: another tenant’s endpoint refuses them even with the same signing key', async () => {
    const signingKey = 'a-signing-key-shared-by-two-tenants!!';
    const acme = await server({ signingKey });
    const other = await server({ signingKey, tenant: tenantCtx({ env: 'dev', tenant: 'globex' }) });
    const t = await generate(acme.app);
    const res = await other.app.inject({
      method: 'POST',
      url: `${DL}/conversations`,
      headers: bearer(t.token),
    });
    expect(res.statusCode).toBe(403);
    expect(errorCode(res)).toBe('GT_MSG_WEBCHAT_TOKEN_INVALID');
  });

  it('refuses bad options with GT_MSG_WEBCHAT_BAD_OPTIONS', async () => {
    for (const options of [
      { secrets: ['short'] },
      { secrets: [] },
      { signingKey: 'too-short' },
      { maxTokenMintsPerMinute: 0 },
      { tokenTtlSec: 10 },
    ]) {
      const err = await testServer(options).catch((e: unknown) => e);
      expect(isMessagingError(err, 'GT_MSG_WEBCHAT_BAD_OPTIONS'), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('conversations and activities', () => {
  it('starts the token’s conversation and returns a WebSocket streamUrl without the token in it', async () => {
    const { app } = await server();
    const t = await generate(app);
    const res = await app.inject({ method: 'POST', url: `${DL}/conversations`, headers: bearer(t.token) });
    expect(res.statusCode).toBe(201);
    const body = res.json() as {
      conversationId: string;
      token: string;
      expires_in: number;
      streamUrl: string;
    };
    expect(body.conversationId).toBe(t.conversationId);
    expect(body.token).toBe(t.token);
    expect(body.streamUrl).toMatch(
      new RegExp(`^ws://localhost(:\\d+)?/v3/directline/conversations/${t.conversationId}/stream\\?t=`),
    );
    expect(body.streamUrl).not.toContain(t.token);
    expect(decodeJwt(new URL(body.streamUrl).searchParams.get('t') ?? '')).toMatchObject({ kind: 'stream' });
  });

  it('lets a secret holder start a conversation directly and reconnect to it for a new streamUrl', async () => {
    const { app } = await server({
      prefix: '/v1/messaging/webchat/acme',
      publicUrl: 'https://chat.example.com',
    });
    const base = `/v1/messaging/webchat/acme${DL}`;
    const res = await app.inject({ method: 'POST', url: `${base}/conversations`, headers: bearer(SECRET) });
    expect(res.statusCode).toBe(201);
    const conv = res.json() as { conversationId: string; token: string; streamUrl: string };
    expect(
      conv.streamUrl.startsWith(`wss://chat.example.com${base}/conversations/${conv.conversationId}/stream`),
    ).toBe(true);
    const again = await app.inject({
      method: 'GET',
      url: `${base}/conversations/${conv.conversationId}?watermark=3`,
      headers: bearer(conv.token),
    });
    expect(again.statusCode).toBe(200);
    expect(new URL((again.json() as { streamUrl: string }).streamUrl).searchParams.get('watermark')).toBe(
      '3',
    );
  });

  it('turns a posted message into an envelope for onActivity and stores the bot’s reply after it', async () => {
    const { app, received } = await server();
    const t = await generate(app);
    const res = await postActivity(app, t.token, t.conversationId, {
      type: 'message',
      text: 'hello',
      locale: 'en-GB',
      from: { id: 'user-7' },
      channelData: { clientActivityID: 'c-1' },
    });
    expect(res.statusCode).toBe(200);
    const { id } = res.json() as { id: string };
    expect(id).toBe(`${t.conversationId}|0000001`);
    expect(received).toEqual([
      {
        id,
        tenant: expect.objectContaining({ env: 'dev', tenant_id: 'acme' }),
        channel: 'webchat',
        session_id: t.conversationId,
        reply_scope: { conversation: t.conversationId },
        from: { id: 'user-7', kind: 'user' },
        text: 'hello',
        metadata: { locale: 'en-GB' },
        extensions: { channel_data: { clientActivityID: 'c-1' } },
      },
    ]);
    expect(validateChannelMessageEnvelope(received[0])).toBe(received[0]);
    const got = await activities(app, t.token, t.conversationId);
    expect(got.watermark).toBe('2');
    expect(got.activities.map((a) => [a.from.role, a.text])).toEqual([
      ['user', 'hello'],
      ['bot', 'echo: hello'],
    ]);
    expect(got.activities[1]).toMatchObject({
      type: 'message',
      id: `${t.conversationId}|0000002`,
      from: { id: 'bot', role: 'bot' },
      replyToId: id,
      conversation: { id: t.conversationId },
      channelId: 'webchat',
    });
  });

  it('routes an Adaptive Card submit: metadata.action is value.action, the inputs are metadata fields', async () => {
    const { app, received } = await server();
    const t = await generate(app);
    await postActivity(app, t.token, t.conversationId, {
      type: 'message',
      value: { action: 'forecast', city: 'Lisbon', days: 3, detailed: true, nested: { x: 1 } },
    });
    await postActivity(app, t.token, t.conversationId, { type: 'message', value: { choice: 'b' } });
    await postActivity(app, t.token, t.conversationId, { type: 'message', value: 'plain' });
    expect(received.map((e) => e.metadata)).toEqual([
      { action: 'forecast', city: 'Lisbon', days: '3', detailed: 'true' },
      { choice: 'b', action: '{"choice":"b"}' },
      { action: '"plain"' },
    ]);
    expect(received[0]?.extensions?.value).toEqual({
      action: 'forecast',
      city: 'Lisbon',
      days: 3,
      detailed: true,
      nested: { x: 1 },
    });
    expect(received[0]?.text).toBeUndefined();
  });

  it('passes attachments on as envelope attachments and events with their name', async () => {
    const { app, received } = await server();
    const t = await generate(app);
    await postActivity(app, t.token, t.conversationId, {
      type: 'message',
      text: 'see',
      attachments: [
        { contentType: 'image/png', contentUrl: 'https://example.com/a.png', name: 'a.png' },
        { contentType: 'application/json', content: { k: 1 } },
      ],
    });
    await postActivity(app, t.token, t.conversationId, {
      type: 'event',
      name: 'webchat/join',
      value: { x: 1 },
    });
    expect(received[0]?.attachments).toEqual([
      { mime_type: 'image/png', url: 'https://example.com/a.png', name: 'a.png' },
      { mime_type: 'application/json', content: '{"k":1}' },
    ]);
    expect(received[1]?.metadata).toMatchObject({ event: 'webchat/join', x: '1' });
  });

  it('relays typing activities without sending them to the bot', async () => {
    const { app, received } = await server();
    const t = await generate(app);
    const res = await postActivity(app, t.token, t.conversationId, { type: 'typing' });
    expect(res.statusCode).toBe(200);
    expect(received).toEqual([]);
    expect((await activities(app, t.token, t.conversationId)).activities.map((a) => a.type)).toEqual([
      'typing',
    ]);
  });

  it('gives increasing watermarks and returns only what follows the one asked for', async () => {
    const { app } = await server();
    const t = await generate(app);
    for (const text of ['one', 'two', 'three'])
      await postActivity(app, t.token, t.conversationId, { type: 'message', text });
    const all = await activities(app, t.token, t.conversationId);
    expect(all.watermark).toBe('6');
    expect(all.activities.map((a) => a.id.split('|')[1])).toEqual([
      '0000001',
      '0000002',
      '0000003',
      '0000004',
      '0000005',
      '0000006',
    ]);
    const after4 = await activities(app, t.token, t.conversationId, '4');
    expect(after4.activities.map((a) => a.text)).toEqual(['three', 'echo: three']);
    expect(after4.watermark).toBe('6');
    const none = await activities(app, t.token, t.conversationId, '6');
    expect(none).toEqual({ activities: [], watermark: '6' });
    const bad = await app.inject({
      method: 'GET',
      url: `${DL}/conversations/${t.conversationId}/activities?watermark=abc`,
      headers: bearer(t.token),
    });
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('GT_MSG_WEBCHAT_BAD_REQUEST');
  });

  it('keeps a bounded history per conversation', async () => {
    const { app } = await server({ store: new MemoryActivityStore({ historyLimit: 3 }) });
    const t = await generate(app);
    for (const text of ['a', 'b', 'c'])
      await postActivity(app, t.token, t.conversationId, { type: 'message', text });
    const kept = await activities(app, t.token, t.conversationId);
    expect(kept.activities.map((a) => a.text)).toEqual(['echo: b', 'c', 'echo: c']);
    expect(kept.watermark).toBe('6');
  });

  it('denies a token for conversation A any access to conversation B', async () => {
    const { app } = await server();
    const a = await generate(app);
    const b = await generate(app);
    await postActivity(app, b.token, b.conversationId, { type: 'message', text: 'secret of B' });
    for (const [method, url] of [
      ['GET', `${DL}/conversations/${b.conversationId}`],
      ['GET', `${DL}/conversations/${b.conversationId}/activities`],
      ['POST', `${DL}/conversations/${b.conversationId}/activities`],
      ['POST', `${DL}/conversations/${b.conversationId}/upload`],
    ] as const) {
      const res = await app.inject({
        method,
        url,
        headers: bearer(a.token),
        ...(method === 'POST' ? { payload: { type: 'message', text: 'intrusion' } } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(errorCode(res)).toBe('GT_MSG_WEBCHAT_FORBIDDEN');
    }
    const bView = await activities(app, b.token, b.conversationId);
    expect(bView.activities.map((x) => x.text)).toEqual(['secret of B', 'echo: secret of B']);
    // A's own conversation is untouched by B.
    expect((await activities(app, a.token, a.conversationId)).activities).toEqual([]);
  });

  it('answers 404 for an unknown conversation (secret holder) and 400 for malformed activities', async () => {
    const { app } = await server();
    const missing = await app.inject({
      method: 'GET',
      url: `${DL}/conversations/nope/activities`,
      headers: bearer(SECRET),
    });
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND');
    const t = await generate(app);
    for (const bad of [
      [1, 2],
      { text: 'no type' },
      { type: 'conversationUpdate' },
      { type: 'message', text: 42 },
      { type: 'message', channelData: 'x' },
      { type: 'message', attachments: [{ name: 'no content type' }] },
      { type: 'message', attachments: [{ contentType: 'image/png' }] },
      { type: 'message', from: { id: '' } },
    ]) {
      const res = await postActivity(app, t.token, t.conversationId, bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(errorCode(res)).toBe('GT_MSG_WEBCHAT_BAD_REQUEST');
    }
    const notJson = await app.inject({
      method: 'POST',
      url: `${DL}/conversations/${t.conversationId}/activities`,
      headers: { ...bearer(t.token), 'content-type': 'application/json' },
      payload: '{"type":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(errorCode(notJson)).toBe('GT_MSG_WEBCHAT_BAD_REQUEST');
    const huge = await postActivity(app, t.token, t.conversationId, {
      type: 'message',
      text: 'x'.repeat(300_000),
    });
    expect(huge.statusCode).toBe(413);
    const upload = await app.inject({
      method: 'POST',
      url: `${DL}/conversations/${t.conversationId}/upload`,
      headers: bearer(t.token),
    });
    expect(upload.statusCode).toBe(501);
    expect(errorCode(upload)).toBe('GT_MSG_WEBCHAT_UNSUPPORTED');
  });

  it('answers 502 when onActivity fails, and a re-post with the same clientActivityID retries it once', async () => {
    let failures = 1;
    const calls: string[] = [];
    const { app } = await server({
      onActivity: async (envelope) => {
        calls.push(envelope.id);
        if (failures-- > 0) throw new Error('queue unavailable');
      },
    });
    const t = await generate(app);
    const activity = { type: 'message', text: 'important', channelData: { clientActivityID: 'c-42' } };
    const first = await postActivity(app, t.token, t.conversationId, activity);
    expect(first.statusCode).toBe(502);
    expect(errorCode(first)).toBe('GT_MSG_WEBCHAT_DISPATCH_FAILED');
    expect(first.body).not.toContain('queue unavailable');
    const second = await postActivity(app, t.token, t.conversationId, activity);
    expect(second.statusCode).toBe(200);
    const third = await postActivity(app, t.token, t.conversationId, activity);
    expect(third.json()).toEqual(second.json());
    expect(calls).toEqual([`${t.conversationId}|0000001`, `${t.conversationId}|0000001`]);
    expect((await activities(app, t.token, t.conversationId)).activities).toHaveLength(1);
  });
});

describe('deliver', () => {
  it('turns a card into an Adaptive Card attachment, answers replyToId, and is idempotent by reply id', async () => {
    const { app, dl } = await server({ botAccount: { id: 'weather-bot', name: 'Weather' } });
    const t = await generate(app, { user: { id: 'dl_carol' } });
    const r1 = await dl.deliver(
      t.conversationId,
      { id: 'turn-1:0', text: 'Here:', card: weatherCard() },
      { replyToId: 'x|0000001' },
    );
    const r2 = await dl.deliver(t.conversationId, { id: 'turn-1:0', text: 'Here:', card: weatherCard() });
    expect(r1).toEqual({ activityId: `${t.conversationId}|0000001`, watermark: 1, duplicate: false });
    expect(r2).toEqual({ ...r1, duplicate: true });
    const [activity] = (await activities(app, t.token, t.conversationId)).activities;
    expect(activity).toMatchObject({
      type: 'message',
      from: { id: 'weather-bot', name: 'Weather', role: 'bot' },
      recipient: { id: 'dl_carol', role: 'user' },
      text: 'Here:',
      replyToId: 'x|0000001',
      attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: weatherCard() }],
    });
    // A ready Bot Framework attachment is passed through.
    const hero = { contentType: 'application/vnd.microsoft.card.hero', content: { title: 'Hi' } };
    await dl.deliver(t.conversationId, { id: 'turn-2:0', card: hero });
    expect((await activities(app, t.token, t.conversationId, '1')).activities[0]?.attachments).toEqual([
      hero,
    ]);
  });

  it('renders simple cards, string cards, payload buttons and payload attachments for WebChat', async () => {
    const { app, dl } = await server();
    const t = await generate(app);
    await dl.deliver(t.conversationId, {
      id: 'a',
      text: 'Pick one',
      card: {
        title: 'Trip',
        text: 'Where to?',
        image: 'https://example.com/t.png',
        buttons: ['Beach', { title: 'City', value: 'city' }, { title: 'Docs', url: 'https://example.com' }],
      },
    });
    await dl.deliver(t.conversationId, { id: 'b', text: 'Hello', card: 'and more' });
    await dl.deliver(t.conversationId, {
      id: 'c',
      payload: {
        buttons: [{ label: 'Yes', value: 'yes' }],
        attachments: [{ mime_type: 'image/png', url: 'https://example.com/p.png', name: 'p.png' }],
      },
    });
    const [a, b, c] = (await activities(app, t.token, t.conversationId)).activities;
    expect(a?.attachments?.[0]).toEqual({
      contentType: ADAPTIVE_CARD_CONTENT_TYPE,
      content: {
        type: 'AdaptiveCard',
        version: '1.5',
        body: [
          { type: 'TextBlock', text: 'Trip', weight: 'Bolder', size: 'Medium', style: 'heading', wrap: true },
          { type: 'TextBlock', text: 'Where to?', wrap: true },
          { type: 'Image', url: 'https://example.com/t.png', altText: 'Trip' },
        ],
        actions: [
          { type: 'Action.Submit', title: 'Beach', data: { action: 'Beach' } },
          { type: 'Action.Submit', title: 'City', data: { action: 'city' } },
          { type: 'Action.OpenUrl', title: 'Docs', url: 'https://example.com' },
        ],
      },
    });
    expect(b).toMatchObject({ text: 'Hello\n\nand more' });
    expect(b?.attachments).toBeUndefined();
    expect(c?.text).toBeUndefined();
    expect(c?.attachments).toEqual([
      {
        contentType: ADAPTIVE_CARD_CONTENT_TYPE,
        content: {
          type: 'AdaptiveCard',
          version: '1.5',
          body: [],
          actions: [{ type: 'Action.Submit', title: 'Yes', data: { action: 'yes' } }],
        },
      },
      { contentType: 'image/png', contentUrl: 'https://example.com/p.png', name: 'p.png' },
    ]);
  });

  it('skips replies with nothing to show and refuses bad messages and unknown conversations', async () => {
    const { app, dl } = await server();
    const t = await generate(app);
    expect(await dl.deliver(t.conversationId, { id: 'p', payload: { x: 1 } })).toEqual({
      duplicate: false,
      skipped: true,
    });
    const cases: Array<[string, unknown, string]> = [
      [t.conversationId, { text: 'no id' }, 'GT_MSG_WEBCHAT_BAD_MESSAGE'],
      [t.conversationId, { id: 'x', text: 5 }, 'GT_MSG_WEBCHAT_BAD_MESSAGE'],
      [t.conversationId, { id: 'x', card: { f: () => 1 } }, 'GT_MSG_WEBCHAT_BAD_MESSAGE'],
      ['no-such-conversation', { id: 'x', text: 'hi' }, 'GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND'],
    ];
    for (const [conv, msg, code] of cases) {
      const err = await dl.deliver(conv, msg as never).catch((e: unknown) => e);
      expect(isMessagingError(err, code as never), JSON.stringify(msg)).toBe(true);
    }
    await dl.close();
    const closed = await dl.deliver(t.conversationId, { id: 'y', text: 'late' }).catch((e: unknown) => e);
    expect(isMessagingError(closed, 'GT_MSG_WEBCHAT_CLOSED')).toBe(true);
  });
});

describe('error codes', () => {
  it('all belong to the GT_MSG_WEBCHAT_ family', () => {
    const codes = Object.keys(WEBCHAT_ERROR_STATUS);
    expect(codes.length).toBeGreaterThan(5);
    for (const code of codes) expect(code).toMatch(/^GT_MSG_WEBCHAT_[A-Z_]+$/);
  });

  it('are MessagingErrors carrying the HTTP status the endpoint answers with', () => {
    for (const [code, status] of Object.entries(WEBCHAT_ERROR_STATUS)) {
      const err = new MessagingError(code as keyof typeof WEBCHAT_ERROR_STATUS, 'm', { cause: 'c' });
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('MessagingError');
      expect(err.status, code).toBe(status);
      expect(err.cause).toBe('c');
      expect(err.retryAfterSec).toBeUndefined();
      expect(isMessagingError(err, code as never)).toBe(true);
      expect(isWebChatCode(code)).toBe(true);
    }
    const limited = new MessagingError('GT_MSG_WEBCHAT_RATE_LIMITED', 'slow down', { retryAfterSec: 7 });
    expect([limited.status, limited.retryAfterSec]).toStrictEqual([429, 7]);
    expect(isMessagingError(limited, 'GT_MSG_WEBCHAT_FORBIDDEN')).toBe(false);
  });

  it('leave the status of the other GT_MSG_ codes to the thrower', () => {
    const config = new MessagingError('GT_MSG_CONFIG', 'bad');
    expect(config.status).toBeUndefined();
    expect(new MessagingError('GT_MSG_BAD_PAYLOAD', 'bad', { status: 400 }).status).toBe(400);
    expect(isWebChatCode(config.code)).toBe(false);
    expect(isWebChatCode('GT_MSG_WEBCHAT_NOPE')).toBe(false);
    expect(isMessagingError(new Error('GT_MSG_WEBCHAT_CLOSED'))).toBe(false);
  });
});
