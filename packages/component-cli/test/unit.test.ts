import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorld, readProject, validateManifest, wasmKind, witSource, worldOf } from '../src/index.js';

describe('witSource', () => {
  it('turns the WIT folder into one text with every dependency as a nested package', () => {
    const wit = witSource();
    expect(wit.text).toMatch(/^\/\/ greentic:component@0\.6\.0/);
    for (const pkg of [
      'greentic:state@1.0.0',
      'greentic:http@1.1.0',
      'greentic:types-core@0.6.0',
      'greentic:interfaces-types@0.1.0',
    ]) {
      expect(wit.text).toContain(`package ${pkg} {`);
    }
    expect(wit.files).toContain('component.wit');
    expect(wit.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('merges the files of one dependency package into one block', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wit-'));
    try {
      mkdirSync(join(dir, 'deps', 'a'), { recursive: true });
      writeFileSync(join(dir, 'root.wit'), 'package x:root;\nworld w { import x:a/one; }\n');
      writeFileSync(join(dir, 'deps', 'a', 'one.wit'), 'package x:a;\ninterface one {}\n');
      writeFileSync(join(dir, 'deps', 'a', 'two.wit'), 'package x:a;\ninterface two {}\n');
      const { text } = witSource(dir);
      expect(text.match(/package x:a \{/g)).toHaveLength(1);
      expect(text).toContain('interface one {}\n\ninterface two {}');
      writeFileSync(join(dir, 'deps', 'a', 'three.wit'), 'interface three {}\n');
      expect(() => witSource(dir)).toThrow(/three\.wit: no "package ns:name@version;" declaration/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('component projects', () => {
  const policy = { egress: { domains: ['api.example.com'], protocols: ['https'] }, deny_on_miss: true };

  it('keeps the x-greentic network policy in the manifest and validates it with the host', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proj-'));
    try {
      const manifest = { id: 'a', 'x-greentic': { network: policy } };
      writeFileSync(join(dir, 'component.manifest.json'), JSON.stringify(manifest));
      writeFileSync(join(dir, 'index.js'), 'export const node = {};');
      expect(readProject(dir).manifest).toEqual(manifest);
      writeFileSync(join(dir, 'component.manifest.json'), '[]');
      expect(() => readProject(dir)).toThrow(/must hold a JSON object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => validateManifest({ id: 'a', 'x-greentic': { network: { egress: {} } } }, 'm.json')).toThrow(
      expect.objectContaining({
        code: 'GT_COMPONENT_CLI_PROJECT',
        message: expect.stringContaining('/x-greentic/network: is not a network policy'),
      }),
    );
  });

  it('reads a project and says what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proj-'));
    try {
      expect(() => readProject(join(dir, 'nope'))).toThrow(/no such folder/);
      expect(() => readProject(dir)).toThrow(/has no component\.manifest\.json/);
      writeFileSync(
        join(dir, 'component.manifest.json'),
        JSON.stringify({ id: 'com.example/x', world: 'greentic:component/component@0.6.0' }),
      );
      expect(() => readProject(dir)).toThrow(/has no entry module: create one of src\/index\.ts/);
      writeFileSync(join(dir, 'index.js'), 'export const node = {};');
      expect(readProject(dir)).toMatchObject({
        id: 'com.example/x',
        fileName: 'com.example_x',
        world: 'component',
        entry: join(dir, 'index.js'),
      });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ greentic: { entry: 'lib/main.ts' } }));
      expect(() => readProject(dir)).toThrow(/greentic\.entry "lib\/main\.ts" does not exist/);
      writeFileSync(join(dir, 'component.manifest.json'), '{ nope');
      expect(() => readProject(dir)).toThrow(/is not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('inspect helpers', () => {
  it('tells components from core modules and other files', () => {
    expect(wasmKind(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0]))).toBe('component');
    expect(wasmKind(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBe('module');
    expect(wasmKind(new TextEncoder().encode('not wasm'))).toBe('not-wasm');
  });

  it('names the Greentic world from imports and exports', () => {
    const wit =
      'package root:component;\n\nworld root {\n  import greentic:component/control@0.6.0;\n  import greentic:types-core/core@0.6.0;\n\n  export greentic:component/node@0.6.0;\n}\n';
    const { imports, exports } = parseWorld(wit);
    expect(imports).toEqual(['greentic:component/control@0.6.0', 'greentic:types-core/core@0.6.0']);
    expect(worldOf(imports, exports)).toBe('greentic:component/component@0.6.0');
    expect(worldOf([...imports, 'greentic:http/http-client@1.1.0'], exports)).toBe(
      'greentic:component/tool@0.6.0',
    );
    expect(worldOf([...imports, 'wasi:sockets/tcp@0.2.0'], exports)).toBe('other');
    expect(worldOf(imports, ['greentic:component/node@0.5.0'])).toBe('other');
  });
});
