import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ComponentError } from './errors.js';

export interface WatComponentOptions {
  /** A core module in WAT whose exports/imports follow the canonical ABI names (`greentic:component/node@0.6.0#invoke`...). */
  wat: string;
  /** WIT folder (e.g. `witDir()` from @greentic/interfaces) or WIT source text. */
  witPath?: string;
  witSource?: string;
  /** World to embed, e.g. `greentic:component/component`. */
  world: string;
}

let fsReady: Promise<void> | undefined;
// jco's wasm-tools read WIT through preview2-shim's filesystem, whose preopens start empty: open "/" for it.
function openFilesystemForJco(): Promise<void> {
  fsReady ??= import('@bytecodealliance/preview2-shim/filesystem').then((fs) => {
    const shim = fs as unknown as {
      _getPreopens(): [unknown, string][];
      _addPreopen(v: string, h: string): void;
    };
    if (!shim._getPreopens().some(([, p]) => p === '/')) shim._addPreopen('/', '/');
  });
  return fsReady;
}

/**
 * Builds a component from a core module written in WAT (jco's wasm-tools: parse, embed the WIT world, component
 * new). How the project writes its test components; handy for small hand-written components too.
 */
export async function buildComponentFromWat(opts: WatComponentOptions): Promise<Uint8Array> {
  if (opts.witPath) await openFilesystemForJco();
  try {
    const core = await parse(opts.wat);
    const embedded = await componentEmbed({
      binary: core,
      witPath: opts.witPath,
      witSource: opts.witSource,
      world: opts.world,
      stringEncoding: 'utf8',
    });
    return await componentNew(embedded);
  } catch (cause) {
    throw new ComponentError(
      'GT_COMPONENT_LOAD',
      `cannot build a component from WAT (world ${opts.world}): ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
  }
}
