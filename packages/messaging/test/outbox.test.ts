import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import {
  type Connector,
  MemoryDeadLetterSink,
  MemorySentLog,
  OutboxSender,
  type ProviderRequest,
  type ReplyTarget,
  type SendResult,
  TelegramConnector,
  TokenBucketLimiter,
} from '../src/index.js';
import { BINDING, fakeTime } from './helpers.js';

/** A Telegram connector whose `send` answers from a script instead of the network. */
function scripted(answers: SendResult[], extra: { rateLimit?: { rps: number; burst: number } } = {}) {
  const c = new TelegramConnector({
    id: 'bot',
    binding: BINDING,
    botToken: 't',
    webhookSecrets: 's',
    ...extra,
  });
  const sent: ProviderRequest[] = [];
  c.send = async (req) => {
    sent.push(req);
    return answers.shift() ?? { ok: true, status: 200, providerMessageId: String(sent.length) };
  };
  return { connector: c as Connector, sent };
}

const target = (tenant = 'acme'): ReplyTarget => ({
  provider: 'telegram',
  connector: 'bot',
  tenant: tenantCtx({ env: 'test', tenant }),
  conversation: '42',
  metadata: {},
});

const fail = (status: number | undefined, retryable: boolean, extra: Partial<SendResult> = {}): SendResult =>
  ({
    ok: false,
    ...(status !== undefined ? { status } : {}),
    retryable,
    reason: `HTTP ${status}`,
    ...extra,
  }) as SendResult;

describe('outbox retries', () => {
  it('backs off exponentially with equal jitter for 5xx and network errors', async () => {
    const { connector } = scripted([fail(500, true), fail(undefined, true), fail(503, true)]);
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector], ...t, retry: { baseDelayMs: 200 } });
    const r = await outbox.deliver(target(), { id: 'a', text: 'x' });
    expect(r).toMatchObject({ status: 'sent', attempts: 4 });
    expect(t.sleeps).toEqual([150, 300, 600]);
  });

  it('uses the injected random for jitter and caps the delay at maxDelayMs', () => {
    const { connector } = scripted([]);
    const outbox = new OutboxSender({
      connectors: [connector],
      random: () => 0,
      retry: { baseDelayMs: 1000, maxDelayMs: 4000 },
    });
    expect([1, 2, 3, 4, 5].map((a) => outbox.backoff(a))).toEqual([500, 1000, 2000, 2000, 2000]);
    const high = new OutboxSender({
      connectors: [connector],
      random: () => 0.999,
      retry: { baseDelayMs: 1000, maxDelayMs: 4000 },
    });
    expect(high.backoff(5)).toBe(3998);
  });

  it('dead-letters after maxAttempts retryable failures', async () => {
    const { connector, sent } = scripted([fail(502, true), fail(502, true), fail(502, true)]);
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({
      connectors: [connector],
      deadLetters: dlq,
      retry: { maxAttempts: 3 },
      ...fakeTime(),
    });
    const r = await outbox.deliver(target(), { id: 'b', text: 'x' });
    expect(r).toMatchObject({
      status: 'dead_lettered',
      attempts: 3,
      error: { code: 'GT_MSG_SEND_EXHAUSTED', status: 502 },
    });
    expect(sent).toHaveLength(3);
    expect(dlq.letters[0]).toMatchObject({
      replyId: 'b',
      part: 0,
      attempts: 3,
      request: { op: 'sendMessage' },
    });
  });

  it('dead-letters a non-retryable 4xx without retrying', async () => {
    const { connector, sent } = scripted([fail(400, false)]);
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector], ...t });
    const r = await outbox.deliver(target(), { id: 'c', text: 'x' });
    expect(r.error?.code).toBe('GT_MSG_SEND_REJECTED');
    expect(sent).toHaveLength(1);
    expect(t.sleeps).toEqual([]);
  });

  it('dead-letters when the provider asks to wait longer than maxRetryAfterMs', async () => {
    const { connector } = scripted([fail(429, true, { retryAfterMs: 3_600_000 })]);
    const outbox = new OutboxSender({ connectors: [connector], ...fakeTime() });
    const r = await outbox.deliver(target(), { id: 'd', text: 'x' });
    expect(r.error?.code).toBe('GT_MSG_RATE_LIMITED');
  });

  it('treats a send that throws as a retryable failure', async () => {
    const { connector } = scripted([]);
    let n = 0;
    const orig = connector.send.bind(connector);
    connector.send = async (req) => {
      if (n++ === 0) throw new Error('socket hang up');
      return orig(req);
    };
    const outbox = new OutboxSender({ connectors: [connector], ...fakeTime() });
    expect(await outbox.deliver(target(), { id: 'e', text: 'x' })).toMatchObject({
      status: 'sent',
      attempts: 2,
    });
  });

  it('dead-letters a reply for a connector that is not configured, and one that cannot render', async () => {
    const { connector } = scripted([]);
    const dlq = new MemoryDeadLetterSink();
    const outbox = new OutboxSender({ connectors: [connector], deadLetters: dlq, ...fakeTime() });
    expect(
      (await outbox.deliver({ ...target(), connector: 'gone' }, { id: 'f', text: 'x' })).error?.code,
    ).toBe('GT_MSG_TARGET');
    expect((await outbox.deliver(target(), { id: 'g' })).error?.code).toBe('GT_MSG_RENDER');
    expect(dlq.letters.map((l) => l.code)).toEqual(['GT_MSG_TARGET', 'GT_MSG_RENDER']);
  });
});

describe('outbox idempotency', () => {
  it('does not send a reply id twice', async () => {
    const { connector, sent } = scripted([]);
    const outbox = new OutboxSender({ connectors: [connector], ...fakeTime() });
    expect((await outbox.deliver(target(), { id: 'turn:0', text: 'x' })).status).toBe('sent');
    expect((await outbox.deliver(target(), { id: 'turn:0', text: 'x' })).status).toBe('duplicate');
    expect(sent).toHaveLength(1);
  });

  it('resumes a reply after its delivered parts when it comes again', async () => {
    const { connector, sent } = scripted([{ ok: true, status: 200 }, fail(400, false)]);
    const sentLog = new MemorySentLog();
    const outbox = new OutboxSender({ connectors: [connector], sentLog, ...fakeTime() });
    const reply = {
      id: 'two-parts',
      text: 'see file',
      payload: { attachments: [{ mime_type: 'image/png', url: 'https://x.test/a.png' }] },
    };
    const first = await outbox.deliver(target(), reply);
    expect(first).toMatchObject({ status: 'dead_lettered', parts: 2 });
    const again = await outbox.deliver(target(), reply);
    expect(again).toMatchObject({ status: 'sent', skipped: 1 });
    expect(sent.map((r) => r.op)).toEqual(['sendPhoto', 'sendMessage', 'sendMessage']);
  });

  it('keys sent replies by tenant: the same reply id of another tenant is sent', async () => {
    const { connector, sent } = scripted([]);
    const outbox = new OutboxSender({ connectors: [connector], ...fakeTime() });
    await outbox.deliver(target('acme'), { id: 'same', text: 'x' });
    await outbox.deliver(target('globex'), { id: 'same', text: 'x' });
    expect(sent).toHaveLength(2);
  });
});

describe('outbox rate limits', () => {
  it('lets a burst through, then spaces sends at the configured rate per tenant', async () => {
    const { connector } = scripted([]);
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector], rateLimit: { rps: 2, burst: 3 }, ...t });
    for (let i = 0; i < 5; i++) await outbox.deliver(target(), { id: `r${i}`, text: 'x' });
    expect(t.sleeps).toEqual([500, 500]);
    await outbox.deliver(target('globex'), { id: 'other', text: 'x' });
    expect(t.sleeps).toEqual([500, 500]);
  });

  it("uses the connector's own rate when it has one", async () => {
    const { connector } = scripted([], { rateLimit: { rps: 1, burst: 1 } });
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector], rateLimit: { rps: 100, burst: 100 }, ...t });
    await outbox.deliver(target(), { id: 'a', text: 'x' });
    await outbox.deliver(target(), { id: 'b', text: 'x' });
    expect(t.sleeps).toEqual([1000]);
  });

  it('holds the whole tenant back after a 429 for the time the provider asked', async () => {
    const { connector } = scripted([fail(429, true, { retryAfterMs: 5000 })]);
    const t = fakeTime();
    const outbox = new OutboxSender({ connectors: [connector], ...t });
    expect(await outbox.deliver(target(), { id: 'first', text: 'x' })).toMatchObject({
      status: 'sent',
      attempts: 2,
    });
    expect(t.sleeps).toEqual([5000]);
    const limiter = new TokenBucketLimiter({ rps: 10, burst: 20 }, t.clock);
    limiter.pause('test/acme/telegram/bot', 5000);
    expect(limiter.reserve('test/acme/telegram/bot')).toBe(5000);
    expect(limiter.reserve('test/globex/telegram/bot')).toBe(0);
    t.advance(5000);
    expect(limiter.reserve('test/acme/telegram/bot')).toBe(0);
  });
});
