// bench/gateway: Telegram webhook requests/s and p50/p99 latency through the messaging gateway (secret-token
// check, raw-body parse, normalisation into a ChannelMessageEnvelope, replay guard, an in-memory onMessage that
// runs nothing), next to a bare Fastify JSON handler measured in the same run, same server process and same bodies.
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
  const { default: Fastify } = await import('fastify');
  const { MemoryReplayGuard, messagingGateway, TelegramConnector } = await import('@greentic/messaging');
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
  process.send({ port: app.server.address().port });
  process.on('message', (m) => {
    if (m === 'stats') process.send({ queued });
    if (m === 'stop') app.close().then(() => process.exit(0));
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
  };
}

async function main() {
  const { default: autocannon } = await import('autocannon');
  const seconds = arg('--duration', 5);
  const connections = arg('--connections', 50);
  const rounds = arg('--rounds', 2);
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { stdio: 'inherit' });
  const { port } = await new Promise((r) => child.once('message', r));
  const url = `http://127.0.0.1:${port}`;
  const counter = { next: 1 };
  await measure(autocannon, url, '/bare', 2, connections, counter); // warm-up (JIT)
  await measure(autocannon, url, '/webhooks/telegram/bench-bot', 2, connections, counter);
  const runs = { telegram: [], bare: [] };
  for (let i = 0; i < rounds; i++) {
    runs.telegram.push(
      await measure(autocannon, url, '/webhooks/telegram/bench-bot', seconds, connections, counter),
    );
    runs.bare.push(await measure(autocannon, url, '/bare', seconds, connections, counter));
  }
  child.send('stats');
  const { queued } = await new Promise((r) => child.once('message', r));
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
  const telegram = row(runs.telegram);
  const bare = row(runs.bare);
  const ratio = telegram.requests_per_s / bare.requests_per_s;

  console.log(
    `gateway: Telegram webhook through the messaging gateway vs a bare Fastify handler (${connections} connections, ${rounds}×${seconds} s each)`,
  );
  console.table({
    'telegram webhook (gateway)': {
      'req/s': fmt(telegram.requests_per_s, 0),
      'p50 ms': fmt(telegram.p50_ms, 2),
      'p99 ms': fmt(telegram.p99_ms, 2),
      non2xx: telegram.non2xx,
    },
    'bare Fastify JSON handler (baseline)': {
      'req/s': fmt(bare.requests_per_s, 0),
      'p50 ms': fmt(bare.p50_ms, 2),
      'p99 ms': fmt(bare.p99_ms, 2),
      non2xx: bare.non2xx,
    },
  });
  console.log(`gateway / bare throughput ratio: ${ratio.toFixed(3)}  (aim: ≥ 0.333)`);
  console.log(
    `messages queued by onMessage: ${fmt(queued, 0)} (of ${fmt(telegram.requests, 0)} measured + warm-up)`,
  );
  const file = writeResult('gateway', {
    setup: {
      connections,
      rounds,
      seconds_per_round: seconds,
      load_generator: 'autocannon (parent process); server in a child process',
      body: 'Telegram text-message update, ~300 bytes, unique update_id per request',
    },
    telegram: {
      name: 'POST /webhooks/telegram/:id → verify, normalise, replay guard, in-memory onMessage',
      ...telegram,
    },
    baseline: { name: 'POST /bare → Fastify JSON body parser, empty 200', ...bare },
    ratio,
    aim_ratio: 1 / 3,
    queued,
  });
  console.log(`wrote ${file}`);
  if (telegram.non2xx > 0 || telegram.errors > 0) {
    console.error('gateway answered errors: the measurement is not valid');
    process.exit(1);
  }
}

if (args.includes('--server')) await server();
else await main();
