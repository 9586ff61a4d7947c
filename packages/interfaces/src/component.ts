import type { NodeError, Outcome, TenantCtx } from '@greentic/types';

/**
 * How a flow node names the code it wants run. The engine builds one from each non-builtin node:
 * - `component.exec: {component, operation, input}` → kind `component`;
 * - an adapter key `ns.adapter.op` → kind `adapter`, component `ns.adapter`, operation `op`;
 * - `mcp: {server, tool, arguments}` → kind `mcp`, component = server, operation = tool;
 * - any other key the engine does not implement (e.g. `handle_message`) → kind `builtin`, component = operation = key.
 */
export interface ComponentRef {
  kind: 'component' | 'adapter' | 'mcp' | 'builtin';
  component: string;
  operation: string;
}

/**
 * What a component receives for one call: the shape of `greentic:component@0.6.0`'s invoke envelope
 * (`{ctx, flow-id, step-id, component-id, attempt, payload-cbor, metadata-cbor?}`), with the payload already
 * decoded. The Wasm host encodes it as CBOR at the boundary.
 */
export interface InvocationEnvelope {
  ctx: TenantCtx;
  flow_id: string;
  step_id: string;
  component_id: string;
  attempt: number;
  payload: unknown;
  metadata?: Record<string, unknown>;
}

export interface InvokeOptions {
  /** Aborted when the caller gives up (turn deadline, shutdown). Components should stop promptly. */
  signal?: AbortSignal;
  /** Absolute deadline (ms since epoch) for this call. */
  deadline?: number;
}

export interface OperationDescription {
  name: string;
  description?: string;
  input_schema?: unknown;
  output_schema?: unknown;
}

export interface ComponentDescription {
  name: string;
  version: string;
  ops: OperationDescription[];
  capabilities?: Record<string, unknown>;
}

/** A callable component. `Error` outcomes carry an upstream ErrorCode; thrown errors are treated as `internal`. */
export interface ComponentInvoker {
  describe(): ComponentDescription | Promise<ComponentDescription>;
  invoke(operation: string, envelope: InvocationEnvelope, options?: InvokeOptions): Promise<Outcome<unknown>>;
}

/**
 * Resolves a node's component reference for a tenant. Returning `undefined` means "not known here";
 * the engine then fails the node with a clear "component not found" error.
 * The Wasm host (`@greentic/component`) and MCP (`@greentic/mcp`) implement this interface.
 */
export interface ComponentRegistry {
  resolve(
    ref: ComponentRef,
    ctx: TenantCtx,
  ): ComponentInvoker | undefined | Promise<ComponentInvoker | undefined>;
}

/** A failure a component reports with a code the flow can route on. */
export type ComponentFailure = NodeError;
