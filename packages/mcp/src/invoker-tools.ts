import type { ComponentInvoker, OperationDescription } from '@greentic/interfaces';
import type { TenantCtx } from '@greentic/types';
import { McpError } from './errors.js';
import type { McpTool } from './server.js';

export interface InvokerToolsOptions {
  /**
   * The tenant context every call runs under. An exposed server acts for one tenant; it never takes the tenant
   * from the client.
   */
  ctx: TenantCtx;
  /** `component_id` in envelopes (default: the component's described name). */
  componentId?: string;
  /** `flow_id` in envelopes (default `mcp`). */
  flowId?: string;
  /** Operations to expose (default: every described op). */
  operations?: string[];
  /** Tool name for an operation (default: the operation name). */
  toolName?: (operation: string) => string;
  /** Time limit of one call in ms. */
  timeoutMs?: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * One operation of a component as an MCP tool. Object input schemas are used as they are; an operation whose input
 * is not an object (a string, an array…) gets arguments `{input: <value>}` and receives the value itself.
 */
export function toolFromOperation(
  invoker: ComponentInvoker,
  op: OperationDescription,
  options: InvokerToolsOptions & { componentId: string },
): McpTool {
  const declared = isRecord(op.input_schema) ? op.input_schema : undefined;
  const wrapped = declared !== undefined && declared.type !== 'object';
  const inputSchema = !declared
    ? { type: 'object' }
    : wrapped
      ? { type: 'object', properties: { input: declared }, required: ['input'], additionalProperties: false }
      : declared;
  const outputSchema =
    isRecord(op.output_schema) && op.output_schema.type === 'object' ? op.output_schema : undefined;
  const name = options.toolName?.(op.name) ?? op.name;
  return {
    name,
    description: op.description,
    inputSchema,
    outputSchema,
    timeoutMs: options.timeoutMs,
    invoke: (args, call) =>
      invoker.invoke(
        op.name,
        {
          ctx: options.ctx,
          flow_id: options.flowId ?? 'mcp',
          step_id: name,
          component_id: options.componentId,
          attempt: call.attempt,
          payload: wrapped ? args.input : args,
          metadata: { mcp: { request_id: call.requestId } },
        },
        { signal: call.signal },
      ),
  };
}

/**
 * The operations of any {@link ComponentInvoker} (a Wasm component, a function registry entry, a tool map) as MCP
 * tools for {@link createMcpServer}, with the schemas its `describe()` reports.
 */
export async function toolsFromInvoker(
  invoker: ComponentInvoker,
  options: InvokerToolsOptions,
): Promise<McpTool[]> {
  const description = await invoker.describe();
  const wanted = options.operations ? new Set(options.operations) : undefined;
  const componentId = options.componentId ?? description.name;
  const missing = options.operations?.filter((o) => !description.ops.some((op) => op.name === o)) ?? [];
  if (missing.length) {
    throw new McpError(
      'GT_MCP_TOOL_DEFINITION',
      `component "${description.name}" has no operation ${missing.map((m) => `"${m}"`).join(', ')} (it has: ${description.ops.map((o) => o.name).join(', ') || 'none'})`,
      { field: 'operations' },
    );
  }
  return description.ops
    .filter((op) => !wanted || wanted.has(op.name))
    .map((op) => toolFromOperation(invoker, op, { ...options, componentId }));
}
