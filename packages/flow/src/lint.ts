import { readFile } from 'node:fs/promises';
import { FlowError, type SourceLocation } from './errors.js';
import type { FlowIR, NodeIR, Route } from './ir.js';

/**
 * Static checks over a loaded flow (`greentic-flow doctor`). The loader has already rejected what cannot
 * run at all; lint reports what loads but is probably wrong: dead nodes, loops that never wait for the
 * user, adapters the deployment does not provide, conditions that read nothing, routing that can fall
 * through silently.
 */

export const LINT_RULES = [
  'start_node_exists',
  'unreachable_node',
  'routing_target_exists',
  'loop_without_wait',
  'adapter_resolvable',
  'component_resolvable',
  'condition_paths',
  'no_route_after_condition',
] as const;
export type LintRule = (typeof LINT_RULES)[number];
export type LintSeverity = 'error' | 'warning';

export interface LintFinding {
  rule: LintRule;
  severity: LintSeverity;
  /** What is wrong and what to do about it. */
  message: string;
  location: SourceLocation;
  /** The node the finding is about, when there is one. */
  nodeId?: string;
  /** For `loop_without_wait`: the loop's node ids in routing order (the first is not repeated at the end). */
  cycle?: string[];
}

/** Upstream's adapter registry format: adapter (`ns.adapter`) → the operations it provides. */
export interface AdapterCatalog {
  adapters: Record<string, string[]>;
}

export interface LintOptions {
  /** When given, every adapter node (`ns.adapter.op`) must name an adapter and operation listed here. */
  catalog?: AdapterCatalog;
  /**
   * When given, the ids of the components that are available (e.g. a pack's components). Every
   * `component.exec` node's `component`, and every builtin-classified op that the engine does not implement
   * itself, must be one of them (an op `a.b` also resolves through a component `a`).
   */
  componentIds?: Iterable<string>;
  /**
   * Resolves a JSON pointer into the flow's source to a location (the loader's `loadFlowWithLocator` gives
   * one). Places findings about the flow as a whole (e.g. `/start`), which the IR carries no location for,
   * and members of routes (`…/routing/0/condition`). Without it such findings point at line 1 / the route.
   */
  locate?: (pointer: string) => SourceLocation | undefined;
}

/** Scope roots a condition or template path may start with (see `ExpressionScope`). */
export const SCOPE_ROOTS = ['entry', 'in', 'prev', 'node', 'state', 'parameters', 'response'] as const;

/** Ops the engine implements itself (upstream `BUILTIN_NODE_KINDS` and the well-known builtins). */
const ENGINE_BUILTINS = new Set([
  'questions',
  'qa.process',
  'template',
  'templating.handlebars',
  'card',
  'session.wait',
  'flow.call',
  'provider.invoke',
  'dw.agent',
  'dw.agent_graph',
  'sorla.call',
  'operala.call',
  'agentic.call',
  'state.get',
  'state.set',
  'state.delete',
  'mcp',
  'component.exec',
]);
const ENGINE_BUILTIN_PREFIXES = ['emit.', 'dw.agent.'];

const WAIT_OPS = new Set(['questions', 'qa.process', 'session.wait', 'card', 'component-adaptive-card']);
const CARD_PREFIX = 'component-adaptive-card.';

/** The component a node runs: `component.exec`'s `component` field, otherwise the op key. */
function componentName(node: NodeIR): string {
  if (node.op === 'component.exec' && isRecord(node.payload) && typeof node.payload.component === 'string') {
    return node.payload.component;
  }
  return node.op;
}

/**
 * Whether a node parks the turn until the user answers: `questions`, `qa.process`, `session.wait` and card
 * nodes (`card`, `component-adaptive-card.*`), written as the op or as `component.exec`'s component.
 */
export function isWaitNode(node: NodeIR): boolean {
  const name = componentName(node);
  return WAIT_OPS.has(name) || name.startsWith(CARD_PREFIX);
}

/** A route that continues to another node (not the end of the flow). */
export function routeTarget(route: Route): string | undefined {
  if (route.out === true || route.to === undefined || route.to === 'out') return undefined;
  return route.to;
}

/** An arm that may not match: it has a condition or is taken only for typed messages. */
function isGuarded(route: Route): boolean {
  return route.condition !== undefined || route.on_message === true;
}

/** An arm that is always taken when reached. */
function isUnconditional(route: Route): boolean {
  return !isGuarded(route) && route.status === undefined;
}

/** Whether `id` is a node of the flow (own keys only: `constructor` or `__proto__` are not nodes by default). */
export function hasNode(ir: FlowIR, id: string): boolean {
  return Object.hasOwn(ir.nodes, id);
}

/** Node ids named by `entrypoints` (a string value, or strings inside a list value). */
export function entrypointNodes(ir: FlowIR): string[] {
  const out: string[] = [];
  for (const value of Object.values(ir.entrypoints ?? {})) {
    const candidates = Array.isArray(value) ? value : [value];
    for (const c of candidates) if (typeof c === 'string' && hasNode(ir, c) && !out.includes(c)) out.push(c);
  }
  return out;
}

export function lintFlow(ir: FlowIR, opts: LintOptions = {}): LintFinding[] {
  const findings: LintFinding[] = [];
  const nodes = Object.values(ir.nodes);
  const flowLocation = (pointer: string): SourceLocation =>
    opts.locate?.(pointer) ?? { file: ir.file, line: 1, column: 1, pointer };
  // A member of a route (`to`, `condition`), when the locator can place it; else the route itself.
  const routeMember = (route: Route, key: 'to' | 'condition'): SourceLocation =>
    opts.locate?.(`${route.location.pointer}/${key}`) ?? route.location;

  // start_node_exists
  if (nodes.length === 0) {
    findings.push({
      rule: 'start_node_exists',
      severity: 'error',
      message: `flow "${ir.id}" has no nodes, so it has nothing to start; add at least one node under "nodes"`,
      location: flowLocation('/nodes'),
    });
  } else if (!hasNode(ir, ir.start)) {
    findings.push({
      rule: 'start_node_exists',
      severity: 'error',
      message: `start node "${ir.start}" is not a node of flow "${ir.id}" (nodes: ${nodeList(ir)}); point "start" at one of them`,
      location: flowLocation(ir.startExplicit !== undefined ? '/start' : '/nodes'),
    });
  }

  // routing_target_exists
  for (const node of nodes) {
    for (const route of node.routes) {
      const target = routeTarget(route);
      if (target !== undefined && !hasNode(ir, target)) {
        findings.push({
          rule: 'routing_target_exists',
          severity: 'error',
          message: `node "${node.id}" routes to "${target}", which is not a node of flow "${ir.id}" (nodes: ${nodeList(ir)}); use an existing node or "out: true" to end`,
          location: routeMember(route, 'to'),
          nodeId: node.id,
        });
      }
    }
  }

  // unreachable_node
  const roots = [...(hasNode(ir, ir.start) ? [ir.start] : []), ...entrypointNodes(ir)];
  const reached = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (reached.has(id)) continue;
    reached.add(id);
    for (const route of ir.nodes[id]?.routes ?? []) {
      const target = routeTarget(route);
      if (target !== undefined && hasNode(ir, target) && !reached.has(target)) queue.push(target);
    }
  }
  if (roots.length > 0) {
    for (const node of nodes) {
      if (!reached.has(node.id)) {
        findings.push({
          rule: 'unreachable_node',
          severity: 'warning',
          message: `node "${node.id}" is not reachable from the start node "${ir.start}" or any entrypoint; route to it or remove it`,
          location: node.location,
          nodeId: node.id,
        });
      }
    }
  }

  // loop_without_wait
  findings.push(...loopFindings(ir));

  // adapter_resolvable
  if (opts.catalog) {
    for (const node of nodes) {
      if (node.kind !== 'adapter') continue;
      const parts = node.op.split('.');
      const adapter = `${parts[0]}.${parts[1]}`;
      const op = parts.slice(2).join('.');
      const ops = Object.hasOwn(opts.catalog.adapters, adapter) ? opts.catalog.adapters[adapter] : undefined;
      if (ops === undefined) {
        const known = Object.keys(opts.catalog.adapters).sort();
        findings.push({
          rule: 'adapter_resolvable',
          severity: 'error',
          message: `node "${node.id}" uses adapter "${adapter}", which the adapter catalog does not provide (adapters: ${known.length > 0 ? known.join(', ') : 'none'}); install it or fix the op key "${node.op}"`,
          location: node.location,
          nodeId: node.id,
        });
      } else if (!ops.includes(op)) {
        findings.push({
          rule: 'adapter_resolvable',
          severity: 'error',
          message: `node "${node.id}" calls operation "${op}" of adapter "${adapter}", which lists only: ${ops.length > 0 ? ops.join(', ') : 'no operations'}; fix the op key "${node.op}"`,
          location: node.location,
          nodeId: node.id,
        });
      }
    }
  }

  // component_resolvable
  if (opts.componentIds !== undefined) {
    const known = new Set(opts.componentIds);
    for (const node of nodes) {
      if (node.kind === 'adapter' || node.kind === 'mcp') continue;
      let name: string | undefined;
      if (node.op === 'component.exec') {
        name = componentName(node);
        if (name === 'component.exec') {
          findings.push({
            rule: 'component_resolvable',
            severity: 'error',
            message: `node "${node.id}" is a component.exec without a "component" field; name the component to run`,
            location: node.location,
            nodeId: node.id,
          });
          continue;
        }
      } else if (
        !ENGINE_BUILTINS.has(node.op) &&
        !ENGINE_BUILTIN_PREFIXES.some((p) => node.op.startsWith(p))
      ) {
        name = node.op;
      }
      if (name === undefined || known.has(name) || known.has(name.split('.')[0]!)) continue;
      findings.push({
        rule: 'component_resolvable',
        severity: 'error',
        message: `node "${node.id}" runs component "${name}", which is neither an engine builtin nor one of the available components (${[...known].sort().join(', ') || 'none'}); add the component or fix the name`,
        location: node.location,
        nodeId: node.id,
      });
    }
  }

  // condition_paths
  for (const node of nodes) {
    for (const route of node.routes) {
      if (route.condition === undefined) continue;
      for (const path of conditionPaths(route.condition)) {
        const problem = checkPath(path, ir);
        if (problem) {
          findings.push({
            rule: 'condition_paths',
            severity: 'warning',
            message: `condition "${route.condition.source}" of node "${node.id}" ${problem}`,
            location: routeMember(route, 'condition'),
            nodeId: node.id,
          });
        }
      }
    }
  }

  // no_route_after_condition
  for (const node of nodes) {
    if (node.routes.length === 0 || !node.routes.every(isGuarded)) continue;
    const last = node.routes[node.routes.length - 1]!;
    findings.push({
      rule: 'no_route_after_condition',
      severity: 'warning',
      message: `every routing arm of node "${node.id}" has a condition, so when none matches the flow ends silently; add a last arm without a condition (e.g. "- to: <node>" or "- out: true")`,
      location: last.location,
      nodeId: node.id,
    });
  }

  return sortFindings(findings);
}

function nodeList(ir: FlowIR): string {
  const ids = Object.keys(ir.nodes);
  return ids.length > 0 ? ids.join(', ') : 'none';
}

const RULE_ORDER = new Map<LintRule, number>(LINT_RULES.map((r, i) => [r, i]));

/** Document order (line, column), then rule order; stable. */
function sortFindings(findings: LintFinding[]): LintFinding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort(
      (a, b) =>
        a.f.location.line - b.f.location.line ||
        a.f.location.column - b.f.location.column ||
        RULE_ORDER.get(a.f.rule)! - RULE_ORDER.get(b.f.rule)! ||
        a.i - b.i,
    )
    .map(({ f }) => f);
}

// ---------------------------------------------------------------------------------------------------------
// loops

/**
 * Cycles in the routing graph with no waiting node. A loop whose every node always takes its first,
 * unconditional arm back into the loop can never end (error); any other such loop can spin a whole turn
 * without asking the user if its conditions keep matching (warning). One finding per loop.
 */
function loopFindings(ir: FlowIR): LintFinding[] {
  const ids = Object.keys(ir.nodes);
  const order = new Map(ids.map((id, i) => [id, i]));
  const candidates = new Set(ids.filter((id) => !isWaitNode(ir.nodes[id]!)));
  const succ = (id: string): string[] => {
    const out: string[] = [];
    for (const route of ir.nodes[id]!.routes) {
      const t = routeTarget(route);
      if (t !== undefined && candidates.has(t) && !out.includes(t)) out.push(t);
    }
    return out;
  };

  const findings: LintFinding[] = [];
  for (const scc of stronglyConnected(
    ids.filter((id) => candidates.has(id)),
    succ,
  )) {
    const members = new Set(scc);
    const head = scc.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
    if (scc.length === 1 && !succ(head).includes(head)) continue;

    const forced = forcedCycle(ir, members, order);
    const cycle = forced ?? findCycle(head, members, succ)!;
    const last = cycle[cycle.length - 1]!;
    const closing = ir.nodes[last]!.routes.find((r) => routeTarget(r) === cycle[0])!;
    const shown = [...cycle, cycle[0]].map((id) => `"${id}"`).join(' → ');
    findings.push({
      rule: 'loop_without_wait',
      severity: forced ? 'error' : 'warning',
      message: forced
        ? `nodes ${shown} always route to each other and none waits for input (questions, qa.process, session.wait or a card), so a turn never ends; add a waiting node or a condition that leaves the loop`
        : `nodes ${shown} form a loop in which no node waits for input (questions, qa.process, session.wait or a card), so a turn can spin forever if its conditions keep matching; add a waiting node or make sure the loop is left`,
      location: closing.location,
      nodeId: cycle[0],
      cycle,
    });
  }
  return findings;
}

/** A cycle inside `members` made only of arms that are always taken, if there is one. */
function forcedCycle(ir: FlowIR, members: Set<string>, order: Map<string, number>): string[] | undefined {
  const next = (id: string): string | undefined => {
    const first = ir.nodes[id]!.routes[0];
    if (first === undefined || !isUnconditional(first)) return undefined;
    const t = routeTarget(first);
    return t !== undefined && members.has(t) ? t : undefined;
  };
  const sorted = [...members].sort((a, b) => order.get(a)! - order.get(b)!);
  for (const start of sorted) {
    const path: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !path.includes(cur)) {
      path.push(cur);
      cur = next(cur);
    }
    if (cur !== undefined) {
      const cycle = path.slice(path.indexOf(cur));
      // Rotate so the earliest node in document order comes first.
      const first = cycle.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
      const k = cycle.indexOf(first);
      return [...cycle.slice(k), ...cycle.slice(0, k)];
    }
  }
  return undefined;
}

/** A simple cycle through `head` within `members` (DFS in route order, so the answer is deterministic). */
function findCycle(head: string, members: Set<string>, succ: (id: string) => string[]): string[] | undefined {
  const path: string[] = [head];
  const seen = new Set<string>([head]);
  const dfs = (id: string): boolean => {
    for (const t of succ(id)) {
      if (!members.has(t)) continue;
      if (t === head) return true;
      if (seen.has(t)) continue;
      seen.add(t);
      path.push(t);
      if (dfs(t)) return true;
      path.pop();
    }
    return false;
  };
  return dfs(head) ? path : undefined;
}

/** Tarjan's strongly connected components, iterative, in a deterministic order. */
function stronglyConnected(ids: string[], succ: (id: string) => string[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let counter = 0;

  for (const root of ids) {
    if (index.has(root)) continue;
    const work: { id: string; next: string[]; i: number }[] = [];
    const visit = (id: string) => {
      index.set(id, counter);
      low.set(id, counter);
      counter++;
      stack.push(id);
      onStack.add(id);
      work.push({ id, next: succ(id), i: 0 });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      if (frame.i < frame.next.length) {
        const t = frame.next[frame.i++]!;
        if (!index.has(t)) visit(t);
        else if (onStack.has(t)) low.set(frame.id, Math.min(low.get(frame.id)!, index.get(t)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const scc: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          scc.push(member);
        } while (member !== frame.id);
        result.push(scc);
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// condition paths

/**
 * The paths a condition reads, as segment lists: `Condition.pathRefs()` (objects with `segments`), else
 * `Condition.paths()` (dotted strings such as `prev.payload.items[0]`); segment arrays are accepted too.
 */
function conditionPaths(condition: unknown): string[][] {
  if (typeof condition !== 'object' || condition === null) return [];
  const c = condition as { pathRefs?: () => unknown; paths?: () => unknown };
  let raw: unknown;
  try {
    // Parsed paths (with segments) when the condition has them, else the paths as written.
    raw = typeof c.pathRefs === 'function' ? c.pathRefs() : typeof c.paths === 'function' ? c.paths() : [];
  } catch {
    return [];
  }
  if (!Array.isArray(raw) && !(raw instanceof Set)) return [];
  const out: string[][] = [];
  for (const p of raw as Iterable<unknown>) {
    const segs = toSegments(p);
    if (segs && segs.length > 0) out.push(segs);
  }
  return out;
}

function toSegments(p: unknown): string[] | undefined {
  if (typeof p === 'string') return splitPath(p);
  if (Array.isArray(p)) return p.map((s) => String(s));
  if (isRecord(p)) {
    if (Array.isArray(p.segments)) return p.segments.map((s) => String(s));
    if (typeof p.path === 'string') return splitPath(p.path);
  }
  return undefined;
}

/** `a.b[0].c` / `a["b.c"]` → `['a', 'b', '0', 'c']` / `['a', 'b.c']`. */
function splitPath(path: string): string[] {
  const segs: string[] = [];
  const re = /\[\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\]]*?))\s*\]|([^.[\]]+)/g;
  for (const m of path.matchAll(re)) segs.push(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
  return segs;
}

function checkPath(segs: string[], ir: FlowIR): string | undefined {
  const [root, second] = segs;
  const shown = segs.join('.');
  if (root === 'node') {
    if (second === undefined) return `reads "node" without a node id; write "node.<id>.<field>"`;
    if (!hasNode(ir, second)) {
      return `reads "${shown}", but "${second}" is not a node of flow "${ir.id}" (nodes: ${nodeList(ir)}); the path is always missing`;
    }
    return undefined;
  }
  if ((SCOPE_ROOTS as readonly string[]).includes(root!)) return undefined;
  if (hasNode(ir, root!)) return undefined;
  return `reads "${shown}", whose root "${root}" is neither a scope root (${SCOPE_ROOTS.join(', ')}) nor a node of flow "${ir.id}"; it falls back to "prev.${shown}" — write that if you mean the previous output, otherwise fix the name`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------------
// adapter catalog

/** Checks a parsed catalog (`{"adapters":{"messaging.telegram":["sendMessage"]}}`). */
export function parseAdapterCatalog(value: unknown, source = '<catalog>'): AdapterCatalog {
  const bad = (what: string) =>
    new FlowError(
      'GT_FLOW_CATALOG',
      `adapter catalog ${source}: ${what}; expected {"adapters": {"<ns>.<adapter>": ["<operation>", …]}}`,
    );
  if (!isRecord(value) || !isRecord(value.adapters)) throw bad('has no "adapters" object');
  const entries: [string, string[]][] = [];
  for (const [name, ops] of Object.entries(value.adapters)) {
    if (!Array.isArray(ops) || !ops.every((o) => typeof o === 'string')) {
      throw bad(`adapter "${name}" must map to a list of operation names`);
    }
    entries.push([name, [...ops]]);
  }
  // fromEntries defines own properties, so even a key like `__proto__` stays data.
  return { adapters: Object.fromEntries(entries) };
}

/** Reads an adapter catalog file (upstream's `registry.json` format). */
export async function loadAdapterCatalog(path: string): Promise<AdapterCatalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new FlowError(
      'GT_FLOW_IO',
      `cannot read adapter catalog ${path}: ${(cause as Error).message}`,
      undefined,
      { cause },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new FlowError(
      'GT_FLOW_CATALOG',
      `adapter catalog ${path} is not valid JSON: ${(cause as Error).message}`,
      undefined,
      { cause },
    );
  }
  return parseAdapterCatalog(value, path);
}
