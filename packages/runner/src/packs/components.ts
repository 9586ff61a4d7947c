import {
  type ComponentHost,
  type ComponentManifest,
  type ComponentSource,
  type LoadedComponent,
  WasmComponentRegistry,
} from '@greentic/component';
import type { ComponentInvoker, ComponentRef, ComponentRegistry } from '@greentic/interfaces';
import type { LoadedPack } from '@greentic/pack';
import { type NetworkPolicy, type TenantCtx, validateNetworkPolicy } from '@greentic/types';

/** Secret URI segments: what `ComponentSource.secretCategory` accepts. */
const SECRET_SEGMENT = /^[a-z0-9._-]+$/;

/**
 * The `ComponentSource` of a pack's component: its Wasm bytes and its manifest as packed (a greentic-component
 * `component.manifest.json`: capabilities, limits and the `x-greentic.network` policy come from it; a `network`
 * at its top level, the older place, becomes `ComponentSource.network`). A component
 * with a pack descriptor instead of that manifest is loaded without one, so it gets no capabilities (deny by
 * default). Bare secret keys are looked up under the pack's id (`secrets://{env}/{tenant}/{team|_}/<pack id>/<key>`)
 * when the pack id is a secret URI segment.
 */
export function componentSource(pack: LoadedPack, id: string): ComponentSource | undefined {
  const c = pack.components.get(id);
  if (!c) return undefined;
  const packId = pack.manifest.pack_id;
  let manifest: Record<string, unknown> | undefined;
  let network: NetworkPolicy | undefined;
  if (c.manifestFormat === 'greentic.component.manifest.v1') {
    // A policy at the manifest's top level (where greentic-component wrote it before `x-greentic`) is given to
    // the host as the component's policy; the host validates the rest against upstream's schema.
    const { network: legacy, ...rest } = c.manifest;
    manifest = legacy === undefined ? c.manifest : rest;
    if (legacy !== undefined) network = validateNetworkPolicy(legacy);
  }
  return {
    id: c.id,
    bytes: c.wasm,
    ...(manifest ? { manifest: manifest as unknown as ComponentManifest } : {}),
    ...(network ? { network } : {}),
    ...(SECRET_SEGMENT.test(packId) ? { secretCategory: packId } : {}),
  };
}

/**
 * The components of one pack version, for the flow engine: a `WasmComponentRegistry` on a (shared)
 * `ComponentHost`, filled lazily — a component is loaded (transpiled, or taken from the host's cache) the first
 * time a node resolves it, so a turn that calls no component loads none.
 */
export class PackComponentRegistry implements ComponentRegistry {
  private readonly wasm: WasmComponentRegistry;
  private readonly loading = new Map<string, Promise<LoadedComponent>>();

  constructor(
    readonly host: ComponentHost,
    readonly pack: LoadedPack,
  ) {
    this.wasm = new WasmComponentRegistry(host);
  }

  /** Loads one component of the pack (once); undefined when the pack has no component of that id. */
  load(id: string): Promise<LoadedComponent> | undefined {
    let p = this.loading.get(id);
    if (!p) {
      const source = componentSource(this.pack, id);
      if (!source) return undefined;
      p = this.wasm.register(source);
      this.loading.set(id, p);
      // a failed load is retried by the next turn that needs the component
      p.catch(() => this.loading.delete(id));
    }
    return p;
  }

  /** Loads every component of the pack now (e.g. to warm up after a reload). */
  async preload(): Promise<void> {
    await Promise.all([...this.pack.components.keys()].map((id) => this.load(id)));
  }

  async resolve(ref: ComponentRef, ctx: TenantCtx): Promise<ComponentInvoker | undefined> {
    if (ref.kind === 'mcp') return undefined;
    const loading = this.load(ref.component);
    if (!loading) return undefined;
    await loading;
    return this.wasm.resolve(ref, ctx);
  }
}
