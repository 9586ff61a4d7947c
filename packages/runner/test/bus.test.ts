import type { ReplyScope, TenantCtx } from '@greentic/types';
import { Redis } from 'ioredis';
import { connect, headers, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisIngressLedger } from '../src/bus/ledger.js';
import type { EgressMessage } from '../src/bus/messages.js';
import { IngressPublisher } from '../src/bus/publisher.js';
import { HEADERS, ingressSubject } from '../src/bus/subjects.js';
import { loadRunnerConfig, type RunnerConfig } from '../src/config/config.js';
import { RunnerDaemon } from '../src/daemon/daemon.js';
import { redisStores, type StoreFactory } from '../src/daemon/stores.js';
import { streamReader } from './bus-helpers.js';
import {
  busConfig,
  cleanup,
  isolated,
  NATS_URL,
  REDIS_URL,
  sleep,
  textMessage,
  uniq,
  waitFor,
} from './helpers.js';

/** The daemon's Redis stores, except that `findWait` fails for conversation "explode" (a store outage). */
const testStores: StoreFactory = async (cfg) => {
  const stores = await redisStores(cfg);
  const sessions = stores.sessions;
  const findWait = sessions.findWait.bind(sessions);
  sessions.findWait = async (ctx: TenantCtx, scope: ReplyScope) => {
    if (scope.conversation === 'explode') throw new Error('disk on fire');
    return findWait(ctx, scope);
  };
  return stores;
};

interface Deployment {
  id: string;
  cfg: RunnerConfig;
  daemon: RunnerDaemon;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  redis: Redis;
  pub: IngressPublisher;
  egress: Awaited<ReturnType<typeof streamReader<EgressMessage>>>;
  dlq: Awaited<ReturnType<typeof streamReader<unknown>>>;
  stop(): Promise<void>;
}

async function deploy(
  overrides: Record<string, unknown> = {},
  opts: { maxDeliver?: number } = {},
): Promise<Deployment> {
  const id = uniq('bus');
  const base = busConfig(id, { stores: 'redis', ackWaitMs: 1500, maxDeliver: opts.maxDeliver ?? 3 });
  const cfg = loadRunnerConfig(undefined, {
    env: {},
    overrides: {
      ...base,
      ...overrides,
      ordering: { ...base.ordering, ...(overrides.ordering ?? {}) },
    } as never,
  });
  const redis = new Redis(REDIS_URL);
  const daemon = new RunnerDaemon({ config: cfg, storeFactory: testStores });
  await daemon.start();
  const nc = await connect({ servers: NATS_URL });
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const n = isolated(id);
  const pub = new IngressPublisher({
    js,
    ledger: new RedisIngressLedger(redis, false),
    subjectPrefix: n.subjectPrefix,
    keyPrefix: n.namespace,
    duplicateWindowMs: cfg.nats.duplicateWindowMs,
  });
  const egress = await streamReader<EgressMessage>(js, n.streams.egress);
  const dlq = await streamReader<unknown>(js, n.streams.dlq);
  return {
    id,
    cfg,
    daemon,
    nc,
    js,
    jsm,
    redis,
    pub,
    egress,
    dlq,
    async stop() {
      await daemon.stop();
      await egress.stop();
      await dlq.stop();
      await nc.close();
      await redis.quit();
      await cleanup(id);
    },
  };
}

const repliesTo = (d: Deployment, msgId: string) =>
  d.egress.items.filter((s) => s.body.in_reply_to === msgId);
const textsOf = (d: Deployment, conv: string) =>
  d.egress.items.filter((s) => s.body.session_id === conv).map((s) => s.body.text);
const stats = (d: Deployment) => d.daemon.stats().consumer!;

describe('runner daemon on NATS JetStream', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy();
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('runs a conversation from the ingress stream and publishes each reply once to egress', async () => {
    const conv = 'plain';
    const answers = ['hi', 'Ada', 'blue', '3'];
    for (const [i, text] of answers.entries()) {
      const r = await d.pub.publishIngress(textMessage(`plain-${i}`, conv, text));
      expect(r).toMatchObject({ seq: i + 1, duplicate: false });
      expect(r.subject).toBe(`${isolated(d.id).subjectPrefix}.ingress.test.acme._.webchat`);
      await waitFor(() => repliesTo(d, `plain-${i}`).length === 1, `reply to plain-${i}`);
    }
    expect(textsOf(d, conv)).toEqual(['Name?', 'Colour?', 'Size?', 'Thanks Ada: blue 3']);
    const last = repliesTo(d, 'plain-3')[0]!;
    expect(last.subject).toBe(`${isolated(d.id).subjectPrefix}.egress.test.acme._.webchat`);
    expect(last.headers[HEADERS.msgId]).toBe(`${last.subject}|plain-3:0`);
    expect(last.body).toMatchObject({
      id: 'plain-3:0',
      status: 'done',
      seq: 4,
      to: [{ id: 'u1', kind: 'user' }],
    });
  });

  it('publishes a provider message only once (same update_id twice → one turn, one reply)', async () => {
    const before = stats(d).turns;
    const first = await d.pub.publishIngress(textMessage('dd-a', 'dedupe', 'hi'), {
      providerMessageId: 'upd-1',
    });
    // the provider retries: the gateway builds a new envelope (new id) for the same update
    const again = await d.pub.publishIngress(textMessage('dd-b', 'dedupe', 'hi'), {
      providerMessageId: 'upd-1',
    });
    expect(first.duplicate).toBe(false);
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
    await waitFor(() => repliesTo(d, 'dd-a').length === 1, 'reply to dd-a');
    await sleep(300);
    expect(repliesTo(d, 'dd-b')).toHaveLength(0);
    expect(stats(d).turns - before).toBe(1);
    const key = `${isolated(d.id).namespace}:runner:ingress:dedupe:test:acme:_:webchat:upd-1`;
    expect(await d.redis.pttl(key)).toBeGreaterThan(35 * 3600 * 1000);
  });

  it('answers a redelivered message from the outbox: same reply ids, and egress keeps one copy', async () => {
    const subject = ingressSubject(isolated(d.id).subjectPrefix, {
      env: 'test',
      tenant: 'acme',
      channel: 'webchat',
    });
    const msg = textMessage('again-0', 'again', 'hi');
    await d.js.publish(subject, JSON.stringify(msg), { msgID: 'copy-1' });
    await waitFor(() => repliesTo(d, 'again-0').length === 1, 'first reply');
    const dupBefore = stats(d).duplicates;
    // the same message id again (as after a redelivery): the engine replays, the runner re-publishes
    await d.js.publish(subject, JSON.stringify(msg), { msgID: 'copy-2' });
    await waitFor(() => stats(d).duplicates === dupBefore + 1, 'the replay');
    await sleep(200);
    expect(repliesTo(d, 'again-0')).toHaveLength(1);
  });

  it('applies turns in sequence order when they arrive out of order (the early one is deferred)', async () => {
    const conv = 'order';
    const subject = ingressSubject(isolated(d.id).subjectPrefix, {
      env: 'test',
      tenant: 'acme',
      channel: 'webchat',
    });
    const send = (id: string, text: string, seq: number) => {
      const h = headers();
      h.set(HEADERS.seq, String(seq));
      return d.js.publish(subject, JSON.stringify(textMessage(id, conv, text)), { msgID: id, headers: h });
    };
    const deferredBefore = stats(d).deferred;
    // seq 2 and 3 arrive before seq 1 (a new conversation waits for its first message too)
    await send('order-3', 'red', 3);
    await send('order-2', 'Bob', 2);
    await sleep(150);
    await send('order-1', 'hi', 1);
    await waitFor(() => repliesTo(d, 'order-3').length === 1, 'reply to the third message', 15_000);
    expect(textsOf(d, conv)).toEqual(['Name?', 'Colour?', 'Size?']);
    const seqs = ['order-1', 'order-2', 'order-3'].map((id) => repliesTo(d, id)[0]!.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(stats(d).deferred).toBeGreaterThan(deferredBefore);
    const ctx = textMessage('x', conv, '').tenant;
    expect(await d.daemon.conversationState(ctx, { conversation: conv })).toEqual({
      name: 'Bob',
      color: 'red',
    });
  });

  it('dead-letters an unparseable message at once, with the reason in headers', async () => {
    const subject = ingressSubject(isolated(d.id).subjectPrefix, {
      env: 'test',
      tenant: 'poison',
      channel: 'webchat',
    });
    await d.js.publish(subject, 'this is not an envelope', { msgID: 'poison-1' });
    const dead = await waitFor(
      () => d.dlq.items.find((s) => s.headers[HEADERS.dlqSubject] === subject),
      'dead letter',
    );
    expect(dead.subject).toBe(`${isolated(d.id).subjectPrefix}.dlq.test.poison`);
    expect(dead.headers[HEADERS.dlqReason]).toMatch(/^GT_RUNNER_BAD_INPUT: payload is not JSON/);
    expect(dead.body).toBe('this is not an envelope');
    expect(dead.headers[HEADERS.dlqDeliveries]).toBe('1');
  });

  it('dead-letters an invalid envelope (schema problem named)', async () => {
    const subject = ingressSubject(isolated(d.id).subjectPrefix, {
      env: 'test',
      tenant: 'acme',
      channel: 'webchat',
    });
    const bad = { ...textMessage('bad-1', 'bad', 'hi'), tenant: { env: 'test' } };
    await d.js.publish(subject, JSON.stringify(bad), { msgID: 'bad-1' });
    const dead = await waitFor(
      () => d.dlq.items.find((s) => (s.body as { id?: string })?.id === 'bad-1'),
      'dead letter of the invalid envelope',
    );
    expect(dead.headers[HEADERS.dlqReason]).toMatch(/GT_RUNNER_BAD_INPUT: \/tenant/);
  });

  it('retries a turn whose store fails and dead-letters it after maxDeliver deliveries', async () => {
    const r = await d.pub.publishIngress(textMessage('explode-1', 'explode', 'hi'));
    const dead = await waitFor(
      () => d.dlq.items.find((s) => (s.body as { id?: string })?.id === 'explode-1'),
      'dead letter after retries',
      15_000,
    );
    expect(dead.headers[HEADERS.dlqReason]).toMatch(
      /GT_RUNNER_TURN_FAILED: disk on fire \(after 3 deliveries\)/,
    );
    expect(dead.headers[HEADERS.dlqDeliveries]).toBe('3');
    expect(dead.headers[HEADERS.seq]).toBe(String(r.seq));
    expect(stats(d).failures).toBeGreaterThanOrEqual(2);
    expect(repliesTo(d, 'explode-1')).toHaveLength(0);
  });

  it('carries the trace context from ingress to the replies', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await d.pub.publishIngress(textMessage('trace-1', 'trace', 'hi'), { traceparent, tracestate: 'gt=1' });
    const reply = await waitFor(() => repliesTo(d, 'trace-1')[0], 'traced reply');
    expect(reply.headers.traceparent).toBe(traceparent);
    expect(reply.headers.tracestate).toBe('gt=1');
  });
});

describe('runner daemon sequence gaps', () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy({ ordering: { gapTimeoutMs: 800, deferDelayMs: 50 } });
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('runs a message whose predecessor never comes after gapTimeoutMs, and dead-letters the latecomer', async () => {
    const conv = 'gap';
    const subject = ingressSubject(isolated(d.id).subjectPrefix, {
      env: 'test',
      tenant: 'acme',
      channel: 'webchat',
    });
    const send = (id: string, text: string, seq: number) => {
      const h = headers();
      h.set(HEADERS.seq, String(seq));
      return d.js.publish(subject, JSON.stringify(textMessage(id, conv, text)), { msgID: id, headers: h });
    };
    await send('gap-1', 'hi', 1);
    await waitFor(() => repliesTo(d, 'gap-1').length === 1, 'first reply');
    await send('gap-3', 'Cy', 3); // seq 2 is lost
    await waitFor(() => repliesTo(d, 'gap-3').length === 1, 'reply after the gap timeout', 10_000);
    expect(stats(d).gapsSkipped).toBe(1);
    await send('gap-2', 'late', 2);
    const dead = await waitFor(
      () => d.dlq.items.find((s) => (s.body as { id?: string })?.id === 'gap-2'),
      'dead letter of the late message',
    );
    expect(dead.headers[HEADERS.dlqReason]).toMatch(/^GT_RUNNER_LATE_MESSAGE/);
    expect(textsOf(d, conv)).toEqual(['Name?', 'Colour?']);
  });
});

describe('runner daemon max deliveries', () => {
  it('dead-letters a message whose last delivery went to a runner that died (JetStream advisory)', async () => {
    const d = await deploy({}, { maxDeliver: 1 });
    try {
      // stop the daemon's consumer from competing: a "dead runner" takes the message and never acknowledges it
      const n = isolated(d.id);
      await d.daemon.stop();
      const r = await d.pub.publishIngress(textMessage('orphan-1', 'orphan', 'hi'));
      const consumer = await d.js.consumers.get(n.streams.ingress, n.consumer);
      const taken = await consumer.next({ expires: 2000 });
      expect(taken?.seq).toBe(r.streamSeq);
      // a live runner (watching the advisories) comes up; the dead one's ack wait expires
      const live = new RunnerDaemon({ config: d.cfg, storeFactory: testStores });
      await live.start();
      try {
        const dead = await waitFor(
          () => d.dlq.items.find((s) => (s.body as { id?: string })?.id === 'orphan-1'),
          'dead letter from the advisory',
          15_000,
        );
        expect(dead.headers[HEADERS.dlqReason]).toMatch(/^GT_RUNNER_MAX_DELIVERIES/);
        expect(dead.headers[HEADERS.dlqStreamSeq]).toBe(String(r.streamSeq));
        // removed from the ingress stream
        await waitFor(
          () =>
            d.jsm.streams.getMessage(n.streams.ingress, { seq: r.streamSeq! }).then(
              () => false,
              () => true,
            ),
          'the message to leave the ingress stream',
        );
      } finally {
        await live.stop();
      }
    } finally {
      await d.stop();
    }
  });
});
