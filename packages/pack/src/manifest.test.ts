import { describe, expect, it } from 'vitest';
import { parsePackYaml } from './manifest.js';

const VALID = `pack_id: dev.example.pack
version: 1.2.3
kind: application
publisher: Example
components:
  - id: weather_api
    version: 0.1.0
    world: greentic:component/component@0.6.0
    supports: [messaging]
    profiles: { default: default, supported: [default] }
    capabilities: { wasi: {}, host: {} }
    wasm: ./components/weather_api/component.wasm
flows:
  - id: main
    file: flows/main.ygtc
    tags: [default]
    entrypoints: [default]
assets:
  - path: templates/a.hbs
dependencies:
  - { alias: qa, pack_id: io.example.qa, version_req: "^1.0.0", required_capabilities: ["qa:process"] }
bootstrap:
  install_flow: main
extensions:
  greentic.ext.capabilities.v1:
    kind: greentic.ext.capabilities.v1
    version: 1.0.0
    inline: { offers: [] }
`;

function problems(text: string) {
  return parsePackYaml(text, 'pack.yaml').problems;
}

describe('parsePackYaml', () => {
  it('accepts the current format and normalises paths', () => {
    const r = parsePackYaml(VALID, 'pack.yaml');
    expect(r.problems).toEqual([]);
    expect(r.config).toMatchObject({
      pack_id: 'dev.example.pack',
      kind: 'application',
      components: [{ id: 'weather_api', wasm: 'components/weather_api/component.wasm' }],
      flows: [{ id: 'main', file: 'flows/main.ygtc' }],
      bootstrap: { install_flow: 'main' },
    });
  });

  it('names file:line:col and the field for schema errors, one problem per field', () => {
    const p = problems(
      VALID.replace('version: 1.2.3', 'version: one').replace('kind: application', 'kind: app'),
    );
    expect(p.map((x) => [x.code, x.field, x.location?.line, x.location?.column])).toEqual([
      ['GT_PACK_SCHEMA', 'version', 2, 10],
      ['GT_PACK_SCHEMA', 'kind', 3, 7],
    ]);
    expect(p[0]!.message).toBe('version: must be a semantic version like 1.2.3 (got "one")');
    expect(p[1]!.message).toContain(
      'must be one of "application", "provider", "infrastructure", "library" (got "app")',
    );
  });

  it('reports a missing required field at its parent, and an unknown field at its key', () => {
    const p = problems(VALID.replace('publisher: Example\n', '').replace('flows:\n', 'flowz: 1\nflows:\n'));
    expect(p).toMatchObject([
      { field: 'publisher', message: 'publisher: is required but missing', location: { line: 1, column: 1 } },
      {
        field: 'flowz',
        message: expect.stringContaining('is not a known field'),
        location: { line: 12, column: 1 },
      },
    ]);
  });

  it('requires the upstream component fields unless the component names a manifest file', () => {
    const noWorld = VALID.replace('    world: greentic:component/component@0.6.0\n', '');
    expect(problems(noWorld)).toMatchObject([
      { field: 'components[0].world', location: { line: 6, column: 5 } },
    ]);
    const withManifest = noWorld.replace(
      '    wasm: ./',
      '    manifest: components/weather_api/component.manifest.json\n    wasm: ./',
    );
    expect(problems(withManifest)).toEqual([]);
  });

  it('checks the WIT world grammar, profile defaults and version requirements', () => {
    const p = problems(
      VALID.replace('world: greentic:component/component@0.6.0', 'world: "@@@"')
        .replace('profiles: { default: default', 'profiles: { default: fast')
        .replace('version_req: "^1.0.0"', 'version_req: "soon"'),
    );
    expect(p.map((x) => x.field)).toEqual([
      'components[0].world',
      'components[0].profiles.default',
      'dependencies[0].version_req',
    ]);
    expect(p[0]!.message).toContain('namespace:package/world[@version]');
  });

  it('refuses paths that leave the pack root (GT_PACK_PATH_ESCAPE)', () => {
    for (const bad of ['../x.wasm', '/abs/x.wasm', 'C:\\\\x.wasm', 'a/../../x.wasm']) {
      const p = problems(VALID.replace('./components/weather_api/component.wasm', JSON.stringify(bad)));
      expect(p).toMatchObject([
        { code: 'GT_PACK_PATH_ESCAPE', field: 'components[0].wasm', location: { line: 12, column: 11 } },
      ]);
    }
  });

  it('refuses duplicate ids, naming the first occurrence', () => {
    const dup = VALID.replace('assets:', '  - id: main\n    file: flows/other.ygtc\nassets:');
    expect(problems(dup)).toMatchObject([
      {
        code: 'GT_PACK_DUPLICATE_ID',
        field: 'flows[1].id',
        message: expect.stringContaining('(first at line 14)'),
      },
    ]);
  });

  it('refuses references to flows and components the pack does not have', () => {
    const p = problems(
      VALID.replace('install_flow: main', 'install_flow: setup\n  installer_component: nope'),
    );
    expect(p.map((x) => [x.code, x.field])).toEqual([
      ['GT_PACK_MISSING_REFERENCE', 'bootstrap.install_flow'],
      ['GT_PACK_MISSING_REFERENCE', 'bootstrap.installer_component'],
    ]);
  });

  it('checks extension keys and warns about absolute file:// locations', () => {
    const p = problems(
      VALID.replace('kind: greentic.ext.capabilities.v1', 'kind: other').replace(
        '    inline: { offers: [] }',
        '    location: file:///Users/me/ext.json',
      ),
    );
    expect(p.map((x) => [x.code, x.severity])).toEqual([
      ['GT_PACK_SCHEMA', 'error'],
      ['GT_PACK_PORTABILITY', 'warning'],
    ]);
  });

  it('reports YAML syntax errors and duplicate keys with their position', () => {
    expect(problems('pack_id: a\npack_id: b\n')).toMatchObject([
      { code: 'GT_PACK_YAML', location: { line: 2, column: 1 } },
    ]);
    expect(problems('pack_id: [unclosed\n')).toMatchObject([{ code: 'GT_PACK_YAML' }]);
    expect(problems('- just a list\n')).toMatchObject([
      { code: 'GT_PACK_SCHEMA', message: expect.stringContaining('mapping') },
    ]);
  });

  it('refuses the legacy format with a field-by-field migration and a suggested pack.yaml', () => {
    const legacy = `packVersion: 1
id: greentic.qa.demo
version: 0.1.0
flow_files:
  - flows/qa_orchestrator.ygtc
  - flows/qa_answer_flow.ygtc
imports_required:
  - qa.process
  - llm.openai.chat
`;
    const [p, ...rest] = problems(legacy);
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ code: 'GT_PACK_LEGACY_MANIFEST', location: { line: 1, column: 14 } });
    for (const line of [
      'packVersion: 1            → remove',
      'id: <id>                  → pack_id: <id>',
      'flow_files: [<file>, …]   → flows: [{id: <the id: inside the file>, file: <file>, tags: [], entrypoints: [default]}]',
      'imports_required: [<op>]  → a components[] entry',
    ]) {
      expect(p!.message).toContain(line);
    }
    const suggested = parsePackYaml(p!.suggestion!, 'suggested.yaml');
    expect(suggested.problems).toEqual([]);
    expect(suggested.config).toMatchObject({
      pack_id: 'greentic.qa.demo',
      flows: [
        { id: 'qa_orchestrator', file: 'flows/qa_orchestrator.ygtc' },
        { id: 'qa_answer_flow', file: 'flows/qa_answer_flow.ygtc' },
      ],
      dependencies: [
        { alias: 'qa', required_capabilities: ['qa:process'] },
        { alias: 'llm', required_capabilities: ['llm:openai:chat'] },
      ],
    });
  });
});
