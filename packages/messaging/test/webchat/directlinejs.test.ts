// The endpoint driven by Microsoft's own Direct Line client (botframework-directlinejs), as WebChat uses it.
// In Node it needs two browser globals: `WebSocket` (from `ws`) and `XMLHttpRequest` (from `xhr2`), because its
// default transport is RxJS 5's `Observable.ajax`, which is built on XMLHttpRequest.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type DirectLineClient,
  type DirectLineCtor,
  type DirectLineModule,
  type DirectLineObservable,
  loadDirectLine,
} from '../../src/testing/index.js';
import type { Activity } from '../../src/webchat/index.js';
import { manualClock, SECRET, type TestServer, testServer, until } from './helpers.js';

let DirectLine: DirectLineCtor;
let ConnectionStatus: DirectLineModule['ConnectionStatus'];

beforeAll(() => {
  ({ DirectLine, ConnectionStatus } = loadDirectLine());
});

let servers: TestServer[] = [];
let clients: DirectLineClient[] = [];
afterEach(async () => {
  for (const c of clients) c.end();
  clients = [];
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(options: Parameters<typeof testServer>[0] = {}) {
  const s = await testServer(options);
  servers.push(s);
  await s.listen();
  return s;
}

async function generateToken(s: TestServer, user?: string) {
  const res = await fetch(`${s.origin}/v3/directline/tokens/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
    body: user ? JSON.stringify({ user: { id: user } }) : '',
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { conversationId: string; token: string; expires_in: number };
}

function client(s: TestServer, options: Record<string, unknown>) {
  const c = new DirectLine({ domain: `${s.origin}/v3/directline`, ...options });
  clients.push(c);
  return c;
}

/** Subscribes to `activity$` (with an error handler: RxJS 5 rethrows errors nobody handles, e.g. on `end()`). */
function collect(c: DirectLineClient) {
  const seen: Activity[] = [];
  const errors: unknown[] = [];
  const sub = c.activity$.subscribe(
    (a) => seen.push(a),
    (e) => errors.push(e),
  );
  return { seen, errors, stop: () => sub.unsubscribe() };
}

function statusesOf(c: DirectLineClient) {
  const statuses: number[] = [];
  c.connectionStatus$.subscribe(
    (v) => statuses.push(v),
    () => {},
  );
  return statuses;
}

function post(c: DirectLineClient, activity: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    c.postActivity({ from: { id: 'user-1' }, ...activity }).subscribe(resolve, reject);
  });
}

function firstValue<T>(o: DirectLineObservable<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const sub = o.subscribe(
      (v) => {
        if (done) return;
        done = true;
        resolve(v);
        queueMicrotask(() => sub.unsubscribe());
      },
      (e) => reject(e),
    );
  });
}

function texts(seen: Activity[]) {
  return seen.filter((a) => a.type === 'message').map((a) => `${a.from.role ?? a.from.id}: ${a.text ?? ''}`);
}

describe('botframework-directlinejs against the endpoint', () => {
  it('starts a conversation with a token and receives the echo bot’s reply over the WebSocket', async () => {
    const s = await start();
    const t = await generateToken(s);
    const dl = client(s, { token: t.token, webSocket: true });
    const { seen } = collect(dl);
    const statuses = statusesOf(dl);
    await until(() => dl.connectionStatus$.getValue() === ConnectionStatus.Online, 'Online');
    expect(dl.conversationId).toBe(t.conversationId);
    const id = await post(dl, { type: 'message', text: 'hello from directlinejs' });
    expect(id).toBe(`${t.conversationId}|0000001`);
    await until(() => seen.length >= 2, 'the echo');
    expect(texts(seen)).toEqual(['user: hello from directlinejs', 'bot: echo: hello from directlinejs']);
    expect(seen[1]?.replyToId).toBe(id);
    expect(dl.watermark).toBe('2');
    // Nothing came by polling: the client opened the stream and never asked for activities over HTTP.
    expect(statuses).toContain(ConnectionStatus.Online);
    expect(s.requests).toContain(`GET /v3/directline/conversations/${t.conversationId}/stream`);
    expect(s.requests).not.toContain(`GET /v3/directline/conversations/${t.conversationId}/activities`);
    expect(s.received.map((e) => e.text)).toEqual(['hello from directlinejs']);
  });

  it('works in polling mode (webSocket: false)', async () => {
    const s = await start();
    const t = await generateToken(s);
    const dl = client(s, { token: t.token, webSocket: false, pollingInterval: 200 });
    const { seen } = collect(dl);
    await until(() => dl.connectionStatus$.getValue() === ConnectionStatus.Online, 'Online');
    await post(dl, { type: 'message', text: 'polling please' });
    await until(() => seen.length >= 2, 'the polled echo');
    expect(texts(seen)).toEqual(['user: polling please', 'bot: echo: polling please']);
    expect(s.requests).toContain(`GET /v3/directline/conversations/${t.conversationId}/activities`);
    expect(s.requests.some((r) => r.endsWith('/stream'))).toBe(false);
    // A card submit arrives at the bot as an action.
    await post(dl, { type: 'message', value: { action: 'forecast', city: 'Oslo', units: 'metric' } });
    await until(() => seen.length >= 4, 'the answer to the submit');
    expect(texts(seen).at(-1)).toBe('bot: You chose forecast for Oslo (metric)');
  });

  it('resumes from a watermark: a second client for the same conversation only gets what follows it', async () => {
    const s = await start();
    const t = await generateToken(s);
    const first = client(s, { token: t.token, webSocket: false, pollingInterval: 200 });
    const a = collect(first);
    await until(() => first.connectionStatus$.getValue() === ConnectionStatus.Online, 'Online');
    await post(first, { type: 'message', text: 'one' });
    await until(() => a.seen.length >= 2, 'first echo');
    const mark = first.watermark;
    expect(mark).toBe('2');
    a.stop();
    first.end();
    const second = client(s, {
      token: t.token,
      conversationId: t.conversationId,
      watermark: mark,
      webSocket: true,
    });
    const b = collect(second);
    await until(() => second.connectionStatus$.getValue() === ConnectionStatus.Online, 'second Online');
    await post(second, { type: 'message', text: 'two' });
    await until(() => b.seen.length >= 2, 'second echo');
    expect(texts(b.seen)).toEqual(['user: two', 'bot: echo: two']);
  });

  it('refreshes its token, and the refreshed token keeps working after the original expired', async () => {
    const clock = manualClock(Date.now());
    const s = await start({ now: clock.now });
    const t = await generateToken(s);
    const dl = client(s, { token: t.token, webSocket: false, pollingInterval: 200 });
    const { seen } = collect(dl);
    await until(() => dl.connectionStatus$.getValue() === ConnectionStatus.Online, 'Online');
    clock.advance(1000);
    const refreshed = await firstValue(dl.refreshToken());
    expect(refreshed).not.toBe(t.token);
    dl.token = refreshed; // what the client's own 15-minute refresh loop does
    clock.advance(1000); // the original token expired 200 s ago
    await post(dl, { type: 'message', text: 'still here' });
    await until(() => seen.length >= 2, 'echo after refresh');
    expect(texts(seen)).toEqual(['user: still here', 'bot: echo: still here']);
  });

  it('reports ExpiredToken when the token has expired', async () => {
    const clock = manualClock(Date.now());
    const s = await start({ now: clock.now, tokenTtlSec: 60 });
    const t = await generateToken(s);
    const dl = client(s, { token: t.token, webSocket: false, pollingInterval: 200 });
    collect(dl);
    const statuses = statusesOf(dl);
    await until(() => dl.connectionStatus$.getValue() === ConnectionStatus.Online, 'Online');
    clock.advance(61);
    const result = await post(dl, { type: 'message', text: 'too late' });
    expect(result).toBe('retry');
    await until(() => statuses.includes(ConnectionStatus.ExpiredToken), 'ExpiredToken');
    expect(s.received).toEqual([]);
  });

  it('cannot read another conversation: a client given B’s id with A’s token fails to connect', async () => {
    const s = await start();
    const a = await generateToken(s);
    const b = await generateToken(s);
    const dl = client(s, { token: a.token, conversationId: b.conversationId, webSocket: false });
    const { seen, errors } = collect(dl);
    const statuses = statusesOf(dl);
    await until(() => statuses.includes(ConnectionStatus.FailedToConnect), 'FailedToConnect');
    expect(seen).toEqual([]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as { status?: number }).status).toBe(403);
  });
});

describe('the WebSocket stream', () => {
  async function streamUrl(s: TestServer, token: string, watermark?: number) {
    const res = await fetch(`${s.origin}/v3/directline/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    const conv = (await res.json()) as { conversationId: string; streamUrl: string };
    if (watermark === undefined) return conv.streamUrl;
    const again = await fetch(
      `${s.origin}/v3/directline/conversations/${conv.conversationId}?watermark=${watermark}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    return ((await again.json()) as { streamUrl: string }).streamUrl;
  }

  function open(url: string) {
    const ws = new WebSocket(url);
    const frames: Array<{ activities: Activity[]; watermark: string }> = [];
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    const opened = new Promise<void>((resolve, reject) => {
      ws.on('open', () => resolve());
      ws.on('error', reject);
    });
    return { ws, frames, closed, opened };
  }

  it('sends the activities after the URL’s watermark first, then each new one as {activities, watermark}', async () => {
    const s = await start();
    const t = await generateToken(s);
    await s.dl.deliver(t.conversationId, { id: 'r1', text: 'first' });
    await s.dl.deliver(t.conversationId, { id: 'r2', text: 'second' });
    const stream = open(await streamUrl(s, t.token, 1));
    await stream.opened;
    await until(() => stream.frames.length >= 1, 'the backlog');
    await s.dl.deliver(t.conversationId, { id: 'r3', text: 'third' });
    await s.dl.deliver(t.conversationId, { id: 'r3', text: 'third' }); // idempotent: no second frame
    await s.dl.deliver(t.conversationId, { id: 'r4', text: 'fourth' });
    await until(() => stream.frames.length >= 3, 'live frames');
    expect(stream.frames.map((f) => [f.watermark, f.activities.map((a) => a.text)])).toEqual([
      ['2', ['second']],
      ['3', ['third']],
      ['4', ['fourth']],
    ]);
    stream.ws.close();
  });

  it('refuses a stream token of another conversation, an expired stream token, and no credentials', async () => {
    const clock = manualClock(Date.now());
    const s = await start({ now: clock.now });
    const a = await generateToken(s);
    const b = await generateToken(s);
    const aUrl = new URL(await streamUrl(s, a.token));
    const crossed = aUrl.href.replace(a.conversationId, b.conversationId);
    await expect(open(crossed).opened).rejects.toThrow(/403/);
    const bare = `${aUrl.origin}${aUrl.pathname}`;
    await expect(open(bare).opened).rejects.toThrow(/401/);
    clock.advance(121);
    await expect(open(aUrl.href).opened).rejects.toThrow(/403/);
  });

  it('closes the stream when the token it was opened with expires (the client then reconnects)', async () => {
    const clock = manualClock(Date.now());
    const s = await start({ now: clock.now, tokenTtlSec: 60 });
    const t = await generateToken(s);
    clock.advance(59); // one real second of validity left when the stream opens
    const stream = open(await streamUrl(s, t.token));
    await stream.opened;
    expect(await stream.closed).toBe(4001);
  });
});
