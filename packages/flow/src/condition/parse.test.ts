import { describe, expect, it } from 'vitest';
import { FlowError } from '../errors.js';
import { parseCondition } from './index.js';

/** The FlowError a source fails with. */
function failure(source: string): FlowError {
  try {
    parseCondition(source);
  } catch (err) {
    expect(err).toBeInstanceOf(FlowError);
    return err as FlowError;
  }
  throw new Error(`expected ${JSON.stringify(source)} not to parse`);
}

function expectSyntaxError(source: string, column: number, message: string): void {
  const err = failure(source);
  expect(err.code).toBe('GT_FLOW_CONDITION');
  expect(err.location).toEqual({ line: 1, column, pointer: '' });
  expect(err.message).toContain(message);
}

describe('parseCondition: syntax errors carry the exact column', () => {
  it('reports an operator where a value is expected', () => {
    expectSyntaxError('prev.score >= > 1', 15, 'unexpected token ">" at column 15; expected a value');
  });

  it('reports an unterminated string at its opening quote', () => {
    expectSyntaxError('response.action == "submit', 20, 'unterminated string starting at column 20');
    expectSyntaxError("state.x == 'a", 12, 'unterminated string starting at column 12');
  });

  it('reports a dangling operator at the end of the expression', () => {
    expectSyntaxError('prev.ok &&', 11, 'unexpected end of the expression at column 11; expected a value');
    expectSyntaxError('prev.x ==   ', 13, 'unexpected end of the expression at column 13');
    expectSyntaxError('!', 2, 'expected a value');
  });

  it('reports an unclosed parenthesis where the expression ends, naming the opening one', () => {
    expectSyntaxError('(prev.a || prev.b', 18, 'missing ")" at column 18 to close the "(" at column 1');
    expectSyntaxError('(prev.a prev.b)', 9, 'expected ")" to close the "(" at column 1');
  });

  it('reports a closing parenthesis without an opening one', () => {
    expectSyntaxError('prev.a == 1)', 12, 'unexpected ")" at column 12; it has no matching "("');
  });

  it('reports an unknown character, with a hint for near misses', () => {
    expectSyntaxError('prev.a # 1', 8, 'unexpected character "#" at column 8');
    expectSyntaxError('prev.a = 1', 8, 'use "==" to compare');
    expectSyntaxError('prev.a & prev.b', 8, 'use "&&"');
    expectSyntaxError('prev.a | prev.b', 8, 'use "||"');
  });

  it('reports two values in a row', () => {
    expectSyntaxError(
      'prev.a "b"',
      8,
      'unexpected token "\\"b\\"" at column 8; expected an operator or the end',
    );
  });

  it('rejects chained comparisons instead of guessing', () => {
    expectSyntaxError('1 < prev.x < 3', 12, 'comparisons do not chain');
    expectSyntaxError('prev.a == prev.b == true', 18, 'comparisons do not chain');
  });

  it('reports malformed paths', () => {
    expectSyntaxError('prev. == 1', 6, 'expected a name or an index after "."');
    expectSyntaxError('prev.items[ == 1', 12, 'expected an index or a quoted key after "["');
    expectSyntaxError('prev["a" == 1', 9, 'expected "]" to close the "[" at column 5');
    expectSyntaxError('prev["a\\q"] == 1', 8, 'unknown escape "\\q" at column 8');
  });

  it('rejects an empty condition', () => {
    expectSyntaxError('', 1, 'the condition is empty');
    expectSyntaxError('   ', 1, 'the condition is empty');
    expectSyntaxError('{{ }}', 3, 'the condition is empty');
  });

  it('quotes the condition in the message', () => {
    expect(failure('a ==').message).toContain('bad condition "a ==":');
  });

  it('counts columns inside an upstream {{ … }} wrapper from the start of the source', () => {
    expectSyntaxError('{{response.action == }}', 22, 'unexpected end of the expression at column 22');
  });

  it('limits nesting', () => {
    expect(failure(`${'('.repeat(100)}1${')'.repeat(100)}`).message).toContain('nested too deeply');
    expect(failure(`${'!'.repeat(100)}prev.x`).message).toContain('nested too deeply');
  });

  it('shifts the location into the file when given one', () => {
    try {
      parseCondition('prev.x >= > 1', {
        location: { file: 'flows/main.ygtc', line: 12, column: 20, pointer: '/nodes/a/routing/0/condition' },
      });
      expect.unreachable();
    } catch (err) {
      expect((err as FlowError).location).toEqual({
        file: 'flows/main.ygtc',
        line: 12,
        column: 30,
        pointer: '/nodes/a/routing/0/condition',
      });
      expect((err as FlowError).message).toContain('at column 11');
    }
  });

  it('rejects a non-string condition', () => {
    expect(() => parseCondition(42 as unknown as string)).toThrow(/must be a string/);
  });
});

describe('parseCondition: accepted forms', () => {
  it('parses upstream conditions, plain and wrapped in {{ … }}', () => {
    for (const source of [
      'response.action == "submit"',
      'prev.success == true',
      'prev.value != null',
      "{{response.action == 'submit_reorder' && (in.input.product_sku == null || in.input.product_sku == '')}}",
      'fetch_user_info.payload.records[0].Name != null',
      "input.action_id == 'connect_salesforce'",
    ]) {
      expect(parseCondition(source).source).toBe(source);
    }
  });

  it('parses bracket indices, quoted keys and node ids with dashes in brackets', () => {
    const c = parseCondition('node["fetch-user"].payload.items[0]["display name"] != null');
    expect(c.pathRefs()[0]!.segments).toEqual(['node', 'fetch-user', 'payload', 'items', 0, 'display name']);
  });

  it('lists the paths it reads, as written, without duplicates', () => {
    const c = parseCondition('prev.a == 1 || (state.b["x y"] ?? prev.a) > 2 && !response.action');
    expect(c.paths()).toEqual(['prev.a', 'state.b["x y"]', 'response.action']);
    expect(c.pathRefs().map((p) => p.root)).toEqual(['prev', 'state', 'prev', 'response']);
  });

  it('treats true/false/null as literals and other words as paths', () => {
    expect(parseCondition('true').paths()).toEqual([]);
    expect(parseCondition('null == nothing').paths()).toEqual(['nothing']);
  });

  it('serialises as its source', () => {
    const c = parseCondition('prev.x >= 0.8');
    expect(JSON.stringify({ condition: c })).toBe('{"condition":"prev.x >= 0.8"}');
    expect(String(c)).toBe('prev.x >= 0.8');
  });
});
