// Rough costs of @greentic/telemetry on the hot path, each next to a baseline measured in the same run.
// Run after a build:  node_modules/.bin/tsc -b packages/telemetry/tsconfig.json && node packages/telemetry/bench/telemetry.mjs
// Prints a table, then one JSON document. Numbers on a shared 2-core machine are noisy: read the ratios.
import os from 'node:os';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createLogger, GreenticTracer, initTelemetry, Redactor } from '../dist/index.js';

const N = Number(process.argv[2] ?? 200_000);

function measure(name, n, fn) {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return { name, ns_per_op: Math.round(ns), ops_per_s: Math.round(1e9 / ns) };
}

async function measureAsync(name, n, fn) {
  for (let i = 0; i < Math.min(n, 5_000); i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return { name, ns_per_op: Math.round(ns), ops_per_s: Math.round(1e9 / ns) };
}

const rows = [];
const pair = (row, baseline) =>
  rows.push({
    ...row,
    baseline: baseline.name,
    baseline_ns: baseline.ns_per_op,
    ratio: +(row.ns_per_op / baseline.ns_per_op).toFixed(2),
  });

// --- string redaction
const r = new Redactor({ mode: 'strict' });
const short = 'node ask_name finished in 3 ms';
const withEmail = 'user wrote: please send the invoice to alice.smith@example.com before friday, thanks';
const kb = 'The quick brown fox jumps over the lazy dog; order 12345 shipped on 2024-05-12. '.repeat(13);
const simpleEmail = /[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}/gi;
for (const [label, text] of [
  ['30 B, clean', short],
  ['85 B, one email', withEmail],
  ['1 KB, clean', kb],
]) {
  pair(
    measure(`redactString ${label}`, N, () => r.redactString(text)),
    measure(`one email regex replace ${label}`, N, () => text.replace(simpleEmail, '[REDACTED]')),
  );
}

// --- span attributes and log objects
const attrs = {
  'greentic.tenant.id': 'acme',
  'greentic.team.id': 'support',
  'greentic.user.id': 'u-42',
  'greentic.env.id': 'prod',
  'greentic.session.id': 'sess-1',
  'greentic.flow.id': 'qa',
  'greentic.node.id': 'ask_name',
  'greentic.node.op': 'questions',
  'greentic.run.status': 'ok',
  'greentic.channel': 'webchat',
};
pair(
  measure('redactAttributes, 10 clean attributes', N, () => r.redactAttributes(attrs)),
  measure('copy of the same attributes ({...attrs})', N, () => ({ ...attrs })),
);
const logObj = { tenant: 'acme', node: 'ask_name', input: { text: 'my email is bob@example.com' }, ms: 3 };
pair(
  measure('redactValue, small log object with one email', N, () => r.redactValue(logObj)),
  measure('structuredClone of the same object', N, () => structuredClone(logObj)),
);

// --- tracer without an SDK (what the runner pays when telemetry is not initialised)
const tracer = new GreenticTracer();
const work = async () => {};
const turnWithNodes = () =>
  tracer.withTurn({ flowId: 'qa' }, async () => {
    for (const nodeId of ['a', 'b', 'c']) await tracer.withNode({ flowId: 'qa', nodeId }, work);
  });
const bare = async () => {
  for (let k = 0; k < 3; k++) await work();
};
const TURNS = Math.round(N / 4);
pair(
  await measureAsync('turn + 3 nodes, no SDK', TURNS, turnWithNodes),
  await measureAsync('bare turn: 3 awaited calls', TURNS, bare),
);

// --- tracer with the SDK recording (no exporter: the cost of recording, not of shipping)
const telemetry = await initTelemetry({ serviceName: 'bench', env: { OTEL_TRACES_EXPORTER: 'none' } });
pair(
  await measureAsync('turn + 3 nodes, SDK recording', TURNS, turnWithNodes),
  await measureAsync('bare turn: 3 awaited calls', TURNS, bare),
);
await telemetry.shutdown();

// --- logging
const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
const ours = createLogger({ env: {}, destination: sink() });
const plain = pino({}, sink());
pair(
  measure('createLogger().info(obj, msg), strict redaction', N, (i) =>
    ours.info({ i, user: 'u-42' }, 'node ask_name done'),
  ),
  measure('plain pino .info(obj, msg)', N, (i) => plain.info({ i, user: 'u-42' }, 'node ask_name done')),
);

console.table(
  rows.map((x) => ({
    measured: x.name,
    'ns/op': x.ns_per_op,
    baseline: x.baseline,
    'baseline ns': x.baseline_ns,
    ratio: x.ratio,
  })),
);
console.log(
  JSON.stringify(
    {
      name: 'telemetry',
      node: process.version,
      cpus: os.cpus().length,
      date: new Date().toISOString(),
      iterations: N,
      rows,
    },
    null,
    2,
  ),
);
