import type { ChannelMessageEnvelope } from '@greentic/types';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { type Activity, directLine, startWebChat, type WebChat } from '../../src/webchat/index.js';
import { SECRET, TENANT, type TestServer, testServer } from './helpers.js';

let chats: WebChat[] = [];
let servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all([...chats.map((c) => c.close()), ...servers.map((s) => s.close())]);
  chats = [];
  servers = [];
});

async function chat(options: Parameters<typeof startWebChat>[0]) {
  const c = await startWebChat(options);
  chats.push(c);
  return c;
}

/** A conversation through the page's own token route, as the browser does it. */
async function pageConversation(c: WebChat) {
  const base = new URL(c.url);
  const t = (await (await fetch(new URL('token', base), { method: 'POST' })).json()) as {
    token: string;
    conversationId: string;
    userId: string;
  };
  const h = { authorization: `Bearer ${t.token}`, 'content-type': 'application/json' };
  return {
    ...t,
    async say(text: string) {
      const res = await fetch(`${c.directLineUrl}/conversations/${t.conversationId}/activities`, {
        method: 'POST',
        headers: h,
        body: JSON.stringify({ type: 'message', text }),
      });
      expect(res.status).toBe(200);
    },
    async transcript() {
      const res = await fetch(`${c.directLineUrl}/conversations/${t.conversationId}/activities`, {
        headers: h,
      });
      return ((await res.json()) as { activities: Activity[] }).activities.map(
        (a) => `${a.from.role}: ${a.text ?? ''}`,
      );
    },
  };
}

describe('startWebChat', () => {
  it('serves the page and runs the bot for each message, one turn at a time per conversation, in order', async () => {
    const seen: string[] = [];
    const c = await chat({
      bot: async (envelope: ChannelMessageEnvelope) => {
        seen.push(`start ${envelope.text}`);
        await new Promise((r) => setTimeout(r, envelope.text === 'slow' ? 50 : 0));
        seen.push(`end ${envelope.text}`);
        return [
          { id: `${envelope.id}:0`, text: `got ${envelope.text}` },
          { id: `${envelope.id}:1`, text: `from ${envelope.from?.id}` },
        ];
      },
    });
    expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/webchat\/$/);
    expect(c.directLineUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3\/directline$/);
    const page = await fetch(c.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<ol id="gt-transcript"');
    const conv = await pageConversation(c);
    expect(conv.userId).toMatch(/^dl_/);
    await conv.say('slow');
    await conv.say('fast');
    await c.idle();
    expect(seen).toEqual(['start slow', 'end slow', 'start fast', 'end fast']);
    expect(await conv.transcript()).toEqual([
      'user: slow',
      'user: fast',
      'bot: got slow',
      `bot: from ${conv.userId}`,
      'bot: got fast',
      `bot: from ${conv.userId}`,
    ]);
  });

  it('shows a short apology when the bot throws, and keeps serving', async () => {
    const c = await chat({
      bot: (envelope) => {
        if (envelope.text === 'boom') throw new Error('internal detail');
        return [{ id: `${envelope.id}:0`, text: 'fine' }];
      },
    });
    const conv = await pageConversation(c);
    await conv.say('boom');
    await conv.say('ok?');
    await c.idle();
    const lines = await conv.transcript();
    expect(lines.filter((l) => l.startsWith('bot:'))).toEqual([
      'bot: Sorry, something went wrong.',
      'bot: fine',
    ]);
    expect(lines.indexOf('bot: Sorry, something went wrong.')).toBeGreaterThan(lines.indexOf('user: boom'));
    expect(lines.join('\n')).not.toContain('internal detail');
  });

  it('lets the secret holder use Direct Line directly', async () => {
    const c = await chat({ bot: () => [] });
    const res = await fetch(`${c.directLineUrl}/tokens/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.secret}` },
    });
    expect(res.status).toBe(200);
  });
});

describe('the page routes', () => {
  it('serves the page and its assets with a strict Content-Security-Policy and no-cache', async () => {
    const s = await testServer();
    servers.push(s);
    const redirect = await s.app.inject({ method: 'GET', url: '/webchat' });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe('/webchat/');
    const page = await s.app.inject({ method: 'GET', url: '/webchat/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    for (const asset of [
      'webchat.js',
      'directline-client.js',
      'adaptive-cards.js',
      'markdown.js',
      'webchat.css',
    ]) {
      const res = await s.app.inject({ method: 'GET', url: `/webchat/${asset}` });
      expect(res.statusCode, asset).toBe(200);
    }
    expect((await s.app.inject({ method: 'GET', url: '/webchat/../package.json' })).statusCode).toBe(404);
    expect((await s.app.inject({ method: 'GET', url: '/webchat/nope.js' })).statusCode).toBe(404);
  });

  it('gives the page its config and anonymous tokens without ever exposing the secret', async () => {
    const s = await testServer({
      prefix: '/chat/acme',
      page: { title: 'Acme', frameAncestors: 'https://acme.example' },
    });
    servers.push(s);
    const config = await s.app.inject({ method: 'GET', url: '/chat/acme/webchat/config.json' });
    expect(config.json()).toEqual({
      title: 'Acme',
      botName: 'Bot',
      directLine: '/chat/acme/v3/directline',
      tokenUrl: '/chat/acme/webchat/token',
    });
    const token = await s.app.inject({ method: 'POST', url: '/chat/acme/webchat/token' });
    expect(token.statusCode).toBe(200);
    expect(token.headers['cache-control']).toBe('no-store');
    const body = token.json() as {
      token: string;
      conversationId: string;
      expires_in: number;
      userId: string;
    };
    expect(body.expires_in).toBe(1800);
    expect(body.userId).toMatch(/^dl_[A-Za-z0-9_-]+$/);
    for (const res of [config, token]) expect(res.body).not.toContain(SECRET);
    const page = await s.app.inject({ method: 'GET', url: '/chat/acme/webchat/' });
    expect(String(page.headers['content-security-policy'])).toContain('frame-ancestors https://acme.example');
  });

  it('can be restricted with authorize, or turned off', async () => {
    const s = await testServer({ page: { authorize: (req) => req.headers['x-staff'] === 'yes' } });
    servers.push(s);
    expect((await s.app.inject({ method: 'POST', url: '/webchat/token' })).statusCode).toBe(403);
    expect((await s.app.inject({ method: 'GET', url: '/webchat/' })).statusCode).toBe(403);
    const ok = await s.app.inject({ method: 'POST', url: '/webchat/token', headers: { 'x-staff': 'yes' } });
    expect(ok.statusCode).toBe(200);
    const off = await testServer({ page: false });
    servers.push(off);
    expect((await off.app.inject({ method: 'GET', url: '/webchat/' })).statusCode).toBe(404);
    expect((await off.app.inject({ method: 'POST', url: '/webchat/token' })).statusCode).toBe(404);
  });
});

describe('the directLine plugin', () => {
  it('registers like any Fastify plugin and replies through onActivity’s context', async () => {
    const app = Fastify();
    await app.register(directLine, {
      prefix: '/v1/messaging/webchat/acme',
      tenant: TENANT,
      secrets: SECRET,
      onActivity: async (envelope, ctx) => {
        await ctx.deliver({ id: `${envelope.id}:0`, text: `hi ${envelope.text}` });
      },
    });
    try {
      const base = '/v1/messaging/webchat/acme/v3/directline';
      const auth = { authorization: `Bearer ${SECRET}` };
      const conv = (
        await app.inject({ method: 'POST', url: `${base}/conversations`, headers: auth })
      ).json() as {
        conversationId: string;
      };
      const posted = await app.inject({
        method: 'POST',
        url: `${base}/conversations/${conv.conversationId}/activities`,
        headers: auth,
        payload: { type: 'message', text: 'there', from: { id: 'backend-user' } },
      });
      expect(posted.statusCode).toBe(200);
      const got = (
        await app.inject({
          method: 'GET',
          url: `${base}/conversations/${conv.conversationId}/activities`,
          headers: auth,
        })
      ).json() as { activities: Activity[] };
      expect(got.activities.map((a) => [a.from.id, a.text, a.replyToId])).toEqual([
        ['backend-user', 'there', undefined],
        ['bot', 'hi there', (posted.json() as { id: string }).id],
      ]);
    } finally {
      await app.close();
    }
  });

  it('refuses a second endpoint on the same server unless @fastify/websocket is registered at the root', async () => {
    const options = { tenant: TENANT, secrets: SECRET, onActivity: () => {}, page: false as const };
    const app = Fastify();
    await app.register(directLine, { ...options, prefix: '/a' });
    const err = await app.register(directLine, { ...options, prefix: '/b' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toBe('GT_MSG_WEBCHAT_BAD_OPTIONS');
    await app.close().catch(() => {});

    const shared = Fastify();
    await shared.register((await import('@fastify/websocket')).default);
    await shared.register(directLine, { ...options, prefix: '/a' });
    await shared.register(directLine, { ...options, prefix: '/b' });
    await shared.ready();
    await shared.close();
  });
});
