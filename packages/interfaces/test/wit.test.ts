import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain ESM script without type declarations
import { generateWitTypes, pkgWitDir, readTree, rootWitDir, witTypesDir } from '../scripts/gen-wit-types.mjs';
import { WIT, witDir, witGuestTypesDir } from '../src/index.js';

const text = (m: Map<string, Buffer>) => new Map([...m].map(([k, v]) => [k, v.toString('utf8')]));

describe('WIT packages', () => {
  it('ships a verbatim copy of the repository wit/ folder', () => {
    const root = readTree(rootWitDir);
    expect([...root.keys()]).toContain('component.wit');
    expect(text(readTree(pkgWitDir))).toEqual(text(root));
    expect(witDir()).toBe(pkgWitDir);
  });

  it('declares the versioned packages hosts and tools rely on', () => {
    const files = [...readTree(rootWitDir).values()].map((b) => b.toString('utf8')).join('\n');
    for (const pkg of [
      'package greentic:component@0.6.0;',
      'package greentic:types-core@0.6.0;',
      'package greentic:state@1.0.0;',
      'package greentic:secrets-store@1.0.0;',
      'package greentic:http@1.1.0;',
      'package greentic:telemetry@1.0.0;',
    ]) {
      expect(files).toContain(pkg);
    }
    expect(WIT.worlds.tool).toBe('greentic:component/tool@0.6.0');
  });

  it('commits exactly the TypeScript types jco generates from the WIT', { timeout: 60_000 }, async () => {
    const generated: Map<string, Buffer> = await generateWitTypes();
    expect([...generated.keys()]).toContain('host/tool.d.ts');
    expect([...generated.keys()]).toContain('guest/interfaces/greentic-component-node.d.ts');
    expect(text(readTree(witTypesDir))).toEqual(text(generated));
    expect(witGuestTypesDir().endsWith('wit-types/guest')).toBe(true);
  });
});
