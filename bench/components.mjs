// bench/components: cost of loading and calling Wasm components through @greentic/component.
//   first load   = read + sha256 + jco transpile + write the disk cache + compile (a new cache folder each time)
//   cached load  = read + sha256 + cache hit + compile (what a restarted process pays)
//   instantiate  = jco instantiate() of a compiled component (what a new tenant's first call pays)
//   invoke       = one call of a small WAT component: raw glue call, inline host (CBOR + envelope), worker sandbox
// Usage: node bench/components.mjs [--calls N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ComponentHost, clearCompiledModules, encodeCbor, witTenantCtx } from '@greentic/component';
import { tenantCtx } from '@greentic/types';
import { fixture } from '../packages/component/test/fixtures/index.mjs';
import { fmt, summarize, writeResult } from './lib.mjs';

const args = process.argv.slice(2);
const calls = Number(args[args.indexOf('--calls') + 1]) || 20_000;
const { bytes } = await fixture('echo');
const ctx = tenantCtx({ env: 'bench', tenant: 'acme' });
const envelope = {
  ctx,
  flow_id: 'f',
  step_id: 's',
  component_id: 'echo',
  attempt: 0,
  payload: { text: 'hi', n: 1 },
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// Loads
const dirs = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'gt-bench-components-'));
  dirs.push(d);
  return d;
};
const firstLoads = [];
let coldFirst;
for (let i = 0; i < 6; i++) {
  clearCompiledModules();
  const host = new ComponentHost({ cacheDir: newDir() });
  const t0 = process.hrtime.bigint();
  await host.load({ id: 'echo', bytes });
  if (i === 0) coldFirst = ms(t0);
  else firstLoads.push(ms(t0));
}
const warmDir = dirs.at(-1);
const cachedLoads = [];
for (let i = 0; i < 20; i++) {
  clearCompiledModules();
  const host = new ComponentHost({ cacheDir: warmDir });
  const t0 = process.hrtime.bigint();
  const c = await host.load({ id: 'echo', bytes });
  cachedLoads.push(ms(t0));
  if (!c.fromCache) throw new Error('expected a cache hit');
}
const inProcessLoads = [];
{
  const host = new ComponentHost({ cacheDir: warmDir });
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    await host.load({ id: 'echo', bytes });
    inProcessLoads.push(ms(t0));
  }
}

// Instantiate + raw glue call
const inlineHost = new ComponentHost({ cacheDir: warmDir, sandbox: 'inline' });
const component = await inlineHost.load({ id: 'echo', bytes });
const glue = await import(component.glueUrl);
const imports = { 'greentic:component/control': { shouldCancel: () => false, yieldNow: () => {} } };
const instantiate = () =>
  glue.instantiate(
    (n) => component.modules[n],
    imports,
    (m, i) => new WebAssembly.Instance(m, i),
  );
const inst = [];
for (let i = 0; i < 3000; i++) {
  const t0 = process.hrtime.bigint();
  instantiate();
  inst.push(Number(process.hrtime.bigint() - t0));
}
const node = instantiate()['greentic:component/node@0.6.0'];
const deadline = Date.now() + 60_000;
const witEnvelope = {
  ctx: witTenantCtx(ctx, deadline),
  flowId: 'f',
  stepId: 's',
  componentId: 'echo',
  attempt: 0,
  payloadCbor: encodeCbor(envelope.payload),
};
const raw = [];
for (let i = 0; i < calls; i++) {
  const t0 = process.hrtime.bigint();
  node.invoke('echo', witEnvelope);
  raw.push(Number(process.hrtime.bigint() - t0));
}

async function measure(host, c, n) {
  for (let i = 0; i < Math.min(2000, n); i++) await host.invoke(c, 'echo', envelope); // warm-up
  const samples = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await host.invoke(c, 'echo', envelope);
    samples.push(Number(process.hrtime.bigint() - s));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { calls_per_s: n / seconds, ...summarize(samples) };
}
const inline = await measure(inlineHost, component, calls);
const workerHost = new ComponentHost({ cacheDir: warmDir, workers: 1 });
const wc = await workerHost.load({ id: 'echo', bytes });
const worker = await measure(workerHost, wc, calls);
// Throughput with 2 workers and 2 tenants' calls in flight at once.
const pool = new ComponentHost({ cacheDir: warmDir, workers: 2 });
const pc = await pool.load({ id: 'echo', bytes });
const tenants = ['acme', 'globex'].map((t) => ({ ...envelope, ctx: tenantCtx({ env: 'bench', tenant: t }) }));
for (const e of tenants) await pool.invoke(pc, 'echo', e);
const tp0 = process.hrtime.bigint();
await Promise.all(
  tenants.map(async (e) => {
    for (let i = 0; i < calls / 2; i++) await pool.invoke(pc, 'echo', e);
  }),
);
const poolPerS = calls / (Number(process.hrtime.bigint() - tp0) / 1e9);
await Promise.all([workerHost.close(), pool.close(), inlineHost.close()]);
for (const d of dirs) rmSync(d, { recursive: true, force: true });

const firstMs = median(firstLoads);
const cachedMs = median(cachedLoads);
const instS = summarize(inst);
const rawS = summarize(raw);
console.log(`components: echo WAT component (${bytes.length} bytes), ${calls} sequential calls per row`);
console.table({
  'first load (cold process, incl. jco init)': { ms: fmt(coldFirst, 2) },
  'first load (transpile + compile), median': { ms: fmt(firstMs, 2) },
  'cached load (cache hit + compile), median': { ms: fmt(cachedMs, 2) },
  'load again in the same process, median': { ms: fmt(median(inProcessLoads), 3) },
});
console.table({
  'instantiate (jco glue)': { 'p50 µs': fmt(instS.p50_us, 2), 'p99 µs': fmt(instS.p99_us, 2), 'calls/s': '' },
  'invoke: raw glue call': { 'p50 µs': fmt(rawS.p50_us, 2), 'p99 µs': fmt(rawS.p99_us, 2), 'calls/s': '' },
  'invoke: inline host (CBOR + envelope)': {
    'p50 µs': fmt(inline.p50_us, 2),
    'p99 µs': fmt(inline.p99_us, 2),
    'calls/s': fmt(inline.calls_per_s, 0),
  },
  'invoke: worker sandbox (1 worker)': {
    'p50 µs': fmt(worker.p50_us, 2),
    'p99 µs': fmt(worker.p99_us, 2),
    'calls/s': fmt(worker.calls_per_s, 0),
  },
  'invoke: worker sandbox (2 workers, 2 tenants)': {
    'p50 µs': '',
    'p99 µs': '',
    'calls/s': fmt(poolPerS, 0),
  },
});
console.log(
  `cached load is ${fmt(firstMs / cachedMs, 1)}x faster than first load (aim ≥ 10x); worker-sandbox invoke p50 ${fmt(worker.p50_us, 1)} µs (aim < 50 µs)`,
);
const file = writeResult('components', {
  component: { fixture: 'echo.wat', bytes: bytes.length },
  calls,
  first_load_cold_process_ms: coldFirst,
  first_load_ms: firstMs,
  cached_load_ms: cachedMs,
  same_process_load_ms: median(inProcessLoads),
  cached_vs_first: firstMs / cachedMs,
  instantiate: instS,
  invoke_raw: rawS,
  invoke_inline: inline,
  invoke_worker: worker,
  worker_pool_2x2_calls_per_s: poolPerS,
  aims: { cached_vs_first: 10, worker_invoke_p50_us: 50 },
});
console.log(`wrote ${file}`);
