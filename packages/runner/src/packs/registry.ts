import type { FlowIR } from '@greentic/flow';
import type { ComponentInvoker, ComponentRef, ComponentRegistry } from '@greentic/interfaces';
import type { LoadedPack } from '@greentic/pack';
import type { TenantCtx } from '@greentic/types';
import type { FlowRef, FlowSource } from '../engine/engine.js';
import { RunnerError } from '../errors.js';
import { DEFAULT_KEEP_VERSIONS } from './settings.js';

/**
 * The version string a pack's flows carry (`FlowRef.version`, what a parked run is pinned to):
 * `<pack_id>@<version>#<first 12 hex digits of the archive sha256>`. Derived from the content, so every runner
 * that loads the same archive names it the same way (parked runs live in a shared session store), and a rebuild
 * with the same version number is still a different version.
 */
export function packVersionKey(pack: Pick<LoadedPack, 'manifest' | 'archiveDigest'>): string {
  const hex = pack.archiveDigest.replace(/^sha256:/, '').slice(0, 12);
  return `${pack.manifest.pack_id}@${pack.manifest.version}#${hex}`;
}

/**
 * The flow that starts new conversations in a pack: the first flow tagged `default` (in `tags` or
 * `entrypoints`), else the first flow of the manifest.
 */
export function packEntryFlow(pack: Pick<LoadedPack, 'manifest'>): string | undefined {
  const flows = pack.manifest.flows;
  return (flows.find((f) => f.tags.includes('default') || f.entrypoints.includes('default')) ?? flows[0])?.id;
}

/** One loaded version of a tenant's pack. */
export interface PackVersion {
  /** {@link packVersionKey}. */
  key: string;
  pack: LoadedPack;
  /** The flow that starts new conversations ({@link packEntryFlow}). */
  entry: string;
  /** The components of this version (undefined: the registry was built without a component factory). */
  components: ComponentRegistry | undefined;
  installedAt: number;
  /** Last time a turn asked for this version (ms). */
  lastUsed: number;
}

/** What {@link TenantPackRegistry.install} did. */
export interface InstallResult {
  tenant: string | undefined;
  version: string;
  /** The version that was current before (undefined: none, or the same archive again). */
  previous?: string;
  /** Versions no longer kept in memory: their parked conversations migrate (or restart) on their next message. */
  dropped: string[];
}

export interface TenantPackRegistryOptions {
  /** Versions kept per tenant, the current one included (default 3). */
  keepVersions?: number;
  /**
   * A version past `keepVersions` is still kept while a turn asked for it less than this long ago (default 60 s,
   * longer than a turn's component deadline), so turns in flight finish on it. It goes at the next install or
   * {@link TenantPackRegistry.prune} after that.
   */
  inUseGraceMs?: number;
  /** Builds the component registry of one pack version (e.g. a `PackComponentRegistry` on a shared host). */
  components?: (pack: LoadedPack, version: string) => ComponentRegistry | undefined;
  /** Called with each version dropped from memory (release what `components` made). */
  onDrop?: (tenant: string | undefined, version: PackVersion) => void;
  /** Clock (tests). */
  now?: () => number;
}

interface Slot {
  /** Newest first; `versions[0]` is the current one. */
  readonly versions: readonly PackVersion[];
}

const DEFAULT_KEY = '\u0000default';

/**
 * Per-tenant packs for the flow engine: a {@link FlowSource} that gives each tenant the flows of its current pack
 * (or of the default pack, for tenants without one of their own), and keeps older versions so that conversations
 * finish on the version they started on.
 *
 * - **Hot reload**: {@link install} builds the new version completely, then swaps the tenant's slot in one
 *   assignment. New conversations start on the new version from then on; a turn in flight, and every conversation
 *   parked on an older version, keeps resolving its flows through the version it is pinned to (the engine stores
 *   `FlowRef.version` with the run and asks `get(ctx, flowId, version)`).
 * - **Retention**: the last `keepVersions` versions installed per tenant (default 3, current included) stay loaded,
 *   plus any older one a turn used within `inUseGraceMs`. When a version is dropped, a conversation parked on it
 *   continues on the current version at the same node ids if every flow and node of its call stack still exists
 *   there; otherwise it starts afresh (the engine does that, with a warning on the turn).
 * - **Components** are per version too: {@link components} returns the registry of the version a run is pinned
 *   to. Until the engine asks the source for it (see the report of issue #4), {@link componentRegistry} gives the
 *   engine a registry that resolves through the tenant's current version.
 */
export class TenantPackRegistry implements FlowSource {
  private readonly slots = new Map<string, Slot>();
  private readonly keep: number;
  private readonly graceMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TenantPackRegistryOptions = {}) {
    this.keep = options.keepVersions ?? DEFAULT_KEEP_VERSIONS;
    if (!Number.isInteger(this.keep) || this.keep < 1)
      throw new RunnerError('GT_RUNNER_USAGE', `keepVersions must be a whole number ≥ 1 (got ${this.keep})`);
    this.graceMs = options.inUseGraceMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Makes `pack` the current pack of `tenant` (`undefined`: the default pack, for tenants without their own).
   * Installing an archive that is already loaded makes that version current again (a rollback) without loading
   * it twice. The pack must have been verified (`readPack`); it needs at least one flow.
   */
  install(tenant: string | undefined, pack: LoadedPack): InstallResult {
    const entry = packEntryFlow(pack);
    if (entry === undefined)
      throw new RunnerError(
        'GT_RUNNER_FLOW_NOT_FOUND',
        `pack ${pack.manifest.pack_id} ${pack.manifest.version} has no flow; a tenant's pack needs one to start conversations`,
      );
    const key = packVersionKey(pack);
    const slotKey = tenant ?? DEFAULT_KEY;
    const old = this.slots.get(slotKey)?.versions ?? [];
    const now = this.now();
    const existing = old.find((v) => v.key === key);
    const version: PackVersion = existing ?? {
      key,
      pack,
      entry,
      components: this.options.components?.(pack, key),
      installedAt: now,
      lastUsed: now,
    };
    const candidates = [version, ...old.filter((v) => v !== version)];
    const { kept, dropped } = this.retain(candidates, now);
    // the swap: one assignment of a new, fully built slot
    this.slots.set(slotKey, { versions: kept });
    for (const v of dropped) this.options.onDrop?.(tenant, v);
    const previous = old[0]?.key;
    return {
      tenant,
      version: key,
      ...(previous !== undefined && previous !== key ? { previous } : {}),
      dropped: dropped.map((v) => v.key),
    };
  }

  /** Drops versions past `keepVersions` that no turn used within `inUseGraceMs`. Returns the dropped keys. */
  prune(): string[] {
    const out: string[] = [];
    const now = this.now();
    for (const [slotKey, slot] of this.slots) {
      const { kept, dropped } = this.retain(slot.versions, now);
      if (dropped.length === 0) continue;
      this.slots.set(slotKey, { versions: kept });
      for (const v of dropped) {
        this.options.onDrop?.(slotKey === DEFAULT_KEY ? undefined : slotKey, v);
        out.push(v.key);
      }
    }
    return out;
  }

  private retain(
    versions: readonly PackVersion[],
    now: number,
  ): { kept: PackVersion[]; dropped: PackVersion[] } {
    const kept: PackVersion[] = [];
    const dropped: PackVersion[] = [];
    versions.forEach((v, i) => {
      if (i < this.keep || now - v.lastUsed < this.graceMs) kept.push(v);
      else dropped.push(v);
    });
    return { kept, dropped };
  }

  /** The current version of a tenant's own pack (`undefined`: of the default pack). */
  current(tenant?: string): PackVersion | undefined {
    return this.slots.get(tenant ?? DEFAULT_KEY)?.versions[0];
  }

  /** The version keys loaded for a tenant's own pack (`undefined`: the default pack), newest first. */
  versions(tenant?: string): string[] {
    return (this.slots.get(tenant ?? DEFAULT_KEY)?.versions ?? []).map((v) => v.key);
  }

  /** Tenants with a pack of their own. */
  tenants(): string[] {
    return [...this.slots.keys()].filter((k) => k !== DEFAULT_KEY).sort();
  }

  /** Forgets a tenant's own pack (it falls back to the default pack). Returns the versions dropped. */
  uninstall(tenant: string): string[] {
    const slot = this.slots.get(tenant);
    if (!slot) return [];
    this.slots.delete(tenant);
    for (const v of slot.versions) this.options.onDrop?.(tenant, v);
    return slot.versions.map((v) => v.key);
  }

  /** The version a tenant's turn uses: `version` when it is loaded for the tenant (or the default), else current. */
  private lookup(ctx: TenantCtx, version?: string): PackVersion | undefined {
    const own = this.slots.get(ctx.tenant_id);
    const fallback = this.slots.get(DEFAULT_KEY);
    if (version === undefined) return own?.versions[0] ?? fallback?.versions[0];
    const found =
      own?.versions.find((v) => v.key === version) ?? fallback?.versions.find((v) => v.key === version);
    if (found) found.lastUsed = this.now();
    return found;
  }

  private ref(v: PackVersion | undefined, flowId: string): FlowRef | undefined {
    const flow: FlowIR | undefined = v?.pack.flows.get(flowId);
    return v && flow ? { flow, version: v.key } : undefined;
  }

  entry(ctx: TenantCtx, _channel: string, flowId?: string): FlowRef | undefined {
    const v = this.lookup(ctx);
    return this.ref(v, flowId ?? v?.entry ?? '');
  }

  get(ctx: TenantCtx, flowId: string, version?: string): FlowRef | undefined {
    return this.ref(this.lookup(ctx, version), flowId);
  }

  list(ctx: TenantCtx): string[] {
    return [...(this.lookup(ctx)?.pack.flows.keys() ?? [])];
  }

  /**
   * The component registry of the version a run uses (`version` from its FlowRef; undefined: the tenant's
   * current version). Proposed as an optional `FlowSource.components` (see the class comment).
   */
  components(ctx: TenantCtx, version?: string): ComponentRegistry | undefined {
    return this.lookup(ctx, version)?.components;
  }

  /**
   * A registry for `EngineOptions.components`: resolves through the tenant's current version. Exact for runs on
   * the current version; a run pinned to an older version gets the current version's component of the same id
   * until the engine resolves components through {@link components} with the run's version.
   */
  componentRegistry(): ComponentRegistry {
    return {
      resolve: (ref: ComponentRef, ctx: TenantCtx): Promise<ComponentInvoker | undefined> =>
        Promise.resolve(this.components(ctx)?.resolve(ref, ctx)),
    };
  }
}
