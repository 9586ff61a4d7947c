import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FlowError, type FlowErrorCode, loadFlowFile } from '../src/index.js';

/**
 * Synthetic invalid flows, one per error kind (and the kinds no real upstream file exercises). Each file's
 * first line says what the loader must report: `# expect: <code> <line>:<column> <json pointer>`.
 */
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'invalid');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ygtc'))
  .sort();

interface Expectation {
  code: FlowErrorCode;
  line: number;
  column: number;
  pointer: string;
}

function expectation(file: string): Expectation {
  const first = readFileSync(path.join(dir, file), 'utf8').split('\n')[0]!;
  const m = /^# expect: (GT_FLOW_[A-Z_]+) (\d+):(\d+) ?(.*)$/.exec(first);
  if (!m) throw new Error(`${file}: the first line must be "# expect: <code> <line>:<column> <pointer>"`);
  return { code: m[1] as FlowErrorCode, line: Number(m[2]), column: Number(m[3]), pointer: m[4]!.trimEnd() };
}

function rejection(file: string): FlowError {
  try {
    loadFlowFile(path.join(dir, file), { file });
  } catch (err) {
    if (err instanceof FlowError) return err;
    throw err;
  }
  throw new Error(`${file} loaded, but it is an invalid fixture`);
}

describe('invalid fixtures (test/fixtures/invalid)', () => {
  for (const file of files) {
    const want = expectation(file);
    it(`rejects ${file} with ${want.code} at ${want.line}:${want.column} ${want.pointer || '(root)'}`, () => {
      const err = rejection(file);
      expect({
        code: err.code,
        line: err.location?.line,
        column: err.location?.column,
        pointer: err.location?.pointer,
      }).toEqual(want);
      expect(err.location?.file).toBe(file);
      expect(err.message.startsWith(`${file}:${want.line}:${want.column} `)).toBe(true);
      expect(err.toJSON()).toMatchObject({
        code: want.code,
        line: want.line,
        col: want.column,
        json_pointer: want.pointer,
      });
    });
  }

  it('has a fixture for every loader error code, including the kinds no real upstream file exercises', () => {
    const codes = new Set(files.map((f) => expectation(f).code));
    const loaderCodes: FlowErrorCode[] = [
      'GT_FLOW_YAML',
      'GT_FLOW_DUPLICATE_KEY',
      'GT_FLOW_SCHEMA',
      'GT_FLOW_UNKNOWN_TYPE',
      'GT_FLOW_EMPTY',
      'GT_FLOW_BAD_IDENTIFIER',
      'GT_FLOW_NODE_SHAPE',
      'GT_FLOW_ROUTING',
      'GT_FLOW_MISSING_NODE',
      'GT_FLOW_MCP_CONFIG',
      'GT_FLOW_SLOT_SCHEMA',
      'GT_FLOW_CONDITION',
    ];
    expect([...codes].sort()).toEqual([...loaderCodes].sort());
  });
});
