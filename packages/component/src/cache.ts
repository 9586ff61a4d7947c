import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, parse } from 'node:path';

const require = createRequire(import.meta.url);

let jcoVersionCache: string | undefined;
/** Version of `@bytecodealliance/jco-transpile` (jco's transpiler): part of every cache key. */
export function jcoTranspileVersion(): string {
  if (!jcoVersionCache) {
    const main = require.resolve('@bytecodealliance/jco-transpile');
    let dir = dirname(main);
    for (;;) {
      const pkg = join(dir, 'package.json');
      if (existsSync(pkg)) {
        const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version: string };
        if (json.name === '@bytecodealliance/jco-transpile') {
          jcoVersionCache = json.version;
          break;
        }
      }
      const up = dirname(dir);
      if (up === dir) {
        jcoVersionCache = 'unknown';
        break;
      }
      dir = up;
    }
  }
  return jcoVersionCache;
}

/**
 * Default cache folder: `node_modules/.cache/greentic-components` in the nearest folder (from the working
 * directory up) that has a `node_modules`, else `~/.cache/greentic/components`.
 */
export function defaultCacheDir(cwd = process.cwd()): string {
  let dir = cwd;
  const { root } = parse(dir);
  for (;;) {
    if (existsSync(join(dir, 'node_modules')))
      return join(dir, 'node_modules', '.cache', 'greentic-components');
    if (dir === root) break;
    dir = dirname(dir);
  }
  return join(homedir(), '.cache', 'greentic', 'components');
}

/** What the cache keeps next to the transpiled files. */
export interface CacheMeta {
  digest: string;
  jco: string;
  glue: string;
  coreModules: string[];
  imports: string[];
  exports: string[];
}

/** Reads a cache entry, or `undefined` when it is absent or incomplete. */
export function readCacheEntry(dir: string): CacheMeta | undefined {
  const metaPath = join(dir, 'meta.json');
  if (!existsSync(metaPath)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as CacheMeta;
    if (!existsSync(join(dir, meta.glue)) || meta.coreModules.some((m) => !existsSync(join(dir, m))))
      return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

/** Writes a cache entry atomically (temporary folder renamed into place; a concurrent writer's entry wins). */
export function writeCacheEntry(dir: string, files: Map<string, Uint8Array>, meta: CacheMeta): void {
  const root = dirname(dir);
  mkdirSync(root, { recursive: true });
  const pkgJson = join(root, 'package.json');
  if (!existsSync(pkgJson)) writeFileSync(pkgJson, '{"type":"module","private":true}\n');
  const tmp = `${dir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(tmp, { recursive: true });
  for (const [name, bytes] of files) {
    mkdirSync(dirname(join(tmp, name)), { recursive: true });
    writeFileSync(join(tmp, name), bytes);
  }
  writeFileSync(join(tmp, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true });
    if (!readCacheEntry(dir)) {
      rmSync(dir, { recursive: true, force: true });
      writeCacheEntry(dir, files, meta);
    }
  }
}
