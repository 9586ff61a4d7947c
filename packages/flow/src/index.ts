/**
 * @greentic/flow — the Greentic flow language: the YGTc v2 loader and its error catalog, the flow IR and its
 * lossless YAML serialisation, conditions, templates, lint and graph export.
 */

export * from './condition/index.js';
export { FlowError, type FlowErrorCode, formatLocation, type SourceLocation } from './errors.js';
export * from './graph.js';
export {
  FLOW_KINDS,
  type FlowIR,
  type FlowKind,
  type NodeIR,
  type NodeKind,
  RESERVED_NODE_KEYS,
  type ReservedNodeKey,
  type Route,
  type SlotDefinition,
} from './ir.js';
export * from './lint.js';
export {
  classifyOp,
  flowErrorDetails,
  IDENTIFIER_PATTERN,
  type LoadedFlow,
  type LoadFlowOptions,
  loadFlow,
  loadFlowFile,
  loadFlowFileWithLocator,
  loadFlowWithLocator,
} from './loader.js';
export { FLOW_SCHEMA_ID, FLOW_SCHEMA_PATH, flowSchema } from './schema.js';
export * from './scope.js';
export * from './template/index.js';
export {
  type FlowWithoutLocations,
  type NodeWithoutLocation,
  type RouteWithoutLocation,
  stripLocations,
  toYaml,
} from './to-yaml.js';
