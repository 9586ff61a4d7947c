import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildPack,
  decodeCanonical,
  PackError,
  readPack,
  readZipEntries,
  validatePack,
} from '../src/index.js';
import { copyFixture, HELLO, tempDir } from './helpers.js';

async function buildError(packYaml: string): Promise<PackError> {
  try {
    await buildPack(packYaml);
  } catch (err) {
    if (err instanceof PackError) return err;
    throw err;
  }
  throw new Error('expected the build to fail');
}

function edit(path: string, from: string | RegExp, to: string): void {
  const text = readFileSync(path, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`test setup: ${String(from)} not found in ${path}`);
  writeFileSync(path, next);
}

describe('buildPack', () => {
  it('writes the upstream .gtpack layout: sorted stored entries, manifest, components, flows, assets, lock, SBOM', async () => {
    const out = join(tempDir(), 'hello.gtpack');
    const r = await buildPack(join(HELLO, 'pack.yaml'), { out });
    expect(r.files.map((f) => f.path)).toEqual([
      'assets/templates/greeting.hbs',
      'components/echo.manifest.cbor',
      'components/echo.wasm',
      'flows/help.ygtc',
      'flows/main.ygtc',
      'manifest.cbor',
      'pack.lock.cbor',
      'sbom.cbor',
    ]);
    const entries = readZipEntries(readFileSync(out));
    expect(entries.map((e) => e.path)).toEqual(r.files.map((f) => f.path));
    expect(entries.every((e) => e.method === 0)).toBe(true);
    const sbom = decodeCanonical(entries.find((e) => e.path === 'sbom.cbor')!.data) as {
      format: string;
      files: { path: string }[];
    };
    expect(sbom.format).toBe('greentic-sbom-v1');
    expect(sbom.files.map((f) => f.path)).toEqual(
      r.files.map((f) => f.path).filter((p) => p !== 'sbom.cbor'),
    );
    expect(r.manifest).toMatchObject({
      schema_version: 'pack-v1',
      pack_id: 'dev.greentic.hello',
      kind: 'application',
      flows: [
        {
          id: 'main',
          kind: 'messaging',
          file: 'flows/main.ygtc',
          tags: ['default'],
          entrypoints: ['default'],
          start: 'ask',
        },
        { id: 'help', file: 'flows/help.ygtc', tags: [], entrypoints: [] },
      ],
      components: [
        {
          id: 'echo',
          world: 'greentic:component/component@0.6.0',
          wasm: 'components/echo.wasm',
          manifest: 'components/echo.manifest.cbor',
          manifest_format: 'greentic.component.manifest.v1',
        },
      ],
      capabilities: [{ name: 'host:state:read' }, { name: 'wasi:clocks' }],
      secret_requirements: [{ key: 'ECHO_TOKEN' }],
      lock: 'pack.lock.cbor',
    });
    expect(r.signed).toBe(false);
    expect(r.warnings).toEqual([]);
  });

  it('writes fixed DOS times (1980-01-01), mode 0644 and no extended timestamps', async () => {
    const { bytes } = await buildPack(join(HELLO, 'pack.yaml'));
    const view = Buffer.from(bytes);
    let o = view.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    o = view.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    let count = 0;
    while (o >= 0) {
      expect(view.readUInt16LE(o + 12)).toBe(0); // time 00:00:00
      expect(view.readUInt16LE(o + 14)).toBe(0x21); // date 1980-01-01
      expect(view.readUInt32LE(o + 38) >>> 16).toBe(0o100644);
      expect(view.readUInt16LE(o + 30)).toBe(0); // no extra field
      count++;
      o = view.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), o + 4);
    }
    expect(count).toBe(8);
  });

  it('gives identical bytes for the same inputs, whatever the file times', async () => {
    const dir = copyFixture();
    const first = await buildPack(join(dir, 'pack.yaml'));
    const second = await buildPack(join(dir, 'pack.yaml'));
    expect(Buffer.compare(first.bytes, second.bytes)).toBe(0);
    for (const f of [
      'flows/main.ygtc',
      'components/echo/component.wasm',
      'templates/greeting.hbs',
      'pack.yaml',
    ]) {
      utimesSync(join(dir, f), new Date('2031-05-06T07:08:09Z'), new Date('2031-05-06T07:08:09Z'));
    }
    const third = await buildPack(join(dir, 'pack.yaml'));
    expect(Buffer.compare(first.bytes, third.bytes)).toBe(0);
    expect(third.archiveDigest).toBe(first.archiveDigest);
  });

  it('gives identical bytes in another time zone (a build on a machine at UTC+14)', async () => {
    const out = join(tempDir(), 'tz.gtpack');
    const script = join(tempDir(), 'build-tz.mts');
    writeFileSync(
      script,
      `import { buildPack } from ${JSON.stringify(join(HELLO, '../../../src/index.ts'))};\nawait buildPack(${JSON.stringify(join(HELLO, 'pack.yaml'))}, { out: ${JSON.stringify(out)} });\n`,
    );
    const child = spawnSync(process.execPath, ['--conditions=@greentic/source', '--import', 'tsx', script], {
      env: { ...process.env, TZ: 'Pacific/Kiritimati' },
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    const here = await buildPack(join(HELLO, 'pack.yaml'));
    expect(Buffer.compare(readFileSync(out), here.bytes)).toBe(0);
  });

  it('gives identical signed bytes for a fixed signing time', async () => {
    const { generateKeyPair } = await import('../src/index.js');
    const key = (await generateKeyPair()).privateKeyPem;
    const signedAt = new Date('2026-01-02T03:04:05Z');
    const a = await buildPack(join(HELLO, 'pack.yaml'), { signingKey: key, signedAt });
    const b = await buildPack(join(HELLO, 'pack.yaml'), { signingKey: key, signedAt });
    expect(Buffer.compare(a.bytes, b.bytes)).toBe(0);
    expect(a.signed).toBe(true);
  });

  it('reads back what it wrote', async () => {
    const { bytes } = await buildPack(join(HELLO, 'pack.yaml'));
    const pack = await readPack(bytes, { allowUnsigned: true });
    expect([...pack.flows.keys()]).toEqual(['main', 'help']);
    expect(pack.flows.get('main')!.nodes.echo!.op).toBe('component.exec');
    expect(pack.flows.get('main')!.file).toBe('flows/main.ygtc');
    expect(pack.components.get('echo')!.wasm).toEqual(
      new Uint8Array(readFileSync(join(HELLO, 'components/echo/component.wasm'))),
    );
    expect(pack.components.get('echo')!.manifest).toMatchObject({ id: 'echo', name: 'Echo' });
    expect(new TextDecoder().decode(pack.assets.get('assets/templates/greeting.hbs'))).toContain(
      'Hello {{name}}',
    );
    expect(pack.lock).toMatchObject({ version: 1, components: { echo: { component_id: 'echo' } } });
  });

  it('refuses a flow with zero nodes, at the flow file location of GT_FLOW_EMPTY', async () => {
    const dir = copyFixture();
    writeFileSync(join(dir, 'flows/help.ygtc'), 'id: help\ntype: messaging\nnodes: {}\n');
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_FLOW');
    expect(err.problems[0]).toMatchObject({
      code: 'GT_FLOW_EMPTY',
      location: { file: join(dir, 'flows/help.ygtc'), line: 3, column: 1, pointer: '/nodes' },
    });
    expect(err.message).toContain(`${join(dir, 'flows/help.ygtc')}:3:1 GT_FLOW_EMPTY`);
  });

  it('refuses a flow that does not load, with every loader problem located', async () => {
    const dir = copyFixture();
    edit(join(dir, 'flows/main.ygtc'), '      - to: reply', '      - to: nowhere');
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_FLOW');
    expect(err.problems[0]).toMatchObject({
      code: 'GT_FLOW_MISSING_NODE',
      location: { line: 14, column: 13 },
    });
  });

  it('refuses a flow with lint errors (a component the pack does not provide)', async () => {
    const dir = copyFixture();
    edit(join(dir, 'flows/main.ygtc'), 'component: echo', 'component: nope');
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_FLOW');
    expect(err.problems[0]).toMatchObject({
      code: 'GT_FLOW_LINT',
      rule: 'component_resolvable',
      location: { line: 10 },
    });
  });

  it('resolves components provided by dependencies (alias and required capabilities)', async () => {
    const dir = copyFixture();
    edit(
      join(dir, 'flows/help.ygtc'),
      '    template: "Ask me anything."',
      '    crm.lookup: { customer: "{{entry.user}}" }',
    );
    expect((await validatePack(join(dir, 'pack.yaml'))).problems).toMatchObject([
      { code: 'GT_FLOW_LINT', rule: 'component_resolvable' },
    ]);
    edit(
      join(dir, 'pack.yaml'),
      'dependencies: []',
      'dependencies:\n  - { alias: crm, pack_id: io.example.crm, version_req: ^1.0.0 }',
    );
    expect(
      (await validatePack(join(dir, 'pack.yaml'))).problems.filter((p) => p.severity === 'error'),
    ).toEqual([]);
  });

  it('refuses a flow whose id differs from its pack.yaml entry', async () => {
    const dir = copyFixture();
    edit(join(dir, 'pack.yaml'), '  - id: help', '  - id: helper');
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_INCONSISTENT');
    expect(err.location).toMatchObject({ line: 16, column: 9, pointer: '/flows/1/id' });
  });

  it('refuses duplicate flow and component ids', async () => {
    const dir = copyFixture();
    edit(
      join(dir, 'pack.yaml'),
      '  - id: help\n    file: flows/help.ygtc',
      '  - id: main\n    file: flows/help.ygtc',
    );
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_DUPLICATE_ID');
    expect(err.message).toMatch(/flow "main" is declared twice \(first at line 12\)/);
  });

  it('refuses missing referenced files, naming the pack.yaml field', async () => {
    const dir = copyFixture();
    edit(join(dir, 'pack.yaml'), 'templates/greeting.hbs', 'templates/missing.hbs');
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_MISSING_REFERENCE');
    expect(err.location).toMatchObject({ pointer: '/assets/0/path', line: 19, column: 11 });
  });

  it('refuses a component whose manifest is invalid or whose Wasm does not match its hash', async () => {
    const dir = copyFixture();
    writeFileSync(join(dir, 'components/echo/component.wasm'), Buffer.from('\0asm\x0d\0\x01\0extra'));
    let err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_HASH_MISMATCH');
    expect(err.location).toMatchObject({ pointer: '/hashes/component_wasm' });

    edit(join(dir, 'components/echo/component.manifest.json'), '"name": "Echo"', '"name": ""');
    err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_COMPONENT_MANIFEST');
    expect(err.problems[0]!.field).toBe('name');
  });

  it('accepts and keeps the network policy greentic-component writes into a manifest, and checks it', async () => {
    const dir = copyFixture();
    const manifest = join(dir, 'components/echo/component.manifest.json');
    edit(
      manifest,
      '"name": "Echo",',
      '"name": "Echo",\n  "x-greentic": { "network": { "egress": { "domains": ["api.example.com"] }, "deny_on_miss": true } },',
    );
    const r = await buildPack(join(dir, 'pack.yaml'));
    const pack = await readPack(r.bytes, { allowUnsigned: true });
    expect(pack.components.get('echo')!.manifest['x-greentic']).toEqual({
      network: { egress: { domains: ['api.example.com'] }, deny_on_miss: true },
    });
    edit(manifest, '"deny_on_miss": true', '"deny_on_miss": "sometimes"');
    let err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_COMPONENT_MANIFEST');
    expect(err.location).toMatchObject({ pointer: '/x-greentic/network', line: 4 });
    edit(manifest, '"deny_on_miss": "sometimes" } }', '"deny_on_miss": true }, "limits": {} }');
    err = await buildError(join(dir, 'pack.yaml'));
    expect(err.location).toMatchObject({ pointer: '/x-greentic/limits' });
  });

  it('still reads a network policy at the top level of a manifest (the old place), with a warning', async () => {
    const dir = copyFixture();
    const manifest = join(dir, 'components/echo/component.manifest.json');
    edit(
      manifest,
      '"name": "Echo",',
      '"name": "Echo",\n  "network": { "egress": { "domains": ["api.example.com"] }, "deny_on_miss": true },',
    );
    const r = await buildPack(join(dir, 'pack.yaml'));
    expect(r.warnings.map((w) => [w.code, w.location?.pointer])).toContainEqual([
      'GT_PACK_COMPONENT_MANIFEST',
      '/network',
    ]);
    edit(manifest, '"deny_on_miss": true', '"deny_on_miss": "sometimes"');
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_COMPONENT_MANIFEST');
    expect(err.location).toMatchObject({ pointer: '/network', line: 4 });
  });

  it('refuses a component that targets a WIT world this host does not run', async () => {
    const dir = copyFixture();
    edit(
      join(dir, 'components/echo/component.manifest.json'),
      'greentic:component/component@0.6.0',
      'root:component/root',
    );
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_UNSUPPORTED_WORLD');
    expect(err.message).toContain('greentic:component/component@0.6.0');
  });

  it('accepts an inline component descriptor (upstream style) and packs it as the component manifest', async () => {
    const dir = copyFixture();
    edit(
      join(dir, 'pack.yaml'),
      '    manifest: components/echo/component.manifest.json',
      [
        '    version: 0.2.0',
        '    world: greentic:component/tool@0.6.0',
        '    supports: [messaging, componentconfig]',
        '    profiles: { default: default, supported: [default] }',
        '    capabilities: { wasi: { random: true }, host: { http: { client: true } } }',
        '    operations: [{ name: handle_message, input_schema: {}, output_schema: {} }]',
      ].join('\n'),
    );
    const r = await buildPack(join(dir, 'pack.yaml'));
    expect(r.manifest.components[0]).toMatchObject({
      version: '0.2.0',
      supports: ['messaging', 'component_config'],
      manifest_format: 'greentic.pack.component.v1',
    });
    expect(r.manifest.capabilities.map((c) => c.name)).toEqual(['host:http', 'wasi:random']);
  });

  it('refuses a pack-level secret requirement that no component declares', async () => {
    const dir = copyFixture();
    edit(
      join(dir, 'pack.yaml'),
      'dependencies: []',
      'dependencies: []\nsecret_requirements:\n  - { key: API_KEY, required: true, scope: { env: dev, tenant: demo }, format: text }',
    );
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_MISSING_REFERENCE');
    expect(err.message).toContain('no component declares it (declared: ECHO_TOKEN)');
  });

  it('refuses a path that leaves the pack, directly or through a symbolic link', async () => {
    const dir = copyFixture();
    edit(join(dir, 'pack.yaml'), 'templates/greeting.hbs', '../outside.txt');
    let err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_PATH_ESCAPE');

    const dir2 = copyFixture();
    const outside = join(tempDir(), 'secret.txt');
    writeFileSync(outside, 'not yours');
    symlinkSync(outside, join(dir2, 'templates/link.hbs'));
    edit(join(dir2, 'pack.yaml'), 'templates/greeting.hbs', 'templates/link.hbs');
    err = await buildError(join(dir2, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_PATH_ESCAPE');
    expect(err.message).toContain('outside the pack root');
  });

  it('packs every regular file of an asset directory, sorted', async () => {
    const dir = copyFixture();
    mkdirSync(join(dir, 'templates/sub'));
    writeFileSync(join(dir, 'templates/sub/b.txt'), 'b');
    writeFileSync(join(dir, 'templates/a.txt'), 'a');
    edit(join(dir, 'pack.yaml'), 'templates/greeting.hbs', 'templates');
    const r = await buildPack(join(dir, 'pack.yaml'));
    expect(r.manifest.assets.map((a) => a.path)).toEqual([
      'assets/templates/a.txt',
      'assets/templates/greeting.hbs',
      'assets/templates/sub/b.txt',
    ]);
  });

  it('refuses the legacy format with the migration message', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'pack.yaml'),
      'packVersion: 1\nid: old.pack\nversion: 0.1.0\nflow_files: [flows/a.ygtc]\n',
    );
    const err = await buildError(join(dir, 'pack.yaml'));
    expect(err.code).toBe('GT_PACK_LEGACY_MANIFEST');
  });
});
