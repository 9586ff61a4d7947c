import { FlowError } from '../errors.js';
import type { PathRef } from '../path.js';
import type { ExpressionScope } from '../scope.js';

/** A missing path met while rendering (non-strict mode). */
export interface TemplateWarning {
  /** The path as written in the template, e.g. `prev.payload.city` or `this.date`. */
  path: string;
  message: string;
  /** RFC 6901 pointer of the string inside the rendered value (`''` for a lone string). */
  pointer: string;
  /** 1-based line and column of the mustache inside that string. */
  line: number;
  column: number;
}

// How a slot's value is written out.
/** The raw value (a helper argument, or a typed insertion). */
export const OUT_VALUE = 0;
/** Text: null/missing → "", objects and arrays → JSON. */
export const OUT_TEXT = 1;
/** Text escaped as the inside of a JSON string (JSON templates, mustache inside quotes). */
export const OUT_JSON_STRING = 2;
/** A JSON value (JSON templates, `"{{path}}"`): missing → `""`, like upstream. */
export const OUT_JSON_VALUE = 3;

// Where a slot's path starts.
/** At the scope (root paths, `../` reaching the root, `@root.…`). */
export const FROM_ROOT = 0;
/** At the current block context (`this`, inside `each`/`with`/sections). */
export const FROM_CONTEXT = 1;
/** At a block parameter, passed as the helper's second argument (`as |item|` … `item.name`). */
export const FROM_ARGUMENT = 2;

/** One path of a template, resolved by the `__gt` helper (or directly on the fast paths). */
export interface Slot {
  from: number;
  ref: PathRef;
  /** As written, for messages. */
  text: string;
  out: number;
  /** Missing is not reported (conditional tests: `if`, `unless`, `eq`, `ifEq`, `default`, `{{^x}}`). */
  quiet: boolean;
  line: number;
  column: number;
}

/** Per-render state, shared by all strings of one render. */
export interface RenderState {
  scope: ExpressionScope;
  strict: boolean;
  warnings: TemplateWarning[];
  /** Slots of the string being rendered, and its pointer. */
  slots: readonly Slot[];
  pointer: string;
  reported: Set<string> | undefined;
  view: Record<string, unknown> | undefined;
}

/** `''` → "template", `/a/b` → "template at /a/b". */
export function where(pointer: string): string {
  return pointer ? `template at ${pointer}` : 'template';
}

export function missing(st: RenderState, slot: Slot): void {
  if (st.strict) {
    throw new FlowError(
      'GT_FLOW_TEMPLATE',
      `${where(st.pointer)}: path "${slot.text}" is missing (line ${slot.line}, column ${slot.column}); ` +
        `provide it, guard it with {{#if …}}, or give a fallback with {{default ${slot.text} "…"}}`,
      { line: slot.line, column: slot.column, pointer: st.pointer },
    );
  }
  const key = `${st.pointer}\u0000${slot.line}:${slot.column}\u0000${slot.text}`;
  if (st.reported === undefined) st.reported = new Set();
  else if (st.reported.has(key)) return;
  st.reported.add(key);
  st.warnings.push({
    path: slot.text,
    message: `${where(st.pointer)}: path "${slot.text}" is missing (line ${slot.line}, column ${slot.column}); rendered as empty`,
    pointer: st.pointer,
    line: slot.line,
    column: slot.column,
  });
}

/** null/missing → "", strings as-is, objects and arrays as JSON, other scalars via String(). */
export function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function output(v: unknown, out: number): unknown {
  switch (out) {
    case OUT_TEXT:
      return toText(v);
    case OUT_JSON_STRING: {
      const s = JSON.stringify(toText(v));
      return s.slice(1, s.length - 1);
    }
    case OUT_JSON_VALUE:
      return v === undefined ? '""' : JSON.stringify(v);
    default:
      return v;
  }
}

let current: RenderState | undefined;

/** The state of the render in progress (helpers run synchronously inside it). */
export function currentState(): RenderState {
  if (current === undefined) throw new Error('Greentic template helper called outside a render');
  return current;
}

/** Make `st` the current render state; returns the previous one, to give back to {@link leaveState}. */
export function enterState(st: RenderState): RenderState | undefined {
  const previous = current;
  current = st;
  return previous;
}

export function leaveState(previous: RenderState | undefined): void {
  current = previous;
}
