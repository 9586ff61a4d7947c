import { describe, expect, it } from 'vitest';
import { FlowError } from '../errors.js';
import type { ExpressionScope } from '../scope.js';
import { compileJsonTemplate, renderJsonTemplate } from './index.js';

const scope: ExpressionScope = {
  entry: { input: { text: 'She said "hi"\nthen left \\o/' } },
  prev: {},
  node: {},
  state: { name: 'Bob', count: 3, tags: ['x', 'y'], profile: { vip: true }, none: null },
  parameters: {},
};

describe('renderJsonTemplate (upstream `template: "<handlebars → JSON>"`)', () => {
  it('inserts typed JSON values for "{{path}}" strings', () => {
    const r = renderJsonTemplate(
      '{"name": "{{state.name}}", "count": "{{state.count}}", "tags": "{{state.tags}}", "profile": "{{ state.profile }}", "none": "{{state.none}}"}',
      scope,
    );
    expect(r.value).toEqual({ name: 'Bob', count: 3, tags: ['x', 'y'], profile: { vip: true }, none: null });
    expect(r.warnings).toEqual([]);
  });

  it('escapes text inserted inside a JSON string, so user text cannot break the JSON', () => {
    const r = renderJsonTemplate(
      '{"message": "You wrote: {{in.input.text}}", "n": "{{state.count}} items"}',
      scope,
    );
    expect(r.value).toEqual({ message: 'You wrote: She said "hi"\nthen left \\o/', n: '3 items' });
  });

  it('inserts raw text for a triple-stash inside a string', () => {
    const r = renderJsonTemplate('{"a": "{{{state.raw}}}"}', { ...scope, state: { raw: 'x\\"y' } });
    expect(r.value).toEqual({ a: 'x"y' });
  });

  it('inserts text as is outside strings (json helper for values)', () => {
    const r = renderJsonTemplate(
      '{"count": {{state.count}}, "tags": {{json state.tags}}, "vip": {{state.profile.vip}}}',
      scope,
    );
    expect(r.value).toEqual({ count: 3, tags: ['x', 'y'], vip: true });
  });

  it('supports blocks inside strings and around values', () => {
    const r = renderJsonTemplate(
      '{"list": "{{#each state.tags}}{{this}};{{/each}}", "items": [{{#each state.tags}}"{{this}}"{{#unless @last}},{{/unless}}{{/each}}]}',
      scope,
    );
    expect(r.value).toEqual({ list: 'x;y;', items: ['x', 'y'] });
  });

  it('renders a missing typed path as "" with a warning, and throws in strict mode', () => {
    const r = renderJsonTemplate('{"a": "{{state.missing}}"}', scope);
    expect(r.value).toEqual({ a: '' });
    expect(r.warnings.map((w) => w.path)).toEqual(['state.missing']);
    expect(() => renderJsonTemplate('{"a": "{{state.missing}}"}', scope, { strict: true })).toThrow(
      /path "state.missing" is missing/,
    );
  });

  it('throws GT_FLOW_TEMPLATE when the output is not JSON', () => {
    try {
      renderJsonTemplate('{"a": {{state.name}}}', scope);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FlowError);
      expect((err as FlowError).code).toBe('GT_FLOW_TEMPLATE');
      expect((err as FlowError).message).toContain('did not render to JSON');
      expect((err as FlowError).message).toContain('{\\"a\\": Bob}');
    }
  });

  it('compiles once and renders many times', () => {
    const t = compileJsonTemplate('{"to": "{{state.name}}"}');
    expect(t.render(scope).value).toEqual({ to: 'Bob' });
    expect(t.render({ ...scope, state: { name: 'Ann' } }).value).toEqual({ to: 'Ann' });
  });
});
