import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root folder of this package (holds `guest/`, `lib/`, `templates/`). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The guest library components import as `@greentic/component-cli/guest` (bundled into every component). */
export const GUEST_ENTRY = join(PACKAGE_ROOT, 'guest', 'index.ts');
export const GUEST_SPECIFIER = '@greentic/component-cli/guest';
/** The part of it without host services, for the world `greentic:component/component@0.6.0`. */
export const GUEST_NODE_ENTRY = join(PACKAGE_ROOT, 'guest', 'node.ts');

/** The script that runs ComponentizeJS in a child process. */
export const COMPONENTIZE_CHILD = join(PACKAGE_ROOT, 'lib', 'componentize-child.mjs');

/**
 * The folder of an installed package as Node would find it from `from` (walks up the `node_modules` folders; works
 * when the package's `exports` hides its package.json or has no `require` condition). Symlinks are resolved.
 */
export function packageDir(name: string, from: string = PACKAGE_ROOT): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return dirname(realpathSync(candidate));
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Version of an installed package, or `missing`. */
export function packageVersion(name: string, from: string = PACKAGE_ROOT): string {
  const dir = packageDir(name, from);
  if (!dir) return 'missing';
  return (
    (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown'
  );
}

/** This CLI's version. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

export interface ToolVersions {
  'greentic-component': string;
  '@bytecodealliance/componentize-js': string;
  '@bytecodealliance/jco': string;
  esbuild: string;
}

let versions: ToolVersions | undefined;
/** The versions of every tool that shapes a built component (part of the build cache key). */
export function toolVersions(): ToolVersions {
  if (!versions) {
    const componentize = packageDir('@bytecodealliance/componentize-js') ?? PACKAGE_ROOT;
    versions = {
      'greentic-component': cliVersion(),
      '@bytecodealliance/componentize-js': packageVersion('@bytecodealliance/componentize-js'),
      // the jco ComponentizeJS itself uses (componentNew, the preview1 adapter)
      '@bytecodealliance/jco': packageVersion('@bytecodealliance/jco', componentize),
      esbuild: packageVersion('esbuild'),
    };
  }
  return versions;
}
