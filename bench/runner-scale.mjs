// bench/runner-scale: turns per second and per-turn latency (publish → reply seen) through NATS JetStream with
// real `greentic-runner serve` processes, on a three-question QA flow: memory stores with one runner (the
// baseline), Redis stores with one runner, Redis stores with two runners sharing the durable consumer.
// Needs Redis on 127.0.0.1:6379 and NATS with JetStream on 127.0.0.1:4222 (GREENTIC_BENCH_REDIS_URL /
// GREENTIC_BENCH_NATS_URL); every run uses its own streams, subjects and keys and deletes them afterwards.
// Usage: node bench/runner-scale.mjs [--conversations N] [--in-flight N]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  connectNats,
  connectRedis,
  IngressPublisher,
  MemoryIngressLedger,
  RedisIngressLedger,
} from '@greentic/runner';
import { tenantCtx } from '@greentic/types';
import { fmt, summarize, writeResult } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const conversations = arg('--conversations', 1500);
const inFlight = arg('--in-flight', 200);
const REDIS_URL = process.env.GREENTIC_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const NATS_URL = process.env.GREENTIC_BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const TURNS = 4;

const FLOW = `
id: bench_qa3
type: messaging
nodes:
  ask:
    questions:
      questions:
        - { id: name, prompt: "Name?", answer_type: text }
        - { id: color, prompt: "Colour?", answer_type: text }
        - { id: size, prompt: "Size?", answer_type: integer }
    routing: [{ to: done }]
  done:
    template: "Thanks {{state.name}}: {{state.color}} {{state.size}}"
    routing: out
`;
const dir = mkdtempSync(join(tmpdir(), 'gt-bench-runner-'));
const flowFile = join(dir, 'bench_qa3.ygtc');
writeFileSync(flowFile, FLOW);

function names(id) {
  const up = id.toUpperCase();
  return {
    subjectPrefix: `gtb.${id}.messaging`,
    streams: { ingress: `GTB_${up}_IN`, egress: `GTB_${up}_OUT`, dlq: `GTB_${up}_DLQ` },
    consumer: `bench-${id}`,
    namespace: `gtb:${id}`,
  };
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

function startRunner(configFile) {
  const proc = spawn(
    process.execPath,
    [join(root, 'packages/runner/bin/greentic-runner.js'), 'serve', '--config', configFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  proc.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r(code ?? signal)));
  const ready = new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (/serving on/.test(err)) {
        clearInterval(t);
        resolve();
      }
    }, 20);
    exited.then((code) => {
      clearInterval(t);
      reject(new Error(`runner exited (${code}):\n${err}`));
    });
  });
  return { proc, ready, exited, stderr: () => err };
}

async function scenario(label, stores, runnerCount) {
  const id = `${stores}${runnerCount}${randomBytes(3).toString('hex')}`;
  const n = names(id);
  const config = {
    http: { host: '127.0.0.1', port: 0 },
    stores: { kind: stores, redis: { url: REDIS_URL, namespace: n.namespace } },
    nats: {
      enabled: true,
      url: NATS_URL,
      subjectPrefix: n.subjectPrefix,
      streams: n.streams,
      storage: 'memory',
      consumer: n.consumer,
      concurrency: 64,
      ackWaitMs: 10_000,
      duplicateWindowMs: 120_000,
      maxAgeMs: 600_000,
    },
    flows: { paths: [flowFile] },
    tenancy: { env: 'bench' },
    log: { level: 'warn' },
  };
  const configFile = join(dir, `${id}.json`);
  writeFileSync(configFile, JSON.stringify(config));
  const runners = Array.from({ length: runnerCount }, () => startRunner(configFile));
  await Promise.all(runners.map((r) => r.ready));

  const nc = await connectNats(NATS_URL, { connectTimeoutMs: 3000, name: 'bench-driver' });
  const redis = stores === 'redis' ? await connectRedis(REDIS_URL, { connectTimeoutMs: 3000 }) : undefined;
  const publisher = new IngressPublisher({
    js: nc.jetstream(),
    ledger: redis ? new RedisIngressLedger(redis, false) : new MemoryIngressLedger(),
    subjectPrefix: n.subjectPrefix,
    keyPrefix: n.namespace,
  });
  const waiting = new Map();
  nc.subscribe(`${n.subjectPrefix}.egress.>`, {
    callback: (_e, m) => {
      const reply = JSON.parse(Buffer.from(m.data).toString('utf8'));
      const w = waiting.get(reply.in_reply_to);
      if (w) {
        waiting.delete(reply.in_reply_to);
        w();
      }
    },
  });

  const answers = (i) => ['hi', `name${i}`, `colour${i % 7}`, String((i % 40) + 1)];
  const samples = [];
  const turn = async (prefix, i, t) => {
    const conv = `${prefix}-${i}`;
    const env = {
      id: `${conv}-t${t}`,
      tenant: tenantCtx({ env: 'bench', tenant: 'acme', user: `u${i % 101}` }),
      channel: 'webchat',
      session_id: conv,
      reply_scope: { conversation: conv },
      from: { id: `u${i % 101}`, kind: 'user' },
      to: [],
      text: answers(i)[t],
      attachments: [],
      metadata: {},
      extensions: {},
    };
    const seen = new Promise((resolve) => waiting.set(env.id, resolve));
    const s = process.hrtime.bigint();
    await publisher.publishIngress(env, { providerMessageId: env.id });
    await seen;
    return Number(process.hrtime.bigint() - s);
  };
  const drive = async (prefix, count, record) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(inFlight, count) }, async () => {
        while (next < count) {
          const i = next++;
          for (let t = 0; t < TURNS; t++) {
            const ns = await turn(prefix, i, t);
            if (record) samples.push(ns);
          }
        }
      }),
    );
  };

  await drive('warm', Math.min(200, conversations), false); // JIT, connections, scripts loaded
  const runnersCpu = () => runners.reduce((a, r) => a + cpuMs(r.proc.pid), 0);
  const cpu0 = runnersCpu();
  const t0 = process.hrtime.bigint();
  await drive('c', conversations, true);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const runnerCpuUsPerTurn = ((runnersCpu() - cpu0) * 1000) / (conversations * TURNS);

  for (const r of runners) r.proc.kill('SIGTERM');
  const codes = await Promise.all(runners.map((r) => r.exited));
  if (codes.some((c) => c !== 0)) throw new Error(`a runner did not stop cleanly: ${codes.join(', ')}`);
  const jsm = await nc.jetstreamManager();
  for (const s of Object.values(n.streams)) await jsm.streams.delete(s).catch(() => {});
  await nc.close();
  if (redis) {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${n.namespace}:*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
  const turns = conversations * TURNS;
  const result = {
    label,
    stores,
    runners: runnerCount,
    turns,
    seconds,
    turns_per_s: turns / seconds,
    ...summarize(samples),
    runner_cpu_us_per_turn: runnerCpuUsPerTurn,
  };
  console.log(
    `  ${label}: ${fmt(result.turns_per_s, 0)} turns/s, p50 ${fmt(result.p50_us / 1000, 2)} ms, p99 ${fmt(result.p99_us / 1000, 2)} ms, runner CPU ${fmt(runnerCpuUsPerTurn, 0)} µs/turn`,
  );
  return result;
}

const rounds = arg('--rounds', 3);
console.log(
  `runner-scale: ${conversations} conversations × ${TURNS} turns through NATS JetStream, ${inFlight} conversations in flight, ${rounds} interleaved rounds (median reported)`,
);
const plan = [
  ['memory stores, 1 runner', 'memory', 1],
  ['redis stores, 1 runner', 'redis', 1],
  ['redis stores, 2 runners', 'redis', 2],
];
const runs = new Map(plan.map(([label]) => [label, []]));
// interleaved, so that noise from other work on the machine spreads over every scenario alike
for (let r = 0; r < rounds; r++) {
  for (const [label, stores, count] of plan) runs.get(label).push(await scenario(label, stores, count));
}
const median = (label) => {
  const sorted = [...runs.get(label)].sort((a, b) => a.turns_per_s - b.turns_per_s);
  return {
    ...sorted[Math.floor(sorted.length / 2)],
    rounds_turns_per_s: runs.get(label).map((x) => Math.round(x.turns_per_s)),
  };
};
const [memory1, redis1, redis2] = plan.map(([label]) => median(label));
const row = (r) => ({
  'turns/s': fmt(r.turns_per_s, 0),
  'p50 ms': fmt(r.p50_us / 1000, 2),
  'p99 ms': fmt(r.p99_us / 1000, 2),
  'runner CPU µs/turn': fmt(r.runner_cpu_us_per_turn, 0),
});
console.table({ [memory1.label]: row(memory1), [redis1.label]: row(redis1), [redis2.label]: row(redis2) });
const redisRatio = redis1.turns_per_s / memory1.turns_per_s;
const scaleRatio = redis2.turns_per_s / redis1.turns_per_s;
const cpuRatio = memory1.runner_cpu_us_per_turn / redis1.runner_cpu_us_per_turn;
console.log(`redis / memory throughput (1 runner): ${redisRatio.toFixed(3)}  (aim: ≥ 0.5)`);
console.log(`2 runners / 1 runner (redis): ${scaleRatio.toFixed(3)}`);
console.log(
  `runner CPU per turn, memory / redis: ${cpuRatio.toFixed(3)} (less sensitive to other load than turns/s)`,
);
const file = writeResult('runner-scale', {
  flow: 'three-question QA (questions × 3, template), 4 turns per conversation',
  conversations,
  in_flight: inFlight,
  rounds,
  scenarios: [memory1, redis1, redis2],
  baseline: { name: 'memory stores, 1 runner (same run)', turns_per_s: memory1.turns_per_s },
  ratio: redisRatio,
  ratio_two_runners: scaleRatio,
  ratio_runner_cpu_memory_over_redis: cpuRatio,
  aim_redis_ratio: 0.5,
  note: 'median of interleaved rounds; driver, runners, nats-server and redis-server share the machine',
});
console.log(`wrote ${file}`);
