import { readFileSync } from 'node:fs';
import { componentWit, metadataShow } from '@bytecodealliance/jco-transpile/wasm-tools';
import { WIT } from '@greentic/interfaces';
import { blake3Hex, sha256Hex } from './build.js';
import { ComponentCliError } from './errors.js';

export interface ComponentInfo {
  file?: string;
  size: number;
  sha256: string;
  blake3: string;
  /** The Greentic world the component fits (`greentic:component/tool@0.6.0`, `…/component@0.6.0`), or `other`. */
  world: string;
  /** Interfaces the component imports and exports (versioned WIT names). */
  imports: string[];
  exports: string[];
  /** Tools that produced it (from the `producers` section), e.g. `ComponentizeJS 0.23.0`. */
  producers: string[];
  /** The component's world as WIT text. */
  wit: string;
}

const HOST_IMPORTS: string[] = [WIT.stateStore, WIT.secretsStore, WIT.httpClient, WIT.loggerApi];
const TYPE_ONLY = ['greentic:interfaces-types/', 'greentic:types-core/'];

/** What kind of Wasm binary `bytes` is, from its preamble. */
export function wasmKind(bytes: Uint8Array): 'component' | 'module' | 'not-wasm' {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    return 'not-wasm';
  // version 1 + layer 0 = core module; layer 1 = component
  return bytes[6] === 1 && bytes[7] === 0 ? 'component' : 'module';
}

/** The Greentic world a component with these imports and exports targets. */
export function worldOf(imports: string[], exports: string[]): string {
  if (!exports.includes(WIT.node)) return 'other';
  const real = imports.filter((i) => !TYPE_ONLY.some((p) => i.startsWith(p)));
  if (real.every((i) => i === WIT.control)) return WIT.worlds.component;
  if (real.every((i) => i === WIT.control || HOST_IMPORTS.includes(i))) return WIT.worlds.tool;
  return 'other';
}

/** Reads the imports and exports of the `world` in a component's WIT text. */
export function parseWorld(wit: string): { imports: string[]; exports: string[] } {
  const imports: string[] = [];
  const exports: string[] = [];
  for (const m of wit.matchAll(/^\s*(import|export)\s+([^;{]+?)\s*;/gm)) {
    (m[1] === 'import' ? imports : exports).push(m[2]!.trim());
  }
  return { imports, exports };
}

/** Size, digests, world, imports, exports and producers of a Wasm component. */
export async function inspectComponent(bytes: Uint8Array, file?: string): Promise<ComponentInfo> {
  const what = file ?? 'the input';
  const kind = wasmKind(bytes);
  if (kind === 'not-wasm') {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_NOT_A_COMPONENT',
      `${what} is not WebAssembly (no "\\0asm" header)`,
    );
  }
  if (kind === 'module') {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_NOT_A_COMPONENT',
      `${what} is a core WebAssembly module, not a component: build it with "greentic-component build" (or wrap it with wasm-tools component new)`,
    );
  }
  let wit: string;
  let producers: string[] = [];
  try {
    wit = await componentWit(bytes);
  } catch (cause) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_NOT_A_COMPONENT',
      `${what} is not a valid component: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  try {
    const meta = await metadataShow(bytes);
    const top = meta[0];
    for (const [field, values] of top?.producers ?? []) {
      if (field === 'processed-by') producers = values.map(([name, version]) => `${name} ${version}`.trim());
    }
  } catch {
    // producers are informative only
  }
  const { imports, exports } = parseWorld(wit);
  return {
    file,
    size: bytes.length,
    sha256: `sha256:${sha256Hex(bytes)}`,
    blake3: `blake3:${blake3Hex(bytes)}`,
    world: worldOf(imports, exports),
    imports,
    exports,
    producers,
    wit,
  };
}

/** {@link inspectComponent} of a file. */
export async function inspectComponentFile(path: string): Promise<ComponentInfo> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_USAGE',
      `cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause}`,
      {
        cause,
      },
    );
  }
  return inspectComponent(bytes, path);
}

/** `12.4 MB` */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
