import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMcpError, McpError } from './errors.js';
import { loadToolMap, parseToolMap, TOOLMAP_DEFAULTS, ToolMap, validateToolMap } from './toolmap.js';

// The shared upstream corpus sits next to the repo (see conformance/flows.test.ts).
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const UPSTREAM = join(
  repoRoot,
  '..',
  'shared/conformance/packs/greentic-ai__greentic-conformance__src__fixtures__pack__toolmap.json',
);
const upstreamText = (() => {
  try {
    return readFileSync(UPSTREAM, 'utf8');
  } catch {
    // Without the shared corpus: the same document, written out.
    return JSON.stringify({
      tools: [
        {
          name: 'echo',
          component: './target/wasm32-wasi/release/echo_tool.wasm',
          entry: 'tool_invoke',
          timeout_ms: 3000,
          max_retries: 1,
          retry_backoff_ms: 100,
        },
      ],
    });
  }
})();

function thrown(fn: () => unknown): McpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof McpError) return e;
    throw e;
  }
  throw new Error('expected an McpError');
}

describe('tool maps', () => {
  it('reads the upstream conformance toolmap.json', () => {
    const map = parseToolMap(upstreamText, { file: 'toolmap.json' });
    expect(map.names).toEqual(['echo']);
    expect(map.get('echo')).toEqual({
      name: 'echo',
      component: './target/wasm32-wasi/release/echo_tool.wasm',
      entry: 'tool_invoke',
      timeout_ms: 3000,
      max_retries: 1,
      retry_backoff_ms: 100,
    });
    expect(map.policy('echo')).toEqual({ timeoutMs: 3000, maxAttempts: 2, baseDelayMs: 100 });
  });

  it('reads YAML and fills upstream defaults for the optional fields', () => {
    const map = parseToolMap('tools:\n  - name: a.b-c_1\n    component: comp.wasm\n    entry: tool-invoke\n');
    expect(map.policy('a.b-c_1')).toEqual({
      timeoutMs: TOOLMAP_DEFAULTS.timeout_ms,
      maxAttempts: 1,
      baseDelayMs: TOOLMAP_DEFAULTS.retry_backoff_ms,
    });
    expect(map.toJSON()).toEqual({
      tools: [{ name: 'a.b-c_1', component: 'comp.wasm', entry: 'tool-invoke' }],
    });
  });

  it('keeps file order', () => {
    const map = new ToolMap({
      tools: ['b', 'a', 'c'].map((name) => ({ name, component: `${name}.wasm`, entry: 'run' })),
    });
    expect([...map].map((t) => t.name)).toEqual(['b', 'a', 'c']);
    expect(map.size).toBe(3);
  });

  it('names the missing field', () => {
    const e = thrown(() =>
      validateToolMap({ tools: [{ name: 'echo', component: 'x.wasm' }] }, { file: 'tm.json' }),
    );
    expect(e.code).toBe('GT_MCP_TOOLMAP');
    expect(e.field).toBe('/tools/0/entry');
    expect(e.file).toBe('tm.json');
    expect(e.message).toContain('tm.json: tool map is invalid: /tools/0/entry is required');
  });

  it('names a field with the wrong type and shows the value', () => {
    const e = thrown(() =>
      validateToolMap({ tools: [{ name: 'echo', component: 'x.wasm', entry: 'run', timeout_ms: 'soon' }] }),
    );
    expect(e.field).toBe('/tools/0/timeout_ms');
    expect(e.message).toMatch(/\/tools\/0\/timeout_ms must be integer \(got "soon"\)/);
  });

  it('rejects negative and out-of-range numbers', () => {
    expect(
      thrown(() => validateToolMap({ tools: [{ name: 'e', component: 'c', entry: 'r', max_retries: -1 }] }))
        .field,
    ).toBe('/tools/0/max_retries');
    expect(
      thrown(() => validateToolMap({ tools: [{ name: 'e', component: 'c', entry: 'r', timeout_ms: 0 }] }))
        .field,
    ).toBe('/tools/0/timeout_ms');
  });

  it('rejects tool names MCP does not allow', () => {
    const e = thrown(() => validateToolMap({ tools: [{ name: 'say hello', component: 'c', entry: 'r' }] }));
    expect(e.field).toBe('/tools/0/name');
  });

  it('rejects an unknown field (a typo upstream would ignore) unless strict is off', () => {
    const doc = { tools: [{ name: 'e', component: 'c', entry: 'r', timeout: 5000 }] };
    const e = thrown(() => validateToolMap(doc));
    expect(e.field).toBe('/tools/0/timeout');
    expect(e.message).toContain('/tools/0/timeout is not a known field');
    expect(validateToolMap(doc, { strict: false })).toEqual({
      tools: [{ name: 'e', component: 'c', entry: 'r' }],
    });
  });

  it('rejects duplicate tool names, pointing at the second one', () => {
    const e = thrown(() =>
      validateToolMap({
        tools: [
          { name: 'echo', component: 'a', entry: 'r' },
          { name: 'echo', component: 'b', entry: 'r' },
        ],
      }),
    );
    expect(e.code).toBe('GT_MCP_TOOLMAP');
    expect(e.field).toBe('/tools/1/name');
    expect(e.message).toContain('already used by /tools/0');
  });

  it('rejects a document without tools, and one that is not JSON', () => {
    expect(thrown(() => validateToolMap({})).field).toBe('/tools');
    expect(thrown(() => validateToolMap([])).field).toBe('');
    const e = thrown(() => parseToolMap('{"tools": [', { file: 'broken.json' }));
    expect(e.code).toBe('GT_MCP_TOOLMAP');
    expect(e.message).toMatch(/^broken\.json: tool map is not valid JSON/);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  it('rejects duplicate YAML keys', () => {
    const e = thrown(() => parseToolMap('tools: []\ntools: []\n', { file: 'tm.yaml' }));
    expect(e.code).toBe('GT_MCP_TOOLMAP');
  });

  it('reports an unknown tool with the names that exist', () => {
    const map = parseToolMap(upstreamText, { format: 'json' });
    const e = thrown(() => map.get('nope'));
    expect(e.code).toBe('GT_MCP_TOOL_NOT_FOUND');
    expect(e.message).toContain('(it has: echo)');
    expect(map.find('nope')).toBeUndefined();
    expect(map.has('echo')).toBe(true);
  });

  it('returns copies, so callers cannot change the map', () => {
    const map = parseToolMap(upstreamText, { format: 'json' });
    map.get('echo').entry = 'changed';
    expect(map.get('echo').entry).toBe('tool_invoke');
  });

  it('loads a file, and reports an unreadable one as GT_MCP_IO', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-mcp-'));
    const file = join(dir, 'toolmap.json');
    writeFileSync(file, upstreamText);
    expect((await loadToolMap(file)).names).toEqual(['echo']);
    const err = await loadToolMap(join(dir, 'missing.json')).catch((e: unknown) => e);
    expect(isMcpError(err, 'GT_MCP_IO')).toBe(true);
  });
});
