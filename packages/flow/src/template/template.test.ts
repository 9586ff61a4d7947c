import { describe, expect, it } from 'vitest';
import { FlowError } from '../errors.js';
import type { ExpressionScope } from '../scope.js';
import { compileTemplate, renderValue, TEMPLATE_HELPERS, templateCacheSize } from './index.js';

function scope(over: Partial<ExpressionScope> = {}): ExpressionScope {
  return {
    entry: { input: { text: 'Hello "world"' } },
    prev: {
      city: 'Paris',
      count: 3,
      ok: true,
      none: null,
      items: [
        { name: 'apple', qty: 2 },
        { name: 'pear', qty: 0 },
      ],
      tags: ['a', 'b', 'c'],
      location: { name: 'Paris', country: 'France' },
    },
    node: {
      forecast_weather: { location: { name: 'Lyon' }, days: [{ date: '2024-06-01' }] },
      wrapped: { payload: { status: 'done' } },
      'fetch-user': { name: 'Zoe' },
    },
    state: { user: { name: 'Bob' }, lang: 'EN' },
    parameters: { days_default: 3, greeting: 'Hi' },
    response: { action: 'Yes', text: 'yes please' },
    ...over,
  };
}

function render(value: unknown, s: ExpressionScope = scope()): unknown {
  const r = renderValue(value, s);
  expect(r.warnings).toEqual([]);
  return r.value;
}

function compileError(text: string): FlowError {
  try {
    compileTemplate({ text });
  } catch (err) {
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).code).toBe('GT_FLOW_TEMPLATE');
    return err as FlowError;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to compile`);
}

describe('templates: typed insertion', () => {
  it('inserts the JSON value when a string is exactly {{path}}', () => {
    expect(render('{{prev.location}}')).toEqual({ name: 'Paris', country: 'France' });
    expect(render('{{prev.count}}')).toBe(3);
    expect(render('{{prev.tags}}')).toEqual(['a', 'b', 'c']);
    expect(render('{{prev.ok}}')).toBe(true);
    expect(render('{{prev.none}}')).toBeNull();
    expect(render('{{ parameters.days_default }}')).toBe(3);
  });

  it('accepts upstream index and quoted-key paths', () => {
    expect(render('{{prev.items[0]}}')).toEqual({ name: 'apple', qty: 2 });
    expect(render('{{prev.items[1].name}}')).toBe('pear');
    expect(render('{{node["fetch-user"].name}}')).toBe('Zoe');
    expect(render('{{prev.items.[0].qty}}')).toBe(2);
  });

  it('does not type a string with anything around the mustache', () => {
    expect(render(' {{prev.count}}')).toBe(' 3');
    expect(render('{{prev.count}}\n')).toBe('3\n');
    expect(render('{{{prev.count}}}')).toBe('3');
    expect(render('{{json prev.count}}')).toBe('3');
  });

  it('renders every string leaf of a JSON value and keeps other leaves', () => {
    const value = {
      args: { q: '{{prev.city}}', days: '{{parameters.days_default}}', fixed: 7, flag: false },
      list: ['{{state.user.name}}', 'plain', null],
    };
    expect(render(value)).toEqual({
      args: { q: 'Paris', days: 3, fixed: 7, flag: false },
      list: ['Bob', 'plain', null],
    });
  });

  it('returns parts without templates as they are', () => {
    const constant = { a: { b: [1, 2] } };
    const value = { constant, t: '{{prev.city}}' };
    const out = render(value) as Record<string, unknown>;
    expect(out.constant).toBe(constant);
    expect(compileTemplate(constant).isConstant).toBe(true);
    expect(compileTemplate(constant).render(scope()).value).toBe(constant);
  });

  it('keeps a __proto__ key as data in the rendered object', () => {
    const value = JSON.parse('{"__proto__": {"x": "{{prev.city}}"}}');
    const out = render(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ x: 'Paris' });
  });
});

describe('templates: mixed text', () => {
  it('renders text with paths from every root', () => {
    expect(
      render(
        '{{parameters.greeting}} {{state.user.name}}: {{in.input.text}} / {{entry.input.text}} ({{response.action}}, {{node.forecast_weather.location.name}})',
      ),
    ).toBe('Hi Bob: Hello "world" / Hello "world" (Yes, Lyon)');
  });

  it('does not HTML-escape', () => {
    expect(render('<b>{{in.input.text}}</b> & co')).toBe('<b>Hello "world"</b> & co');
  });

  it('renders objects and arrays as JSON, and null as empty', () => {
    expect(render('loc={{prev.location}} tags={{prev.tags}} none=[{{prev.none}}]')).toBe(
      'loc={"name":"Paris","country":"France"} tags=["a","b","c"] none=[]',
    );
  });

  it('resolves bare node ids, prev fields and the .payload alias', () => {
    expect(
      render('{{forecast_weather.payload.location.name}} {{city}} {{prev.payload.city}} {{payload.count}}'),
    ).toBe('Lyon Paris Paris 3');
    expect(render('{{wrapped.payload.status}} {{node.wrapped.payload.status}}')).toBe('done done');
  });

  it('accepts Handlebars path spellings', () => {
    const s = scope({ prev: { items: [{ name: 'a' }, { name: 'b' }], city: 'Oslo', 'weird key': 1 } });
    expect(
      render('{{prev.items.0.name}} {{prev.items.[1].name}} {{prev/city}} {{prev.[weird key]}}', s),
    ).toBe('a b Oslo 1');
  });

  it('iterates objects with @key, and marks @first/@last', () => {
    expect(
      render('{{#each prev.location}}{{#if @first}}<{{/if}}{{@key}}={{this}}{{#if @last}}>{{/if}} {{/each}}'),
    ).toBe('<name=Paris country=France> ');
  });

  it('keeps a brace that follows a mustache', () => {
    expect(render('{count: {{prev.count}}}')).toBe('{count: 3}');
    expect(render('{{{prev.city}}}}')).toBe('Paris}');
  });

  it('accepts upstream index paths in mixed text', () => {
    expect(render('first: {{prev.items[0].name}}, second: {{prev.items[1]["name"]}}')).toBe(
      'first: apple, second: pear',
    );
  });
});

describe('templates: missing paths', () => {
  it('renders a missing path as empty with a warning that names it (default mode)', () => {
    const r = renderValue({ args: { q: 'city: {{prev.town}}!' } }, scope());
    expect(r.value).toEqual({ args: { q: 'city: !' } });
    expect(r.warnings).toEqual([
      {
        path: 'prev.town',
        pointer: '/args/q',
        line: 1,
        column: 9,
        message: expect.stringContaining('path "prev.town" is missing'),
      },
    ]);
  });

  it('renders a missing typed insertion as "" with a warning, like upstream', () => {
    const r = renderValue({ days: '{{parameters.days}}' }, scope());
    expect(r.value).toEqual({ days: '' });
    expect(r.warnings.map((w) => [w.path, w.pointer])).toEqual([['parameters.days', '/days']]);
  });

  it('throws GT_FLOW_TEMPLATE naming the path in strict mode', () => {
    for (const value of [{ a: ['x', '{{prev.town}}'] }, { a: ['x', 'in {{prev.town}}'] }]) {
      try {
        renderValue(value, scope(), { strict: true });
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(FlowError);
        expect((err as FlowError).code).toBe('GT_FLOW_TEMPLATE');
        expect((err as FlowError).message).toContain('path "prev.town" is missing');
        expect((err as FlowError).location?.pointer).toBe('/a/1');
      }
    }
    expect(() => renderValue('{{#each prev.items}}{{nope}}{{/each}}', scope(), { strict: true })).toThrow(
      /path "nope" is missing/,
    );
  });

  it('is not strict about present nulls', () => {
    expect(renderValue('[{{prev.none}}]', scope(), { strict: true }).value).toBe('[]');
  });

  it('warns once per path and position, even inside a loop', () => {
    const r = renderValue('{{#each prev.items}}{{this.price}}{{/each}}{{prev.x}}{{prev.x}}', scope());
    expect(r.warnings.map((w) => [w.path, w.column])).toEqual([
      ['this.price', 23],
      ['prev.x', 46],
      ['prev.x', 56],
    ]);
  });

  it('names upstream-style paths as written', () => {
    const r = renderValue('{{prev.items[5].name}}', scope());
    expect(r.warnings[0]!.path).toBe('prev.items[5].name');
  });

  it('does not report a missing path used as a test', () => {
    for (const t of [
      '{{#if prev.town}}x{{/if}}',
      '{{#unless prev.town}}x{{/unless}}',
      '{{#if (eq prev.town "x")}}x{{/if}}',
      '{{#ifEq prev.town "x"}}x{{/ifEq}}',
      '{{default prev.town "somewhere"}}',
      '{{^prev.town}}none{{/prev.town}}',
      '{{#with prev.town}}{{name}}{{else}}nowhere{{/with}}',
      '{{#each prev.town}}{{name}}{{else}}nothing{{/each}}',
      '{{#prev.town}}{{name}}{{else}}nowhere{{/prev.town}}',
      '{{#each prev.items}}{{#if this.price}}{{price}}{{/if}}{{/each}}',
    ]) {
      const r = renderValue(t, scope(), { strict: true });
      expect(r.warnings, t).toEqual([]);
    }
  });

  it('reports a missing path a block iterates or enters when the block has no else branch', () => {
    for (const t of [
      '{{#each prev.town}}x{{/each}}',
      '{{#with prev.town}}x{{/with}}',
      '{{#prev.town}}x{{/prev.town}}',
    ]) {
      expect(
        renderValue(t, scope()).warnings.map((w) => w.path),
        t,
      ).toEqual(['prev.town']);
    }
  });

  it('reports the fallback of default when it is missing too', () => {
    const r = renderValue('{{default prev.a prev.b}}', scope());
    expect(r.warnings.map((w) => w.path)).toEqual(['prev.b']);
  });
});

describe('templates: blocks change the context', () => {
  it('resolves this and item fields relative to each item', () => {
    expect(
      render('{{#each prev.items}}{{@index}}:{{name}}x{{this.qty}}{{#unless @last}}, {{/unless}}{{/each}}'),
    ).toBe('0:applex2, 1:pearx0');
    expect(render('{{#each prev.tags}}[{{this}}]{{/each}}')).toBe('[a][b][c]');
    expect(
      render('{{#each prev.list}}[{{this}}]{{/each}}', scope({ prev: { list: [null, { a: 1 }, [2], 0] } })),
    ).toBe('[][{"a":1}][[2]][0]');
    expect(render('{{#each prev.items as |item|}}{{item}};{{/each}}')).toBe(
      '{"name":"apple","qty":2};{"name":"pear","qty":0};',
    );
  });

  it('reaches the root with ../ and @root inside a block', () => {
    expect(render('{{#each prev.tags}}{{../state.user.name}}{{@root.parameters.greeting}}{{/each}}')).toBe(
      'BobHiBobHiBobHi',
    );
  });

  it('supports block parameters', () => {
    expect(render('{{#each prev.items as |item i|}}{{i}}={{item.name}};{{/each}}')).toBe('0=apple;1=pear;');
    const r = renderValue('{{#each prev.items as |item|}}{{item.color}}{{/each}}', scope());
    expect(r.warnings.map((w) => w.path)).toEqual(['item.color']);
  });

  it('supports with, and else branches in the outer context', () => {
    expect(render('{{#with prev.location}}{{name}}, {{country}}{{/with}}')).toBe('Paris, France');
    expect(render('{{#with prev.nothing}}x{{else}}{{prev.city}}{{/with}}')).toBe('Paris');
    expect(
      render(
        '{{#each prev.empty}}x{{else}}none for {{city}}{{/each}}',
        scope({ prev: { city: 'Oslo', empty: [] } }),
      ),
    ).toBe('none for Oslo');
  });

  it('supports upstream section blocks over arrays, objects and booleans', () => {
    expect(render('{{#prev.items}}- {{name}}\n{{/prev.items}}')).toBe('- apple\n- pear\n');
    expect(render('{{#prev.location}}{{name}}/{{country}}{{/prev.location}}')).toBe('Paris/France');
    expect(render('{{#prev.ok}}yes{{/prev.ok}}{{^prev.ok}}no{{/prev.ok}}')).toBe('yes');
    expect(render('{{#forecast_weather.payload.days}}{{date}}{{/forecast_weather.payload.days}}')).toBe(
      '2024-06-01',
    );
    expect(render('{{^prev.nothing}}empty{{/prev.nothing}}')).toBe('empty');
  });

  it('supports if/else chains', () => {
    const t = '{{#if prev.none}}a{{else if prev.ok}}b{{else}}c{{/if}}';
    expect(render(t)).toBe('b');
  });
});

describe('templates: helpers', () => {
  it('lists the helpers it offers', () => {
    expect(TEMPLATE_HELPERS).toEqual(
      expect.arrayContaining([
        'json',
        'default',
        'eq',
        'ifEq',
        'lowercase',
        'uppercase',
        'join',
        'each',
        'if',
        'with',
      ]),
    );
  });

  it('json stringifies values, with optional indentation', () => {
    expect(render('{{json prev.location}}')).toBe('{"name":"Paris","country":"France"}');
    expect(render('{{json prev.tags 2}}')).toBe('[\n  "a",\n  "b",\n  "c"\n]');
    expect(render('{{json prev.city}}')).toBe('"Paris"');
    expect(render('{{json prev.none}}')).toBe('null');
  });

  it('default yields the first value that is not null or missing', () => {
    expect(render('{{default prev.town "n/a"}}')).toBe('n/a');
    expect(render('{{default prev.none prev.nothing state.lang}}')).toBe('EN');
    expect(render('{{default prev.count 9}}')).toBe('3');
    expect(render('{{default prev.location "x"}}')).toBe('{"name":"Paris","country":"France"}');
  });

  it('eq and ifEq compare like conditions (case-insensitive strings, numeric strings)', () => {
    expect(render('{{#if (eq response.action "yes")}}Y{{else}}N{{/if}}')).toBe('Y');
    expect(render('{{#ifEq prev.count "3"}}three{{else}}other{{/ifEq}}')).toBe('three');
    expect(render('{{#ifEq state.lang "fr"}}fr{{else}}not fr{{/ifEq}}')).toBe('not fr');
    expect(render('{{eq prev.count 3}}')).toBe('true');
  });

  it('lowercase, uppercase and join', () => {
    expect(render('{{lowercase state.lang}} {{uppercase prev.city}} {{lowercase prev.none}}')).toBe(
      'en PARIS ',
    );
    expect(render('{{join prev.tags}}|{{join prev.tags " / "}}|{{join prev.city}}')).toBe(
      'a, b, c|a / b / c|Paris',
    );
  });

  it('supports hash arguments and subexpressions', () => {
    expect(render('{{join (default prev.none prev.tags) "-"}}')).toBe('a-b-c');
    expect(render('{{#each prev.items}}{{#if (eq qty 0)}}{{name}} is out{{/if}}{{/each}}')).toBe(
      'pear is out',
    );
  });

  it('rejects unknown helpers, wrong arity and wrong form at compile time', () => {
    expect(compileError('{{shout prev.city}}').message).toContain('unknown helper "shout"');
    expect(compileError('{{log "x"}}').message).toContain('unknown helper "log"');
    expect(compileError('{{eq prev.city}}').message).toContain('helper "eq" takes 2 argument(s), got 1');
    expect(compileError('{{#json prev.city}}x{{/json}}').message).toContain('"json" is not a block helper');
    expect(compileError('{{each prev.items}}').message).toContain('"each" is a block helper');
    expect(compileError('{{#each}}x{{/each}}').message).toContain('takes 1 argument(s), got 0');
    expect(compileError('{{> partial}}').message).toContain('partials and decorators are not supported');
    expect(compileError('{{__gt 0}}').message).toContain('reserved');
  });
});

describe('templates: syntax errors', () => {
  it('reports the Handlebars line and column, and the pointer of the string', () => {
    const err = compileError('Hello\n  {{#if prev.ok}}x{{/iff}}');
    expect(err.location).toEqual({ line: 2, column: 6, pointer: '/text' });
    expect(err.message).toContain("syntax error at line 2, column 6: if doesn't match iff");
  });

  it('reports an unclosed mustache', () => {
    const err = compileError('a {{prev.city');
    expect(err.location?.line).toBe(1);
    expect(err.message).toMatch(/syntax error at line 1, column \d+: unexpected/);
  });

  it('reports positions in the template as written when upstream paths were rewritten', () => {
    const err = compileError('{{prev.items[0].name}} {{#if x}}');
    expect(err.location).toMatchObject({ line: 1, column: 33 });
  });
});

describe('templates: sandbox', () => {
  it('never reaches the prototype', () => {
    const r = renderValue(
      '[{{constructor.name}}][{{prev.constructor.name}}][{{prev.__proto__}}][{{prev.tags.constructor}}][{{#each prev.items}}{{constructor.name}}{{/each}}][{{#with prev.location}}{{toString}}{{/with}}][{{lookup prev "constructor"}}][{{#each prev.items as |i|}}{{i.constructor.name}}{{/each}}]',
      scope(),
    );
    expect(r.value).toBe('[][][][][][][][]');
  });

  it('does not call functions found in the data', () => {
    let called = false;
    const prev = {
      fn: () => {
        called = true;
        return 'x';
      },
    };
    expect(renderValue('[{{prev.fn}}][{{fn}}]', scope({ prev })).value).toBe('[][]');
    expect(called).toBe(false);
  });
});

describe('templates: compiled form', () => {
  it('renders the same compiled template against many scopes', () => {
    const t = compileTemplate({
      to: '{{state.user.name}}',
      text: 'Hi {{state.user.name}}, {{response.action}}',
    });
    expect(t.render(scope()).value).toEqual({ to: 'Bob', text: 'Hi Bob, Yes' });
    expect(t.render(scope({ state: { user: { name: 'Ann' } }, response: { action: 'No' } })).value).toEqual({
      to: 'Ann',
      text: 'Hi Ann, No',
    });
  });

  it('keeps the cache of compiled strings bounded', () => {
    for (let i = 0; i < 2500; i++) renderValue(`n${i}: {{prev.count}}`, scope());
    expect(templateCacheSize()).toBeLessThanOrEqual(2000);
    expect(renderValue('n2499: {{prev.count}}', scope()).value).toBe('n2499: 3');
  });

  it('reports compile errors with the pointer of the failing string', () => {
    try {
      compileTemplate({ a: { 'b/c': ['ok', '{{#if}}'] } });
      expect.unreachable();
    } catch (err) {
      expect((err as FlowError).location?.pointer).toBe('/a/b~1c/1');
    }
  });
});
