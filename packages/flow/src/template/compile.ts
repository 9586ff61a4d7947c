import { FlowError } from '../errors.js';
import { pathFromSegments, resolvePath, scopeView } from '../path.js';
import { BRACE, lineColumn, lineStarts, type Rewritten, rewriteCompat } from './compat.js';
import { compileAst, HELPERS, type HelperSpec, hb, lexerPosition, RUNTIME_OPTIONS } from './env.js';
import {
  enterState,
  FROM_ARGUMENT,
  FROM_CONTEXT,
  FROM_ROOT,
  leaveState,
  missing,
  OUT_JSON_STRING,
  OUT_JSON_VALUE,
  OUT_TEXT,
  OUT_VALUE,
  output,
  type RenderState,
  type Slot,
  where,
} from './state.js';

/**
 * Compiling one template string: parse with Handlebars, then rewrite the AST so that every path goes through
 * Greentic's resolver (scope roots, `.payload` alias, own-properties only, missing-path reporting), and pick the
 * cheapest way to render it.
 */

// The Handlebars AST, typed loosely (its published typings have no discriminated unions).
interface Loc {
  start: { line: number; column: number };
  end?: { line: number; column: number };
}
interface Node {
  type: string;
  loc?: Loc;
}
interface PathNode extends Node {
  type: 'PathExpression';
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface LiteralNode extends Node {
  value?: unknown;
  original?: unknown;
}
interface HashNode extends Node {
  pairs: Array<{ key: string; value: Node }>;
}
interface CallNode extends Node {
  path: Node;
  params: Node[];
  hash?: HashNode;
}
interface MustacheNode extends CallNode {
  type: 'MustacheStatement';
  escaped: boolean;
}
interface ProgramNode extends Node {
  body: Node[];
  blockParams?: string[];
}
interface BlockNode extends CallNode {
  type: 'BlockStatement';
  program?: ProgramNode;
  inverse?: ProgramNode;
}
interface ContentNode extends Node {
  type: 'ContentStatement';
  value: string;
}

/** A compiled template string. */
export type CompiledString =
  /** No mustache: the text itself. */
  | { kind: 'static'; text: string }
  /** Exactly `{{path}}`: the value at the path, typed. */
  | { kind: 'typed'; text: string; slot: Slot }
  /** Text and root paths only: concatenated without Handlebars. */
  | { kind: 'interpolate'; text: string; slots: Slot[]; parts: Array<string | number> }
  /** Anything else: a Handlebars template over the rewritten AST. */
  | { kind: 'handlebars'; text: string; slots: Slot[]; fn: HandlebarsTemplateDelegate };

/** `text`: a plain template; `json`: a template whose output is JSON text (see renderJsonTemplate). */
export type TemplateMode = 'text' | 'json';

// ---------------------------------------------------------------------------------------------------------------
// Parsing and positions

interface Source {
  /** The text Handlebars parsed (possibly rewritten by compat). */
  parsed: string;
  original: string;
  rewritten: Rewritten | undefined;
  starts: number[] | undefined;
  originalStarts: number[] | undefined;
}

/** Handlebars' (1-based line, 0-based column) in the parsed text → 1-based line and column in the original. */
function position(src: Source, line: number, column: number): { line: number; column: number } {
  if (!src.rewritten) return { line, column: column + 1 };
  src.starts ??= lineStarts(src.parsed);
  src.originalStarts ??= lineStarts(src.original);
  const offset = (src.starts[line - 1] ?? 0) + column;
  return lineColumn(src.originalStarts, src.rewritten.toOriginal(offset));
}

/** A path as written: `original` is Handlebars' normalised form, which differs only when compat rewrote it. */
function writtenAs(src: Source, p: PathNode): string {
  const loc = p.loc;
  if (!src.rewritten || !loc?.end) return p.original;
  src.starts ??= lineStarts(src.parsed);
  const start = src.rewritten.toOriginal((src.starts[loc.start.line - 1] ?? 0) + loc.start.column);
  const end = src.rewritten.toOriginal((src.starts[loc.end.line - 1] ?? 0) + loc.end.column);
  return end > start ? src.original.slice(start, end) : p.original;
}

// Handlebars' grammar tokens, as a template author would name them.
const TOKENS: Readonly<Record<string, string>> = {
  CLOSE: '"}}"',
  CLOSE_SEXPR: '")"',
  ID: 'a name',
  CLOSE_UNESCAPED: '"}}}"',
  OPEN_SEXPR: '"("',
  SEP: '"."',
  EQUALS: '"="',
  OPEN_BLOCK_PARAMS: '"as |"',
  CLOSE_BLOCK_PARAMS: '"|"',
  STRING: 'a string',
  NUMBER: 'a number',
  BOOLEAN: 'a boolean',
  UNDEFINED: 'undefined',
  NULL: 'null',
  DATA: 'an @variable',
  EOF: 'the end of the template',
  INVALID: 'invalid text',
  OPEN_ENDBLOCK: '"{{/"',
  OPEN_INVERSE: '"{{^"',
  INVERSE: '"{{else}}"',
  OPEN_BLOCK: '"{{#"',
  OPEN: '"{{"',
  OPEN_UNESCAPED: '"{{{"',
  CONTENT: 'text',
  COMMENT: 'a comment',
  CLOSE_RAW_BLOCK: '"}}}}"',
};
const TOKEN_ORDER = Object.keys(TOKENS);

/** Handlebars' error text → one readable line. */
function describeError(raw: string): string {
  const lines = raw.split('\n');
  if (raw.startsWith('Parse error')) {
    // "Parse error on line N:\n<excerpt>\n---^\nExpecting 'A', 'B', got 'C'"
    const m = /Expecting (.*), got '(\w+)'/.exec(lines[lines.length - 1]!);
    if (!m) return lines[lines.length - 1]!;
    const names = [...m[1]!.matchAll(/'(\w+)'/g)].map((x) => x[1]!);
    const rank = (t: string): number =>
      TOKEN_ORDER.includes(t) ? TOKEN_ORDER.indexOf(t) : TOKEN_ORDER.length;
    names.sort((a, b) => rank(a) - rank(b));
    const expected = [...new Set(names.map((t) => TOKENS[t] ?? t))];
    const shown = expected.length > 5 ? `${expected.slice(0, 5).join(', ')}, …` : expected.join(', ');
    return `unexpected ${TOKENS[m[2]!] ?? m[2]}; expected ${shown}`;
  }
  if (raw.startsWith('Lexical error')) return 'unrecognized text (is a mustache or comment left open?)';
  return lines[0]!.replace(/ - \d+:\d+$/, '');
}

function syntaxError(err: unknown, src: Source, pointer: string): FlowError {
  const e = err as { message?: string; lineNumber?: number; column?: number };
  const raw = String(e.message ?? err);
  let at: { line: number; column: number } | undefined;
  if (typeof e.lineNumber === 'number' && typeof e.column === 'number') {
    at = { line: e.lineNumber, column: e.column };
  } else {
    at = lexerPosition();
  }
  const pos = at ? position(src, at.line, at.column) : { line: 1, column: 1 };
  const detail = describeError(raw);
  return new FlowError(
    'GT_FLOW_TEMPLATE',
    `${where(pointer)}: syntax error at line ${pos.line}, column ${pos.column}: ${detail}`,
    { line: pos.line, column: pos.column, pointer },
    { cause: err },
  );
}

function parse(text: string, pointer: string): { ast: ProgramNode; src: Source } {
  const src: Source = {
    parsed: text,
    original: text,
    rewritten: undefined,
    starts: undefined,
    originalStarts: undefined,
  };
  try {
    return { ast: hb.parse(text) as unknown as ProgramNode, src };
  } catch (first) {
    const rewritten = rewriteCompat(text);
    if (!rewritten) throw syntaxError(first, src, pointer);
    src.parsed = rewritten.text;
    src.rewritten = rewritten;
    try {
      return { ast: hb.parse(rewritten.text) as unknown as ProgramNode, src };
    } catch (second) {
      throw syntaxError(second, src, pointer);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// AST rewriting

/** State of the JSON lexer over a JSON template's literal text (to know whether a mustache sits in a string). */
interface JsonScan {
  inString: boolean;
  escape: boolean;
  /** The content statement whose last character opened the current string, if nothing came after it. */
  openedBy: ContentNode | undefined;
}

interface Walk {
  src: Source;
  pointer: string;
  slots: Slot[];
  /** Number of enclosing blocks that change the context (`each`, `with`, sections). */
  depth: number;
  /** Block parameter names, innermost first. */
  blockParams: string[][];
  json: JsonScan | undefined;
  /** Still only text and root paths (renderable without Handlebars)? */
  simple: boolean;
}

function fail(w: Walk, node: Node, message: string): FlowError {
  const pos = node.loc ? position(w.src, node.loc.start.line, node.loc.start.column) : { line: 1, column: 1 };
  return new FlowError(
    'GT_FLOW_TEMPLATE',
    `${where(w.pointer)}: ${message} at line ${pos.line}, column ${pos.column}`,
    { line: pos.line, column: pos.column, pointer: w.pointer },
  );
}

function pathNode(name: string, loc: Loc | undefined): PathNode {
  return { type: 'PathExpression', data: false, depth: 0, parts: [name], original: name, loc };
}

function numberNode(value: number, loc: Loc | undefined): Node {
  return { type: 'NumberLiteral', value, original: value, loc } as Node;
}

function subExpression(
  path: Node,
  params: Node[],
  hash: HashNode | undefined,
  loc: Loc | undefined,
): CallNode {
  return { type: 'SubExpression', path, params, hash, loc } as CallNode;
}

/** Handlebars treats `{{"a b"}}`/`{{1}}` as the path `[a b]`/`[1]`. */
function asPath(node: Node): PathNode | undefined {
  if (node.type === 'PathExpression') return node as PathNode;
  if (node.type === 'SubExpression') return undefined;
  const lit = node as LiteralNode;
  const name = String(lit.original ?? lit.value);
  return { type: 'PathExpression', data: false, depth: 0, parts: [name], original: name, loc: node.loc };
}

const SCOPED = /^\.|this\b/;

function isSimpleId(p: PathNode): boolean {
  return p.parts.length === 1 && !p.data && !p.depth && !SCOPED.test(p.original);
}

function isBlockParam(w: Walk, name: string): boolean {
  for (const names of w.blockParams) if (names.includes(name)) return true;
  return false;
}

interface Resolution {
  from: number;
  segments: string[];
  /** FROM_ARGUMENT: the block parameter whose value the path starts at. */
  param?: string;
}

/** How a path is resolved where it stands, or undefined to leave it to Handlebars (`@index`, `item`, `../x` mid-way). */
function classify(w: Walk, p: PathNode): Resolution | undefined {
  if (p.data) return p.parts[0] === 'root' ? { from: FROM_ROOT, segments: p.parts.slice(1) } : undefined;
  const depth = p.depth ?? 0;
  const scoped = SCOPED.test(p.original);
  const head = p.parts[0];
  if (!scoped && depth === 0 && head !== undefined && isBlockParam(w, head)) {
    return p.parts.length === 1
      ? undefined
      : { from: FROM_ARGUMENT, segments: p.parts.slice(1), param: head };
  }
  if (depth >= w.depth) return { from: FROM_ROOT, segments: p.parts };
  // Bare `this`/`.` is always present: Handlebars passes the context itself (null stays null).
  if (depth === 0) return p.parts.length === 0 ? undefined : { from: FROM_CONTEXT, segments: p.parts };
  return undefined;
}

function addSlot(w: Walk, r: Resolution, p: PathNode, out: number, quiet: boolean): number {
  const pos = p.loc ? position(w.src, p.loc.start.line, p.loc.start.column) : { line: 1, column: 1 };
  const text = writtenAs(w.src, p);
  w.slots.push({
    from: r.from,
    ref: pathFromSegments(r.segments, text),
    text,
    out,
    quiet,
    line: pos.line,
    column: pos.column,
  });
  return w.slots.length - 1;
}

/** Params for `__gt`/`__gtsec`: the slot index, plus the block parameter for FROM_ARGUMENT. */
function slotParams(index: number, r: Resolution, loc: Loc | undefined): Node[] {
  return r.param === undefined ? [numberNode(index, loc)] : [numberNode(index, loc), pathNode(r.param, loc)];
}

function rewriteExpression(w: Walk, node: Node, quiet: boolean): Node {
  if (node.type === 'PathExpression') {
    const p = node as PathNode;
    const r = classify(w, p);
    if (!r) return node;
    const index = addSlot(w, r, p, OUT_VALUE, quiet);
    return subExpression(pathNode('__gt', p.loc), slotParams(index, r, p.loc), undefined, p.loc);
  }
  if (node.type === 'SubExpression') {
    const call = node as CallNode;
    rewriteCall(w, call, helperOf(w, call, 'inline'), quiet);
    return call;
  }
  return node;
}

/** The helper a call names, validated: known, used in the right form, with the right number of arguments. */
function helperOf(w: Walk, call: CallNode, form: 'block' | 'inline'): HelperSpec & { name: string } {
  const p = asPath(call.path);
  const name = p && isSimpleId(p) ? p.parts[0]! : undefined;
  const spec = name === undefined ? undefined : HELPERS.get(name);
  if (!spec || name === undefined) {
    const shown = p ? p.original : 'a subexpression';
    throw fail(w, call, `unknown helper "${shown}" (helpers: ${[...HELPERS.keys()].join(', ')})`);
  }
  if (spec.form !== 'both' && spec.form !== form) {
    throw fail(
      w,
      call,
      spec.form === 'block'
        ? `"${name}" is a block helper: write {{#${name} …}}…{{/${name}}}`
        : `"${name}" is not a block helper: write {{${name} …}}`,
    );
  }
  const n = call.params.length;
  if (n < spec.min || n > spec.max) {
    const expected =
      spec.min === spec.max
        ? `${spec.min}`
        : spec.max === Infinity
          ? `${spec.min}+`
          : `${spec.min}-${spec.max}`;
    throw fail(w, call, `helper "${name}" takes ${expected} argument(s), got ${n}`);
  }
  return { ...spec, name };
}

function rewriteCall(w: Walk, call: CallNode, spec: HelperSpec, quiet: boolean): void {
  const n = call.params.length;
  call.params = call.params.map((param, i) =>
    rewriteExpression(w, param, quiet || spec.quiet === 'all' || (spec.quiet === 'allButLast' && i < n - 1)),
  );
  if (call.hash) {
    for (const pair of call.hash.pairs) pair.value = rewriteExpression(w, pair.value, quiet);
  }
}

function scanJson(scan: JsonScan, content: ContentNode): void {
  const text = content.value;
  let opened = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    opened = false;
    if (scan.inString) {
      if (scan.escape) scan.escape = false;
      else if (c === 92) scan.escape = true;
      else if (c === 34) scan.inString = false;
    } else if (c === 34) {
      scan.inString = true;
      opened = true;
    }
  }
  if (text.length > 0) scan.openedBy = opened ? content : undefined;
}

function walkProgram(w: Walk, program: ProgramNode | undefined, depth: number): void {
  if (!program) return;
  const savedDepth = w.depth;
  w.depth = depth;
  const params = program.blockParams;
  if (params) w.blockParams.unshift(params);
  const body = program.body;
  for (let i = 0; i < body.length; i++) {
    const node = body[i]!;
    switch (node.type) {
      case 'ContentStatement': {
        const content = node as ContentNode;
        if (w.src.rewritten && content.value.includes(BRACE))
          content.value = content.value.replaceAll(BRACE, '}');
        if (w.json) scanJson(w.json, content);
        break;
      }
      case 'CommentStatement':
        break;
      case 'MustacheStatement':
        walkMustache(w, node as MustacheNode, body[i + 1]);
        break;
      case 'BlockStatement':
        walkBlock(w, node as BlockNode);
        break;
      default:
        throw fail(w, node, 'partials and decorators are not supported');
    }
  }
  if (params) w.blockParams.shift();
  w.depth = savedDepth;
}

function walkMustache(w: Walk, m: MustacheNode, next: Node | undefined): void {
  const json = w.json;
  const out = json && m.escaped && json.inString ? OUT_JSON_STRING : OUT_TEXT;
  const path = asPath(m.path);
  const isCall =
    m.params.length > 0 || m.hash !== undefined || !path || (isSimpleId(path) && HELPERS.has(path.parts[0]!));
  if (path?.parts[0]?.startsWith('__gt') && isSimpleId(path)) {
    throw fail(w, m, `"${path.parts[0]}" is reserved`);
  }
  if (isCall) {
    w.simple = false;
    const spec = helperOf(w, m, 'inline');
    rewriteCall(w, m, spec, false);
    if (out !== OUT_TEXT || spec.returnsValue) {
      const call = subExpression(m.path, m.params, m.hash, m.loc);
      m.path = pathNode('__gtout', m.loc);
      m.params = [call, numberNode(out, m.loc)];
      m.hash = undefined;
    }
  } else {
    const p = path!;
    let slotOut = out;
    // JSON templates: "{{path}}" (the whole string) inserts the JSON value, quotes included.
    if (
      out === OUT_JSON_STRING &&
      json?.openedBy &&
      next?.type === 'ContentStatement' &&
      (next as ContentNode).value.startsWith('"')
    ) {
      json.openedBy.value = json.openedBy.value.slice(0, -1);
      (next as ContentNode).value = (next as ContentNode).value.slice(1);
      json.inString = false;
      slotOut = OUT_JSON_VALUE;
    }
    const r = classify(w, p);
    if (r) {
      if (r.from !== FROM_ROOT) w.simple = false;
      const index = addSlot(w, r, p, slotOut, false);
      m.path = pathNode('__gt', m.loc);
      m.params = slotParams(index, r, m.loc);
    } else {
      // Left to Handlebars (`this`, `@index`, a block parameter): still written out like any value.
      w.simple = false;
      m.params = [p, numberNode(slotOut, m.loc)];
      m.path = pathNode('__gtout', m.loc);
    }
  }
  if (json) json.openedBy = undefined;
}

function walkBlock(w: Walk, b: BlockNode): void {
  w.simple = false;
  const path = asPath(b.path);
  const isHelper = path !== undefined && isSimpleId(path) && HELPERS.has(path.parts[0]!);
  const json = w.json;
  if (path?.parts[0]?.startsWith('__gt') && isSimpleId(path)) {
    throw fail(w, b, `"${path.parts[0]}" is reserved`);
  }
  let programDepth = w.depth + 1;
  if (isHelper || b.params.length > 0 || b.hash !== undefined) {
    const spec = helperOf(w, b, 'block');
    // With an {{else}} branch the author handles absence: the arguments are tests.
    rewriteCall(w, b, spec, b.inverse !== undefined);
    if (!spec.changesContext) programDepth = w.depth;
  } else {
    // A section: {{#path}}…{{/path}} (or inverted {{^path}}…{{/path}}, which only tests the path).
    const p = path!;
    const r = classify(w, p);
    if (r) {
      const index = addSlot(w, r, p, OUT_VALUE, b.program === undefined || b.inverse !== undefined);
      b.path = pathNode('__gtsec', b.loc);
      b.params = slotParams(index, r, b.loc);
    } else {
      b.path = p;
    }
  }
  const before = json && { ...json };
  walkProgram(w, b.program, programDepth);
  if (b.inverse) {
    const after = json && { ...json };
    if (json && before) Object.assign(json, before);
    walkProgram(w, b.inverse, w.depth);
    if (json && after) Object.assign(json, after);
  }
  if (json) json.openedBy = undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Compiling and rendering one string

function isTyped(w: Walk, ast: ProgramNode): PathNode | undefined {
  if (ast.body.length !== 1) return undefined;
  const m = ast.body[0] as MustacheNode;
  if (m.type !== 'MustacheStatement' || !m.escaped || m.params.length > 0 || m.hash) return undefined;
  const p = asPath(m.path);
  if (!p || p.type !== m.path.type) return undefined;
  if (isSimpleId(p) && HELPERS.has(p.parts[0]!)) return undefined;
  const r = classify(w, p);
  return r?.from === FROM_ROOT ? p : undefined;
}

/** Compile one template string (not cached; see the cache in index.ts). Throws GT_FLOW_TEMPLATE. */
export function compileString(text: string, mode: TemplateMode, pointer: string): CompiledString {
  if (!text.includes('{{')) return { kind: 'static', text };
  const { ast, src } = parse(text, pointer);
  const w: Walk = {
    src,
    pointer,
    slots: [],
    depth: 0,
    blockParams: [],
    json: mode === 'json' ? { inString: false, escape: false, openedBy: undefined } : undefined,
    simple: true,
  };
  if (mode === 'text') {
    const typed = isTyped(w, ast);
    if (typed) {
      addSlot(w, classify(w, typed)!, typed, OUT_VALUE, false);
      return { kind: 'typed', text, slot: w.slots[0]! };
    }
  }
  walkProgram(w, ast, 0);
  if (w.simple) {
    const parts: Array<string | number> = [];
    for (const node of ast.body) {
      if (node.type === 'ContentStatement') {
        const value = (node as ContentNode).value;
        if (value) parts.push(value);
      } else if (node.type === 'MustacheStatement') {
        parts.push(((node as MustacheNode).params[0] as LiteralNode).value as number);
      }
    }
    return { kind: 'interpolate', text, slots: w.slots, parts };
  }
  let fn: HandlebarsTemplateDelegate;
  try {
    fn = compileAst(ast as unknown as hbs.AST.Program);
  } catch (err) {
    throw syntaxError(err, src, pointer);
  }
  return { kind: 'handlebars', text, slots: w.slots, fn };
}

/** Render a compiled string with `st` (whose `pointer` is the string's pointer). */
export function renderString(c: CompiledString, st: RenderState): unknown {
  switch (c.kind) {
    case 'static':
      return c.text;
    case 'typed': {
      const v = resolvePath(st.scope, c.slot.ref);
      if (v !== undefined) return v;
      missing(st, c.slot);
      return '';
    }
    case 'interpolate': {
      let text = '';
      const { parts, slots } = c;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        if (typeof part === 'string') {
          text += part;
        } else {
          const slot = slots[part]!;
          const v = resolvePath(st.scope, slot.ref);
          if (v === undefined && !slot.quiet) missing(st, slot);
          text += output(v, slot.out) as string;
        }
      }
      return text;
    }
    case 'handlebars': {
      st.slots = c.slots;
      st.view ??= scopeView(st.scope);
      const previous = enterState(st);
      try {
        return c.fn(st.view, RUNTIME_OPTIONS);
      } catch (err) {
        if (err instanceof FlowError) throw err;
        throw new FlowError(
          'GT_FLOW_TEMPLATE',
          `${where(st.pointer)}: rendering failed: ${(err as Error)?.message ?? String(err)}`,
          { line: 1, column: 1, pointer: st.pointer },
          { cause: err },
        );
      } finally {
        leaveState(previous);
      }
    }
  }
}
