// bench/components: cost of loading and calling Wasm components through @greentic/component, for a small WAT
// component (packages/component/test/fixtures/echo.wat) and a TypeScript component built by `greentic-component build`
// (ComponentizeJS: SpiderMonkey inside, ~12 MB), both with one cheap op, `echo`, that returns its input.
//   first load   = read + sha256 + jco transpile + write the disk cache + compile (a new cache folder each time)
//   cached load  = read + sha256 + cache hit + compile (what a restarted process pays)
//   instantiate  = jco instantiate() of a compiled component (what a new tenant's first call pays)
//   invoke       = one call: raw glue call (direct), inline host (CBOR + envelope), worker sandbox (the sandboxed path)
// Usage: node bench/components.mjs [--calls N] [--ts-calls N]
// The TypeScript component is generated in node_modules/.cache/greentic-bench/echo-ts and built with the build cache
// (the first run takes ~10 s for ComponentizeJS; later runs take it from the cache).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { ComponentHost, clearCompiledModules, encodeCbor, witTenantCtx } from '@greentic/component';
import { tenantCtx } from '@greentic/types';
import { fixture } from '../packages/component/test/fixtures/index.mjs';
// bench/package.json does not list @greentic/component-cli: its build output is taken directly (npm run bench builds it).
import { buildComponent } from '../packages/component-cli/dist/index.js';
import { fmt, summarize, writeResult } from './lib.mjs';

const args = process.argv.slice(2);
const argNum = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) || fallback : fallback;
};
const calls = argNum('--calls', 20_000);
const tsCalls = argNum('--ts-calls', 5_000);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const payload = { text: 'hi', n: 1 };
const ctx = tenantCtx({ env: 'bench', tenant: 'acme' });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** A tiny TypeScript component with one op, `echo`, for the canonical world (no host services). */
async function buildTsEcho() {
  const dir = join(repo, 'node_modules', '.cache', 'greentic-bench', 'echo-ts');
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'src', 'index.ts'),
    `import { defineComponent } from '@greentic/component-cli/guest/node';

export const node = defineComponent({
  name: 'echo-ts',
  version: '0.1.0',
  ops: { echo: { summary: 'Returns its input', run: (input: unknown) => input } },
});
`,
  );
  writeFileSync(
    join(dir, 'component.manifest.json'),
    `${JSON.stringify(
      {
        id: 'echo-ts',
        name: 'echo-ts',
        version: '0.1.0',
        world: 'greentic:component/component@0.6.0',
        describe_export: 'describe',
        config_schema: { type: 'object', properties: {}, required: [], additionalProperties: false },
        operations: [{ name: 'echo', input_schema: {}, output_schema: {} }],
        default_operation: 'echo',
        supports: ['messaging'],
        profiles: { default: 'default', supported: ['default'] },
        capabilities: { wasi: {}, host: {} },
        artifacts: { component_wasm: 'echo-ts.wasm' },
      },
      null,
      2,
    )}\n`,
  );
  return buildComponent(dir, {
    onProgress: (line) => {
      if (!line.startsWith('bundling')) console.error(`  echo-ts: ${line}`);
    },
  });
}

const dirs = [];
const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'gt-bench-components-'));
  dirs.push(d);
  return d;
};

/** Every measurement for one component. `runs` sets how many loads, instantiations and calls. */
async function measureComponent({ id, bytes, runs, coldFirst }) {
  const source = { id, bytes };
  const envelope = { ctx, flow_id: 'f', step_id: 's', component_id: id, attempt: 0, payload };

  // Loads
  const firstLoads = [];
  let coldMs;
  for (let i = 0; i < runs.firstLoads + (coldFirst ? 1 : 0); i++) {
    clearCompiledModules();
    const host = new ComponentHost({ cacheDir: newDir() });
    const t0 = process.hrtime.bigint();
    await host.load(source);
    if (coldFirst && i === 0) coldMs = ms(t0);
    else firstLoads.push(ms(t0));
  }
  const warmDir = dirs.at(-1);
  const cachedLoads = [];
  for (let i = 0; i < runs.cachedLoads; i++) {
    clearCompiledModules();
    const host = new ComponentHost({ cacheDir: warmDir });
    const t0 = process.hrtime.bigint();
    const c = await host.load(source);
    cachedLoads.push(ms(t0));
    if (!c.fromCache) throw new Error('expected a cache hit');
  }
  const sameProcessLoads = [];
  {
    const host = new ComponentHost({ cacheDir: warmDir });
    await host.load(source);
    for (let i = 0; i < runs.sameProcessLoads; i++) {
      const t0 = process.hrtime.bigint();
      await host.load(source);
      sameProcessLoads.push(ms(t0));
    }
  }

  // Instantiate + raw glue call (direct: no host, no CBOR, no sandbox)
  const inlineHost = new ComponentHost({ cacheDir: warmDir, sandbox: 'inline' });
  const component = await inlineHost.load(source);
  const glue = await import(component.glueUrl);
  const imports = { 'greentic:component/control': { shouldCancel: () => false, yieldNow: () => {} } };
  const instantiate = () =>
    glue.instantiate(
      (n) => component.modules[n],
      imports,
      (m, i) => new WebAssembly.Instance(m, i),
    );
  const inst = [];
  for (let i = 0; i < runs.instantiations; i++) {
    const t0 = process.hrtime.bigint();
    instantiate();
    inst.push(Number(process.hrtime.bigint() - t0));
  }
  const node = instantiate()['greentic:component/node@0.6.0'];
  const witEnvelope = {
    ctx: witTenantCtx(ctx, Date.now() + 600_000),
    flowId: 'f',
    stepId: 's',
    componentId: id,
    attempt: 0,
    payloadCbor: encodeCbor(payload),
  };
  for (let i = 0; i < Math.min(1000, runs.calls); i++) node.invoke('echo', witEnvelope); // warm-up
  const raw = [];
  for (let i = 0; i < runs.calls; i++) {
    const t0 = process.hrtime.bigint();
    node.invoke('echo', witEnvelope);
    raw.push(Number(process.hrtime.bigint() - t0));
  }

  async function measure(host, c, n) {
    const first = await host.invoke(c, 'echo', envelope);
    if (!first.ok || !isDeepStrictEqual(first.output, payload)) {
      throw new Error(`${id}: echo answered ${JSON.stringify(first)}`);
    }
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
  const inline = await measure(inlineHost, component, runs.calls);
  const workerHost = new ComponentHost({ cacheDir: warmDir, workers: 1 });
  const worker = await measure(workerHost, await workerHost.load(source), runs.calls);
  // Throughput with 2 workers and 2 tenants' calls in flight at once.
  const pool = new ComponentHost({ cacheDir: warmDir, workers: 2 });
  const pc = await pool.load(source);
  const tenants = ['acme', 'globex'].map((t) => ({
    ...envelope,
    ctx: tenantCtx({ env: 'bench', tenant: t }),
  }));
  for (const e of tenants) await pool.invoke(pc, 'echo', e);
  const tp0 = process.hrtime.bigint();
  await Promise.all(
    tenants.map(async (e) => {
      for (let i = 0; i < runs.calls / 2; i++) await pool.invoke(pc, 'echo', e);
    }),
  );
  const poolPerS = runs.calls / (Number(process.hrtime.bigint() - tp0) / 1e9);
  await Promise.all([workerHost.close(), pool.close(), inlineHost.close()]);

  const firstMs = median(firstLoads);
  const cachedMs = median(cachedLoads);
  const rawS = summarize(raw);
  return {
    bytes: bytes.length,
    runs,
    first_load_cold_process_ms: coldMs,
    first_load_ms: firstMs,
    cached_load_ms: cachedMs,
    same_process_load_ms: median(sameProcessLoads),
    cached_vs_first: firstMs / cachedMs,
    instantiate: summarize(inst),
    invoke_raw: rawS,
    invoke_inline: inline,
    invoke_worker: worker,
    worker_overhead_p50_us: worker.p50_us - rawS.p50_us,
    worker_pool_2x2_calls_per_s: poolPerS,
  };
}

const wat = await fixture('echo');
const wasm = await measureComponent({
  id: 'echo',
  bytes: wat.bytes,
  coldFirst: true,
  runs: { firstLoads: 5, cachedLoads: 20, sameProcessLoads: 200, instantiations: 3000, calls },
});
const built = await buildTsEcho();
const ts = await measureComponent({
  id: 'echo-ts',
  bytes: new Uint8Array(readFileSync(built.wasmPath)),
  coldFirst: false,
  runs: { firstLoads: 3, cachedLoads: 10, sameProcessLoads: 50, instantiations: 30, calls: tsCalls },
});
for (const d of dirs) rmSync(d, { recursive: true, force: true });

const size = (n) => (n >= 1e6 ? `${fmt(n / 1024 / 1024, 1)} MiB` : `${fmt(n / 1024, 1)} KiB`);
const msCell = (v, d = 2) => (v === undefined ? '—' : `${fmt(v, d)} ms`);
const usCell = (s) => `${fmt(s.p50_us, 1)} / ${fmt(s.p99_us, 1)} µs`;
const watCol = `echo.wat (${size(wasm.bytes)})`;
const tsCol = `echo-ts, TypeScript (${size(ts.bytes)})`;
const row = (f) => ({ [watCol]: f(wasm), [tsCol]: f(ts) });
console.log(
  `components: echo op, payload {text: "hi", n: 1}; ${calls} (WAT) / ${tsCalls} (TS) sequential calls per invoke row`,
);
console.table({
  'first load, cold process (incl. jco init)': row((r) => msCell(r.first_load_cold_process_ms, 1)),
  'first load (transpile + compile), median': row((r) => msCell(r.first_load_ms, 1)),
  'cached load (cache hit + compile), median': row((r) => msCell(r.cached_load_ms, 2)),
  'cached load speed-up': row((r) => `${fmt(r.cached_vs_first, 1)}x`),
  'load again in the same process, median': row((r) => msCell(r.same_process_load_ms, 3)),
  'instantiate (jco glue), p50 / p99': row((r) =>
    r.instantiate.p50_us > 10_000
      ? `${fmt(r.instantiate.p50_us / 1000, 1)} / ${fmt(r.instantiate.p99_us / 1000, 1)} ms`
      : usCell(r.instantiate),
  ),
  'invoke, direct (raw glue call), p50 / p99': row((r) => usCell(r.invoke_raw)),
  'invoke, inline host, p50 / p99': row((r) => usCell(r.invoke_inline)),
  'invoke, worker sandbox, p50 / p99': row((r) => usCell(r.invoke_worker)),
  'sandbox overhead (worker − direct), p50': row((r) => `${fmt(r.worker_overhead_p50_us, 1)} µs`),
  'calls/s inline host': row((r) => fmt(r.invoke_inline.calls_per_s, 0)),
  'calls/s worker sandbox (1 worker)': row((r) => fmt(r.invoke_worker.calls_per_s, 0)),
  'calls/s worker sandbox (2 workers, 2 tenants)': row((r) => fmt(r.worker_pool_2x2_calls_per_s, 0)),
});
const met = {
  wat_cached_vs_first: wasm.cached_vs_first >= 10,
  ts_cached_vs_first: ts.cached_vs_first >= 10,
  wat_worker_invoke_p50: wasm.invoke_worker.p50_us < 50,
};
const says = (ok) => (ok ? 'met' : 'NOT met');
console.log(
  `aims: cached load ≥ 10x faster than first load — WAT ${fmt(wasm.cached_vs_first, 1)}x (${says(met.wat_cached_vs_first)}), ` +
    `TS ${fmt(ts.cached_vs_first, 1)}x (${says(met.ts_cached_vs_first)}); sandboxed invoke of the small WAT component ` +
    `< 50 µs p50 — ${fmt(wasm.invoke_worker.p50_us, 1)} µs (${says(met.wat_worker_invoke_p50)})`,
);
const file = writeResult('components', {
  calls: { wat: calls, ts: tsCalls },
  wat: { fixture: 'packages/component/test/fixtures/echo.wat', ...wasm },
  ts: { project: 'node_modules/.cache/greentic-bench/echo-ts', tools: built.tools, ...ts },
  aims: { cached_vs_first: 10, worker_invoke_p50_us: 50 },
  met,
});
console.log(`wrote ${file}`);
