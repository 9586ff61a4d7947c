import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, parse, relative, resolve } from 'node:path';
import { blake3 } from '@noble/hashes/blake3.js';
import { ComponentCliError } from './errors.js';
import { MANIFEST_FILE, readProject, validateManifest } from './project.js';
import {
  COMPONENTIZE_CHILD,
  GUEST_ENTRY,
  GUEST_NODE_ENTRY,
  type ToolVersions,
  toolVersions,
} from './toolchain.js';
import { WORLDS, type WorldName, witSource } from './wit.js';

/** StarlingMonkey features a component may keep (everything else is compiled out). */
export type EngineFeature = 'stdio' | 'random' | 'clocks';
const ALL_FEATURES = ['stdio', 'random', 'clocks', 'http', 'fetch-event'] as const;

export interface BuildOptions {
  /** Where `<id>.wasm` and the completed `component.manifest.json` go (default `<dir>/dist`). */
  outDir?: string;
  /**
   * Build cache folder, or `false` for none. Default: `node_modules/.cache/greentic-component-build` in the nearest
   * folder above the project that has `node_modules`, else `~/.cache/greentic/component-build`.
   */
  cacheDir?: string | false;
  /** Overrides the world chosen from the manifest (`greentic:component/component@0.6.0` → component, else tool). */
  world?: WorldName;
  /**
   * Engine features to keep. Default: `random`/`clocks` when the manifest grants `capabilities.wasi.random`/`clocks`,
   * never `stdio` (console output would need WASI stdio, which hosts may not wire).
   */
  features?: EngineFeature[];
  /** WIT folder (default: the one `@greentic/interfaces` ships). */
  witDir?: string;
  /** Progress lines (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
}

export interface BuildResult {
  id: string;
  world: string;
  wasmPath: string;
  manifestPath: string;
  size: number;
  /** `sha256:<hex>` of the component. */
  sha256: string;
  /** `blake3:<hex>` (what the manifest's `hashes.component_wasm` holds). */
  blake3: string;
  /** True when the component came from the build cache. */
  cached: boolean;
  cacheKey: string;
  ms: number;
  tools: ToolVersions;
}

/** The default build cache folder for a project folder. */
export function defaultBuildCacheDir(from: string): string {
  let dir = resolve(from);
  const { root } = parse(dir);
  for (;;) {
    if (existsSync(join(dir, 'node_modules')))
      return join(dir, 'node_modules', '.cache', 'greentic-component-build');
    if (dir === root) break;
    dir = dirname(dir);
  }
  return join(homedir(), '.cache', 'greentic', 'component-build');
}

export const sha256Hex = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
export const blake3Hex = (b: Uint8Array) => Buffer.from(blake3(b)).toString('hex');

/** Bundles the entry with esbuild into one ES module; `greentic:*` imports stay imports (the WIT world binds them). */
export async function bundle(entry: string, projectDir: string): Promise<string> {
  const esbuild = await import('esbuild');
  let result: Awaited<ReturnType<typeof esbuild.build>>;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: projectDir,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      conditions: ['@greentic/source', 'import', 'default'],
      external: ['greentic:*'],
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [
        {
          // The guest library always comes from this CLI: it matches the WIT the component is built against.
          name: 'greentic-guest',
          setup(b) {
            b.onResolve({ filter: /^@greentic\/component-cli\/guest(\/node)?$/ }, (args) => ({
              path: args.path.endsWith('/node') ? GUEST_NODE_ENTRY : GUEST_ENTRY,
            }));
          },
        },
      ],
    });
  } catch (e) {
    const errors = (
      e as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }
    ).errors;
    const lines = (errors ?? []).map((m) =>
      m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ${m.text}` : m.text,
    );
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_BUNDLE',
      `esbuild could not bundle ${relative(process.cwd(), entry) || entry}:\n  ${lines.join('\n  ') || (e as Error).message}`,
      { cause: e },
    );
  }
  const out = result.outputFiles?.[0];
  if (!out) throw new ComponentCliError('GT_COMPONENT_CLI_BUNDLE', `esbuild produced no output for ${entry}`);
  return out.text;
}

function runComponentize(job: {
  sourcePath: string;
  witPath: string;
  worldName: string;
  disableFeatures: string[];
  outPath: string;
}): Promise<{ size: number }> {
  const jobPath = join(dirname(job.sourcePath), 'job.json');
  writeFileSync(jobPath, JSON.stringify(job));
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [COMPONENTIZE_CHILD, jobPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      let answer: { ok: boolean; size?: number; message?: string } | undefined;
      try {
        answer = JSON.parse(last);
      } catch {
        answer = undefined;
      }
      if (answer?.ok) return resolvePromise({ size: answer.size ?? 0 });
      const detail = answer?.message ?? (err.trim().split('\n').slice(-8).join('\n') || `exit code ${code}`);
      const hint =
        job.worldName === 'component' && /Error loading module "greentic:(?!component\/)/.test(detail)
          ? '\n  (the world greentic:component/component@0.6.0 has no host services: import from @greentic/component-cli/guest/node, or build for the tool world)'
          : '';
      reject(
        new ComponentCliError(
          'GT_COMPONENT_CLI_COMPONENTIZE',
          `ComponentizeJS could not build the component for ${WORLDS[job.worldName as WorldName] ?? job.worldName}: ${detail}${hint}`,
        ),
      );
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` holding a lock file, so that two processes building the same inputs build once: the second waits for
 * the first and then finds the result in the cache. A lock older than `staleMs` is taken over.
 */
async function withLock<T>(lockPath: string, fn: () => Promise<T>, staleMs = 10 * 60_000): Promise<T> {
  mkdirSync(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(lockPath).mtimeMs > staleMs) rmSync(lockPath, { force: true });
      } catch {
        // removed meanwhile
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockPath, { force: true });
  }
}

/** Components kept in a build cache folder; older ones (by last use) are deleted after each fresh build. */
export const CACHE_KEEP = 8;

function pruneCache(dir: string, keep = CACHE_KEEP): void {
  try {
    const entries = readdirSync(dir)
      .filter((f) => /^[0-9a-f]{64}\.wasm$/.test(f))
      .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const { f } of entries.slice(keep)) rmSync(join(dir, f), { force: true });
  } catch {
    // pruning is best effort
  }
}

function defaultFeatures(manifest: Record<string, unknown>): EngineFeature[] {
  const wasi = ((manifest.capabilities as Record<string, unknown> | undefined)?.wasi ?? {}) as Record<
    string,
    unknown
  >;
  const out: EngineFeature[] = [];
  if (wasi.random === true) out.push('random');
  if (wasi.clocks === true) out.push('clocks');
  return out;
}

/**
 * Builds a component project: bundles its entry with esbuild (one ES module), turns the bundle into a Wasm
 * component with ComponentizeJS against the Greentic WIT world (given as text), writes `<outDir>/<id>.wasm` and
 * `<outDir>/component.manifest.json` (the project's manifest with `artifacts.component_wasm` and
 * `hashes.component_wasm` filled in, validated against the upstream schema). The component is cached under a key
 * made of the bundle, the WIT, the world, the engine features and the tool versions, so an unchanged project
 * builds in milliseconds.
 */
export async function buildComponent(dir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const t0 = performance.now();
  const progress = options.onProgress ?? (() => {});
  const project = readProject(dir);
  const world = options.world ?? project.world;
  const features = [...new Set(options.features ?? defaultFeatures(project.manifest))].sort();
  const outDir = resolve(project.dir, options.outDir ?? 'dist');
  const wit = witSource(options.witDir);
  const tools = toolVersions();

  progress(`bundling ${relative(project.dir, project.entry)} (esbuild ${tools.esbuild})`);
  const code = await bundle(project.entry, project.dir);
  const cacheKey = sha256Hex(
    JSON.stringify({ format: 1, bundle: sha256Hex(code), wit: wit.digest, world, features, tools }),
  );

  const cacheDir =
    options.cacheDir === false ? undefined : resolve(options.cacheDir ?? defaultBuildCacheDir(project.dir));
  const cached = cacheDir ? join(cacheDir, `${cacheKey}.wasm`) : undefined;
  let fromCache = false;

  const produce = async (target: string) => {
    const work = mkdtempSync(join(tmpdir(), 'greentic-component-build-'));
    try {
      const sourcePath = join(work, `${project.fileName}.js`);
      writeFileSync(sourcePath, code);
      const witPath = join(work, 'world.wit');
      writeFileSync(witPath, wit.text);
      progress(
        `componentizing for ${WORLDS[world]} (ComponentizeJS ${tools['@bytecodealliance/componentize-js']}); this takes a few seconds`,
      );
      const tmpOut = `${target}.tmp-${process.pid}`;
      mkdirSync(dirname(target), { recursive: true });
      await runComponentize({
        sourcePath,
        witPath,
        worldName: world,
        disableFeatures: ALL_FEATURES.filter((f) => !(features as string[]).includes(f)),
        outPath: tmpOut,
      });
      renameSync(tmpOut, target);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };

  mkdirSync(outDir, { recursive: true });
  const wasmPath = join(outDir, `${project.fileName}.wasm`);
  if (cached) {
    if (existsSync(cached)) fromCache = true;
    else {
      await withLock(`${cached}.lock`, async () => {
        if (existsSync(cached)) fromCache = true;
        else {
          await produce(cached);
          pruneCache(dirname(cached));
        }
      });
    }
    if (fromCache) {
      const now = new Date();
      try {
        utimesSync(cached, now, now); // last use, for pruning
      } catch {
        // read-only cache: fine
      }
    }
    if (fromCache) progress(`cache hit ${relative(process.cwd(), cached) || cached}`);
    const tmp = `${wasmPath}.tmp-${process.pid}`;
    copyFileSync(cached, tmp);
    renameSync(tmp, wasmPath);
  } else {
    await produce(wasmPath);
  }

  const bytes = new Uint8Array(readFileSync(wasmPath));
  const b3 = `blake3:${blake3Hex(bytes)}`;
  const built = {
    ...project.manifest,
    artifacts: {
      ...((project.manifest.artifacts as object) ?? {}),
      component_wasm: `${project.fileName}.wasm`,
    },
    hashes: { ...((project.manifest.hashes as object) ?? {}), component_wasm: b3 },
  };
  const manifestPath = join(outDir, MANIFEST_FILE);
  validateManifest(built, `${project.manifestPath} (completed by the build)`);
  writeFileSync(manifestPath, `${JSON.stringify(built, null, 2)}\n`);

  return {
    id: project.id,
    world: WORLDS[world],
    wasmPath,
    manifestPath,
    size: bytes.length,
    sha256: `sha256:${sha256Hex(bytes)}`,
    blake3: b3,
    cached: fromCache,
    cacheKey,
    ms: Math.round(performance.now() - t0),
    tools,
  };
}
