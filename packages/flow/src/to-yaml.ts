import { Document, isMap, isScalar } from 'yaml';
import type { FlowIR, NodeIR, Route } from './ir.js';
import { NODE_RESERVED_ORDER, setOwn } from './loader.js';

/**
 * Serialises a flow back to YGTc v2 YAML. The result loads (`loadFlow`) to an IR deep-equal to `ir` apart
 * from source locations (see `stripLocations`). Key order is canonical: id, type, title, description, tags,
 * start, entrypoints, parameters, schema_version, slot_schema, meta, unknown top-level keys, nodes; inside a
 * node the op key (and `operation`) first, then the reserved keys, `routing` last. The `out`/`reply`
 * shorthands are re-emitted as written. Comments and formatting of the original file are not kept.
 */
export function toYaml(ir: FlowIR): string {
  const top: Record<string, unknown> = {};
  top.id = ir.id;
  top.type = ir.kind;
  if (ir.title !== undefined) top.title = ir.title;
  if (ir.description !== undefined) top.description = ir.description;
  if (ir.tags !== undefined) top.tags = ir.tags;
  if (ir.startExplicit !== undefined) top.start = ir.startExplicit;
  if (ir.entrypoints !== undefined) top.entrypoints = ir.entrypoints;
  if (Object.keys(ir.parameters).length > 0) top.parameters = ir.parameters;
  if (ir.schemaVersionExplicit) top.schema_version = ir.schemaVersion;
  if (ir.slotSchema !== undefined) top.slot_schema = ir.slotSchema;
  if (ir.meta !== undefined) top.meta = ir.meta;
  for (const [k, v] of Object.entries(ir.extra))
    if (!Object.hasOwn(top, k) && k !== 'nodes') setOwn(top, k, v);
  const nodes: Record<string, unknown> = {};
  for (const [id, node] of Object.entries(ir.nodes)) setOwn(nodes, id, nodeToPlain(node));
  top.nodes = nodes;

  const doc = new Document(top, { aliasDuplicateObjects: false });
  // A blank line before `nodes:` and between nodes, as people write flows.
  if (isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (isScalar(pair.key) && pair.key.value === 'nodes') {
        pair.key.spaceBefore = true;
        if (isMap(pair.value)) {
          pair.value.items.forEach((nodePair, i) => {
            if (i > 0 && isScalar(nodePair.key)) nodePair.key.spaceBefore = true;
          });
        }
      }
    }
  }
  return doc.toString({ lineWidth: 0, minContentWidth: 0 });
}

function nodeToPlain(node: NodeIR): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  setOwn(out, node.op, node.payload);
  if (node.operation !== undefined) out.operation = node.operation;
  if (node.extra) for (const [k, v] of Object.entries(node.extra)) setOwn(out, k, v);
  for (const key of NODE_RESERVED_ORDER) {
    if (Object.hasOwn(node.reserved, key)) out[key] = node.reserved[key];
  }
  const routing = routingToPlain(node);
  if (routing !== undefined) out.routing = routing;
  return out;
}

function routingToPlain(node: NodeIR): unknown {
  const { routes, routingForm } = node;
  const only = routes.length === 1 ? routes[0]! : undefined;
  if (routingForm === 'absent' && routes.length === 0) return undefined;
  if (routingForm === 'out' && only && isShorthand(only, 'out')) return 'out';
  if (routingForm === 'reply' && only && isShorthand(only, 'reply')) return 'reply';
  return routes.map(routeToPlain);
}

function isShorthand(route: Route, flag: 'out' | 'reply'): boolean {
  const keys = Object.keys(route).filter(
    (k) => k !== 'location' && (route as unknown as Record<string, unknown>)[k] !== undefined,
  );
  return keys.length === 1 && route[flag] === true;
}

function routeToPlain(route: Route): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (route.condition !== undefined) out.condition = route.condition.source;
  if (route.status !== undefined) out.status = route.status;
  if (route.on_message !== undefined) out.on_message = route.on_message;
  if (route.to !== undefined) out.to = route.to;
  if (route.out !== undefined) out.out = route.out;
  if (route.reply !== undefined) out.reply = route.reply;
  return out;
}

/** A route without its source location. */
export type RouteWithoutLocation = Omit<Route, 'location'>;
/** A node without source locations. */
export type NodeWithoutLocation = Omit<NodeIR, 'location' | 'routes'> & { routes: RouteWithoutLocation[] };
/** A flow without source locations (and without `file`): what a round trip must preserve. */
export type FlowWithoutLocations = Omit<FlowIR, 'file' | 'nodes'> & {
  nodes: Record<string, NodeWithoutLocation>;
};

/**
 * Copies `ir` without source locations (`NodeIR.location`, `Route.location`) and without `file`, so two
 * IRs of the same flow from different sources compare deep-equal (`expect(stripLocations(a)).toEqual(...)`).
 */
export function stripLocations(ir: FlowIR): FlowWithoutLocations {
  const { file: _file, nodes, ...rest } = ir;
  const out: FlowWithoutLocations = { ...rest, nodes: {} };
  for (const [id, node] of Object.entries(nodes)) {
    const { location: _loc, routes, ...n } = node;
    setOwn(out.nodes, id, { ...n, routes: routes.map(({ location: _l, ...r }) => r) });
  }
  return out;
}
