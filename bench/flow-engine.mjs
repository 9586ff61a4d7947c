// bench/flow-engine: in-memory turns per second and per-turn p50/p99 latency of a five-node QA flow,
// next to a baseline measured in the same run (the same stores driven directly, without the engine).
// Usage: node bench/flow-engine.mjs [--conversations N]
import { loadFlow } from '@greentic/flow';
import { FlowEngine } from '@greentic/runner';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { tenantCtx } from '@greentic/types';
import { fmt, summarize, writeResult } from './lib.mjs';

const FLOW = `
id: bench_qa
type: messaging
nodes:
  ask:
    questions:
      questions: [{ id: city, prompt: "Which city?", answer_type: text, max_words: 3 }]
    routing: [{ to: remember }]
  remember:
    state.set: { key: last_city, value: "{{state.city}}" }
    routing: [{ to: check }]
  check:
    state.get: { key: last_city }
    routing:
      - { to: long, condition: 'prev.value != null && in.input.text != ""' }
      - { to: short }
  long:
    template: "Forecast for {{state.city}} coming up"
    routing: out
  short:
    template: "No city"
    routing: out
`;

const args = process.argv.slice(2);
const conversations = Number(args[args.indexOf('--conversations') + 1]) || 20_000;
const ctx = tenantCtx({ env: 'bench', tenant: 'acme', user: 'u' });

function msg(conv, text, i) {
  return {
    id: `m${i}`,
    tenant: ctx,
    channel: 'bench',
    session_id: conv,
    reply_scope: { conversation: conv },
    to: [],
    text,
    attachments: [],
    metadata: {},
    extensions: {},
  };
}

async function runEngine(n) {
  const engine = new FlowEngine({ sessions: new MemorySessionStore(), state: new MemoryStateStore() });
  engine.registerFlow(loadFlow(FLOW));
  const samples = [];
  let i = 0;
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < n; c++) {
    const conv = `c${c}`;
    for (const text of ['hi', 'Paris']) {
      const s = process.hrtime.bigint();
      const r = await engine.handleMessage(msg(conv, text, i++));
      samples.push(Number(process.hrtime.bigint() - s));
      if (r.status === 'error') throw new Error(r.error.message);
    }
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return { turns: i, seconds: elapsed, turns_per_s: i / elapsed, ...summarize(samples) };
}

// Baseline: the store traffic of the same turns (find the conversation, read it, save it with its
// compare-and-swap, keep its reply scope registered) without the engine.
async function runBaseline(n) {
  const sessions = new MemorySessionStore();
  const samples = [];
  let i = 0;
  const data = (json) => ({
    tenant_ctx: ctx,
    flow_id: 'f',
    cursor: { node_pointer: 'f#a' },
    context_json: json,
  });
  const t0 = process.hrtime.bigint();
  for (let c = 0; c < n; c++) {
    const scope = { conversation: `c${c}` };
    for (let turn = 0; turn < 2; turn++) {
      const s = process.hrtime.bigint();
      const key = await sessions.findWait(ctx, scope);
      if (key === undefined) {
        const rec = await sessions.create(ctx, data('{"v":2,"state":{},"outbox":[]}'));
        await sessions.registerWait(ctx, scope, rec.key);
      } else {
        const rec = await sessions.get(ctx, key);
        JSON.parse(rec.data.context_json);
        await sessions.save(ctx, key, data('{"v":2,"state":{"city":"Paris"},"outbox":[]}'), {
          expectedRevision: rec.revision,
        });
        await sessions.registerWait(ctx, scope, key);
      }
      samples.push(Number(process.hrtime.bigint() - s));
      i++;
    }
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  return { turns: i, seconds: elapsed, turns_per_s: i / elapsed, ...summarize(samples) };
}

await runEngine(Math.min(2000, conversations)); // warm-up (JIT)
await runBaseline(Math.min(2000, conversations));
const engine = await runEngine(conversations);
const baseline = await runBaseline(conversations);
const ratio = engine.turns_per_s / baseline.turns_per_s;

console.log('flow-engine: five-node QA flow, in-memory stores, one core, sequential turns');
console.table({
  'engine turn': {
    'turns/s': fmt(engine.turns_per_s, 0),
    'p50 µs': fmt(engine.p50_us),
    'p99 µs': fmt(engine.p99_us),
  },
  'stores only (baseline)': {
    'turns/s': fmt(baseline.turns_per_s, 0),
    'p50 µs': fmt(baseline.p50_us),
    'p99 µs': fmt(baseline.p99_us),
  },
});
console.log(
  `engine / baseline throughput ratio: ${ratio.toFixed(3)}  (aim: ≥ 20,000 turns/s for the engine)`,
);
const file = writeResult('flow-engine', {
  flow: 'five-node QA (questions, state.set, state.get, condition route, template)',
  conversations,
  ...engine,
  baseline: {
    name: 'session store calls of the same turns (find, read, CAS save, keep scope), no engine',
    ...baseline,
  },
  ratio,
  aim_turns_per_s: 20_000,
});
console.log(`wrote ${file}`);
