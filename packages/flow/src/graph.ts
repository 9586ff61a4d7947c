import type { FlowIR, NodeIR, Route } from './ir.js';
import { entrypointNodes, hasNode, routeTarget } from './lint.js';

/**
 * Graph export of a flow's routing, for docs and reviews: Mermaid (renders on GitHub) and Graphviz DOT.
 * One box per node (id and op), a `start` marker on the start node, an explicit `end` node for every way the
 * flow ends, and edges labelled with what guards them (status, condition, reply, on_message). Output depends
 * only on the IR (document order of nodes and routes), so it diffs cleanly.
 */

export interface GraphOptions {
  /** Layout direction: top-down (default) or left-right. */
  direction?: 'TD' | 'LR';
}

interface Edge {
  from: string;
  /** A node id (possibly missing); undefined means the end of the flow. */
  to: string | undefined;
  label: string;
  /** The implicit fall-through when no arm matches. */
  fallthrough?: boolean;
}

interface GraphModel {
  id: string;
  nodes: NodeIR[];
  start: string;
  /** Routing targets or start that name no node, in order of first mention. */
  missing: string[];
  /** Extra entrypoints (name → node) other than the start node. */
  entries: [string, string][];
  edges: Edge[];
  usesEnd: boolean;
}

function edgeLabel(route: Route): string {
  const parts: string[] = [];
  if (route.status !== undefined) parts.push(`status: ${route.status}`);
  if (route.condition !== undefined) parts.push(`if ${route.condition.source}`);
  if (route.on_message) parts.push('on message');
  if (route.reply) parts.push('reply');
  return parts.join(', ');
}

function buildModel(ir: FlowIR): GraphModel {
  const nodes = Object.values(ir.nodes);
  const missing: string[] = [];
  const noteMissing = (id: string) => {
    if (!hasNode(ir, id) && !missing.includes(id)) missing.push(id);
  };
  noteMissing(ir.start);
  const edges: Edge[] = [];
  for (const node of nodes) {
    if (node.routes.length === 0) edges.push({ from: node.id, to: undefined, label: '' });
    for (const route of node.routes) {
      const target = routeTarget(route);
      if (target !== undefined) noteMissing(target);
      edges.push({ from: node.id, to: target, label: edgeLabel(route) });
    }
    if (node.routes.length > 0 && node.routes.every((r) => r.condition !== undefined || r.on_message)) {
      edges.push({ from: node.id, to: undefined, label: 'no match', fallthrough: true });
    }
  }
  const entries: [string, string][] = [];
  const epNodes = new Set(entrypointNodes(ir));
  for (const [name, value] of Object.entries(ir.entrypoints ?? {})) {
    const targets = (Array.isArray(value) ? value : [value]).filter(
      (v): v is string => typeof v === 'string' && epNodes.has(v) && v !== ir.start,
    );
    for (const t of targets) entries.push([name, t]);
  }
  return {
    id: ir.id,
    nodes,
    start: ir.start,
    missing,
    entries,
    edges,
    usesEnd: edges.some((e) => e.to === undefined),
  };
}

function opLabel(node: NodeIR): string {
  return node.operation !== undefined ? `${node.op}: ${node.operation}` : node.op;
}

// ---------------------------------------------------------------------------------------------------------
// Mermaid

/**
 * Escapes text for a double-quoted Mermaid label. Mermaid decodes `#<code>;` entity codes, so every
 * character that could end the label or be read as markup is written as one (`#` itself included, so user
 * text like `#34;` stays literal). Line breaks become spaces.
 */
export function escapeMermaid(text: string): string {
  return text.replace(/[#"<>&|`\\]|\r?\n/g, (c) => (c.endsWith('\n') ? ' ' : `#${c.codePointAt(0)};`));
}

export function toMermaid(ir: FlowIR, opts: GraphOptions = {}): string {
  const m = buildModel(ir);
  const ids = new Map<string, string>();
  for (const [i, n] of m.nodes.entries()) ids.set(n.id, `n${i}`);
  for (const [i, id] of m.missing.entries()) ids.set(id, `missing${i}`);
  const ref = (id: string | undefined) => (id === undefined ? '_end' : ids.get(id)!);

  const lines = [`flowchart ${opts.direction ?? 'TD'}`];
  lines.push('  _start(("start"))');
  for (const [i, [name]] of m.entries.entries()) {
    lines.push(`  _entry${i}(["${escapeMermaid(`entrypoint: ${name}`)}"])`);
  }
  for (const n of m.nodes)
    lines.push(`  ${ref(n.id)}["${escapeMermaid(n.id)}<br/>${escapeMermaid(opLabel(n))}"]`);
  for (const id of m.missing) lines.push(`  ${ref(id)}["${escapeMermaid(`missing node: ${id}`)}"]`);
  if (m.usesEnd) lines.push('  _end(("end"))');
  lines.push(`  _start --> ${ref(m.start)}`);
  for (const [i, [, node]] of m.entries.entries()) lines.push(`  _entry${i} --> ${ref(node)}`);
  for (const e of m.edges) {
    const arrow = e.fallthrough ? '-.->' : '-->';
    const label = e.label ? `|"${escapeMermaid(e.label)}"|` : '';
    lines.push(`  ${ref(e.from)} ${arrow}${label} ${ref(e.to)}`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Graphviz DOT

/** Escapes text for a double-quoted DOT ID: backslash and quote are escaped, line breaks become `\n`. */
export function escapeDotId(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n');
}

/**
 * Escapes text for a double-quoted DOT label. On top of `escapeDotId`, `&` becomes `&amp;`: Graphviz decodes
 * HTML entities in labels, so a literal `&lt;` in user text would otherwise render as `<`.
 */
export function escapeDotLabel(text: string): string {
  return escapeDotId(text.replace(/&/g, '&amp;'));
}

export function toDot(ir: FlowIR, opts: GraphOptions = {}): string {
  const m = buildModel(ir);
  const q = (id: string) => `"${escapeDotId(id)}"`;
  // Markers and missing targets get ids with parentheses, which node ids cannot contain.
  const ref = (id: string | undefined) =>
    id === undefined ? '"(end)"' : m.missing.includes(id) ? q(`(missing:${id})`) : q(id);
  const lines = [`digraph ${q(m.id)} {`];
  lines.push(`  rankdir=${opts.direction === 'LR' ? 'LR' : 'TB'};`);
  lines.push('  node [shape=box];');
  lines.push('  "(start)" [label="start", shape=circle];');
  for (const [i, [name]] of m.entries.entries()) {
    lines.push(`  "(entry${i})" [label="${escapeDotLabel(`entrypoint: ${name}`)}", shape=oval];`);
  }
  for (const n of m.nodes) {
    lines.push(`  ${q(n.id)} [label="${escapeDotLabel(n.id)}\\n${escapeDotLabel(opLabel(n))}"];`);
  }
  for (const id of m.missing) {
    lines.push(`  ${ref(id)} [label="${escapeDotLabel(`missing node: ${id}`)}", style=dashed];`);
  }
  if (m.usesEnd) lines.push('  "(end)" [label="end", shape=doublecircle];');
  lines.push(`  "(start)" -> ${ref(m.start)};`);
  for (const [i, [, node]] of m.entries.entries()) lines.push(`  "(entry${i})" -> ${ref(node)};`);
  for (const e of m.edges) {
    const attrs: string[] = [];
    if (e.label) attrs.push(`label="${escapeDotLabel(e.label)}"`);
    if (e.fallthrough) attrs.push('style=dashed');
    lines.push(`  ${ref(e.from)} -> ${ref(e.to)}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
