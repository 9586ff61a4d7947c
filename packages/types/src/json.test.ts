import { describe, expect, it } from 'vitest';
import { isTypesError, type TypesError } from './errors.js';
import { copyJsonValue, DEFAULT_JSON_MAX_DEPTH, jsonValueProblem } from './json.js';

function nested(levels: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = { d: value };
  return value;
}

function thrown(fn: () => unknown): TypesError {
  try {
    fn();
  } catch (err) {
    if (isTypesError(err)) return err;
    throw err;
  }
  throw new Error('expected a TypesError, but the call succeeded');
}

describe('copyJsonValue', () => {
  it('returns an equal, independent deep copy', () => {
    const value = { a: [1, 'two', true, null, { b: -0.5 }], c: {} };
    const copy = copyJsonValue(value) as typeof value;
    expect(copy).toStrictEqual(value);
    expect(copy).not.toBe(value);
    expect(copy.a).not.toBe(value.a);
    expect(copy.a[4]).not.toBe(value.a[4]);
    (copy.a[4] as { b: number }).b = 9;
    expect(value.a[4]).toStrictEqual({ b: -0.5 });
  });

  it('returns scalars as they are', () => {
    for (const value of ['', 'x', 0, -1.5, true, false, null]) expect(copyJsonValue(value)).toBe(value);
  });

  it('drops object members that are undefined, as JSON.stringify does', () => {
    expect(copyJsonValue({ a: 1, gone: undefined, nested: { gone: undefined } })).toStrictEqual({
      a: 1,
      nested: {},
    });
  });

  it('copies null-prototype objects and a member named __proto__ as plain data', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    expect(copyJsonValue(bare)).toStrictEqual({ a: 1 });
    const tricky = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const copy = copyJsonValue(tricky) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toStrictEqual(['__proto__', 'x']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toStrictEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects what JSON cannot hold, naming the place and what is there', () => {
    class Point {
      x = 1;
    }
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.me = { again: cyclic };
    const cases: [unknown, string, RegExp, string][] = [
      [undefined, '', /^is undefined, which JSON cannot hold$/, 'type'],
      [{ x: [1, { f: () => 1 }] }, '/x/1/f', /^is a function/, 'type'],
      [{ s: Symbol('s') }, '/s', /^is a symbol/, 'type'],
      [{ big: 1n }, '/big', /^is a bigint/, 'type'],
      [{ n: Number.NaN }, '/n', /^is NaN/, 'type'],
      [[Number.NEGATIVE_INFINITY], '/0', /^is -Infinity/, 'type'],
      [{ list: [1, undefined] }, '/list/1', /^is undefined/, 'type'],
      // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point
      [{ list: [1, , 3] }, '/list', /^is a sparse array \(index 1 is a hole\)/, 'sparse'],
      [{ when: new Date(0) }, '/when', /^is an instance of Date/, 'type'],
      [{ m: new Map() }, '/m', /^is an instance of Map/, 'type'],
      [{ p: new Point() }, '/p', /^is an instance of Point/, 'type'],
      [cyclic, '/me/again', /^is a reference to one of its parents \(a cycle\)/, 'cycle'],
      [{ 'a/b': { '~': () => 1 } }, '/a~1b/~0', /^is a function/, 'type'],
    ];
    for (const [value, pointer, message, keyword] of cases) {
      const problem = jsonValueProblem(value);
      expect(problem).toMatchObject({ pointer, keyword });
      expect(problem?.message).toMatch(message);
      const err = thrown(() => copyJsonValue(value));
      expect(err.code).toBe('GT_TYPES_INVALID');
      expect(err.field).toBe(pointer);
      expect(err.issues).toStrictEqual([problem]);
      expect(err.message).toBe(`${pointer || '(root)'}: ${problem?.message} (invalid JSON value)`);
    }
  });

  it('limits nesting to maxDepth objects and arrays (default 128), scalars not counted', () => {
    expect(DEFAULT_JSON_MAX_DEPTH).toBe(128);
    expect(copyJsonValue(nested(128))).toStrictEqual(nested(128));
    const tooDeep = thrown(() => copyJsonValue(nested(129)));
    expect(tooDeep.field).toBe('/d'.repeat(128));
    expect(tooDeep.issues[0]).toMatchObject({
      message: 'is nested deeper than 128 levels, the most allowed',
      keyword: 'maxDepth',
    });
    expect(copyJsonValue(nested(3), { maxDepth: 3 })).toStrictEqual(nested(3));
    expect(jsonValueProblem([[[[]]]], { maxDepth: 3 })).toMatchObject({
      pointer: '/0/0/0',
      keyword: 'maxDepth',
    });
    expect(copyJsonValue('scalar', { maxDepth: 0 })).toBe('scalar');
    expect(() => copyJsonValue({}, { maxDepth: 0 })).toThrow(/^\(root\): is nested deeper than 0 levels/);
    expect(copyJsonValue(nested(200), { maxDepth: 256 })).toStrictEqual(nested(200));
  });

  it('finds a cycle before the depth limit', () => {
    const loop: unknown[] = [];
    loop.push(loop);
    expect(jsonValueProblem(loop)).toMatchObject({ pointer: '/0', keyword: 'cycle' });
    expect(thrown(() => copyJsonValue(loop)).field).toBe('/0');
  });

  it('accepts a value that repeats a non-ancestor object (a DAG, not a cycle)', () => {
    const shared = { v: 1 };
    const value = { a: shared, b: [shared, shared] };
    expect(jsonValueProblem(value)).toBeUndefined();
    const copy = copyJsonValue(value) as { a: object; b: object[] };
    expect(copy).toStrictEqual({ a: { v: 1 }, b: [{ v: 1 }, { v: 1 }] });
    expect(copy.a).not.toBe(copy.b[0]);
  });

  it('reads arrays by index as the copy does, ignoring other own properties', () => {
    const list = Object.assign([1, 2], { extra: () => 1 });
    expect(jsonValueProblem(list)).toBeUndefined();
    expect(copyJsonValue(list)).toStrictEqual([1, 2]);
  });

  it('says nothing is wrong with valid JSON', () => {
    expect(jsonValueProblem(JSON.parse('{"a":[1,"x",null,{"b":false}],"c":{}}'))).toBeUndefined();
  });
});
