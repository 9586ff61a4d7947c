/**
 * The data that conditions and templates read. The engine builds one per node execution.
 *
 * Roots: `entry` (the turn's input, immutable; `in` is an alias), `prev` (the previous node's output),
 * `node.<id>` (outputs by node id), `state` (the conversation's state), `parameters` (the flow's parameters),
 * `response` (card action / message fields: `entry.input.metadata` flattened, plus `text` and `action`).
 * For upstream compatibility a bare `<nodeId>.…` path reads that node's output, and any other bare name reads
 * a field of `prev`. Every node output is also reachable under `.payload` (`prev.payload.x` == `prev.x`).
 */
export interface ExpressionScope {
  entry: unknown;
  prev: unknown;
  node: Record<string, unknown>;
  state: Record<string, unknown>;
  parameters: Record<string, unknown>;
  response?: unknown;
}
