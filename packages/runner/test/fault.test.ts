// The fault test: three `greentic-runner serve` processes share Redis stores and one NATS durable consumer; a
// driver plays 2,000 users answering a three-question flow (4 turns each, many conversations at once, each user
// sending the next message only after seeing the reply to the previous one), and one runner is SIGKILLed midway.
// Asserts on what JetStream stored on the egress stream (no de-duplication on our side): every turn got exactly one
// reply, in order per conversation, and every conversation's final state (read back through RedisSessionStore and
// the engine) matches the answers sent.
import { RedisSessionStore } from '@greentic/session';
import { RedisStateStore } from '@greentic/state';
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisIngressLedger } from '../src/bus/ledger.js';
import type { EgressMessage } from '../src/bus/messages.js';
import { IngressPublisher } from '../src/bus/publisher.js';
import { FlowEngine } from '../src/engine/engine.js';
import { streamReader } from './bus-helpers.js';
import {
  busConfig,
  cleanup,
  isolated,
  logLines,
  NATS_URL,
  REDIS_URL,
  type RunnerProcess,
  sleep,
  startRunner,
  textMessage,
  uniq,
  writeConfig,
} from './helpers.js';

const CONVERSATIONS = Number(process.env.GREENTIC_FAULT_CONVERSATIONS ?? 2000);
const IN_FLIGHT = 400;
const TURNS = 4;
const DEADLINE_MS = 80_000;

const answersOf = (i: number) => ['hi', `name${i}`, `colour${i % 7}`, String((i % 50) + 1)];
const userOf = (i: number) => `u${i % 97}`;
const msgId = (i: number, turn: number) => `f${i}-t${turn}`;

describe('fault tolerance', () => {
  const id = uniq('fault');
  const n = isolated(id);
  const runners: RunnerProcess[] = [];
  let nc: NatsConnection | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    for (const r of runners)
      if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
    await nc?.close();
    redis?.disconnect();
    await cleanup(id);
  });

  it('three runners, one SIGKILLed mid-run: every turn answered exactly once, in order, sessions intact', {
    timeout: 120_000,
  }, async () => {
    const t0 = Date.now();
    const file = writeConfig(
      busConfig(id, { stores: 'redis', ackWaitMs: 2000, maxDeliver: 10, concurrency: 64 }),
    );
    runners.push(...(await Promise.all([startRunner(file), startRunner(file), startRunner(file)])));
    const started = Date.now();

    nc = await connect({ servers: NATS_URL });
    redis = new Redis(REDIS_URL);
    const publisher = new IngressPublisher({
      js: nc.jetstream(),
      ledger: new RedisIngressLedger(redis, false),
      subjectPrefix: n.subjectPrefix,
      keyPrefix: n.namespace,
    });

    // the driver: a user sends turn k+1 once it has seen the reply to turn k (core subscription, for pacing only)
    const nextTurn = new Int8Array(CONVERSATIONS); // the turn each user waits a reply for
    let repliesSeen = 0;
    let finished = 0;
    let killed: number | undefined;
    const waiting = new Map<string, () => void>();
    nc.subscribe(`${n.subjectPrefix}.egress.>`, {
      callback: (_e, m) => {
        const reply = JSON.parse(Buffer.from(m.data).toString('utf8')) as EgressMessage;
        const w = waiting.get(reply.in_reply_to);
        if (!w) return; // a re-published copy (JetStream keeps one), or already seen
        waiting.delete(reply.in_reply_to);
        repliesSeen++;
        w();
      },
    });
    const send = async (i: number, turn: number) => {
      const env = textMessage(msgId(i, turn), `conv-${i}`, answersOf(i)[turn]!, { user: userOf(i) });
      const seen = new Promise<void>((resolve) => waiting.set(env.id, resolve));
      await publisher.publishIngress(env, { providerMessageId: env.id });
      await seen;
    };
    const user = async (i: number) => {
      for (let turn = 0; turn < TURNS; turn++) {
        nextTurn[i] = turn;
        await send(i, turn);
      }
      finished++;
    };
    const total = CONVERSATIONS * TURNS;
    let next = 0;
    const lanes = Array.from({ length: IN_FLIGHT }, async () => {
      while (next < CONVERSATIONS) await user(next++);
    });
    const killer = (async () => {
      while (repliesSeen < total * 0.35 && finished < CONVERSATIONS) await sleep(5);
      runners[1]!.proc.kill('SIGKILL');
      killed = repliesSeen;
    })();
    const all = Promise.all([...lanes, killer]);
    const outcome = await Promise.race([all.then(() => 'done'), sleep(DEADLINE_MS).then(() => 'timeout')]);
    if (outcome === 'timeout') {
      const stuck = [...waiting.keys()].slice(0, 10);
      throw new Error(`driver timed out: ${repliesSeen}/${total} replies; waiting for ${stuck.join(', ')}…`);
    }
    const driven = Date.now();
    expect(await runners[1]!.exited).toBe('SIGKILL');

    // what JetStream stored on the egress stream: one reply per turn, no more, no less
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const stored = (await jsm.streams.info(n.streams.egress)).state.messages;
    const egress = await streamReader<EgressMessage>(js, n.streams.egress);
    while (egress.items.length < stored) await sleep(20);
    await sleep(300); // anything late would show up here
    await egress.stop();
    const perTurn = new Map<string, { count: number; seqs: number[] }>();
    for (const s of egress.items) {
      const e = perTurn.get(s.body.in_reply_to) ?? { count: 0, seqs: [] };
      e.count++;
      e.seqs.push(s.seq);
      perTurn.set(s.body.in_reply_to, e);
    }
    const missing: string[] = [];
    const doubled: string[] = [];
    const disordered: number[] = [];
    for (let i = 0; i < CONVERSATIONS; i++) {
      let last = 0;
      for (let turn = 0; turn < TURNS; turn++) {
        const e = perTurn.get(msgId(i, turn));
        if (!e) missing.push(msgId(i, turn));
        else {
          if (e.count !== 1) doubled.push(`${msgId(i, turn)}×${e.count}`);
          if (e.seqs[0]! < last) disordered.push(i);
          last = e.seqs[0]!;
        }
      }
    }
    expect(missing).toEqual([]);
    expect(doubled).toEqual([]);
    expect(disordered).toEqual([]);
    expect(egress.items.length).toBe(total);
    const texts = egress.items.filter((s) => s.body.in_reply_to === msgId(7, 3)).map((s) => s.body.text);
    expect(texts).toEqual(['Thanks name7: colour0 8']);

    // every conversation's state, read back through the Redis stores and the engine
    const engine = new FlowEngine({
      sessions: new RedisSessionStore(redis, { namespace: n.namespace }),
      state: new RedisStateStore(redis, { namespace: n.namespace }),
    });
    const corrupted: string[] = [];
    for (let i = 0; i < CONVERSATIONS; i += 1) {
      const m = textMessage('probe', `conv-${i}`, '', { user: userOf(i) });
      const state = await engine.conversationState(m.tenant, m.reply_scope!);
      const [, name, colour, size] = answersOf(i);
      if (JSON.stringify(state) !== JSON.stringify({ name, color: colour, size: Number(size) }))
        corrupted.push(`conv-${i}: ${JSON.stringify(state)}`);
    }
    expect(corrupted.slice(0, 5)).toEqual([]);

    // the survivors drain and report what they saw
    runners[0]!.proc.kill('SIGTERM');
    runners[2]!.proc.kill('SIGTERM');
    expect(await runners[0]!.exited).toBe(0);
    expect(await runners[2]!.exited).toBe(0);
    const summaries = [runners[0]!, runners[2]!].map(
      (r) =>
        (logLines(r.stderr()).find((l) => l.msg === 'stopped') as { stats: Record<string, number> }).stats,
    );
    const sum = (k: string) => summaries.reduce((a, s) => a + (s[k] ?? 0), 0);
    const report = {
      conversations: CONVERSATIONS,
      turns: total,
      replies_stored: egress.items.length,
      killed_after_replies: killed,
      redelivered: sum('redelivered'),
      replayed_from_outbox: sum('duplicates'),
      deferred: sum('deferred'),
      dead_lettered: sum('deadLettered'),
      turns_by_survivors: sum('turns'),
      startup_s: (started - t0) / 1000,
      drive_s: (driven - started) / 1000,
      total_s: (Date.now() - t0) / 1000,
    };
    console.log(`[fault] ${JSON.stringify(report)}`);
    expect(report.dead_lettered).toBe(0);
  });
});
