import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type FlowIR, loadFlow } from '@greentic/flow';
import { type ComponentRegistry, CompositeComponentRegistry } from '@greentic/interfaces';
import type { TenantCtx } from '@greentic/types';
import type { FlowRef, FlowSource } from '../engine/engine.js';
import { RunnerError } from '../errors.js';
import type { TenantPackRegistry } from '../packs/registry.js';

export interface LoadedFlow {
  flow: FlowIR;
  file: string;
}

/** Loads every flow the configuration names (files, or directories of `.ygtc` files, sorted). */
export async function loadFlowSet(paths: string[]): Promise<LoadedFlow[]> {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch {
      throw new RunnerError('GT_RUNNER_CONFIG', `flows.paths: ${p}: no such file or directory`, {
        field: 'flows.paths',
      });
    }
    if (isDir) {
      for (const f of (await readdir(p)).sort()) if (f.endsWith('.ygtc')) files.push(join(p, f));
    } else files.push(p);
  }
  const out: LoadedFlow[] = [];
  for (const file of files) {
    const source = await readFile(file, 'utf8');
    out.push({ flow: loadFlow(source, { file }), file });
  }
  return out;
}

/** The version a run started on `flows.paths` (or a `flowLoader`) is pinned to; it follows the reloaded files. */
export const FLOW_PATHS_VERSION = 'flows.paths';

/** The flows of `flows.paths` (or of a `flowLoader`) and the one that starts new conversations. */
export interface FlowSet {
  flows: Map<string, FlowIR>;
  entry: string;
}

/**
 * The daemon's flows: per tenant, its own pack wins; then the flows of `flows.paths`; then the default pack.
 *
 * - a tenant with a pack of its own (`load --tenant`) runs that pack (its current version for new conversations);
 * - every other tenant runs `flows.paths` when it is given, else the default pack (`load` without `--tenant`);
 * - a parked conversation keeps the version it started on: a pack version key (`<pack_id>@<version>#<digest>`)
 *   resolves through the pack registry (also after the tenant moved on), {@link FLOW_PATHS_VERSION} through the
 *   flow set of the engine that runs the turn (a reload's new files, as before packs existed);
 * - components: `oauth` (when configured) first, then the components of the run's pack version; the engine falls
 *   back to its own `components` (an embedder's registry) after these.
 */
export class DaemonFlowSource implements FlowSource {
  constructor(
    private readonly o: {
      packs?: TenantPackRegistry;
      paths?: FlowSet;
      /** Resolvers before the pack components (the `oauth` node). */
      front?: ComponentRegistry[];
    },
  ) {}

  /** True when this tenant's turns run on a pack: its own, or the default pack when there are no flow paths. */
  private usesPack(ctx: TenantCtx): boolean {
    const packs = this.o.packs;
    if (!packs) return false;
    if (packs.current(ctx.tenant_id)) return true;
    return this.o.paths === undefined && packs.current() !== undefined;
  }

  private pathRef(flowId: string): FlowRef | undefined {
    const flow = this.o.paths?.flows.get(flowId);
    return flow ? { flow, version: FLOW_PATHS_VERSION } : undefined;
  }

  entry(ctx: TenantCtx, channel: string, flowId?: string): FlowRef | undefined {
    if (this.usesPack(ctx)) return this.o.packs!.entry(ctx, channel, flowId);
    if (this.o.paths) return this.pathRef(flowId ?? this.o.paths.entry);
    return undefined;
  }

  get(ctx: TenantCtx, flowId: string, version?: string): FlowRef | undefined {
    if (version === FLOW_PATHS_VERSION) return this.pathRef(flowId);
    // pinned to a pack version (undefined when that version is no longer loaded: the engine migrates the run)
    if (version !== undefined) return this.o.packs?.get(ctx, flowId, version);
    return this.usesPack(ctx) ? this.o.packs!.get(ctx, flowId) : this.pathRef(flowId);
  }

  list(ctx: TenantCtx): string[] {
    if (this.usesPack(ctx)) return this.o.packs!.list(ctx);
    return [...(this.o.paths?.flows.keys() ?? [])];
  }

  components(ctx: TenantCtx, version: string | undefined): ComponentRegistry | undefined {
    const onPack =
      this.o.packs !== undefined &&
      version !== FLOW_PATHS_VERSION &&
      (version !== undefined || this.usesPack(ctx));
    const pack = onPack ? this.o.packs!.components(ctx, version) : undefined;
    const all = [...(this.o.front ?? []), ...(pack ? [pack] : [])];
    if (all.length === 0) return undefined;
    return all.length === 1 ? all[0] : new CompositeComponentRegistry(all);
  }
}
