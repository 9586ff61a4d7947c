import type { TenantCtx } from '@greentic/types';
import type { ComponentInvoker, ComponentRef, ComponentRegistry } from './component.js';

/**
 * Asks several registries in order and returns the first invoker found — e.g. host-side functions first, then Wasm
 * components, then MCP servers. The engine takes one registry; this is how several kinds of tools share it.
 */
export class CompositeComponentRegistry implements ComponentRegistry {
  private readonly registries: ComponentRegistry[];

  constructor(registries: Iterable<ComponentRegistry> = []) {
    this.registries = [...registries];
  }

  /** Adds a registry after the existing ones (lowest priority). */
  add(registry: ComponentRegistry): this {
    this.registries.push(registry);
    return this;
  }

  async resolve(ref: ComponentRef, ctx: TenantCtx): Promise<ComponentInvoker | undefined> {
    for (const r of this.registries) {
      const found = await r.resolve(ref, ctx);
      if (found) return found;
    }
    return undefined;
  }
}
