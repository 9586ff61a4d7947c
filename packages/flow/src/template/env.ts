import Handlebars from 'handlebars';
import { looseEquals } from '../condition/values.js';
import { resolvePath, walkPath } from '../path.js';
import { currentState, FROM_ARGUMENT, FROM_ROOT, missing, output, type Slot, toText } from './state.js';

/**
 * The isolated Handlebars environment of Greentic templates: Handlebars' block helpers (`each`, `if`, `unless`,
 * `with`, `lookup`), Greentic's helpers (`json`, `default`, `eq`, `ifEq`, `lowercase`, `uppercase`, `join`) and
 * internal helpers (`__gt*`) through which the compiler routes every path.
 */
export const hb = Handlebars.create();
hb.unregisterHelper('log'); // templates do not write to the server console

type Options = Handlebars.HelperOptions;

/** Resolve the path of a slot, reporting it when it is missing. `self` is the block context. */
function resolveSlot(slot: Slot, self: unknown, argument: unknown): unknown {
  const st = currentState();
  const v =
    slot.from === FROM_ROOT
      ? resolvePath(st.scope, slot.ref)
      : walkPath(slot.from === FROM_ARGUMENT ? argument : self, slot.ref.segments, 0);
  if (v === undefined && !slot.quiet) missing(st, slot);
  return v;
}

function slotAt(index: unknown): Slot {
  const slot = currentState().slots[index as number];
  if (slot === undefined) throw new Error(`Greentic template: no path #${String(index)}`);
  return slot;
}

// {{__gt <slot> [<block param>]}}: a path, written out according to its slot.
hb.registerHelper('__gt', function (this: unknown, index: unknown, argument: unknown) {
  const slot = slotAt(index);
  return output(resolveSlot(slot, this, argument), slot.out);
});

// {{#__gtsec <slot> [<block param>]}}…{{/__gtsec}}: a Mustache-style section over a path (upstream writes
// `{{#forecast.days}}…{{/forecast.days}}`): arrays iterate, objects become the context, falsy renders `else`.
hb.registerHelper('__gtsec', function (this: unknown, index: unknown, ...rest: unknown[]) {
  const options = rest[rest.length - 1] as Options;
  const slot = slotAt(index);
  const value = resolveSlot(slot, this, rest.length > 1 ? rest[0] : undefined);
  return hb.helpers.blockHelperMissing!.call(this, value, options);
});

// {{__gtout <value> <out>}}: a helper's result written out (objects as JSON; JSON-escaped inside JSON strings).
hb.registerHelper('__gtout', (value: unknown, out: unknown) => output(value, out as number));

function args(all: unknown[]): unknown[] {
  return all.slice(0, all.length - 1); // the last argument is Handlebars' options
}

// {{json value [indent]}}
hb.registerHelper('json', (...all: unknown[]) => {
  const [value, indent] = args(all);
  return JSON.stringify(
    value === undefined ? null : value,
    null,
    typeof indent === 'number' ? indent : undefined,
  );
});

// {{default value fallback…}}: the first value that is not null/missing.
hb.registerHelper('default', (...all: unknown[]) => {
  for (const v of args(all)) if (v !== null && v !== undefined) return v;
  return null;
});

// {{eq a b}} (for subexpressions: {{#if (eq a b)}}): the condition language's `==`.
hb.registerHelper('eq', (a: unknown, b: unknown) => looseEquals(a, b));

// {{#ifEq a b}}…{{else}}…{{/ifEq}}
hb.registerHelper('ifEq', function (this: unknown, a: unknown, b: unknown, options: Options) {
  const equal = looseEquals(a, b);
  if (typeof options?.fn !== 'function') return equal;
  return equal ? options.fn(this) : options.inverse(this);
});

hb.registerHelper('lowercase', (v: unknown) => toText(v).toLowerCase());
hb.registerHelper('uppercase', (v: unknown) => toText(v).toUpperCase());

// {{join list [separator]}}: items as text (objects as JSON), separated by ", " unless told.
hb.registerHelper('join', (...all: unknown[]) => {
  const [list, separator] = args(all);
  if (!Array.isArray(list)) return toText(list);
  return list.map(toText).join(typeof separator === 'string' ? separator : ', ');
});

/** Helpers a template may call, with their arity and form. */
export interface HelperSpec {
  min: number;
  max: number;
  /** `block`: only `{{#name …}}`; `inline`: only `{{name …}}`/`(name …)`; `both`. */
  form: 'block' | 'inline' | 'both';
  /** The block's program runs with a new context (`this`). */
  changesContext?: boolean;
  /** Which arguments are tests, whose missing paths are not reported: `all`, or all but the last. */
  quiet?: 'all' | 'allButLast';
  /** The result may be an object (written out as JSON rather than `[object Object]`). */
  returnsValue?: boolean;
}

export const HELPERS: ReadonlyMap<string, HelperSpec> = new Map<string, HelperSpec>([
  ['each', { min: 1, max: 1, form: 'block', changesContext: true }],
  ['with', { min: 1, max: 1, form: 'block', changesContext: true }],
  ['if', { min: 1, max: 1, form: 'block', quiet: 'all' }],
  ['unless', { min: 1, max: 1, form: 'block', quiet: 'all' }],
  ['ifEq', { min: 2, max: 2, form: 'both', quiet: 'all' }],
  ['eq', { min: 2, max: 2, form: 'inline', quiet: 'all' }],
  [
    'default',
    { min: 1, max: Number.POSITIVE_INFINITY, form: 'inline', quiet: 'allButLast', returnsValue: true },
  ],
  ['lookup', { min: 2, max: 2, form: 'inline', returnsValue: true }],
  ['json', { min: 1, max: 2, form: 'inline' }],
  ['lowercase', { min: 1, max: 1, form: 'inline' }],
  ['uppercase', { min: 1, max: 1, form: 'inline' }],
  ['join', { min: 1, max: 2, form: 'inline' }],
]);

/** Handlebars compile options (a fresh object each time: Handlebars' compiler writes into it). */
export function compileOptions(): CompileOptions {
  return {
    noEscape: true,
    strict: false,
    data: true,
    compat: false,
    preventIndent: true,
    knownHelpersOnly: false,
    knownHelpers: {
      __gt: true,
      __gtsec: true,
      __gtout: true,
      json: true,
      default: true,
      eq: true,
      ifEq: true,
      lowercase: true,
      uppercase: true,
      join: true,
    },
  };
}

/** Runtime options: prototype access stays denied (and denial is silent, not logged). */
export const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
};

// The compiler stages Handlebars exposes on a full environment but not in its typings.
interface CompilerStages {
  Compiler: new () => { compile(ast: hbs.AST.Program, options: CompileOptions): unknown };
  JavaScriptCompiler: new () => {
    compile(
      environment: unknown,
      options: CompileOptions,
      context: undefined,
      asObject: true,
    ): TemplateSpecification;
  };
  Parser: { lexer: { yylloc?: { first_line: number; first_column: number } } };
}
const stages = hb as unknown as CompilerStages;

/** Compile a (rewritten) AST now, rather than on first render as `hb.compile` would. */
export function compileAst(ast: hbs.AST.Program): HandlebarsTemplateDelegate {
  const options = compileOptions();
  const environment = new stages.Compiler().compile(ast, options);
  const spec = new stages.JavaScriptCompiler().compile(environment, options, undefined, true);
  return hb.template(spec);
}

/** Where the Handlebars lexer stopped (1-based line, 0-based column), after a parse error. */
export function lexerPosition(): { line: number; column: number } | undefined {
  const loc = stages.Parser.lexer.yylloc;
  return loc ? { line: loc.first_line, column: loc.first_column } : undefined;
}
