import { describe, expect, it } from 'vitest';
import { FlowError } from './errors.js';
import { parsePath, pathFromSegments, resolvePath, walkPath } from './path.js';
import type { ExpressionScope } from './scope.js';

const scope: ExpressionScope = {
  entry: { input: { text: 'hi' } },
  prev: { a: 1, items: [{ n: 'x' }] },
  node: { ask: { answer: 'yes' }, 'my-node': { v: 2 }, '0': { v: 'zero' } },
  state: { s: true },
  parameters: { p: 'P' },
  response: { action: 'go' },
};

describe('parsePath', () => {
  it('splits names, indices and quoted keys into segments', () => {
    expect(parsePath('prev.payload.items[0]["display name"]').segments).toEqual([
      'prev',
      'payload',
      'items',
      0,
      'display name',
    ]);
    expect(parsePath("a['b'].c.0").segments).toEqual(['a', 'b', 'c', 0]);
    expect(parsePath('["odd-name"].x').segments).toEqual(['odd-name', 'x']);
  });

  it('classifies the root', () => {
    expect(parsePath('in.x').root).toBe('entry');
    expect(parsePath('entry').root).toBe('entry');
    expect(parsePath('node.a').root).toBe('node');
    expect(parsePath('ask.answer').root).toBe('bare');
  });

  it('throws a FlowError with the column of the problem', () => {
    try {
      parsePath('a.b-c');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FlowError);
      expect((err as FlowError).location).toEqual({ line: 1, column: 4, pointer: '' });
    }
    expect(() => parsePath('a..b', 'GT_FLOW_TEMPLATE')).toThrow(
      expect.objectContaining({ code: 'GT_FLOW_TEMPLATE' }),
    );
  });
});

describe('resolvePath', () => {
  const get = (text: string): unknown => resolvePath(scope, parsePath(text));

  it('returns undefined for a missing path and null for a present null', () => {
    expect(get('prev.nope')).toBeUndefined();
    expect(resolvePath({ ...scope, prev: { x: null } }, parsePath('prev.x'))).toBeNull();
  });

  it('resolves node ids by bracket, including ids that look like numbers', () => {
    expect(get('node["my-node"].v')).toBe(2);
    expect(get('node["0"].v')).toBe('zero');
    expect(get('node[0].v')).toBe('zero');
  });

  it('resolves a bare node id before a prev field', () => {
    expect(get('ask.answer')).toBe('yes');
    expect(get('ask.payload.answer')).toBe('yes');
    expect(get('a')).toBe(1);
  });

  it('returns whole roots', () => {
    expect(get('node')).toBe(scope.node);
    expect(get('prev')).toBe(scope.prev);
    expect(get('prev.payload')).toBe(scope.prev);
  });

  it('resolves segments from Handlebars-style parts, turning canonical integers into indices', () => {
    expect(resolvePath(scope, pathFromSegments(['prev', 'items', '0', 'n']))).toBe('x');
    expect(pathFromSegments(['a', '01', '1']).segments).toEqual(['a', '01', 1]);
  });
});

describe('walkPath', () => {
  it('reads only own properties and never returns functions', () => {
    class Thing {
      own = 1;
      method(): number {
        return 2;
      }
    }
    expect(walkPath(new Thing(), ['own'])).toBe(1);
    expect(walkPath(new Thing(), ['method'])).toBeUndefined();
    expect(walkPath({ f: () => 1 }, ['f'])).toBeUndefined();
    expect(walkPath({}, ['constructor'])).toBeUndefined();
    expect(walkPath([], ['push'])).toBeUndefined();
  });
});
