import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transpileBytes } from '@bytecodealliance/jco-transpile';
import type { NetworkPolicy } from '@greentic/types';
// Plain-JS runtime shared with the sandbox worker (import list the host can satisfy).
import { DENIED_IMPORT_PREFIXES, SHIM_IMPORT_PREFIXES, SUPPORTED_IMPORTS } from '../worker/runtime.mjs';
import {
  type CacheMeta,
  defaultCacheDir,
  jcoTranspileVersion,
  readCacheEntry,
  writeCacheEntry,
} from './cache.js';
import { sha256Digest, verifyDigest } from './digest.js';
import { ComponentError } from './errors.js';
import {
  type ComponentCapabilities,
  type ComponentManifest,
  capabilitiesOf,
  manifestNetworkPolicy,
  parseManifest,
  readManifest,
} from './manifest.js';
import { capMemory, WASM_PAGE } from './memory-limit.js';
import { defaultSecretCategory, isSecretUriSegment } from './policy.js';

/** The interface every Greentic component exports. */
export const NODE_EXPORT = 'greentic:component/node@0.6.0';

/** Time and memory limits of every call. */
export interface ComponentLimits {
  /** Wall time of one call, in milliseconds (default 30 000). */
  wallTimeMs: number;
  /** Linear-memory ceiling of one instance, in MiB (default 128). */
  memoryMb: number;
}

export const DEFAULT_LIMITS: ComponentLimits = Object.freeze({ wallTimeMs: 30_000, memoryMb: 128 });

/** Where a component comes from and what it may do. */
export interface ComponentSource {
  /** Registry id (`weather_api`, `ns.adapter`...): names the component in errors, logs and state namespaces. */
  id: string;
  /** Path of the `.wasm` component; or give `bytes`. */
  path?: string;
  bytes?: Uint8Array;
  /** Expected digest (`sha256:<hex>`, `blake3:<hex>` or bare sha256 hex). Verified when given. */
  digest?: string;
  /** The component manifest (object, or path of `component.manifest.json`); validated. No manifest = no capabilities. */
  manifest?: ComponentManifest | string;
  /**
   * Outbound HTTP policy. Replaces the manifest's `x-greentic.network` when given; without either, no outbound HTTP
   * even when the manifest asks for an HTTP client.
   */
  network?: NetworkPolicy;
  /**
   * Category of the secret URIs of bare secret keys (`api_key` → `secrets://{env}/{tenant}/{team|_}/{category}/api_key`):
   * the pack's id when the component runs in a pack (what `@greentic/secrets` uses for a pack's requirements).
   * Default: the component id when it is a valid URI segment (`[a-z0-9._-]+`), else `configs`.
   */
  secretCategory?: string;
  /** Overrides the manifest's `limits` (and the host defaults). */
  limits?: Partial<ComponentLimits>;
}

export interface LoadOptions {
  /** Transpile cache folder (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** Limits used when neither the source nor the manifest sets them. */
  defaultLimits?: Partial<ComponentLimits>;
  /** Receives `transpile`, `cache-hit` and `compile` events. */
  onEvent?: (event: LoadEvent) => void;
}

export type LoadEvent =
  | { type: 'transpile'; component: string; digest: string; ms: number }
  | { type: 'cache-hit'; component: string; digest: string }
  | { type: 'compile'; component: string; digest: string; module: string; ms: number };

/** A verified, transpiled and compiled component, ready to instantiate (any number of times, in any thread). */
export interface LoadedComponent {
  id: string;
  /** `sha256:<hex>` of the component bytes. */
  digest: string;
  manifest: ComponentManifest | undefined;
  capabilities: ComponentCapabilities;
  /** `ComponentSource.network`, else the manifest's `x-greentic.network`, else none (no outbound HTTP). */
  network: NetworkPolicy | undefined;
  /** Category of bare secret keys in secret URIs (see {@link ComponentSource.secretCategory}). */
  secretCategory: string;
  limits: ComponentLimits;
  /** Interfaces the component imports (jco names, without version) and exports (with version). */
  imports: string[];
  exports: string[];
  /** `component` (control only) or `tool` (uses host services). */
  world: 'component' | 'tool';
  /** True when the transpiled output came from the disk cache. */
  fromCache: boolean;
  /** File URL of the transpiled ES module (`instantiate(getCoreModule, imports, instantiateCore)`). */
  glueUrl: string;
  /** Compiled core modules by file name, with memories capped at `limits.memoryMb`. */
  modules: Readonly<Record<string, WebAssembly.Module>>;
  /** Identity of this load in sandboxes: id, digest, memory cap and WASI grants. */
  key: string;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

/** Drops the process-wide compiled-module cache (tests, benchmarks). */
export function clearCompiledModules(): void {
  compiled.clear();
}

function optsHash(): string {
  return createHash('sha256').update(JSON.stringify(TRANSPILE_OPTIONS)).digest('hex').slice(0, 12);
}

const TRANSPILE_OPTIONS = {
  name: 'component',
  instantiation: 'async',
  emitTypescriptDeclarations: false,
} as const;

async function transpile(
  id: string,
  digest: string,
  bytes: Uint8Array,
  cacheDir: string,
  onEvent: LoadOptions['onEvent'],
) {
  const jco = jcoTranspileVersion();
  const dir = join(cacheDir, `${digest.slice('sha256:'.length)}-jco${jco}-${optsHash()}`);
  const cached = readCacheEntry(dir);
  if (cached) {
    onEvent?.({ type: 'cache-hit', component: id, digest });
    return { dir, meta: cached, fromCache: true };
  }
  const t0 = performance.now();
  let result: Awaited<ReturnType<typeof transpileBytes>>;
  try {
    result = await transpileBytes(bytes, { ...TRANSPILE_OPTIONS });
  } catch (cause) {
    throw new ComponentError(
      'GT_COMPONENT_LOAD',
      `component "${id}" could not be transpiled (is it a Wasm component, not a core module?): ${(cause as Error)?.message ?? cause}`,
      { component: id, cause },
    );
  }
  const files = new Map<string, Uint8Array>();
  const coreModules: string[] = [];
  let glue = '';
  for (const [name, data] of Object.entries(result.files)) {
    if (name.endsWith('.d.ts')) continue;
    if (name.endsWith('.wasm')) coreModules.push(name);
    const out = name.endsWith('.js') ? name.replace(/\.js$/, '.mjs') : name;
    if (out.endsWith('.mjs') && !out.includes('/')) glue = out;
    files.set(out, data);
  }
  const meta: CacheMeta = {
    digest,
    jco,
    glue,
    coreModules: coreModules.sort(),
    imports: [...result.imports].sort(),
    exports: result.exports.map(([name]) => name).sort(),
  };
  writeCacheEntry(dir, files, meta);
  onEvent?.({ type: 'transpile', component: id, digest, ms: performance.now() - t0 });
  return { dir, meta, fromCache: false };
}

function checkAbi(id: string, meta: CacheMeta): void {
  if (!meta.exports.includes(NODE_EXPORT)) {
    const other = meta.exports.find((e) => e.startsWith('greentic:component/node@'));
    const exported = meta.exports.filter((e) => e.includes(':')).join(', ') || 'no interfaces';
    throw new ComponentError(
      'GT_COMPONENT_ABI',
      other
        ? `component "${id}" exports ${other}, but this host speaks ${NODE_EXPORT}: rebuild it against greentic:component@0.6.0`
        : `component "${id}" does not export ${NODE_EXPORT} (it exports ${exported}): build it for the world greentic:component/component@0.6.0 or greentic:component/tool@0.6.0`,
      { component: id },
    );
  }
  const unsupported = meta.imports.filter(
    (name) =>
      !SUPPORTED_IMPORTS.includes(name) &&
      !SHIM_IMPORT_PREFIXES.some((p: string) => name.startsWith(p)) &&
      !DENIED_IMPORT_PREFIXES.some((p: string) => name.startsWith(p)),
  );
  if (unsupported.length > 0) {
    throw new ComponentError(
      'GT_COMPONENT_ABI',
      `component "${id}" imports ${unsupported.join(', ')}, which this host does not provide (it provides ${SUPPORTED_IMPORTS.join(', ')} and WASI io/cli/clocks/random)`,
      { component: id },
    );
  }
}

function resolveLimits(
  source: ComponentSource,
  manifest: ComponentManifest | undefined,
  defaults: Partial<ComponentLimits> = {},
): ComponentLimits {
  const limits: ComponentLimits = {
    wallTimeMs:
      source.limits?.wallTimeMs ??
      manifest?.limits?.wall_time_ms ??
      defaults.wallTimeMs ??
      DEFAULT_LIMITS.wallTimeMs,
    memoryMb:
      source.limits?.memoryMb ?? manifest?.limits?.memory_mb ?? defaults.memoryMb ?? DEFAULT_LIMITS.memoryMb,
  };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v <= 0) {
      throw new ComponentError(
        'GT_COMPONENT_MANIFEST',
        `component "${source.id}": limit ${k} must be a positive integer (got ${v})`,
        { component: source.id },
      );
    }
  }
  return limits;
}

/**
 * Loads a component: reads it, checks its digest (the expected one when given, and the manifest's
 * `hashes.component_wasm` when a manifest is given), validates the manifest, transpiles it with jco
 * (`--instantiation async`) or takes the transpiled files from the disk cache (keyed by digest and jco version),
 * checks the ABI (exports `greentic:component/node@0.6.0`, imports only what the host provides), and compiles each
 * core module once per process with its memory capped.
 */
export async function loadComponent(
  source: ComponentSource,
  options: LoadOptions = {},
): Promise<LoadedComponent> {
  const id = source.id;
  let bytes = source.bytes;
  if (!bytes) {
    if (!source.path)
      throw new ComponentError('GT_COMPONENT_LOAD', `component "${id}": give a path or bytes`, {
        component: id,
      });
    try {
      bytes = new Uint8Array(await readFile(source.path));
    } catch (cause) {
      throw new ComponentError('GT_COMPONENT_LOAD', `component "${id}": cannot read ${source.path}`, {
        component: id,
        cause,
      });
    }
  }
  const digest = sha256Digest(bytes);
  if (source.digest !== undefined) verifyDigest(bytes, source.digest, id);
  const manifest =
    source.manifest === undefined
      ? undefined
      : typeof source.manifest === 'string'
        ? readManifest(source.manifest)
        : parseManifest(source.manifest, `manifest of component "${id}"`);
  if (manifest)
    verifyDigest(bytes, manifest.hashes.component_wasm, id, 'component (manifest hashes.component_wasm)');
  const limits = resolveLimits(source, manifest, options.defaultLimits);
  const secretCategory = source.secretCategory ?? defaultSecretCategory(id);
  if (!isSecretUriSegment(secretCategory)) {
    throw new ComponentError(
      'GT_COMPONENT_LOAD',
      `component "${id}": secretCategory "${secretCategory}" is not a secret URI segment (only a-z, 0-9, ".", "_" and "-")`,
      { component: id },
    );
  }

  const { dir, meta, fromCache } = await transpile(
    id,
    digest,
    bytes,
    options.cacheDir ?? defaultCacheDir(),
    options.onEvent,
  );
  checkAbi(id, meta);

  const maxPages = limits.memoryMb * ((1024 * 1024) / WASM_PAGE);
  const capabilities = capabilitiesOf(manifest);
  // Sandboxes key loaded components and instances by this: two ids with the same bytes never share an instance
  // or each other's WASI grants.
  const key = `${id}@${digest}/m${maxPages}/w${capabilities.wasi.random ? 'r' : ''}${capabilities.wasi.clocks ? 'c' : ''}`;
  const modules: Record<string, WebAssembly.Module> = {};
  for (const name of meta.coreModules) {
    const cacheKey = `${digest}/m${maxPages}/${name}`;
    let p = compiled.get(cacheKey);
    if (!p) {
      p = (async () => {
        const t0 = performance.now();
        const raw = new Uint8Array(await readFile(join(dir, name)));
        const { bytes: capped } = capMemory(raw, maxPages, id);
        const mod = await WebAssembly.compile(capped as Uint8Array<ArrayBuffer>);
        options.onEvent?.({
          type: 'compile',
          component: id,
          digest,
          module: name,
          ms: performance.now() - t0,
        });
        return mod;
      })();
      compiled.set(cacheKey, p);
      p.catch(() => compiled.delete(cacheKey));
    }
    try {
      modules[name] = await p;
    } catch (cause) {
      if (cause instanceof ComponentError) throw cause;
      throw new ComponentError(
        'GT_COMPONENT_LOAD',
        `component "${id}": core module ${name} does not compile: ${(cause as Error).message}`,
        { component: id, cause },
      );
    }
  }
  const hostImports = [
    'greentic:state/state-store',
    'greentic:secrets-store/secrets-store',
    'greentic:http/http-client',
    'greentic:telemetry/logger-api',
  ];
  return {
    id,
    digest,
    manifest,
    capabilities,
    network: source.network ?? manifestNetworkPolicy(manifest),
    secretCategory,
    limits,
    imports: meta.imports,
    exports: meta.exports,
    world: meta.imports.some((i) => hostImports.includes(i)) ? 'tool' : 'component',
    fromCache,
    glueUrl: pathToFileURL(join(dir, meta.glue)).href,
    modules,
    key,
  };
}
