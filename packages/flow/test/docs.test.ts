import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFlow, stripLocations, toYaml } from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The complete flows (```yaml blocks starting with `id:`) shown in a Markdown file. */
function flowBlocks(file: string): string[] {
  const text = readFileSync(path.join(repoRoot, file), 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.startsWith('id:'));
}

describe('documentation examples', () => {
  it('loads and round-trips every complete flow shown in docs/flow-language.md', () => {
    const blocks = flowBlocks('docs/flow-language.md');
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      const ir = loadFlow(block, { strict: true });
      expect(stripLocations(loadFlow(toYaml(ir)))).toEqual(stripLocations(ir));
    }
  });
});
