import { ComponentHost, type ComponentHostOptions, fetchHostHttp } from '@greentic/component';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { FlowEngine } from '../engine/engine.js';
import { runnerHostServices } from '../host-services.js';
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
  hostOptions?: Omit<ComponentHostOptions, 'services'>;
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
 * A flow engine on a tenant's pack from the pack store, for one-shot commands (`run-flow` without `--flow`): memory
 * sessions and state, the pack's flows through a {@link TenantPackRegistry}, and its components in a sandboxed
 * `ComponentHost` whose state and outbound HTTP (`fetchHostHttp`, limited by each component's network policy) are
 * the runner's host services.
 */
export async function packEngine(opts: PackEngineOptions): Promise<PackEngine> {
  const opened = await openTenantPack(opts.tenant, opts.settings);
  const state = new MemoryStateStore();
  const host = new ComponentHost({
    ...opts.hostOptions,
    services: runnerHostServices({ state, http: fetchHostHttp() }),
  });
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
    ...(opts.strictTemplates ? { strictTemplates: true } : {}),
  });
  return { engine, registry, host, opened, close: () => host.close() };
}
