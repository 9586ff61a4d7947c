import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ComponentManifest, parseManifest } from '@greentic/component';
import { ComponentCliError } from './errors.js';
import { WORLDS, type WorldName } from './wit.js';

export const MANIFEST_FILE = 'component.manifest.json';

/** Entry files tried, in order, when `package.json` has no `greentic.entry`. */
export const DEFAULT_ENTRIES = ['src/index.ts', 'src/index.js', 'index.ts', 'index.js'];

/** A component project: a folder with `component.manifest.json` and TypeScript/JavaScript sources. */
export interface ComponentProject {
  dir: string;
  manifestPath: string;
  /**
   * The manifest as written (the build fills in `artifacts` and `hashes`), Greentic-TS extensions included
   * (`x-greentic.network`: the host reads it, see docs/components.md).
   */
  manifest: Record<string, unknown>;
  /** Manifest `id`: the component's registry id. */
  id: string;
  /** File name of the built component, without `.wasm` (the id with unsafe characters replaced). */
  fileName: string;
  /** Absolute path of the entry module. */
  entry: string;
  world: WorldName;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ComponentCliError('GT_COMPONENT_CLI_PROJECT', `cannot read ${what} ${path}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_PROJECT',
      `${path} is not JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/**
 * Validates a manifest with the host's validator (the upstream v1 schema, and the Greentic-TS `x-greentic`
 * extension). Throws `GT_COMPONENT_CLI_PROJECT` with every problem.
 */
export function validateManifest(manifest: Record<string, unknown>, source: string): ComponentManifest {
  try {
    return parseManifest(manifest, source);
  } catch (cause) {
    throw new ComponentCliError('GT_COMPONENT_CLI_PROJECT', (cause as Error).message, { cause });
  }
}

/** `weather_api` → `weather_api`; `com.example/echo` → `com.example_echo`. */
export function fileNameOf(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

function worldOf(manifest: Record<string, unknown>): WorldName {
  return manifest.world === WORLDS.component ? 'component' : 'tool';
}

/** Reads a component project folder. Throws `GT_COMPONENT_CLI_PROJECT` when it is not one. */
export function readProject(dirArg: string): ComponentProject {
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ComponentCliError('GT_COMPONENT_CLI_USAGE', `${dirArg}: no such folder`);
  }
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_PROJECT',
      `${dirArg} is not a component project: it has no ${MANIFEST_FILE} (create one with "greentic-component new <name>")`,
    );
  }
  const raw = readJson(manifestPath, 'component manifest');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ComponentCliError('GT_COMPONENT_CLI_PROJECT', `${manifestPath} must hold a JSON object`);
  }
  const manifest = raw as Record<string, unknown>;
  const id = manifest.id;
  if (typeof id !== 'string' || id === '') {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_PROJECT',
      `${manifestPath}: "id" must be a non-empty string`,
    );
  }
  const pkgPath = join(dir, 'package.json');
  const pkg = existsSync(pkgPath)
    ? (readJson(pkgPath, 'package.json') as { greentic?: { entry?: unknown } })
    : {};
  const declared = pkg.greentic?.entry;
  let entry: string | undefined;
  if (typeof declared === 'string') {
    entry = join(dir, declared);
    if (!existsSync(entry)) {
      throw new ComponentCliError(
        'GT_COMPONENT_CLI_PROJECT',
        `${pkgPath}: greentic.entry "${declared}" does not exist`,
      );
    }
  } else {
    entry = DEFAULT_ENTRIES.map((e) => join(dir, e)).find((p) => existsSync(p));
    if (!entry) {
      throw new ComponentCliError(
        'GT_COMPONENT_CLI_PROJECT',
        `${dirArg} has no entry module: create one of ${DEFAULT_ENTRIES.join(', ')}, or name it in package.json "greentic": {"entry": "…"}`,
      );
    }
  }
  return {
    dir,
    manifestPath,
    manifest,
    id,
    fileName: fileNameOf(id),
    entry,
    world: worldOf(manifest),
  };
}
