import type { Condition } from './condition/index.js';
import type { SourceLocation } from './errors.js';

/**
 * The flow IR: what the loader produces from a `.ygtc` file and what the engine executes.
 * It is plain data (plus parsed conditions) and round-trips losslessly back to YAML (`toYaml`).
 */

/** Flow kinds accepted at compile time (upstream `compile_flow`). */
export const FLOW_KINDS = ['messaging', 'event', 'events', 'component-config', 'job', 'http'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

export interface SlotDefinition {
  name: string;
  slot_type: 'string' | 'enum' | 'number' | 'date' | 'boolean';
  pattern?: string;
  required?: boolean;
  enum_values?: string[];
  default_value?: string;
}

export interface FlowIR {
  id: string;
  kind: FlowKind;
  /** `schema_version` as written (defaults to 2 when absent; `schemaVersionExplicit` says which). */
  schemaVersion: number;
  schemaVersionExplicit: boolean;
  title?: string;
  description?: string;
  tags?: string[];
  /** The resolved start node: `start`, else a node named `in`, else the first node. */
  start: string;
  /** `start` exactly as written, if it was. */
  startExplicit?: string;
  entrypoints?: Record<string, unknown>;
  parameters: Record<string, unknown>;
  slotSchema?: SlotDefinition[];
  meta?: Record<string, unknown>;
  /** Unknown top-level keys (e.g. `x-generated-*`), kept for the round trip. */
  extra: Record<string, unknown>;
  /** Nodes by id, in document order. */
  nodes: Record<string, NodeIR>;
  /** The file the flow came from, when loaded from one. */
  file?: string;
}

/**
 * Upstream classification (`src/ir.rs`): `mcp` is MCP; a key of three or more dot-separated parts
 * is an adapter `ns.adapter.op`; `component.exec` is an explicit component call; anything else is a builtin
 * (which the engine either implements or hands to the component registry).
 */
export type NodeKind = 'builtin' | 'adapter' | 'mcp' | 'component';

/** Reserved (non-operation) node keys, as upstream's loader lists them. */
export const RESERVED_NODE_KEYS = [
  'routing',
  'telemetry',
  'output',
  'in_map',
  'out_map',
  'err_map',
  'retry',
  'timeout',
  'when',
  'annotations',
  'meta',
  'operation',
] as const;
export type ReservedNodeKey = (typeof RESERVED_NODE_KEYS)[number];

export interface NodeIR {
  id: string;
  /** The operation key as written, e.g. `questions`, `component.exec`, `weather.api.forecast`, `mcp`. */
  op: string;
  kind: NodeKind;
  /** The sibling `operation:` key (read only with `component.exec`; kept with any op for the round trip). */
  operation?: string;
  /** The value under the op key. */
  payload: unknown;
  /** Reserved keys other than `routing` and `operation` (in_map, out_map, err_map, output, telemetry, …). */
  reserved: Partial<Record<Exclude<ReservedNodeKey, 'routing' | 'operation'>, unknown>>;
  /**
   * Further non-reserved keys that upstream tolerates beside the op (with `schema_version` < 2, e.g.
   * `after:`, or one stray key beside `component.exec`). Kept only for the lossless round trip; the engine
   * ignores them. Absent when there are none.
   */
  extra?: Record<string, unknown>;
  /** Routes in order; first match wins. An empty list means the flow ends after this node. */
  routes: Route[];
  /** How routing was written, so `toYaml` re-emits the same form. */
  routingForm: 'absent' | 'out' | 'reply' | 'list';
  location: SourceLocation;
}

export interface Route {
  /** Target node; absent or `out` means end (see `out`). */
  to?: string;
  /** End the flow after this node. */
  out?: boolean;
  /** Taken only when the node's outcome status equals this (e.g. `ok`, `error`, `pending`). */
  status?: string;
  /** Send the node's output as a reply. */
  reply?: boolean;
  /** Parsed at load time; the route is taken only when it evaluates to true. */
  condition?: Condition;
  /** Taken only when a parked node is resumed by a typed message rather than a card action. */
  on_message?: boolean;
  location: SourceLocation;
}
