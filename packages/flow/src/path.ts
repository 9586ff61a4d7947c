import { FlowError, type FlowErrorCode } from './errors.js';
import type { ExpressionScope } from './scope.js';

/**
 * Paths into an {@link ExpressionScope}, shared by conditions and templates.
 *
 * A path is parsed once (at load time) into a {@link PathRef}: its segments and how its first segment is
 * resolved. {@link resolvePath} then walks the scope without splitting strings or allocating.
 *
 * Syntax (conditions, `parsePath`):
 *   path  = head { "." name | "." index | "[" index "]" | "[" string "]" }
 *   head  = name | "[" string "]"
 *   name  = ( "A".."Z" | "a".."z" | "_" ) { "A".."Z" | "a".."z" | "0".."9" | "_" }
 *   index = digit { digit }
 *   string = a single- or double-quoted string with JSON escapes (plus \')
 * Templates build paths from Handlebars' own path syntax instead (`pathFromSegments`).
 */

/** One step of a path: an object key, or an array index. */
export type PathSegment = string | number;

/** How the first segment of a path is resolved. */
export type PathRoot = 'entry' | 'prev' | 'node' | 'state' | 'parameters' | 'response' | 'bare';

// Root kinds as small integers: the resolver switches on them.
const K_ENTRY = 0;
const K_PREV = 1;
const K_NODE = 2;
const K_STATE = 3;
const K_PARAMETERS = 4;
const K_RESPONSE = 5;
const K_BARE = 6;
const K_SCOPE = 7; // no segments at all: the root view of the scope

const ROOTS = new Map<string, [PathRoot, number]>([
  ['entry', ['entry', K_ENTRY]],
  ['in', ['entry', K_ENTRY]],
  ['prev', ['prev', K_PREV]],
  ['node', ['node', K_NODE]],
  ['state', ['state', K_STATE]],
  ['parameters', ['parameters', K_PARAMETERS]],
  ['response', ['response', K_RESPONSE]],
]);

/** A parsed path. Build one with {@link parsePath} or {@link pathFromSegments}; resolve it with {@link resolvePath}. */
export class PathRef {
  /** The path as written. */
  readonly text: string;
  /** The segments, first included (`prev.payload.x` → `['prev', 'payload', 'x']`). */
  readonly segments: readonly PathSegment[];
  /** How the first segment resolves: a named root, or `bare` (a node id, else a field of `prev`). */
  readonly root: PathRoot;
  /** @internal */
  readonly kind: number;

  constructor(text: string, segments: readonly PathSegment[]) {
    this.text = text;
    this.segments = segments;
    const first = segments[0];
    if (first === undefined) {
      this.root = 'bare';
      this.kind = K_SCOPE;
    } else {
      const named = typeof first === 'string' ? ROOTS.get(first) : undefined;
      this.root = named ? named[0] : 'bare';
      this.kind = named ? named[1] : K_BARE;
    }
  }

  toString(): string {
    return this.text;
  }
}

const hasOwn = Object.prototype.hasOwnProperty;

/** `"12"` → 12, `"012"`/`"x"` → undefined: only canonical array indices become numbers. */
function canonicalIndex(s: string): number | undefined {
  const n = s.length;
  if (n === 0 || n > 15) return undefined;
  const c0 = s.charCodeAt(0);
  if (c0 < 48 || c0 > 57 || (c0 === 48 && n > 1)) return undefined;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(s);
}

/**
 * Build a path from already-split segments (e.g. Handlebars' `parts`). Canonical integer strings (`"0"`) become
 * indices. `text` defaults to the segments joined with dots.
 */
export function pathFromSegments(segments: readonly PathSegment[], text?: string): PathRef {
  const segs = segments.map((s) => (typeof s === 'string' ? (canonicalIndex(s) ?? s) : s));
  return new PathRef(text ?? segments.join('.'), segs);
}

/** Thrown by the scanners below; callers turn it into a {@link FlowError} with their own code. */
export class PathSyntaxError extends Error {
  /** 0-based offset of the problem in the scanned text. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

function isNameStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Whether `c` (a char code) may continue a name. */
export function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function describeChar(text: string, i: number): string {
  return i >= text.length ? 'end of the expression' : JSON.stringify(text[i]);
}

const ESCAPES = new Map<string, string>([
  ['"', '"'],
  ["'", "'"],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

/**
 * Scan a quoted string starting at `start` (which holds the quote). Returns the decoded value and the offset just
 * past the closing quote.
 */
export function scanString(text: string, start: number): { value: string; end: number } {
  const quote = text.charCodeAt(start);
  let out = '';
  let chunk = start + 1;
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      return { value: out + text.slice(chunk, i), end: i + 1 };
    }
    if (c === 92 /* \ */) {
      out += text.slice(chunk, i);
      const e = text[i + 1];
      if (e === undefined) break;
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw new PathSyntaxError(
            `bad escape "\\u${hex}" at column ${i + 1}; write \\u followed by four hex digits`,
            i,
          );
        }
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 6;
      } else {
        const decoded = ESCAPES.get(e);
        if (decoded === undefined) {
          throw new PathSyntaxError(
            `unknown escape "\\${e}" at column ${i + 1}; write "\\\\" for a backslash`,
            i,
          );
        }
        out += decoded;
        i += 2;
      }
      chunk = i;
      continue;
    }
    i++;
  }
  throw new PathSyntaxError(
    `unterminated string starting at column ${start + 1}; add the closing ${String.fromCharCode(quote)}`,
    start,
  );
}

/**
 * Scan a path starting at `start`. Returns the segments and the offset just past the path. Throws
 * {@link PathSyntaxError} (with a 0-based offset; messages quote 1-based columns) when the path is malformed.
 */
export function scanPath(text: string, start: number): { segments: PathSegment[]; end: number } {
  const segments: PathSegment[] = [];
  let i = start;
  const c0 = text.charCodeAt(i);
  if (isNameStart(c0)) {
    let j = i + 1;
    while (j < text.length && isNameChar(text.charCodeAt(j))) j++;
    segments.push(text.slice(i, j));
    i = j;
  } else if (c0 === 91 /* [ */) {
    i = scanBracket(text, i, segments, true);
  } else {
    throw new PathSyntaxError(
      `unexpected ${describeChar(text, i)} at column ${i + 1}; a path starts with a name such as prev or state`,
      i,
    );
  }
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      const n = text.charCodeAt(i + 1);
      if (isNameStart(n)) {
        let j = i + 2;
        while (j < text.length && isNameChar(text.charCodeAt(j))) j++;
        segments.push(text.slice(i + 1, j));
        i = j;
      } else if (isDigit(n)) {
        let j = i + 2;
        while (j < text.length && isDigit(text.charCodeAt(j))) j++;
        const digits = text.slice(i + 1, j);
        segments.push(canonicalIndex(digits) ?? digits);
        i = j;
      } else {
        throw new PathSyntaxError(
          `unexpected ${describeChar(text, i + 1)} at column ${i + 2}; expected a name or an index after "."` +
            ` (use ["…"] for keys with other characters)`,
          i + 1,
        );
      }
    } else if (c === 91 /* [ */) {
      i = scanBracket(text, i, segments, false);
    } else {
      return { segments, end: i };
    }
  }
}

function scanBracket(text: string, open: number, segments: PathSegment[], head: boolean): number {
  let i = open + 1;
  const c = text.charCodeAt(i);
  if (c === 34 || c === 39) {
    const s = scanString(text, i);
    segments.push(canonicalIndex(s.value) ?? s.value);
    i = s.end;
  } else if (isDigit(c) && !head) {
    let j = i + 1;
    while (j < text.length && isDigit(text.charCodeAt(j))) j++;
    segments.push(Number(text.slice(i, j)));
    i = j;
  } else {
    throw new PathSyntaxError(
      `unexpected ${describeChar(text, i)} at column ${i + 1}; expected ${head ? 'a quoted key' : 'an index or a quoted key'} after "["`,
      i,
    );
  }
  if (text.charCodeAt(i) !== 93 /* ] */) {
    throw new PathSyntaxError(
      `unexpected ${describeChar(text, i)} at column ${i + 1}; expected "]" to close the "[" at column ${open + 1}`,
      i,
    );
  }
  return i + 1;
}

/**
 * Parse a path such as `prev.payload.items[0]["display name"]`. Throws a {@link FlowError} (by default
 * `GT_FLOW_CONDITION`) at line 1 and the 1-based column of the problem.
 */
export function parsePath(text: string, code: FlowErrorCode = 'GT_FLOW_CONDITION'): PathRef {
  try {
    const { segments, end } = scanPath(text, 0);
    if (end !== text.length) {
      throw new PathSyntaxError(
        `unexpected ${describeChar(text, end)} at column ${end + 1}; expected "." or "[" or the end of the path`,
        end,
      );
    }
    return new PathRef(text, segments);
  } catch (err) {
    if (err instanceof PathSyntaxError) {
      throw new FlowError(code, `bad path ${JSON.stringify(text)}: ${err.message}`, {
        line: 1,
        column: err.offset + 1,
        pointer: '',
      });
    }
    throw err;
  }
}

/**
 * Walk `segments` from index `from` into `value`, reading only own properties of plain data (objects and
 * arrays; `length` of arrays and strings). Returns `undefined` when any step is missing — prototype members such
 * as `constructor` or `__proto__` are missing too — and never returns a function.
 */
export function walkPath(value: unknown, segments: readonly PathSegment[], from = 0): unknown {
  let cur = value;
  for (let i = from; i < segments.length; i++) {
    const seg = segments[i]!;
    if (typeof cur !== 'object' || cur === null) {
      if (typeof cur === 'string' && seg === 'length') {
        cur = cur.length;
        continue;
      }
      return undefined;
    }
    if (Array.isArray(cur)) {
      if (typeof seg === 'number') {
        if (seg >= cur.length) return undefined;
        cur = cur[seg];
      } else if (seg === 'length') {
        cur = cur.length;
      } else {
        return undefined;
      }
    } else {
      const key = typeof seg === 'number' ? String(seg) : seg;
      if (!hasOwn.call(cur, key)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
  }
  return typeof cur === 'function' ? undefined : cur;
}

/** A node output: `.payload` is an alias of the output itself unless the output has its own `payload`. */
function walkOutput(output: unknown, segments: readonly PathSegment[], from: number): unknown {
  if (output === undefined || output === null) {
    return from === segments.length ? output : undefined;
  }
  if (
    segments[from] === 'payload' &&
    !(typeof output === 'object' && !Array.isArray(output) && hasOwn.call(output, 'payload'))
  ) {
    return walkPath(output, segments, from + 1);
  }
  return walkPath(output, segments, from);
}

/**
 * Resolve a path against a scope. Returns `undefined` when the path is missing (a present JSON `null` is
 * returned as `null`).
 *
 * Roots: `entry` (alias `in`), `prev`, `node.<id>`, `state`, `parameters`, `response`. A bare first segment that
 * is a key of `scope.node` reads that node's output; any other bare name reads a field of `prev`. Node outputs
 * (`prev`, `node.<id>`, bare node ids) expose themselves under `.payload` when they have no own `payload`.
 */
export function resolvePath(scope: ExpressionScope, ref: PathRef): unknown {
  const segs = ref.segments;
  switch (ref.kind) {
    case K_ENTRY:
      return walkPath(scope.entry, segs, 1);
    case K_PREV:
      return walkOutput(scope.prev, segs, 1);
    case K_NODE: {
      if (segs.length === 1) return walkPath(scope.node, segs, 1);
      const nodes = scope.node;
      const id = segs[1]!;
      const key = typeof id === 'number' ? String(id) : id;
      if (nodes == null || !hasOwn.call(nodes, key)) return undefined;
      return walkOutput(nodes[key], segs, 2);
    }
    case K_STATE:
      return walkPath(scope.state, segs, 1);
    case K_PARAMETERS:
      return walkPath(scope.parameters, segs, 1);
    case K_RESPONSE:
      return walkPath(scope.response, segs, 1);
    case K_BARE: {
      const first = segs[0]!;
      const nodes = scope.node;
      const key = typeof first === 'number' ? String(first) : first;
      if (nodes != null && hasOwn.call(nodes, key)) return walkOutput(nodes[key], segs, 1);
      return walkOutput(scope.prev, segs, 0);
    }
    default:
      return scopeView(scope);
  }
}

/** The scope as one object with its roots as keys (`entry`, `in`, `prev`, `node`, `state`, `parameters`, `response`). */
export function scopeView(scope: ExpressionScope): Record<string, unknown> {
  return {
    entry: scope.entry,
    in: scope.entry,
    prev: scope.prev,
    node: scope.node,
    state: scope.state,
    parameters: scope.parameters,
    response: scope.response,
  };
}
