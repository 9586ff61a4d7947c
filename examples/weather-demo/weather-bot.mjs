// The weather demo's wiring, shared by demo.mjs and the tests: build the weather tool (cached), load it into the
// sandboxed component host with a real HTTP client, and run the weather flow with the flow engine.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentHost, fetchHostHttp, WasmComponentRegistry } from '@greentic/component';
import { buildComponent } from '@greentic/component-cli';
import { loadFlowFile } from '@greentic/flow';
import { FlowEngine, loadRunnerConfig, RunnerDaemon, runnerHostServices } from '@greentic/runner';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { tenantCtx } from '@greentic/types';

export const DEMO_DIR = dirname(fileURLToPath(import.meta.url));
export const WEATHER_TOOL_DIR = join(DEMO_DIR, 'components', 'weather');
export const WEATHER_FLOW = join(DEMO_DIR, 'flows', 'weather.ygtc');

/**
 * Builds the weather tool with `greentic-component build` (ComponentizeJS). The result is cached under a hash of the
 * sources, the WIT and the tool versions, so only the first build (or a build after a change) takes seconds.
 * @param {{cacheDir?: string, outDir?: string, onProgress?: (line: string) => void}} [options]
 */
export function buildWeatherTool(options = {}) {
  return buildComponent(WEATHER_TOOL_DIR, options);
}

/**
 * Loads the built weather tool into a component host (worker sandbox; the runner's host services with
 * `fetchHostHttp()` for outbound HTTP, which the host limits to the network policy in the manifest's
 * `x-greentic.network`) and returns the host and the registry the engine resolves `component.exec: {component: weather}` with.
 * @param {{wasmPath: string, manifestPath: string}} built
 * @param {{network?: import('@greentic/types').NetworkPolicy, hostOptions?: object}} [options]
 *   `network` replaces the manifest's policy (the tests use it to check a denial).
 */
export async function loadWeatherTool(built, options = {}) {
  const logs = [];
  const host = new ComponentHost({
    services: runnerHostServices({
      state: new MemoryStateStore(),
      http: fetchHostHttp(),
      log: (_call, record) => logs.push(record.fields),
    }),
    ...options.hostOptions,
  });
  const registry = new WasmComponentRegistry(host);
  const component = await registry.register({
    id: 'weather',
    path: built.wasmPath,
    manifest: built.manifestPath,
    network: options.network,
  });
  return { host, registry, component, logs };
}

/**
 * The weather flow on a flow engine with in-memory sessions and state, calling the tool through `registry`.
 * @param {import('@greentic/interfaces').ComponentRegistry} registry
 * @param {{baseUrl?: string, timeoutMs?: number}} [options]  provider base URL and per-request timeout for the tool
 */
export function weatherEngine(registry, options = {}) {
  const flow = weatherFlow(options);
  const engine = new FlowEngine({
    sessions: new MemorySessionStore(),
    state: new MemoryStateStore(),
    components: registry,
  }).registerFlow(flow);
  return { engine, flow };
}

/**
 * The weather flow with the provider settings the tool gets (`parameters.weather_base_url`, `weather_timeout_ms`).
 * @param {{baseUrl?: string, timeoutMs?: number}} [options]
 */
export function weatherFlow(options = {}) {
  const flow = loadFlowFile(WEATHER_FLOW);
  if (options.baseUrl !== undefined) flow.parameters.weather_base_url = options.baseUrl;
  if (options.timeoutMs !== undefined) flow.parameters.weather_timeout_ms = options.timeoutMs;
  return flow;
}

/**
 * The weather flow served by an in-process runner daemon — memory stores, no NATS — with WebChat on: the page is
 * `daemon.webchatUrl` (`http://<host>:<port>/webchat/`), and `daemon.handleMessage` runs turns on the same engine
 * (the terminal conversation of demo.mjs). Stop it with `daemon.stop()`.
 * @param {import('@greentic/interfaces').ComponentRegistry} registry  resolves the weather tool
 * @param {{baseUrl?: string, timeoutMs?: number, host?: string, port?: number, log?: import('@greentic/runner').Logger,
 *   title?: string}} [options]
 */
export async function startWeatherRunner(registry, options = {}) {
  const config = loadRunnerConfig(undefined, {
    env: {}, // the demo's own settings: GREENTIC_RUNNER_* of the shell do not apply
    overrides: {
      http: { host: options.host ?? '127.0.0.1', port: options.port ?? 0 },
      tenancy: { env: 'dev' },
      webchat: {
        enabled: true,
        binding: { env: 'dev', tenant: 'demo' },
        title: options.title ?? 'Greentic weather bot',
        botName: 'Weather bot',
      },
      shutdown: { timeoutMs: 5_000 },
    },
  });
  const daemon = new RunnerDaemon({
    config,
    components: registry,
    flowLoader: async () => [{ flow: weatherFlow(options), file: WEATHER_FLOW }],
    ...(options.log ? { log: options.log } : {}),
  });
  await daemon.start();
  return daemon;
}

/**
 * A conversation with the engine: `say(text)` sends one message and returns the turn with its reply texts.
 * @param {{handleMessage: FlowEngine['handleMessage']}} engine  a FlowEngine, or a RunnerDaemon (its current engine)
 * @param {{tenant?: string, user?: string, conversation?: string, channel?: string}} [who]
 */
export function conversation(engine, who = {}) {
  const ctx = tenantCtx({ env: 'dev', tenant: who.tenant ?? 'demo', user: who.user ?? 'user' });
  const conv = who.conversation ?? 'weather';
  let n = 0;
  return async (text) => {
    const result = await engine.handleMessage({
      id: `${conv}-${++n}`,
      tenant: ctx,
      channel: who.channel ?? 'terminal',
      session_id: conv,
      reply_scope: { conversation: conv },
      text,
      metadata: {},
    });
    return { ...result, texts: result.replies.map((r) => r.text ?? JSON.stringify(r.payload ?? r.card)) };
  };
}
