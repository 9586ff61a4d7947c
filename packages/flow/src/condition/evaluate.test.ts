import { describe, expect, it } from 'vitest';
import type { ExpressionScope } from '../scope.js';
import { parseCondition } from './index.js';

function scope(over: Partial<ExpressionScope> = {}): ExpressionScope {
  return {
    entry: { input: { text: '42', metadata: { lang: 'fr' } } },
    prev: {
      success: true,
      confidence: 0.9,
      count: 3,
      name: 'Alice',
      items: [1, 2],
      empty: [],
      obj: {},
      zero: 0,
    },
    node: {
      forecast_weather: { location: { name: 'Paris' }, temp: 21 },
      wrapped: { payload: { status: 'ok' } },
    },
    state: { lang: null, tries: '2', flags: { vip: true } },
    parameters: { threshold: 0.8, days_default: 3 },
    response: { action: 'Submit', text: 'Yes please' },
    ...over,
  };
}

function evaluate(source: string, s: ExpressionScope = scope()): boolean {
  return parseCondition(source).evaluate(s);
}

function value(source: string, s: ExpressionScope = scope()): unknown {
  return parseCondition(source).value(s);
}

describe('conditions: operators', () => {
  it('compares numbers with < <= > >=', () => {
    expect(evaluate('prev.confidence >= 0.8')).toBe(true);
    expect(evaluate('prev.confidence > 0.9')).toBe(false);
    expect(evaluate('prev.confidence <= 0.9')).toBe(true);
    expect(evaluate('prev.count < 3')).toBe(false);
    expect(evaluate('prev.count > -1')).toBe(true);
    expect(evaluate('prev.confidence >= parameters.threshold')).toBe(true);
  });

  it('coerces numeric strings to numbers when the other side is a number (chat answers are text)', () => {
    expect(evaluate('in.input.text > 40')).toBe(true);
    expect(evaluate('in.input.text <= 41')).toBe(false);
    expect(evaluate('state.tries >= 2')).toBe(true);
    expect(evaluate('in.input.text == 42')).toBe(true);
    expect(evaluate('prev.name > 1')).toBe(false);
    expect(evaluate('prev.name <= 1')).toBe(false);
  });

  it('orders two strings lexicographically', () => {
    expect(evaluate('prev.name < "Bob"')).toBe(true);
    expect(evaluate('"2024-05-01" < "2024-10-01"')).toBe(true);
  });

  it('is false for every ordering of non-comparable values', () => {
    for (const op of ['<', '<=', '>', '>=']) {
      expect(evaluate(`prev.missing ${op} 1`)).toBe(false);
      expect(evaluate(`null ${op} null`)).toBe(false);
      expect(evaluate(`prev.success ${op} 0`)).toBe(false);
      expect(evaluate(`prev.items ${op} 1`)).toBe(false);
    }
  });

  it('negates with !', () => {
    expect(evaluate('!prev.success')).toBe(false);
    expect(evaluate('!prev.missing')).toBe(true);
    expect(evaluate('!!prev.name')).toBe(true);
  });

  it('short-circuits && and || and yields booleans', () => {
    expect(value('prev.name && prev.count')).toBe(true);
    expect(value('prev.zero || prev.name')).toBe(true);
    expect(value('prev.zero && prev.name')).toBe(false);
    expect(value('prev.missing || prev.empty')).toBe(false);
  });

  it('?? yields the right side only when the left is null or missing', () => {
    expect(value('state.lang ?? "en"')).toBe('en');
    expect(value('prev.missing ?? parameters.days_default')).toBe(3);
    expect(value('prev.zero ?? 5')).toBe(0);
    expect(value('prev.success ?? false')).toBe(true);
    expect(value('prev.a ?? prev.b ?? "last"')).toBe('last');
  });
});

describe('conditions: equality', () => {
  it('matches upstream: string literals compare case-insensitively with the stringified value', () => {
    expect(evaluate('response.action == "submit"')).toBe(true);
    expect(evaluate('response.action == "SUBMIT"')).toBe(true);
    expect(evaluate('response.action != "submit"')).toBe(false);
    expect(evaluate('response.action == "cancel"')).toBe(false);
    expect(evaluate('"submit" == response.action')).toBe(true);
    expect(evaluate('prev.success == "TRUE"')).toBe(true);
    expect(evaluate('prev.count == "3"')).toBe(true);
  });

  it('compares two strings case-insensitively too', () => {
    expect(evaluate('response.action == prev.action', scope({ prev: { action: 'SUBMIT' } }))).toBe(true);
  });

  it('compares numbers numerically, including numeric strings', () => {
    expect(evaluate('prev.count == 3.0')).toBe(true);
    expect(evaluate('prev.count == "3.0"')).toBe(true);
    expect(evaluate('state.tries == 2')).toBe(true);
    expect(evaluate('prev.count != 4')).toBe(true);
  });

  it('compares booleans and null exactly', () => {
    expect(evaluate('prev.success == true')).toBe(true);
    expect(evaluate('prev.success == false')).toBe(false);
    expect(evaluate('state.lang == null')).toBe(true);
    expect(evaluate('null == null')).toBe(true);
    expect(evaluate('prev.zero == false')).toBe(false);
    expect(evaluate('prev.success == 1')).toBe(false);
  });

  it('does not equate null with an empty string or zero', () => {
    expect(evaluate('prev.missing == ""')).toBe(false);
    expect(evaluate('prev.missing == 0')).toBe(false);
    expect(evaluate('prev.missing != null')).toBe(false);
  });

  it('compares arrays and objects structurally', () => {
    expect(evaluate('prev.items == node.copy.items', scope({ node: { copy: { items: [1, 2] } } }))).toBe(
      true,
    );
    expect(evaluate('state.flags == node.copy', scope({ node: { copy: { vip: true } } }))).toBe(true);
    expect(evaluate('prev.items == prev.empty')).toBe(false);
  });
});

describe('conditions: precedence', () => {
  it('binds && tighter than ||', () => {
    expect(evaluate('true || false && false')).toBe(true);
    expect(evaluate('(true || false) && false')).toBe(false);
    expect(evaluate('false && false || true')).toBe(true);
  });

  it('binds comparison tighter than &&, and ! tighter than comparison', () => {
    expect(evaluate('prev.count > 2 && prev.count < 4')).toBe(true);
    expect(evaluate('!prev.success == false')).toBe(true); // (!prev.success) == false
  });

  it('binds ?? tighter than comparison, so it supplies defaults for operands', () => {
    expect(evaluate('prev.missing ?? 0 >= 0.8')).toBe(false); // (prev.missing ?? 0) >= 0.8
    expect(evaluate('prev.confidence ?? 0 >= 0.8')).toBe(true);
    expect(evaluate('state.lang ?? "en" == "EN"')).toBe(true);
    expect(evaluate('prev.missing ?? false || true')).toBe(true);
  });

  it('binds ordering tighter than equality', () => {
    expect(evaluate('prev.count > 2 == true')).toBe(true);
    expect(evaluate('false == prev.count > 5')).toBe(true);
  });

  it('lets parentheses override', () => {
    expect(value('(prev.missing ?? 0) >= 0')).toBe(true);
    expect(evaluate('!(prev.success && prev.missing)')).toBe(true);
  });
});

describe('conditions: paths', () => {
  it('treats a missing path as null, not as an error', () => {
    expect(value('prev.nothing.deeper[3].x')).toBe(null);
    expect(value('node.unknown.x')).toBe(null);
    expect(evaluate('response.action == "x"', scope({ response: undefined }))).toBe(false);
    expect(evaluate('prev.x == null', scope({ prev: undefined }))).toBe(true);
  });

  it('reads every scope root', () => {
    expect(value('entry.input.metadata.lang')).toBe('fr');
    expect(value('in.input.metadata.lang')).toBe('fr');
    expect(value('state.flags.vip')).toBe(true);
    expect(value('parameters.days_default')).toBe(3);
    expect(value('response.text')).toBe('Yes please');
    expect(value('node.forecast_weather.temp')).toBe(21);
  });

  it('exposes a node output under .payload when it has no payload of its own', () => {
    expect(value('prev.payload.name')).toBe('Alice');
    expect(value('node.forecast_weather.payload.location.name')).toBe('Paris');
    expect(value('node.wrapped.payload.status')).toBe('ok');
    expect(value('node.wrapped.status')).toBe(null);
  });

  it('reads a node output by bare node id, like upstream', () => {
    expect(evaluate('forecast_weather.payload.location.name == "paris"')).toBe(true);
    expect(value('forecast_weather.temp')).toBe(21);
  });

  it('reads any other bare name as a field of prev', () => {
    expect(value('success')).toBe(true);
    expect(value('payload.count')).toBe(3);
    expect(value('items[1]')).toBe(2);
  });

  it('indexes arrays and reads their length', () => {
    expect(value('prev.items[0]')).toBe(1);
    expect(value('prev.items.1')).toBe(2);
    expect(value('prev.items[2]')).toBe(null);
    expect(value('prev.items.length')).toBe(2);
    expect(evaluate('prev.empty.length == 0')).toBe(true);
    expect(value('prev.name.length')).toBe(5);
  });

  it('reads quoted keys', () => {
    const s = scope({ prev: { 'weird key': { 'a-b': 1 } } });
    expect(value('prev["weird key"][\'a-b\']', s)).toBe(1);
  });

  it('never reaches the prototype', () => {
    for (const path of [
      'prev.__proto__',
      'prev.constructor',
      'prev.constructor.name',
      'prev.toString',
      'prev.hasOwnProperty',
      'prev.items.constructor',
      'prev.items.map',
      'prev.name.constructor',
      'constructor',
      '__proto__',
      'node.constructor',
      'state.__proto__.polluted',
      'prev["__proto__"]',
    ]) {
      expect(value(path), path).toBe(null);
    }
  });

  it('reads an own data property named __proto__ as data', () => {
    const prev = JSON.parse('{"__proto__": {"x": 1}}');
    expect(value('prev.__proto__.x', scope({ prev }))).toBe(1);
  });
});

describe('conditions: result', () => {
  it('coerces the result to a boolean by truthiness', () => {
    expect(evaluate('prev.name')).toBe(true);
    expect(evaluate('prev.items')).toBe(true);
    for (const falsy of ['prev.zero', 'prev.empty', 'prev.obj', 'prev.missing', 'null', 'false', '""', '0']) {
      expect(evaluate(falsy), falsy).toBe(false);
    }
    expect(evaluate('"false"')).toBe(true);
  });

  it('evaluates the upstream supply-chain condition', () => {
    const c = parseCondition(
      "{{response.action == 'submit_reorder' && (in.input.product_sku == null || in.input.product_sku == '')}}",
    );
    const base = { prev: {}, node: {}, state: {}, parameters: {} };
    expect(c.evaluate({ ...base, entry: { input: {} }, response: { action: 'submit_reorder' } })).toBe(true);
    expect(
      c.evaluate({ ...base, entry: { input: { product_sku: '' } }, response: { action: 'Submit_Reorder' } }),
    ).toBe(true);
    expect(
      c.evaluate({
        ...base,
        entry: { input: { product_sku: 'X1' } },
        response: { action: 'submit_reorder' },
      }),
    ).toBe(false);
    expect(c.evaluate({ ...base, entry: { input: {} }, response: { action: 'back' } })).toBe(false);
  });

  it('is reusable across scopes', () => {
    const c = parseCondition('response.action == "submit"');
    expect(c.evaluate(scope())).toBe(true);
    expect(c.evaluate(scope({ response: { action: 'back' } }))).toBe(false);
  });
});
