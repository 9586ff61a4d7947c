import { ComponentHost, type ComponentHostOptions, fetchHostHttp } from '@greentic/component';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import type { GreenticTracer } from '@greentic/telemetry';
import { FlowEngine } from '../engine/engine.js';
import { runnerHostServices } from '../host-services.js';
import type { RunnerPlatform } from '../platform/platform.js';
import { PackComponentRegistry } from './components.js';
import { type OpenTenantPackResult, openTenantPack } from './load.js';
import { TenantPackRegistry } from './registry.js';
import type { PackSettings } from './settings.js';

export interface PackEngineOptions {
  /** The tenant whose pack runs (its own pack, else the default pack). */
  tenant: string;
  settings: PackSettings;
  strictTemplates?: boolean;
  /** Options of the component host (sandbox, cache folder, limits). Its services are the runner's. */
  hostOptions?: Omit<ComponentHostOptions, 'services' | 'onPolicyDecision'>;
  /**
   * The runner's platform (`createPlatform`): components get secrets through its SecretsService (manifest
   * declarations, pack id, tenant allow-list), every policy decision is traced on the node span and denials logged,
   * and the engine uses its tracer. Without it: no secrets, no decision tracing.
   */
  platform?: RunnerPlatform;
  /** The engine's tracer (default: the platform's, else a no-op until `initTelemetry`). */
  tracer?: GreenticTracer;
}

export interface PackEngine {
  engine: FlowEngine;
  registry: TenantPackRegistry;
  host: ComponentHost;
  opened: OpenTenantPackResult;
  /** Stops the component host's workers. */
  close(): Promise<void>;
}

/**
 * A flow engine on a tenant's pack from the pack store, for one-shot commands (`run-flow`/`chat` without `--flow`):
 * memory sessions and state, the pack's flows through a {@link TenantPackRegistry}, and its components in a
 * sandboxed `ComponentHost` whose state, outbound HTTP (`fetchHostHttp`, limited by each component's network policy)
 * and — with a `platform` — secrets (the pack id as the category of bare keys) are the runner's host services.
 */
export async function packEngine(opts: PackEngineOptions): Promise<PackEngine> {
  const opened = await openTenantPack(opts.tenant, opts.settings);
  const state = new MemoryStateStore();
  const host = opts.platform
    ? opts.platform.componentHost(state, opts.hostOptions)
    : new ComponentHost({
        ...opts.hostOptions,
        services: runnerHostServices({ state, http: fetchHostHttp() }),
      });
  const tracer = opts.tracer ?? opts.platform?.tracer;
  const registry = new TenantPackRegistry({
    keepVersions: opts.settings.keepVersions,
    components: (pack) => new PackComponentRegistry(host, pack),
  });
  registry.install(opened.from, opened.pack);
  const engine = new FlowEngine({
    flows: registry,
    sessions: new MemorySessionStore(),
    state,
    components: registry.componentRegistry(),
    ...(tracer ? { tracer } : {}),
    ...(opts.strictTemplates ? { strictTemplates: true } : {}),
  });
  return { engine, registry, host, opened, close: () => host.close() };
}
