// bench/gateway: Telegram webhook requests/s and p50/p99 latency, three ways, in the same run, same server process
// and same bodies:
// - "engine": the runner daemon's gateway (memory mode): secret-token check, normalisation, replay guard, the
//   in-process queue — and then, off the request path, the flow engine runs a small QA flow (memory stores) and the
//   outbox sender posts each reply to a local fake Telegram API. Besides the webhook figures, it reports the turns
//   completed per second end to end (until the queue has drained);
// - "gateway": the messaging gateway alone with an in-memory onMessage that runs nothing (the no-op path);
// - "bare": a bare Fastify JSON handler (the baseline).
// The server runs in a child process so that autocannon (the load generator) does not share its event loop.
// Usage: node bench/gateway.mjs [--duration S] [--connections N] [--rounds N]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fmt, writeResult } from './lib.mjs';

const SECRET = 'bench-secret-token';
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** The engine variant's flow: two text questions, then a template; the next message starts it again. */
const QA_FLOW = `
id: bench_qa
type: messaging
title: Two questions (bench/gateway)
nodes:
  ask:
    questions:
      questions:
        - { id: name, prompt: "Your name?", answer_type: text }
        - { id: city, prompt: "Which city?", answer_type: text }
    routing: [{ to: done }]
  done:
    template: "Thanks {{state.name}}, noted: {{state.city}}."
    routing: out
`;

const update = (id) =>
  JSON.stringify({
    update_id: id,
    message: {
      message_id: id,
      from: { id: 777000111, is_bot: false, first_name: 'Ada', username: 'ada', language_code: 'en' },
      chat: { id: 777000000 + (id % 1000), first_name: 'Ada', username: 'ada', type: 'private' },
      date: 1700000000,
      text: 'What is the weather in Paris tomorrow?',
    },
  });

async function server() {
  const { createServer } = await import('node:http');
  const { default: Fastify } = await import('fastify');
  const { MemoryReplayGuard, messagingGateway, TelegramConnector } = await import('@greentic/messaging');
  const { loadFlow } = await import('@greentic/flow');
  const { loadRunnerConfig, RunnerDaemon } = await import('@greentic/runner');

  // the fake Telegram Bot API the engine variant's replies go to
  let replies = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      replies++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"ok":true,"result":{"message_id":${replies},"date":1700000000,"chat":{"id":1}}}`);
    });
  });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));

  const app = Fastify({ logger: false });
  let queued = 0;
  app.post('/bare', async (req, reply) => {
    if (typeof req.body !== 'object') throw new Error('no body');
    return reply.code(200).send();
  });
  await app.register(messagingGateway, {
    prefix: '/webhooks',
    connectors: [
      new TelegramConnector({
        id: 'bench-bot',
        binding: { env: 'bench', tenant: 'acme' },
        botToken: '1:bench',
        webhookSecrets: [SECRET],
      }),
    ],
    replayGuard: new MemoryReplayGuard({ maxEntries: 1_000_000 }),
    onMessage: async (envelopes) => {
      queued += envelopes.length;
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });

  // the runner daemon in memory mode: its gateway queues, its workers run the flow and send the replies
  const config = loadRunnerConfig(undefined, {
    env: {},
    overrides: {
      http: { host: '127.0.0.1', port: 0 },
      tenancy: { env: 'bench' },
      log: { level: 'silent' },
      gateway: { queue: { maxPending: 10_000_000 } },
      connectors: [
        {
          provider: 'telegram',
          id: 'bench-bot',
          binding: { env: 'bench', tenant: 'acme' },
          botToken: 'env:BENCH_TELEGRAM_TOKEN',
          webhookSecrets: ['env:BENCH_TELEGRAM_SECRET'],
          apiBaseUrl: `http://127.0.0.1:${sink.address().port}`,
          parseMode: 'plain',
          rateLimit: { rps: 1_000_000, burst: 1_000_000 },
        },
      ],
    },
  });
  const daemon = new RunnerDaemon({
    config,
    env: { BENCH_TELEGRAM_TOKEN: '1:bench', BENCH_TELEGRAM_SECRET: SECRET },
    flowLoader: async () => [{ flow: loadFlow(QA_FLOW, { file: 'bench_qa.ygtc' }), file: 'bench_qa.ygtc' }],
  });
  await daemon.start();

  process.send({ port: app.server.address().port, enginePort: daemon.address.port });
  process.on('message', async (m) => {
    if (m === 'drain') {
      const t0 = performance.now();
      await daemon.gateway.idle();
      const q = daemon.gateway.stats().queue;
      process.send({ drain_ms: performance.now() - t0, turns: q.processed, failed: q.failed, replies });
    }
    if (m === 'stats') process.send({ queued, engine: daemon.gateway.stats() });
    if (m === 'stop') {
      await daemon.stop();
      await app.close();
      sink.close();
      process.exit(0);
    }
  });
}

async function measure(autocannon, url, path, seconds, connections, counter) {
  const result = await autocannon({
    url: `${url}${path}`,
    duration: seconds,
    connections,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        setupRequest: (req) => ({ ...req, body: update(counter.next++) }),
      },
    ],
  });
  return {
    requests_per_s: result.requests.average,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    total: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    seconds,
  };
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const seconds = arg('--duration', 5);
  const connections = arg('--connections', 50);
  const rounds = arg('--rounds', 2);
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: 'inherit' });
  const ask = (m) =>
    new Promise((r) => {
      child.once('message', r);
      child.send(m);
    });
  const { port, enginePort } = await new Promise((r) => child.once('message', r));
  const url = `http://127.0.0.1:${port}`;
  const engineUrl = `http://127.0.0.1:${enginePort}`;
  const GATEWAY = '/webhooks/telegram/bench-bot';
  const counter = { next: 1 };
  // warm-up (JIT), each path
  await measure(autocannon, url, '/bare', 2, connections, counter);
  await measure(autocannon, url, GATEWAY, 2, connections, counter);
  await measure(autocannon, engineUrl, GATEWAY, 2, connections, counter);
  let drained = await ask('drain');
  let turnsBefore = drained.turns;
  const runs = { engine: [], telegram: [], bare: [] };
  const engineTurns = [];
  for (let i = 0; i < rounds; i++) {
    const e = await measure(autocannon, engineUrl, GATEWAY, seconds, connections, counter);
    drained = await ask('drain');
    engineTurns.push({
      turns: drained.turns - turnsBefore,
      drain_ms: drained.drain_ms,
      turns_per_s: (drained.turns - turnsBefore) / (seconds + drained.drain_ms / 1000),
    });
    turnsBefore = drained.turns;
    runs.engine.push(e);
    runs.telegram.push(await measure(autocannon, url, GATEWAY, seconds, connections, counter));
    runs.bare.push(await measure(autocannon, url, '/bare', seconds, connections, counter));
  }
  const { queued, engine: engineStats } = await ask('stats');
  child.send('stop');
  const avg = (list, k) => list.reduce((s, r) => s + r[k], 0) / list.length;
  const sum = (list, k) => list.reduce((s, r) => s + r[k], 0);
  const row = (list) => ({
    requests_per_s: avg(list, 'requests_per_s'),
    p50_ms: avg(list, 'p50_ms'),
    p99_ms: avg(list, 'p99_ms'),
    requests: sum(list, 'total'),
    errors: sum(list, 'errors'),
    non2xx: sum(list, 'non2xx'),
  });
  const engine = {
    ...row(runs.engine),
    turns: sum(engineTurns, 'turns'),
    turns_per_s: avg(engineTurns, 'turns_per_s'),
    drain_ms: avg(engineTurns, 'drain_ms'),
  };
  const telegram = row(runs.telegram);
  const bare = row(runs.bare);
  const ratio = telegram.requests_per_s / bare.requests_per_s;
  const engineRatio = engine.requests_per_s / bare.requests_per_s;

  console.log(
    `gateway: Telegram webhooks through the runner daemon (flow engine), the messaging gateway (no-op onMessage) and a bare Fastify handler (${connections} connections, ${rounds}×${seconds} s each)`,
  );
  console.table({
    'telegram webhook → daemon queue → flow engine': {
      'req/s': fmt(engine.requests_per_s, 0),
      'p50 ms': fmt(engine.p50_ms, 2),
      'p99 ms': fmt(engine.p99_ms, 2),
      'turns/s (end to end)': fmt(engine.turns_per_s, 0),
      non2xx: engine.non2xx,
    },
    'telegram webhook (gateway, no-op onMessage)': {
      'req/s': fmt(telegram.requests_per_s, 0),
      'p50 ms': fmt(telegram.p50_ms, 2),
      'p99 ms': fmt(telegram.p99_ms, 2),
      'turns/s (end to end)': '–',
      non2xx: telegram.non2xx,
    },
    'bare Fastify JSON handler (baseline)': {
      'req/s': fmt(bare.requests_per_s, 0),
      'p50 ms': fmt(bare.p50_ms, 2),
      'p99 ms': fmt(bare.p99_ms, 2),
      'turns/s (end to end)': '–',
      non2xx: bare.non2xx,
    },
  });
  console.log(`gateway / bare throughput ratio: ${ratio.toFixed(3)}  (aim: ≥ 0.333)`);
  console.log(`engine webhook / bare throughput ratio: ${engineRatio.toFixed(3)}`);
  console.log(
    `engine variant: ${fmt(engine.turns, 0)} turns run and replied (measured rounds), queue drained ${fmt(engine.drain_ms, 0)} ms after each round on average; ${fmt(engineStats.repliesSent, 0)} replies sent in all, ${engineStats.deadLetters} dead letters`,
  );
  console.log(
    `messages queued by the no-op onMessage: ${fmt(queued, 0)} (of ${fmt(telegram.requests, 0)} measured + warm-up)`,
  );
  const file = writeResult('gateway', {
    setup: {
      connections,
      rounds,
      seconds_per_round: seconds,
      load_generator: 'autocannon (parent process); servers in one child process',
      body: 'Telegram text-message update, ~300 bytes, unique update_id per request, 1,000 chats',
      engine_flow:
        'two text questions then a template (bench_qa), memory stores, replies to a local fake Bot API',
    },
    engine: {
      name: 'POST /webhooks/telegram/:id on the runner daemon → verify, normalise, replay guard, in-process queue; then engine.handleMessage and OutboxSender → fake Telegram API',
      ...engine,
    },
    telegram: {
      name: 'POST /webhooks/telegram/:id → verify, normalise, replay guard, in-memory onMessage',
      ...telegram,
    },
    baseline: { name: 'POST /bare → Fastify JSON body parser, empty 200', ...bare },
    ratio,
    engine_ratio: engineRatio,
    aim_ratio: 1 / 3,
    queued,
  });
  console.log(`wrote ${file}`);
  if (telegram.non2xx > 0 || telegram.errors > 0 || engine.non2xx > 0 || engine.errors > 0) {
    console.error('a webhook path answered errors: the measurement is not valid');
    process.exit(1);
  }
}

if (args.includes('--server')) await server();
else await main();
