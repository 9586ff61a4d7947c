// A Telegram webhook end to end through the runner daemon, against a local fake Telegram API: in memory mode (the
// in-process queue) and with NATS JetStream + Redis (publishIngress → runner consumer → egress worker).
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EgressMessage } from '../src/bus/messages.js';
import { loadRunnerConfig, type RunnerConfigInput } from '../src/config/config.js';
import { RunnerDaemon } from '../src/daemon/daemon.js';
import { streamReader } from './bus-helpers.js';
import { type FakeTelegram, startFakeTelegram, telegramUpdate } from './fake-telegram.js';
import { busConfig, cleanup, isolated, NATS_URL, QA3_FLOW, uniq, waitFor } from './helpers.js';

const TOKEN = '123456:TEST-bot-token';
const SECRET = 'webhook-secret-0123456789';
const ENV = { TG_BOT_TOKEN: TOKEN, TG_WEBHOOK_SECRET: SECRET };

let tg: FakeTelegram;
const daemons: RunnerDaemon[] = [];

beforeAll(async () => {
  tg = await startFakeTelegram(TOKEN);
});
afterAll(async () => {
  await tg?.close();
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  tg.calls.length = 0;
});

function telegramConnector(env = 'test') {
  return {
    provider: 'telegram' as const,
    id: 'acme-bot',
    binding: { env, tenant: 'acme' },
    botToken: 'env:TG_BOT_TOKEN',
    webhookSecrets: ['env:TG_WEBHOOK_SECRET'],
    apiBaseUrl: tg.url,
    parseMode: 'plain' as const,
  };
}

async function startDaemon(overrides: RunnerConfigInput) {
  const config = loadRunnerConfig(undefined, { env: {}, overrides });
  const daemon = new RunnerDaemon({ config, env: ENV });
  daemons.push(daemon);
  await daemon.start();
  return daemon;
}

function webhook(d: RunnerDaemon, body: string, secret: string | null = SECRET) {
  return fetch(`http://127.0.0.1:${d.address.port}/webhooks/telegram/acme-bot`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret !== null ? { 'x-telegram-bot-api-secret-token': secret } : {}),
    },
    body,
  });
}

describe('Telegram through the daemon, memory mode (in-process queue)', () => {
  it('answers a signed webhook 200, runs the flow and sends the reply once; a replayed update_id is not run again', async () => {
    const d = await startDaemon({
      http: { host: '127.0.0.1', port: 0 },
      flows: { paths: [QA3_FLOW] },
      tenancy: { env: 'test' },
      connectors: [telegramConnector()],
    });
    expect((await fetch(`http://127.0.0.1:${d.address.port}/readyz`)).status).toBe(200);

    const first = await webhook(d, telegramUpdate(1001, 'hi'));
    expect(first.status).toBe(200);
    await waitFor(() => tg.sent().length === 1, 'the first reply at the fake Telegram API');
    expect(tg.sent()).toEqual(['Name?']);
    const call = tg.calls.find((c) => c.method === 'sendMessage')!;
    expect(call.body.chat_id).toBe(4242);

    // Telegram redelivers the same update: 200 (so it stops), not queued, not run
    expect((await webhook(d, telegramUpdate(1001, 'hi'))).status).toBe(200);
    // the next answer goes through and is the only new send
    expect((await webhook(d, telegramUpdate(1002, 'Ada'))).status).toBe(200);
    await waitFor(() => tg.sent().length === 2, 'the second reply');
    await d.gateway!.idle();
    expect(tg.sent()).toEqual(['Name?', 'Colour?']);
    const stats = d.gateway!.stats();
    expect(stats.webhooks).toMatchObject({ queued: 2, duplicate: 1 });
    expect(stats.queue).toMatchObject({ queued: 2, processed: 2, failed: 0 });
    expect(stats.repliesSent).toBe(2);
  });

  it('refuses a wrong secret with 403 and a missing one with 401, and queues nothing', async () => {
    const d = await startDaemon({
      http: { host: '127.0.0.1', port: 0 },
      flows: { paths: [QA3_FLOW] },
      tenancy: { env: 'test' },
      connectors: [telegramConnector()],
    });
    expect((await webhook(d, telegramUpdate(2001, 'hi'), 'not-the-secret')).status).toBe(403);
    expect((await webhook(d, telegramUpdate(2002, 'hi'), null)).status).toBe(401);
    const unknown = await fetch(`http://127.0.0.1:${d.address.port}/webhooks/telegram/nobody`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: telegramUpdate(2003, 'hi'),
    });
    expect(unknown.status).toBe(404);
    expect(d.gateway!.stats().queue).toMatchObject({ queued: 0 });
    expect(tg.sent()).toEqual([]);
  });

  it('honours a 429 from Telegram: waits retry_after, then sends once', async () => {
    const d = await startDaemon({
      http: { host: '127.0.0.1', port: 0 },
      flows: { paths: [QA3_FLOW] },
      tenancy: { env: 'test' },
      connectors: [telegramConnector()],
    });
    tg.script({
      status: 429,
      body: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 1',
        parameters: { retry_after: 1 },
      },
    });
    expect((await webhook(d, telegramUpdate(3001, 'hi', 5151))).status).toBe(200);
    await waitFor(() => tg.sent().length === 2, 'the retried send');
    await d.gateway!.idle();
    // the refused attempt and the accepted one: the reply itself once
    expect(tg.sent()).toEqual(['Name?', 'Name?']);
    expect(d.gateway!.stats()).toMatchObject({ repliesSent: 1, deadLetters: 0 });
  });
});

describe('Telegram through the daemon, NATS JetStream + Redis', () => {
  let id: string;
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    await nc?.close();
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await cleanup(id);
  });

  it('publishes the update, runs the turn, sends the reply once through the egress worker; replays on another runner are dropped', async () => {
    id = uniq('gw');
    const base = busConfig(id, { stores: 'redis' }) as RunnerConfigInput;
    const config: RunnerConfigInput = {
      ...base,
      log: { level: 'warn' },
      connectors: [telegramConnector()],
      egress: { consumer: `egress-${id}`, ackWaitMs: 5000 },
    };
    // two runners sharing Redis and the NATS consumers, as behind a load balancer
    const a = await startDaemon(config);
    const b = await startDaemon(config);
    const n = isolated(id);
    const egress = await streamReader<EgressMessage>(nc.jetstream(), n.streams.egress);
    try {
      expect((await webhook(a, telegramUpdate(5000, 'hi'), 'not-the-secret')).status).toBe(403);
      expect((await webhook(a, telegramUpdate(5001, 'hi'))).status).toBe(200);
      await waitFor(() => tg.sent().length === 1, 'the first reply at the fake Telegram API');
      // the provider retries on the other runner: its in-memory guard has not seen it, the Redis ledger has
      expect((await webhook(b, telegramUpdate(5001, 'hi'))).status).toBe(200);
      expect((await webhook(b, telegramUpdate(5002, 'Ada'))).status).toBe(200);
      await waitFor(() => tg.sent().length === 2, 'the second reply');
      await waitFor(() => egress.items.length === 2, 'two replies on the egress stream');
      expect(tg.sent()).toEqual(['Name?', 'Colour?']);
      // the egress message carries the inbound envelope's metadata (Teams needs its service_url from there)
      expect(egress.items[0]!.body).toMatchObject({
        channel: 'telegram',
        in_reply_to: 'telegram:acme-bot:5001',
        metadata: { connector: 'acme-bot', provider_message_id: '5001', chat_type: 'private' },
      });
      const sentBy = [a, b].map((d) => d.gateway!.stats().egress!.sent);
      expect(sentBy[0]! + sentBy[1]!).toBe(2);
    } finally {
      await egress.stop();
    }
  });

  it('dead-letters an undeliverable reply to the DLQ subject with the reason', async () => {
    id = uniq('gwd');
    const base = busConfig(id, { stores: 'redis' }) as RunnerConfigInput;
    const d = await startDaemon({
      ...base,
      log: { level: 'silent' },
      connectors: [telegramConnector()],
      egress: { consumer: `egress-${id}` },
    });
    const n = isolated(id);
    const dlq = await streamReader<EgressMessage>(nc.jetstream(), n.streams.dlq);
    try {
      // the fake answers chat 404 with "Bad Request: chat not found"
      expect((await webhook(d, telegramUpdate(6001, 'hi', 404))).status).toBe(200);
      await waitFor(() => dlq.items.length === 1, 'the dead letter');
      const letter = dlq.items[0]!;
      expect(letter.headers['Greentic-Dlq-Reason']).toMatch(
        /^GT_MSG_SEND_REJECTED: .*chat not found.* \(HTTP 400\)$/,
      );
      expect(letter.headers['Greentic-Dlq-Stream']).toBe(n.streams.egress);
      expect(letter.subject).toBe(`${n.subjectPrefix}.dlq.test.acme`);
      expect(letter.body).toMatchObject({ in_reply_to: 'telegram:acme-bot:6001', text: 'Name?' });
      expect(d.gateway!.stats().egress).toMatchObject({ deadLettered: 1, sent: 0 });
    } finally {
      await dlq.stop();
    }
  });
});
