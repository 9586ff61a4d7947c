import type {
  ComponentDescription,
  ComponentInvoker,
  ComponentRef,
  ComponentRegistry,
  InvocationEnvelope,
  InvokeOptions,
} from '@greentic/interfaces';
import { type ErrorCode, isErrorCode, type Outcome, type TenantCtx } from '@greentic/types';
import { ComponentError, type ComponentErrorCode } from './errors.js';
import type { ComponentHost } from './host.js';
import type { ComponentSource, LoadedComponent } from './load.js';

/** How a sandbox failure becomes an Outcome error code the flow can route on. */
const OUTCOME_CODES: Partial<Record<ComponentErrorCode, ErrorCode>> = {
  GT_COMPONENT_TIMEOUT: 'timeout',
  GT_COMPONENT_CANCELLED: 'unavailable',
  GT_COMPONENT_DENIED: 'permission_denied',
  GT_COMPONENT_CODEC: 'invalid_input',
};

export interface RegisterOptions {
  /** More names that resolve to this component (adapter `ns.adapter`, builtin op names such as `handle_message`). */
  aliases?: string[];
  /** Only these tenants can resolve it (default: every tenant). */
  tenants?: string[];
}

export interface WasmComponentRegistryOptions {
  /**
   * `outcome` (default): sandbox failures (timeout, denial, trap...) become `{Error:{code, message}}` outcomes whose
   * message starts with the GT_COMPONENT_* code; `throw`: the ComponentError is thrown to the engine.
   */
  failures?: 'outcome' | 'throw';
}

interface Entry {
  component: LoadedComponent;
  tenants: ReadonlySet<string> | undefined;
  description?: Promise<ComponentDescription>;
}

/**
 * The engine's {@link ComponentRegistry} for Wasm components: maps component ids and aliases to loaded components and
 * hands out invokers that CBOR-encode the payload, call the component in the sandbox, decode the output and map
 * node-errors to `{Error:{code, message}}` outcomes. MCP references are not resolved here.
 */
export class WasmComponentRegistry implements ComponentRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly host: ComponentHost,
    private readonly options: WasmComponentRegistryOptions = {},
  ) {}

  /** Makes a loaded component resolvable under its id and aliases. */
  add(component: LoadedComponent, opts: RegisterOptions = {}): this {
    const entry: Entry = { component, tenants: opts.tenants ? new Set(opts.tenants) : undefined };
    for (const name of [component.id, ...(opts.aliases ?? [])]) this.entries.set(name, entry);
    return this;
  }

  /** Loads a component with the registry's host and adds it. */
  async register(source: ComponentSource, opts: RegisterOptions = {}): Promise<LoadedComponent> {
    const component = await this.host.load(source);
    this.add(component, opts);
    return component;
  }

  /** Names the registry resolves. */
  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  resolve(ref: ComponentRef, ctx: TenantCtx): ComponentInvoker | undefined {
    if (ref.kind === 'mcp') return undefined;
    const entry = this.entries.get(ref.component);
    if (!entry) return undefined;
    if (entry.tenants && !entry.tenants.has(ctx.tenant_id)) return undefined;
    return new WasmInvoker(this.host, entry, ctx, this.options.failures ?? 'outcome');
  }
}

class WasmInvoker implements ComponentInvoker {
  constructor(
    private readonly host: ComponentHost,
    private readonly entry: Entry,
    private readonly ctx: TenantCtx,
    private readonly failures: 'outcome' | 'throw',
  ) {}

  describe(): Promise<ComponentDescription> {
    this.entry.description ??= this.host.describe(this.entry.component, this.ctx).then((d) => ({
      name: d.name,
      version: d.version,
      ops: d.ops.map((op) =>
        op.summary === undefined ? { name: op.name } : { name: op.name, description: op.summary },
      ),
      capabilities: { ids: d.capabilities },
    }));
    this.entry.description.catch(() => {
      this.entry.description = undefined;
    });
    return this.entry.description;
  }

  async invoke(
    operation: string,
    envelope: InvocationEnvelope,
    options?: InvokeOptions,
  ): Promise<Outcome<unknown>> {
    try {
      const result = await this.host.invoke(this.entry.component, operation, envelope, options);
      if (result.ok) return { Done: result.output };
      const { code, message } = result.error;
      return {
        Error: isErrorCode(code) ? { code, message } : { code: 'unknown', message: `${code}: ${message}` },
      };
    } catch (e) {
      if (this.failures === 'throw' || !(e instanceof ComponentError)) throw e;
      return { Error: { code: OUTCOME_CODES[e.code] ?? 'internal', message: `${e.code}: ${e.message}` } };
    }
  }
}
