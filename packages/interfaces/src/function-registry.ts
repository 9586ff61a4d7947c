import type { Outcome, TenantCtx } from '@greentic/types';
import type {
  ComponentDescription,
  ComponentInvoker,
  ComponentRef,
  ComponentRegistry,
  InvocationEnvelope,
  InvokeOptions,
} from './component.js';

/** A plain function standing in for a component operation. Return an Outcome, or any value for `Done`. */
export type OperationFn = (
  input: unknown,
  envelope: InvocationEnvelope,
  options: InvokeOptions,
) => unknown | Promise<unknown>;

const isOutcome = (v: unknown): v is Outcome<unknown> =>
  typeof v === 'object' &&
  v !== null &&
  Object.keys(v).length === 1 &&
  ('Done' in v || 'Pending' in v || 'Error' in v);

class FunctionComponent implements ComponentInvoker {
  constructor(
    private readonly name: string,
    private readonly ops: Map<string, OperationFn>,
  ) {}

  describe(): ComponentDescription {
    return { name: this.name, version: '0.0.0', ops: [...this.ops.keys()].map((name) => ({ name })) };
  }

  async invoke(operation: string, envelope: InvocationEnvelope, options: InvokeOptions = {}) {
    const fn = this.ops.get(operation);
    if (!fn) {
      return {
        Error: {
          code: 'not_found',
          message: `component "${this.name}" has no operation "${operation}" (it has: ${[...this.ops.keys()].join(', ')})`,
        },
      } satisfies Outcome<unknown>;
    }
    const result = await fn(envelope.payload, envelope, options);
    return isOutcome(result) ? result : { Done: result };
  }
}

/**
 * A registry of plain functions, for tests, embedding and host-side tools. Components can be registered for all
 * tenants or for one tenant only (`{ tenant: 'acme' }`); a tenant-specific registration wins.
 */
export class FunctionComponentRegistry implements ComponentRegistry {
  private readonly global = new Map<string, FunctionComponent>();
  private readonly perTenant = new Map<string, Map<string, FunctionComponent>>();

  register(component: string, ops: Record<string, OperationFn>, opts: { tenant?: string } = {}): this {
    const c = new FunctionComponent(component, new Map(Object.entries(ops)));
    if (opts.tenant === undefined) this.global.set(component, c);
    else {
      let m = this.perTenant.get(opts.tenant);
      if (!m) {
        m = new Map();
        this.perTenant.set(opts.tenant, m);
      }
      m.set(component, c);
    }
    return this;
  }

  resolve(ref: ComponentRef, ctx: TenantCtx): ComponentInvoker | undefined {
    return this.perTenant.get(ctx.tenant_id)?.get(ref.component) ?? this.global.get(ref.component);
  }
}
