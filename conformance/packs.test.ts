/**
 * Upstream conformance for pack manifests: every file of the shared corpus (`../shared/conformance/packs/`,
 * provenance in its SOURCES.md) is linted with `packc lint --manifest-only` (the manifests only: the wasm,
 * flow and asset files they reference are not in the corpus). Valid manifests pass; the invalid component
 * manifest is rejected with a located error for each of its problems; the legacy pack.yaml is refused with
 * the migration message; the locks' absolute file:// refs give portability warnings.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  COMPONENT_MANIFEST_SCHEMA_PATH,
  type LintReport,
  lintFile,
  manifestKindOf,
  runPackc,
} from '../packages/pack/src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = path.resolve(repoRoot, '..', 'shared');
const packsDir = path.join(shared, 'conformance', 'packs');

if (!existsSync(path.join(packsDir, 'SOURCES.md'))) {
  throw new Error(
    `pack conformance corpus not found: expected ${packsDir}/SOURCES.md (the shared directory sits next to the repository, at ${shared}). ` +
      'Check out or mount the shared conformance corpus there to run these tests.',
  );
}

type Expectation = 'valid' | 'invalid-component' | 'legacy' | 'schema';

/** SOURCES.md's table, file by file. A new file in the corpus must be added here. */
const EXPECTED: Record<string, Expectation> = {
  'greenticai__greentic-pack__examples__weather-demo__pack.yaml': 'valid',
  'greenticai__greentic-pack__examples__weather-demo__components__mcp.exec__component.manifest.json': 'valid',
  'greenticai__greentic-pack__examples__weather-demo__components__weather_api__component.manifest.json':
    'valid',
  'greenticai__greentic-pack__examples__weather-demo__pack.lock.json': 'valid',
  'greenticai__greentic-pack__examples__weather-demo__flows__weather_bot.ygtc.resolve.json': 'valid',
  'greenticai__greentic-pack__crates__packc__tests__fixtures__packs__valid-minimal__pack.yaml': 'valid',
  'greenticai__greentic-pack__crates__packc__tests__fixtures__packs__valid-minimal__components__component.manifest.json':
    'valid',
  'greenticai__greentic-pack__crates__packc__tests__fixtures__packs__valid-minimal__pack.lock.json': 'valid',
  'greenticai__greentic-pack__examples__qa-demo__pack.yaml': 'valid',
  'greentic-ai__greentic-pack__examples__qa-demo__pack.yaml': 'legacy',
  'greenticai__greentic-component__crates__greentic-component__schemas__v1__component.manifest.schema.json':
    'schema',
  'greenticai__greentic-component__crates__greentic-component__tests__fixtures__manifests__valid.component.json':
    'valid',
  'greenticai__greentic-component__crates__greentic-component__tests__fixtures__manifests__invalid.component.json':
    'invalid-component',
  'greentic-ai__greentic-conformance__src__fixtures__pack__toolmap.json': 'valid',
};

const corpus = readdirSync(packsDir)
  .filter((f) => f !== 'SOURCES.md')
  .sort();
const lint = (file: string): Promise<LintReport> =>
  lintFile(path.join(packsDir, file), { manifestOnly: true });

describe('pack conformance corpus', () => {
  it('has an expectation for every file of the corpus, and every expected file exists', () => {
    expect(corpus).toEqual(Object.keys(EXPECTED).sort());
  });

  it('is the same component manifest schema that @greentic/component ships and packc validates with', () => {
    const schema = corpus.find((f) => EXPECTED[f] === 'schema')!;
    expect(JSON.parse(readFileSync(path.join(packsDir, schema), 'utf8'))).toEqual(
      JSON.parse(readFileSync(COMPONENT_MANIFEST_SCHEMA_PATH, 'utf8')),
    );
  });

  for (const file of corpus.filter((f) => EXPECTED[f] === 'valid')) {
    it(`accepts ${file} (${manifestKindOf(file)})`, async () => {
      const report = await lint(file);
      expect(report.errors).toEqual([]);
      expect(report.ok).toBe(true);
    });
  }

  it('rejects the invalid component manifest with an error naming each problem, located', async () => {
    const report = await lint(
      'greenticai__greentic-component__crates__greentic-component__tests__fixtures__manifests__invalid.component.json',
    );
    expect(report.ok).toBe(false);
    const byField = new Map(report.errors.map((e) => [e.field, e]));
    const expected: [string, RegExp, number][] = [
      ['id', /must be an identifier.*"not a reverse dns"/, 2],
      ['name', /must not be empty/, 3],
      ['version', /semantic version.*"foo"/, 4],
      ['world', /WIT world reference.*"@@@"/, 5],
      ['artifacts.component_wasm', /relative path.*absolute.*"\/absolute\/path\.wasm"/, 8],
      ['hashes.component_wasm', /blake3:<64 hex digits>.*"sha256:deadbeef"/, 11],
    ];
    for (const [field, message, line] of expected) {
      const e = byField.get(field);
      expect(e, `an error for ${field}`).toBeDefined();
      expect(e!.code).toBe('GT_PACK_COMPONENT_MANIFEST');
      expect(e!.message).toMatch(message);
      expect(e!.location?.line).toBe(line);
    }
  });

  it('refuses the legacy pack.yaml with the migration message', async () => {
    const report = await lint('greentic-ai__greentic-pack__examples__qa-demo__pack.yaml');
    expect(report.errors).toHaveLength(1);
    const [e] = report.errors;
    expect(e!.code).toBe('GT_PACK_LEGACY_MANIFEST');
    expect(e!.message).toContain('packVersion: 1            → remove');
    expect(e!.message).toContain('id: <id>                  → pack_id: <id>');
    expect(e!.message).toContain('flow_files: [<file>, …]   → flows:');
    expect(e!.suggestion).toContain('pack_id: greentic.qa.demo');
    expect(e!.suggestion).toContain('file: flows/qa_orchestrator.ygtc');
  });

  it("warns that the locks' absolute file:// refs are not portable, one warning per ref", async () => {
    for (const file of corpus.filter((f) => f.endsWith('pack.lock.json'))) {
      const text = readFileSync(path.join(packsDir, file), 'utf8');
      const refs = text.match(/"ref": "file:\/\/\//g) ?? [];
      const report = await lint(file);
      expect(refs.length).toBeGreaterThan(0);
      expect(report.warnings.map((w) => w.code)).toEqual(refs.map(() => 'GT_PACK_PORTABILITY'));
      expect(report.warnings[0]!.message).toContain('exists only on the machine that wrote it');
    }
  });

  it('gives the same verdicts through the packc CLI (exit code 1, JSON per file)', async () => {
    let out = '';
    const files = corpus.filter((f) => EXPECTED[f] !== 'schema').map((f) => path.join(packsDir, f));
    const code = await runPackc(['lint', '--manifest-only', '--json', ...files], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: () => true },
    });
    expect(code).toBe(1);
    const doc = JSON.parse(out) as { files: { file: string; ok: boolean }[] };
    const failed = doc.files.filter((f) => !f.ok).map((f) => path.basename(f.file));
    expect(failed.sort()).toEqual(
      corpus.filter((f) => EXPECTED[f] === 'legacy' || EXPECTED[f] === 'invalid-component').sort(),
    );
  });
});
