/**
 * Greentic templates: Handlebars (no HTML escaping) over an {@link ExpressionScope}, with upstream's typed
 * insertion (`"{{path}}"` → the JSON value) and missing-path warnings or, in strict mode, errors.
 * See docs/flow-language.md#templates.
 */
import { FlowError } from '../errors.js';
import type { ExpressionScope } from '../scope.js';
import { type CompiledString, compileString, renderString, type TemplateMode } from './compile.js';
import { HELPERS } from './env.js';
import { type RenderState, type TemplateWarning, where } from './state.js';

export type { TemplateWarning } from './state.js';

export interface TemplateRenderOptions {
  /** A missing path throws `FlowError('GT_FLOW_TEMPLATE')` instead of rendering as empty with a warning. */
  strict?: boolean;
}

export interface TemplateRenderResult {
  value: unknown;
  /** Missing paths met (non-strict mode), once per path and position. */
  warnings: TemplateWarning[];
}

/** The helpers templates may call (Handlebars' block helpers and Greentic's). */
export const TEMPLATE_HELPERS: readonly string[] = [...HELPERS.keys()];

// ---------------------------------------------------------------------------------------------------------------
// Cache of compiled strings, by mode and source. Bounded: when full, the oldest entries are dropped.

const CACHE_LIMIT = 2000;
const cache = new Map<string, CompiledString>();

function compileCached(text: string, mode: TemplateMode, pointer: string): CompiledString {
  if (!text.includes('{{')) return { kind: 'static', text };
  const key = mode === 'text' ? text : `json\u0000${text}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const compiled = compileString(text, mode, pointer);
  if (cache.size >= CACHE_LIMIT) {
    // Drop the oldest tenth, so a stream of new templates does not evict on every insertion.
    let drop = CACHE_LIMIT / 10;
    for (const k of cache.keys()) {
      cache.delete(k);
      if (--drop === 0) break;
    }
  }
  cache.set(key, compiled);
  return compiled;
}

/** Number of compiled strings in the shared cache (for tests and diagnostics). */
export function templateCacheSize(): number {
  return cache.size;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled values

type Compiled =
  | { kind: 'constant'; value: unknown }
  | { kind: 'string'; compiled: CompiledString; pointer: string }
  | { kind: 'array'; items: Compiled[] }
  | { kind: 'object'; keys: string[]; values: Compiled[] };

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function compileNode(value: unknown, pointer: string): Compiled {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return { kind: 'constant', value };
    return { kind: 'string', compiled: compileCached(value, 'text', pointer), pointer };
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compileNode(v, `${pointer}/${i}`));
    return items.every((c) => c.kind === 'constant') ? { kind: 'constant', value } : { kind: 'array', items };
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    const values = keys.map((k) =>
      compileNode((value as Record<string, unknown>)[k], `${pointer}/${escapePointer(k)}`),
    );
    return values.every((c) => c.kind === 'constant')
      ? { kind: 'constant', value }
      : { kind: 'object', keys, values };
  }
  return { kind: 'constant', value };
}

function renderNode(c: Compiled, st: RenderState): unknown {
  switch (c.kind) {
    case 'constant':
      return c.value;
    case 'string':
      st.pointer = c.pointer;
      return renderString(c.compiled, st);
    case 'array':
      return c.items.map((item) => renderNode(item, st));
    case 'object': {
      const out: Record<string, unknown> = {};
      const { keys, values } = c;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = renderNode(values[i]!, st);
        if (key === '__proto__')
          Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        else out[key] = v;
      }
      return out;
    }
  }
}

function newState(scope: ExpressionScope, opts: TemplateRenderOptions | undefined): RenderState {
  return {
    scope,
    strict: opts?.strict === true,
    warnings: [],
    slots: [],
    pointer: '',
    reported: undefined,
    view: undefined,
  };
}

/**
 * A JSON value whose string leaves are templates, compiled once. Rendering returns a new structure for the
 * parts that contain templates; parts without any `{{` are returned as they are (shared, not copied), so treat
 * rendered values as immutable.
 */
export class CompiledTemplate {
  readonly #root: Compiled;
  /** The value as given. */
  readonly source: unknown;

  /** @internal use {@link compileTemplate}. */
  constructor(source: unknown, root: Compiled) {
    this.source = source;
    this.#root = root;
  }

  /** Whether the value contains any template (if not, rendering returns `source`). */
  get isConstant(): boolean {
    return this.#root.kind === 'constant';
  }

  render(scope: ExpressionScope, opts?: TemplateRenderOptions): TemplateRenderResult {
    const st = newState(scope, opts);
    return { value: renderNode(this.#root, st), warnings: st.warnings };
  }
}

/**
 * Compile every string leaf of a JSON value (object keys are not templates). Throws `FlowError('GT_FLOW_TEMPLATE')`
 * for a syntax error, an unknown helper, a wrong argument count or a partial, with the line and column inside the
 * string and the JSON pointer of the string.
 */
export function compileTemplate(value: unknown): CompiledTemplate {
  return new CompiledTemplate(value, compileNode(value, ''));
}

/**
 * Render every string leaf of a JSON value. A string that is exactly `{{path}}` becomes the value at the path
 * (typed); other strings render as text. Compiles on each call (strings are cached): use {@link compileTemplate}
 * on hot paths.
 */
export function renderValue(
  value: unknown,
  scope: ExpressionScope,
  opts?: TemplateRenderOptions,
): TemplateRenderResult {
  return compileTemplate(value).render(scope, opts);
}

/**
 * A template whose output is JSON text (upstream's `template: "<handlebars → JSON>"`, the config-flow form).
 * Inside the JSON text:
 * - `"{{path}}"` (a whole JSON string) inserts the JSON value at the path (missing → `""`);
 * - a mustache inside a JSON string is JSON-escaped (quotes, newlines), so user text cannot break the JSON;
 *   `{{{triple}}}` inserts raw text;
 * - elsewhere a mustache inserts its text as is (`{{json x}}` for a JSON value).
 */
export class CompiledJsonTemplate {
  readonly source: string;
  readonly #compiled: CompiledString;

  /** @internal use {@link compileJsonTemplate}. */
  constructor(source: string, compiled: CompiledString) {
    this.source = source;
    this.#compiled = compiled;
  }

  render(scope: ExpressionScope, opts?: TemplateRenderOptions): TemplateRenderResult {
    const st = newState(scope, opts);
    const text = String(renderString(this.#compiled, st));
    try {
      return { value: JSON.parse(text), warnings: st.warnings };
    } catch (err) {
      const excerpt = text.length > 200 ? `${text.slice(0, 200)}…` : text;
      throw new FlowError(
        'GT_FLOW_TEMPLATE',
        `${where('')} did not render to JSON (${(err as Error).message}); rendered text: ${JSON.stringify(excerpt)}`,
        { line: 1, column: 1, pointer: '' },
        { cause: err },
      );
    }
  }
}

/** Compile a JSON-producing template (see {@link CompiledJsonTemplate}). Throws GT_FLOW_TEMPLATE. */
export function compileJsonTemplate(text: string): CompiledJsonTemplate {
  return new CompiledJsonTemplate(text, compileCached(text, 'json', ''));
}

/**
 * Upstream compatibility (`templateUpstreamCompat`): render `template: "<handlebars → JSON>"` and parse the result.
 * Throws `FlowError('GT_FLOW_TEMPLATE')` when the output is not JSON.
 */
export function renderJsonTemplate(
  text: string,
  scope: ExpressionScope,
  opts?: TemplateRenderOptions,
): TemplateRenderResult {
  return compileJsonTemplate(text).render(scope, opts);
}
