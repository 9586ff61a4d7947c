import { readFileSync } from 'node:fs';
import { type Condition, parseCondition } from './condition/index.js';
import { FlowError, type FlowErrorCode, formatLocation, type SourceLocation } from './errors.js';
import {
  FLOW_KINDS,
  type FlowIR,
  type FlowKind,
  type NodeIR,
  type NodeKind,
  RESERVED_NODE_KEYS,
  type Route,
  type SlotDefinition,
} from './ir.js';
import { ROUTE_KEYS, type SchemaProblem, validateFlowSchema } from './schema.js';
import { jsonPointer, sourceOffsetInScalar, YamlSource } from './yaml-source.js';

/**
 * The YGTc v2 loader: YAML text → validated `FlowIR`. Checks run in upstream greentic-flow's order, so the
 * first error reported is the one upstream reports (see docs/flow-language.md for the order and for where
 * we are deliberately stricter).
 */

export interface LoadFlowOptions {
  /** File name used in error locations and kept as `FlowIR.file`. */
  file?: string;
  /**
   * Reject what upstream tolerates: `schema_version` < 2 relaxations, `to: out` arms in condition or
   * multi-route lists, unknown top-level keys (other than `x-…`), entry points naming no node, stray keys
   * beside `component.exec`, `operation:` beside another op, and contradictory or empty routes.
   */
  strict?: boolean;
}

/** A loaded flow plus a way to turn any JSON pointer into a source location (for lint and doctor). */
export interface LoadedFlow {
  flow: FlowIR;
  locate(pointer: string): SourceLocation;
}

/** Identifier rule of greentic-types (`validate_identifier`): flow and node ids. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9._-]+$/;

const RESERVED = new Set<string>(RESERVED_NODE_KEYS);
const TOP_LEVEL_KEYS = new Set([
  'id',
  'type',
  'title',
  'description',
  'tags',
  'start',
  'entrypoints',
  'parameters',
  'schema_version',
  'slot_schema',
  'meta',
  'nodes',
]);
/** Reserved keys kept in `NodeIR.reserved` (all but `routing` and `operation`), in emission order. */
export const NODE_RESERVED_ORDER = [
  'in_map',
  'output',
  'out_map',
  'err_map',
  'telemetry',
  'retry',
  'timeout',
  'when',
  'annotations',
  'meta',
] as const;
const SCHEMA_HINT_TYPES = new Set(['webhook', 'timer', 'websocket', 'pubsub']);
const SLOT_TYPES = new Set(['string', 'enum', 'number', 'date', 'boolean']);
const SLOT_KEYS = new Set(['name', 'slot_type', 'pattern', 'required', 'enum_values', 'default_value']);

type Json = Record<string, unknown>;

/** Sets an own property, even for keys such as `__proto__` that plain assignment would misread. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function list(items: readonly string[], max = 20): string {
  if (items.length === 0) return '(none)';
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown}, … (${items.length - max} more)` : shown;
}

/**
 * Loads a flow from YAML text. Throws a `FlowError` whose `location` has the file, 1-based line and column,
 * and JSON pointer of the first problem. Schema errors report every problem: the message lists them all,
 * and `flowErrorDetails(err)` returns one `FlowError` per problem.
 */
export function loadFlow(source: string, opts: LoadFlowOptions = {}): FlowIR {
  return loadFlowWithLocator(source, opts).flow;
}

/** Like `loadFlow`, and also returns a locator for JSON pointers into the source. */
export function loadFlowWithLocator(source: string, opts: LoadFlowOptions = {}): LoadedFlow {
  const src = YamlSource.parse(source, opts.file);
  const flow = new Loader(src, opts.strict ?? false).load();
  return { flow, locate: (pointer) => src.valueLocation(pointer) };
}

/** Reads and loads a `.ygtc` file; `file` defaults to the path. An unreadable file throws `GT_FLOW_IO`. */
export function loadFlowFile(path: string, opts: LoadFlowOptions = {}): FlowIR {
  return loadFlow(readFlowFile(path), { ...opts, file: opts.file ?? path });
}

/** Like `loadFlowFile`, with a locator. */
export function loadFlowFileWithLocator(path: string, opts: LoadFlowOptions = {}): LoadedFlow {
  return loadFlowWithLocator(readFlowFile(path), { ...opts, file: opts.file ?? path });
}

function readFlowFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new FlowError(
      'GT_FLOW_IO',
      `cannot read flow file ${path} (${reason}); check the path and its permissions`,
      undefined,
      { cause: err },
    );
  }
}

/**
 * The individual problems behind an error: for a schema error with several problems, one `FlowError` per
 * problem (each with its own location); otherwise the error itself.
 */
export function flowErrorDetails(err: FlowError): FlowError[] {
  const cause = err.cause;
  if (cause instanceof AggregateError && cause.errors.every((e) => e instanceof FlowError)) {
    return cause.errors as FlowError[];
  }
  return [err];
}

/** The message of a FlowError without its `file:line:col` prefix. */
function bareMessage(err: FlowError): string {
  if (!err.location) return err.message;
  const prefix = `${formatLocation(err.location)} `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

class Loader {
  private doc: Json = {};
  private nodes: Json = {};
  private nodeIds: string[] = [];
  private schemaVersion = 2;
  private relaxed = false;

  constructor(
    private readonly src: YamlSource,
    private readonly strict: boolean,
  ) {}

  private fail(code: FlowErrorCode, message: string, pointer: string, at: 'value' | 'key' = 'value'): never {
    const loc = at === 'key' ? this.src.keyLocation(pointer) : this.src.valueLocation(pointer);
    throw new FlowError(code, message, loc);
  }

  private failProblems(code: FlowErrorCode, headline: string, problems: SchemaProblem[]): never {
    const details = problems
      .map((p) => {
        const loc =
          p.at === 'key'
            ? this.src.keyLocation(p.pointer)
            : p.at === 'parent'
              ? {
                  ...this.src.keyLocation(p.pointer.slice(0, p.pointer.lastIndexOf('/'))),
                  pointer: p.pointer,
                }
              : this.src.valueLocation(p.pointer);
        return new FlowError(code, `${p.message} (at ${p.pointer || '/'})`, loc);
      })
      .sort((a, b) => a.location!.line - b.location!.line || a.location!.column - b.location!.column);
    const first = details[0]!;
    if (details.length === 1) throw first;
    const message = `${headline} (${details.length} problems):\n${details.map((d) => `  ${d.message}`).join('\n')}`;
    throw new FlowError(code, message, first.location, { cause: new AggregateError(details, headline) });
  }

  load(): FlowIR {
    this.checkDocumentShape();
    this.checkType();
    this.checkOneOperationPerNode();
    this.checkRoutingShorthands();
    this.checkNotEmpty();
    this.checkSchema();
    this.checkTyping();
    this.checkMcpNodes();
    const routes = this.buildRoutes();
    const start = this.resolveStart();
    const kind = this.checkKind();
    this.checkNodeIds();
    if (this.strict) this.checkStrictRouting(routes);
    this.checkFlowId();
    const slotSchema = this.checkSlotSchema();
    if (this.strict) this.checkStrictEntrypoints();
    return this.build(kind, start, routes, slotSchema);
  }

  // ---- load stage -------------------------------------------------------------------------------------

  /** Step 1b: the document must be a mapping. Step 2: a missing or null `nodes` becomes `{}`. */
  private checkDocumentShape(): void {
    const data = this.src.data;
    if (!isObject(data)) {
      const found =
        data === null || data === undefined
          ? 'an empty document'
          : Array.isArray(data)
            ? 'a list'
            : 'a scalar';
      this.fail(
        'GT_FLOW_SCHEMA',
        `a flow file must be a YAML mapping with "id", "type" and "nodes", found ${found}`,
        '',
      );
    }
    this.doc = data;
    if (this.doc.nodes === undefined || this.doc.nodes === null) this.doc.nodes = {};
    const sv = this.doc.schema_version;
    this.schemaVersion = typeof sv === 'number' && Number.isInteger(sv) && sv >= 0 ? sv : 2;
    this.relaxed = this.schemaVersion < 2 && !this.strict;
    if (isObject(this.doc.nodes)) {
      this.nodes = this.doc.nodes;
      this.nodeIds = this.src.mapKeys('/nodes') ?? Object.keys(this.nodes);
      // JSON objects reorder integer-like keys; keep the document order where the two agree.
      if (this.nodeIds.length !== Object.keys(this.nodes).length) this.nodeIds = Object.keys(this.nodes);
    }
  }

  /** Step 3: no `type` key at all is a schema error, before anything else. */
  private checkType(): void {
    if (!Object.hasOwn(this.doc, 'type')) {
      throw new FlowError(
        'GT_FLOW_SCHEMA',
        `the flow has no "type": add e.g. "type: messaging" (one of ${FLOW_KINDS.join(', ')})`,
        { ...this.src.valueLocation(''), pointer: '/type' },
      );
    }
  }

  /** Step 4: every node has exactly one operation key (skipped when `schema_version` < 2). */
  private checkOneOperationPerNode(): void {
    for (const id of this.nodeIds) {
      const node = this.nodes[id];
      if (!isObject(node)) continue;
      const opKeys = Object.keys(node).filter((k) => !RESERVED.has(k));
      if (opKeys.length === 1) continue;
      const combo = opKeys.length === 2 && opKeys.includes('component.exec') && !this.strict;
      if (combo || this.relaxed) continue;
      const reservedList = RESERVED_NODE_KEYS.join(', ');
      if (opKeys.length === 0) {
        this.fail(
          'GT_FLOW_NODE_SHAPE',
          `node "${id}" has no operation key (it only has ${list(Object.keys(node))}); give it exactly one, e.g. "emit.response: {text: …}" or "component.exec: {…}"`,
          jsonPointer('nodes', id),
          'key',
        );
      }
      const extra = opKeys[1]!;
      const hints: string[] = [];
      if (opKeys.includes('routes')) hints.push('"routes" is not a node key: did you mean "routing"?');
      if (opKeys.includes('component.exec') && this.strict)
        hints.push(
          'strict mode tolerates nothing beside "component.exec" but "operation" and the reserved keys',
        );
      this.fail(
        'GT_FLOW_NODE_SHAPE',
        `node "${id}" has ${opKeys.length} operation keys (${opKeys.join(', ')}); a node runs exactly one operation: split it into several nodes, or move metadata under a reserved key (${reservedList})${hints.length ? `. ${hints.join('; ')}` : ''}`,
        jsonPointer('nodes', id, extra),
        'key',
      );
    }
  }

  /**
   * Step 8a, brought forward: a routing shorthand other than `out`/`reply` is a routing error (upstream's
   * own unit test expects `Routing`; its schema, which runs first, would call it a schema error).
   */
  private checkRoutingShorthands(): void {
    for (const id of this.nodeIds) {
      const node = this.nodes[id];
      if (!isObject(node) || typeof node.routing !== 'string') continue;
      const r = node.routing;
      if (r !== 'out' && r !== 'reply') {
        const isNode = this.nodeIds.includes(r);
        this.fail(
          'GT_FLOW_ROUTING',
          `invalid routing shorthand "${r}" in node "${id}": the shorthands are "out" (end the flow) and "reply" (reply, then end)${isNode ? `; to continue with node "${r}" write "routing: [{to: ${r}}]"` : '; otherwise write a list of routes'}`,
          jsonPointer('nodes', id, 'routing'),
        );
      }
    }
  }

  /** Ours: a flow without nodes is always rejected (upstream accepted it silently: greenticai/greentic#289). */
  private checkNotEmpty(): void {
    if (isObject(this.doc.nodes) && Object.keys(this.doc.nodes).length === 0) {
      const has = this.src.has('/nodes');
      const loc = has ? this.src.keyLocation('/nodes') : { ...this.src.valueLocation(''), pointer: '/nodes' };
      throw new FlowError(
        'GT_FLOW_EMPTY',
        `flow "${String(this.doc.id ?? '')}" has no nodes${has ? '' : ' ("nodes" is missing)'}: a flow needs at least one node to run; add one under "nodes:"`,
        loc,
      );
    }
  }

  /** Step 5: JSON-Schema validation (v2, or any version in strict mode). */
  private checkSchema(): void {
    if (this.relaxed) return;
    const problems = validateFlowSchema(this.doc);
    if (this.strict) problems.push(...this.unknownTopLevelKeys());
    if (problems.length > 0)
      this.failProblems('GT_FLOW_SCHEMA', 'the flow does not match the YGTc v2 schema', problems);
  }

  private unknownTopLevelKeys(): SchemaProblem[] {
    return Object.keys(this.doc)
      .filter((k) => !TOP_LEVEL_KEYS.has(k) && !k.startsWith('x-'))
      .map((k) => ({
        pointer: jsonPointer(k),
        at: 'key' as const,
        message: `unknown top-level key "${k}" (strict mode allows only ${[...TOP_LEVEL_KEYS].join(', ')} and "x-…" keys)`,
      }));
  }

  /**
   * Step 6: the document must have the types the IR needs. With the schema applied this only catches what
   * the schema leaves open; with `schema_version` < 2 it is the only structural check.
   */
  private checkTyping(): void {
    const problems: SchemaProblem[] = [];
    const d = this.doc;
    const str = (key: string, required: boolean) => {
      const v = d[key];
      if (v === undefined || (v === null && !required)) {
        if (required)
          problems.push({
            pointer: `/${key}`,
            at: 'parent',
            message: `the flow has no "${key}": add it at the top level`,
          });
        return;
      }
      if (typeof v !== 'string')
        problems.push({ pointer: `/${key}`, at: 'value', message: `"${key}" must be a string` });
    };
    str('id', true);
    str('type', true);
    str('title', false);
    str('description', false);
    str('start', false);
    for (const key of ['parameters', 'meta', 'entrypoints']) {
      const v = d[key];
      if (v !== undefined && v !== null && !isObject(v))
        problems.push({ pointer: `/${key}`, at: 'value', message: `"${key}" must be a mapping` });
    }
    if (d.tags !== undefined && d.tags !== null) {
      if (!Array.isArray(d.tags) || d.tags.some((t) => typeof t !== 'string'))
        problems.push({ pointer: '/tags', at: 'value', message: '"tags" must be a list of strings' });
    }
    if (d.slot_schema !== undefined && d.slot_schema !== null) {
      if (!Array.isArray(d.slot_schema)) {
        problems.push({
          pointer: '/slot_schema',
          at: 'value',
          message: '"slot_schema" must be a list of slot definitions',
        });
      } else {
        d.slot_schema.forEach((slot, i) => {
          const p = jsonPointer('slot_schema', i);
          if (!isObject(slot)) {
            problems.push({ pointer: p, at: 'value', message: 'a slot definition must be a mapping' });
            return;
          }
          if (typeof slot.name !== 'string')
            problems.push({ pointer: `${p}/name`, at: 'parent', message: 'a slot needs a string "name"' });
          if (typeof slot.slot_type !== 'string' || !SLOT_TYPES.has(slot.slot_type))
            problems.push({
              pointer: `${p}/slot_type`,
              at: 'parent',
              message: `a slot needs "slot_type" (one of ${[...SLOT_TYPES].join(', ')})`,
            });
          for (const k of Object.keys(slot))
            if (!SLOT_KEYS.has(k))
              problems.push({
                pointer: `${p}/${k}`,
                at: 'key',
                message: `"${k}" is not a slot key (allowed: ${[...SLOT_KEYS].join(', ')})`,
              });
        });
      }
    }
    if (!isObject(d.nodes)) {
      problems.push({
        pointer: '/nodes',
        at: 'value',
        message: '"nodes" must be a mapping of node id → node',
      });
    } else {
      for (const id of this.nodeIds) {
        const node = this.nodes[id];
        const p = jsonPointer('nodes', id);
        if (!isObject(node)) {
          problems.push({
            pointer: p,
            at: 'value',
            message: `node "${id}" must be a mapping with one operation key`,
          });
          continue;
        }
        if (node.operation !== undefined && node.operation !== null && typeof node.operation !== 'string')
          problems.push({ pointer: `${p}/operation`, at: 'value', message: '"operation" must be a string' });
      }
    }
    if (problems.length > 0) this.failProblems('GT_FLOW_SCHEMA', 'the flow has the wrong shape', problems);
  }

  /** Step 7: `mcp` payloads: `server` and `tool` non-empty strings, `arguments` a mapping, `output` a string. */
  private checkMcpNodes(): void {
    for (const id of this.nodeIds) {
      const node = this.nodes[id] as Json;
      if (!Object.hasOwn(node, 'mcp')) continue;
      const payload = node.mcp;
      const p = jsonPointer('nodes', id, 'mcp');
      const fix =
        'an mcp node looks like "mcp: {server: <server id>, tool: <tool name>, arguments: {…}, output: <key>}"';
      if (!isObject(payload))
        this.fail('GT_FLOW_MCP_CONFIG', `mcp node "${id}": the payload must be a mapping; ${fix}`, p);
      for (const key of ['server', 'tool']) {
        const v = payload[key];
        if (typeof v !== 'string' || v.length === 0) {
          const what = v === undefined ? 'is missing' : `must be a non-empty string`;
          if (v === undefined) {
            throw new FlowError('GT_FLOW_MCP_CONFIG', `mcp node "${id}": "${key}" ${what}; ${fix}`, {
              ...this.src.keyLocation(p),
              pointer: `${p}/${key}`,
            });
          }
          this.fail('GT_FLOW_MCP_CONFIG', `mcp node "${id}": "${key}" ${what}; ${fix}`, `${p}/${key}`);
        }
      }
      if (payload.arguments !== undefined && !isObject(payload.arguments))
        this.fail(
          'GT_FLOW_MCP_CONFIG',
          `mcp node "${id}": "arguments" must be a mapping of tool argument → value; ${fix}`,
          `${p}/arguments`,
        );
      if (payload.output !== undefined && typeof payload.output !== 'string')
        this.fail(
          'GT_FLOW_MCP_CONFIG',
          `mcp node "${id}": "output" must be a string (the key the tool result is stored under); ${fix}`,
          `${p}/output`,
        );
    }
  }

  /** Step 8: routing forms, targets (`to: out` means end), and (ours) conditions parsed at load time. */
  private buildRoutes(): Map<string, { routes: Route[]; form: NodeIR['routingForm'] }> {
    const out = new Map<string, { routes: Route[]; form: NodeIR['routingForm'] }>();
    for (const id of this.nodeIds) out.set(id, this.parseRouting(id, (this.nodes[id] as Json).routing));
    for (const id of this.nodeIds) {
      out.get(id)!.routes.forEach((route, i) => {
        if (route.to !== undefined && route.to !== 'out' && !Object.hasOwn(this.nodes, route.to)) {
          this.fail(
            'GT_FLOW_MISSING_NODE',
            `routing target "${route.to}" of node "${id}" is not a node of flow "${String(this.doc.id)}" (nodes: ${list(this.nodeIds)}); use one of them, or "out: true" to end the flow`,
            jsonPointer('nodes', id, 'routing', i, 'to'),
          );
        }
      });
    }
    for (const id of this.nodeIds) {
      const raw = (this.nodes[id] as Json).routing;
      if (!Array.isArray(raw)) continue;
      out.get(id)!.routes.forEach((route, i) => {
        const text = (raw[i] as Json).condition;
        if (typeof text === 'string') route.condition = this.parseConditionAt(text, id, i);
      });
    }
    return out;
  }

  private parseRouting(id: string, raw: unknown): { routes: Route[]; form: NodeIR['routingForm'] } {
    const p = jsonPointer('nodes', id, 'routing');
    if (raw === undefined || raw === null) return { routes: [], form: 'absent' };
    if (raw === 'out') return { routes: [{ out: true, location: this.src.valueLocation(p) }], form: 'out' };
    if (raw === 'reply')
      return { routes: [{ reply: true, location: this.src.valueLocation(p) }], form: 'reply' };
    if (!Array.isArray(raw)) {
      this.fail('GT_FLOW_ROUTING', `routing of node "${id}" must be "out", "reply" or a list of routes`, p);
    }
    const routes = raw.map((item, i): Route => {
      const ip = jsonPointer('nodes', id, 'routing', i);
      if (!isObject(item)) {
        this.fail(
          'GT_FLOW_ROUTING',
          `route ${i + 1} of node "${id}" must be a mapping such as "{to: <node id>}" or "{out: true}"`,
          ip,
        );
      }
      const route: Route = { location: this.src.valueLocation(ip) };
      for (const [key, value] of Object.entries(item)) {
        if (!(ROUTE_KEYS as readonly string[]).includes(key)) {
          this.fail(
            'GT_FLOW_ROUTING',
            `"${key}" is not a route key (a route has ${ROUTE_KEYS.join(', ')})`,
            `${ip}/${key}`,
            'key',
          );
        }
        if (value === null) continue; // `to:` with no value: absent, as upstream reads it
        const want = key === 'to' || key === 'status' || key === 'condition' ? 'string' : 'boolean';
        if (typeof value !== want) {
          this.fail(
            'GT_FLOW_ROUTING',
            `"${key}" of route ${i + 1} in node "${id}" must be a ${want}`,
            `${ip}/${key}`,
          );
        }
        if (key === 'to') route.to = value as string;
        else if (key === 'status') route.status = value as string;
        else if (key === 'out') route.out = value as boolean;
        else if (key === 'reply') route.reply = value as boolean;
        else if (key === 'on_message') route.on_message = value as boolean;
        // `condition` is parsed once every target is known to exist.
      }
      return route;
    });
    return { routes, form: 'list' };
  }

  private parseConditionAt(text: string, id: string, index: number): Condition {
    try {
      return parseCondition(text);
    } catch (err) {
      const pointer = jsonPointer('nodes', id, 'routing', index, 'condition');
      const inner = err instanceof FlowError ? err : undefined;
      let offset = 0;
      const loc = inner?.location;
      if (loc) {
        const lines = text.split('\n');
        for (let l = 0; l < loc.line - 1 && l < lines.length; l++) offset += lines[l]!.length + 1;
        offset = Math.max(0, Math.min(text.length, offset + loc.column - 1));
      }
      const scalar = this.src.scalarAt(pointer);
      const location = scalar
        ? this.src.locationAt(sourceOffsetInScalar(scalar, offset), pointer)
        : this.src.valueLocation(pointer);
      const why = inner ? bareMessage(inner) : (err as Error).message;
      throw new FlowError('GT_FLOW_CONDITION', `node "${id}", route ${index + 1}: ${why}`, location, {
        cause: err,
      });
    }
  }

  /** Step 9: `start`, else a node named `in`, else the first node. Ours: an explicit `start` must exist. */
  private resolveStart(): string {
    const start = this.doc.start;
    if (typeof start === 'string') {
      if (!Object.hasOwn(this.nodes, start)) {
        this.fail(
          'GT_FLOW_MISSING_NODE',
          `start node "${start}" is not a node of flow "${String(this.doc.id)}" (nodes: ${list(this.nodeIds)}); set "start" to one of them or remove it (the default is the node "in", else the first node)`,
          '/start',
        );
      }
      return start;
    }
    if (Object.hasOwn(this.nodes, 'in')) return 'in';
    return this.nodeIds[0]!;
  }

  // ---- compile stage ----------------------------------------------------------------------------------

  /** Step 10: the flow kind. */
  private checkKind(): FlowKind {
    const t = this.doc.type as string;
    if (!(FLOW_KINDS as readonly string[]).includes(t)) {
      const note = SCHEMA_HINT_TYPES.has(t)
        ? ' (the upstream schema mentions it, but no runtime accepts it)'
        : '';
      this.fail(
        'GT_FLOW_UNKNOWN_TYPE',
        `unknown flow type "${t}"${note}; use one of ${FLOW_KINDS.join(', ')}`,
        '/type',
      );
    }
    return t as FlowKind;
  }

  /** Step 11: node ids are identifiers. */
  private checkNodeIds(): void {
    for (const id of this.nodeIds) {
      if (!IDENTIFIER_PATTERN.test(id)) {
        this.fail(
          'GT_FLOW_BAD_IDENTIFIER',
          `node id "${id}" is not a valid identifier: use only letters, digits, ".", "_" and "-"`,
          jsonPointer('nodes', id),
          'key',
        );
      }
    }
  }

  /**
   * Step 12 (strict only): upstream's compiler does not treat `to: out` as the end in a list with a
   * condition, nor in a multi-route list before the first `out`/`reply` arm; it reports a missing node.
   * Also rejects contradictory routes (`to` with `out: true`) and routes that say nothing.
   */
  private checkStrictRouting(all: Map<string, { routes: Route[]; form: NodeIR['routingForm'] }>): void {
    for (const id of this.nodeIds) {
      const { routes, form } = all.get(id)!;
      if (form !== 'list') continue;
      const rp = (i: number, key?: string) =>
        key ? jsonPointer('nodes', id, 'routing', i, key) : jsonPointer('nodes', id, 'routing', i);
      routes.forEach((r, i) => {
        if (r.to !== undefined && r.to !== 'out' && r.out === true)
          this.fail(
            'GT_FLOW_ROUTING',
            `route ${i + 1} of node "${id}" both continues to "${r.to}" and ends the flow (out: true); keep one (strict mode)`,
            rp(i),
          );
        if (Object.keys(r).length === 1)
          this.fail(
            'GT_FLOW_ROUTING',
            `route ${i + 1} of node "${id}" is empty; give it "to", "out", "reply" or "status" (strict mode)`,
            rp(i),
          );
      });
      const outMessage = (i: number) =>
        this.fail(
          'GT_FLOW_MISSING_NODE',
          `route ${i + 1} of node "${id}" says "to: out", which upstream's compiler reads as a node named "out" in this list (nodes: ${list(this.nodeIds)}); write "out: true" to end the flow (strict mode)`,
          rp(i, 'to'),
        );
      if (routes.some((r) => r.condition !== undefined)) {
        routes.forEach((r, i) => {
          if (r.to === 'out' && !Object.hasOwn(this.nodes, 'out')) outMessage(i);
        });
      } else if (routes.length >= 2) {
        for (let i = 0; i < routes.length; i++) {
          const r = routes[i]!;
          if (r.reply === true || r.out === true || r.to === undefined) break;
          if (r.to === 'out' && !Object.hasOwn(this.nodes, 'out')) outMessage(i);
        }
      }
    }
  }

  /** Step 13: the flow id is an identifier. */
  private checkFlowId(): void {
    const id = this.doc.id as string;
    if (!IDENTIFIER_PATTERN.test(id)) {
      this.fail(
        'GT_FLOW_BAD_IDENTIFIER',
        `flow id "${id}" is not a valid identifier: use only letters, digits, ".", "_" and "-"`,
        '/id',
      );
    }
  }

  /** Step 14: slot names unique, patterns valid regular expressions. */
  private checkSlotSchema(): SlotDefinition[] | undefined {
    const raw = this.doc.slot_schema;
    if (!Array.isArray(raw)) return undefined;
    const seen = new Map<string, number>();
    raw.forEach((slot: Json, i) => {
      const name = slot.name as string;
      const prev = seen.get(name);
      if (prev !== undefined) {
        this.fail(
          'GT_FLOW_SLOT_SCHEMA',
          `slot name "${name}" is used twice in slot_schema (entries ${prev + 1} and ${i + 1}); slot names must be unique`,
          jsonPointer('slot_schema', i, 'name'),
        );
      }
      seen.set(name, i);
      if (typeof slot.pattern === 'string') {
        const problem = regexProblem(slot.pattern);
        if (problem) {
          this.fail(
            'GT_FLOW_SLOT_SCHEMA',
            `pattern of slot "${name}" is not a valid regular expression: ${problem}`,
            jsonPointer('slot_schema', i, 'pattern'),
          );
        }
      }
    });
    return raw as SlotDefinition[];
  }

  /** Strict only: every entry point names an existing node. */
  private checkStrictEntrypoints(): void {
    const eps = this.doc.entrypoints;
    if (!isObject(eps)) return;
    for (const [name, target] of Object.entries(eps)) {
      const p = jsonPointer('entrypoints', name);
      if (typeof target !== 'string')
        this.fail('GT_FLOW_SCHEMA', `entry point "${name}" must name a node (a string) in strict mode`, p);
      if (!Object.hasOwn(this.nodes, target))
        this.fail(
          'GT_FLOW_MISSING_NODE',
          `entry point "${name}" names "${target}", which is not a node of flow "${String(this.doc.id)}" (nodes: ${list(this.nodeIds)})`,
          p,
        );
    }
  }

  // ---- IR -----------------------------------------------------------------------------------------------

  private build(
    kind: FlowKind,
    start: string,
    routes: Map<string, { routes: Route[]; form: NodeIR['routingForm'] }>,
    slotSchema: SlotDefinition[] | undefined,
  ): FlowIR {
    const d = this.doc;
    const ir: FlowIR = {
      id: d.id as string,
      kind,
      schemaVersion: this.schemaVersion,
      schemaVersionExplicit: d.schema_version !== undefined,
      start,
      parameters: isObject(d.parameters) ? d.parameters : {},
      extra: {},
      nodes: {},
    };
    if (typeof d.title === 'string') ir.title = d.title;
    if (typeof d.description === 'string') ir.description = d.description;
    if (Array.isArray(d.tags)) ir.tags = d.tags as string[];
    if (typeof d.start === 'string') ir.startExplicit = d.start;
    if (isObject(d.entrypoints)) ir.entrypoints = d.entrypoints;
    if (slotSchema) ir.slotSchema = slotSchema;
    if (isObject(d.meta)) ir.meta = d.meta;
    for (const [k, v] of Object.entries(d)) if (!TOP_LEVEL_KEYS.has(k)) setOwn(ir.extra, k, v);
    for (const id of this.nodeIds) setOwn(ir.nodes, id, this.buildNode(id, routes.get(id)!));
    if (this.src.file !== undefined) ir.file = this.src.file;
    return ir;
  }

  private buildNode(id: string, routing: { routes: Route[]; form: NodeIR['routingForm'] }): NodeIR {
    const raw = this.nodes[id] as Json;
    const opKeys = Object.keys(raw).filter((k) => !RESERVED.has(k));
    if (opKeys.length === 0) {
      // Only reachable with schema_version < 2, where upstream skips the one-op rule.
      this.fail(
        'GT_FLOW_NODE_SHAPE',
        `node "${id}" has no operation key; even with schema_version ${this.schemaVersion} a node needs one (e.g. "component.exec: {…}")`,
        jsonPointer('nodes', id),
        'key',
      );
    }
    // Upstream's compiler takes the last non-reserved key; `component.exec` wins when present.
    const op = opKeys.includes('component.exec') ? 'component.exec' : opKeys[opKeys.length - 1]!;
    if (this.strict && typeof raw.operation === 'string' && op !== 'component.exec') {
      this.fail(
        'GT_FLOW_NODE_SHAPE',
        `node "${id}" has "operation: ${raw.operation}" beside "${op}"; only "component.exec" takes an operation (strict mode)`,
        jsonPointer('nodes', id, 'operation'),
        'key',
      );
    }
    const node: NodeIR = {
      id,
      op,
      kind: classifyOp(op),
      payload: raw[op],
      reserved: {},
      routes: routing.routes,
      routingForm: routing.form,
      location: this.src.keyLocation(jsonPointer('nodes', id)),
    };
    if (typeof raw.operation === 'string') node.operation = raw.operation;
    for (const key of NODE_RESERVED_ORDER) if (Object.hasOwn(raw, key)) node.reserved[key] = raw[key];
    const extra = opKeys.filter((k) => k !== op);
    if (extra.length > 0) {
      node.extra = {};
      for (const k of extra) setOwn(node.extra, k, raw[k]);
    }
    return node;
  }
}

/**
 * Upstream classification: `mcp` is MCP, `component.exec` an explicit component call, a key of three or
 * more dot-separated parts an adapter (`ns.adapter.op`), anything else a builtin.
 */
export function classifyOp(op: string): NodeKind {
  if (op === 'mcp') return 'mcp';
  if (op === 'component.exec') return 'component';
  if (op.split('.').length >= 3) return 'adapter';
  return 'builtin';
}

/**
 * Checks a slot pattern. Patterns are written for upstream's Rust `regex` crate; a leading inline flag group
 * such as `(?i)` is accepted and applied as a flag, the rest must be a valid JavaScript regular expression.
 */
export function regexProblem(pattern: string): string | undefined {
  const m = /^\(\?([imsx]+)\)/.exec(pattern);
  const flags = m ? [...new Set(m[1]!.replace('x', ''))].join('') : '';
  const body = m ? pattern.slice(m[0].length) : pattern;
  try {
    new RegExp(body, flags);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
