import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WIT, witDir } from '@greentic/interfaces';
import { ComponentCliError } from './errors.js';

/** The worlds a component can be built for (both export `greentic:component/node@0.6.0`). */
export const WORLDS = {
  /** Host services (state, secrets, HTTP, logs) plus control: what a TypeScript tool targets. */
  tool: WIT.worlds.tool,
  /** The canonical upstream world: control only. */
  component: WIT.worlds.component,
} as const;

export type WorldName = keyof typeof WORLDS;

export interface WitSource {
  /** One WIT document: the root package with every dependency as a nested `package … { }` block. */
  text: string;
  /** `sha256:<hex>` of `text`. */
  digest: string;
  /** The folder it was read from. */
  dir: string;
  /** Files read, relative to `dir`. */
  files: string[];
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.wit')) out.push(p);
  }
  return out;
}

/**
 * Reads a WIT folder (a root `*.wit` package plus `deps/<name>/*.wit`) and returns it as ONE WIT text, with each
 * dependency package written as a nested `package ns:name@ver { … }` block. ComponentizeJS is given the WIT as text
 * (its `witPath` option cannot read files on some machines: "failed to get path metadata"), and the text is also
 * what the build cache hashes.
 */
export function witSource(dir: string = witDir()): WitSource {
  const files = walk(dir);
  const isDep = (f: string) => relative(dir, f).split('\\').join('/').startsWith('deps/');
  const parts = files.filter((f) => !isDep(f)).map((f) => readFileSync(f, 'utf8'));
  // A dependency package may span several files: their bodies go into one nested block.
  const packages = new Map<string, string[]>();
  for (const f of files.filter(isDep)) {
    const src = readFileSync(f, 'utf8');
    const m = /^\s*package\s+([^;\s]+)\s*;/m.exec(src);
    if (!m)
      throw new ComponentCliError(
        'GT_COMPONENT_CLI_COMPONENTIZE',
        `${f}: no "package ns:name@version;" declaration`,
      );
    const body = (src.slice(0, m.index) + src.slice(m.index + m[0].length)).trim();
    packages.set(m[1]!, [...(packages.get(m[1]!) ?? []), body]);
  }
  for (const [name, bodies] of packages) parts.push(`package ${name} {\n${bodies.join('\n\n')}\n}\n`);
  const text = parts.join('\n');
  return {
    text,
    digest: `sha256:${createHash('sha256').update(text).digest('hex')}`,
    dir,
    files: files.map((f) => relative(dir, f).split('\\').join('/')),
  };
}
