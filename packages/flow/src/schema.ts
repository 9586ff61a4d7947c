import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';

/**
 * JSON-Schema validation of a flow document against upstream's YGTc v2 schema
 * (`schemas/ygtc.flow.schema.json`, shipped byte for byte with this package), turned into readable
 * problems with JSON pointers. The schema is compiled once per process, on first use.
 */

/** Where the shipped schema lives (next to `src/` and `dist/`). */
export const FLOW_SCHEMA_PATH = new URL('../schemas/ygtc.flow.schema.json', import.meta.url);
/** The `$id` of upstream's schema, which we ship unchanged. */
export const FLOW_SCHEMA_ID =
  'https://raw.githubusercontent.com/greenticai/greentic-flow/refs/heads/master/schemas/ygtc.flow.schema.json';

/** Node id pattern of the schema (`nodes` keys); stricter than the identifier rule. */
export const SCHEMA_NODE_ID_PATTERN = /^[a-zA-Z_][\w-]*$/;
/** Operation key pattern of the schema. */
export const SCHEMA_OP_KEY_PATTERN = /^[A-Za-z_][\w.-]*$/;

/** Keys a route item may have. `on_message` is our one extension to upstream's schema (newer upstream has it). */
export const ROUTE_KEYS = ['to', 'out', 'status', 'reply', 'condition', 'on_message'] as const;

export interface SchemaProblem {
  /** JSON pointer of the offending value (for a missing key: where it should be). */
  pointer: string;
  /** What is wrong and what to do. */
  message: string;
  /** Which source position to report: the value, the member's key, or (missing keys) the parent value. */
  at: 'value' | 'key' | 'parent';
}

let cachedSchema: Record<string, unknown> | undefined;
let cachedValidator: ValidateFunction | undefined;

/** The upstream schema exactly as shipped (parsed once). */
export function flowSchema(): Record<string, unknown> {
  cachedSchema ??= JSON.parse(readFileSync(FLOW_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
  return cachedSchema;
}

/** Just enough of a JSON Schema's shape to walk it. */
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  patternProperties?: Record<string, SchemaNode>;
  oneOf?: SchemaNode[];
  items?: SchemaNode;
  [keyword: string]: unknown;
}

/** The schema the loader validates with: upstream's plus `on_message: boolean` in route items. */
function effectiveSchema(): SchemaNode {
  const schema = structuredClone(flowSchema()) as SchemaNode;
  for (const nodeSchema of Object.values(schema.properties?.nodes?.patternProperties ?? {})) {
    for (const alt of nodeSchema.properties?.routing?.oneOf ?? []) {
      const props = alt.items?.properties;
      if (props && !props.on_message) {
        props.on_message = {
          type: 'boolean',
          description: 'Greentic-TS: taken only when a parked node is resumed by a typed message',
        };
      }
    }
  }
  return schema;
}

function validator(): ValidateFunction {
  if (!cachedValidator) {
    // ajv ships CommonJS; depending on the interop the class is the module or its `default`.
    const mod = Ajv2020Module as unknown as { default?: unknown };
    const Ajv = (mod.default ?? mod) as new (
      opts: Record<string, unknown>,
    ) => {
      compile(schema: unknown): ValidateFunction;
    };
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, validateFormats: false });
    cachedValidator = ajv.compile(effectiveSchema());
  }
  return cachedValidator;
}

/** Validates `doc` (plain data) and returns every problem, pruned and phrased for people. */
export function validateFlowSchema(doc: unknown): SchemaProblem[] {
  const validate = validator();
  if (validate(doc)) return [];
  const errors = prune([...(validate.errors ?? [])]);
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const e of errors) {
    const p = describe(e);
    const key = `${p.pointer}\u0000${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  }
  return problems;
}

/**
 * ajv with `allErrors` reports every branch of a failed `oneOf`/`anyOf`. Keep the branch that matches the
 * value's type (e.g. for `routing: [ ... ]` the list branch, not the "must be a string" one); when no branch
 * has the right type, keep only the combinator error. `if` errors are noise next to their `then` errors.
 */
/** For a combinator whose branches all have the wrong type: the types the branches want. */
const expectedTypes = new WeakMap<ErrorObject, string[]>();

function prune(errors: ErrorObject[]): ErrorObject[] {
  let errs = errors.filter((e) => e.keyword !== 'if');
  const combos = errs
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const combo of combos) {
    const prefix = `${combo.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of errs) {
      if (!e.schemaPath.startsWith(prefix)) continue;
      const idx = e.schemaPath.slice(prefix.length).split('/')[0]!;
      const list = branches.get(idx) ?? [];
      list.push(e);
      branches.set(idx, list);
    }
    const wrongType = (list: ErrorObject[]) =>
      list.some((e) => e.keyword === 'type' && e.instancePath === combo.instancePath);
    const alive = [...branches.values()].filter((l) => !wrongType(l));
    const drop = new Set<ErrorObject>();
    if (alive.length > 0) {
      drop.add(combo);
      for (const list of branches.values()) if (wrongType(list)) for (const e of list) drop.add(e);
    } else {
      const types = new Set<string>();
      for (const list of branches.values()) {
        for (const e of list) {
          drop.add(e);
          if (e.keyword === 'type' && e.instancePath === combo.instancePath) types.add(String(e.params.type));
        }
      }
      if (types.size > 0) expectedTypes.set(combo, [...types]);
    }
    errs = errs.filter((e) => !drop.has(e));
  }
  return errs;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string')
    return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  boolean: 'a boolean (true or false)',
  integer: 'an integer',
  number: 'a number',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function typeName(t: unknown): string {
  if (Array.isArray(t)) return t.map(typeName).join(' or ');
  return TYPE_NAMES[String(t)] ?? String(t);
}

function lastSegment(pointer: string): string {
  const i = pointer.lastIndexOf('/');
  return pointer
    .slice(i + 1)
    .replace(/~1/g, '/')
    .replace(/~0/g, '~');
}

const NODE_RE = /^\/nodes\/[^/]+$/;
const ROUTING_RE = /^\/nodes\/[^/]+\/routing$/;
const ROUTE_RE = /^\/nodes\/[^/]+\/routing\/\d+$/;

const ROUTE_KEY_HINTS: Record<string, string> = {
  next: 'write "to: <node id>" instead of "next:"',
  goto: 'write "to: <node id>" instead of "goto:"',
  target: 'write "to: <node id>" instead of "target:"',
  when: 'write "condition: <expression>" instead of "when:"',
  if: 'write "condition: <expression>" instead of "if:"',
  action: 'match a card action with "condition: response.action == \\"<id>\\""',
};

function describe(e: ErrorObject): SchemaProblem {
  const at = e.instancePath;
  const params = e.params as Record<string, unknown>;
  const name = lastSegment(at);
  switch (e.keyword) {
    case 'required': {
      const prop = String(params.missingProperty);
      const pointer = `${at}/${prop.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (at === '')
        return { pointer, at: 'parent', message: `the flow has no "${prop}": add it at the top level` };
      if (e.schemaPath.includes('/then/')) {
        const slotType = (e.data as Record<string, unknown> | undefined)?.slot_type;
        return {
          pointer,
          at: 'parent',
          message: `a slot of slot_type ${JSON.stringify(slotType)} needs "${prop}"`,
        };
      }
      return { pointer, at: 'parent', message: `missing required key "${prop}"` };
    }
    case 'additionalProperties': {
      const prop = String(params.additionalProperty);
      const pointer = `${at}/${prop.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const allowed = Object.keys((e.parentSchema as SchemaNode | undefined)?.properties ?? {});
      let message: string;
      if (at === '/nodes') {
        message = `"${prop}" is not a valid node id: node ids start with a letter or "_" and contain only letters, digits, "_" and "-"`;
      } else if (NODE_RE.test(at)) {
        message = `"${prop}" is not a valid node key: an operation key starts with a letter or "_" and contains only letters, digits, "_", "." and "-"`;
      } else if (ROUTE_RE.test(at)) {
        const hint = ROUTE_KEY_HINTS[prop];
        message = `"${prop}" is not a route key (a route has ${allowed.join(', ')})${hint ? `; ${hint}` : ''}`;
      } else {
        const where = name ? `"${name}"` : 'this mapping';
        message = `"${prop}" is not allowed in ${where}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`;
      }
      return { pointer, at: 'key', message };
    }
    case 'type': {
      if (ROUTING_RE.test(at)) {
        return {
          pointer: at,
          at: 'value',
          message: `routing must be "out", "reply" or a list of routes, found ${describeValue(e.data)}`,
        };
      }
      if (NODE_RE.test(at)) {
        return {
          pointer: at,
          at: 'value',
          message: `node "${name}" must be a mapping with one operation key, found ${describeValue(e.data)}`,
        };
      }
      const subject = at === '' ? 'the flow' : `"${name}"`;
      if (/\/routing\/\d+\/out$/.test(at) && typeof e.data === 'string') {
        return {
          pointer: at,
          at: 'value',
          message: `"out" must be true or false, found the string ${JSON.stringify(e.data)}; to branch on a card button write "condition: response.action == ${JSON.stringify(e.data)}"`,
        };
      }
      return {
        pointer: at,
        at: 'value',
        message: `${subject} must be ${typeName(params.type)}, found ${describeValue(e.data)}`,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      const subject = ROUTING_RE.test(at) ? 'routing' : `"${name}"`;
      const extra = ROUTING_RE.test(at) ? ' (or a list of routes)' : '';
      return {
        pointer: at,
        at: 'value',
        message: `${subject} must be one of ${allowed}${extra}, found ${describeValue(e.data)}`,
      };
    }
    case 'minProperties':
      if (NODE_RE.test(at)) {
        return {
          pointer: at,
          at: 'value',
          message: `node "${name}" is empty: give it exactly one operation key`,
        };
      }
      return { pointer: at, at: 'value', message: `"${name}" must not be empty` };
    case 'minLength':
      return { pointer: at, at: 'value', message: `"${name}" must not be an empty string` };
    case 'minItems':
      return {
        pointer: at,
        at: 'value',
        message: `"${name}" must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}`,
      };
    case 'minimum':
      return {
        pointer: at,
        at: 'value',
        message: `"${name}" must be at least ${params.limit}, found ${describeValue(e.data)}`,
      };
    case 'oneOf':
    case 'anyOf': {
      if (ROUTING_RE.test(at)) {
        return {
          pointer: at,
          at: 'value',
          message: `routing must be "out", "reply" or a list of routes, found ${describeValue(e.data)}`,
        };
      }
      const types = expectedTypes.get(e);
      if (types) {
        return {
          pointer: at,
          at: 'value',
          message: `${at === '' ? 'the flow' : `"${name}"`} must be ${typeName(types)}, found ${describeValue(e.data)}`,
        };
      }
      return {
        pointer: at,
        at: 'value',
        message: `"${name}" has an unexpected shape (${e.message ?? 'invalid'})`,
      };
    }
    default:
      return {
        pointer: at,
        at: 'value',
        message: `${at === '' ? 'the flow' : `"${name}"`} ${e.message ?? 'is invalid'}`,
      };
  }
}
