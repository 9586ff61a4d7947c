import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { checkComponentManifest } from './component-manifest.js';
import { PackError, type PackProblem } from './errors.js';
import { blake3Hex } from './hash.js';
import { parsePackYaml } from './manifest.js';
import { SCHEMA_IDS, validator } from './schemas.js';
import { joinPointer, SourceDoc } from './source.js';

/**
 * `packc lint`: validates one manifest file of any kind packc knows — pack.yaml, component.manifest.json,
 * pack.lock.json, an MCP toolmap, a flow resolve sidecar. `manifestOnly` checks the document alone, without
 * the files it references (what the conformance suite does with upstream's manifests).
 */

export type ManifestKind = 'pack' | 'component' | 'lock' | 'toolmap' | 'resolve';
export const MANIFEST_KINDS: readonly ManifestKind[] = ['pack', 'component', 'lock', 'toolmap', 'resolve'];

/** The kind of a manifest file, from its name; `undefined` when the name says nothing. */
export function manifestKindOf(path: string): ManifestKind | undefined {
  const name = basename(path).toLowerCase();
  if (/(^|[._-])pack\.ya?ml$/.test(name)) return 'pack';
  if (name.endsWith('component.manifest.json') || name.endsWith('.component.json')) return 'component';
  if (name.endsWith('pack.lock.json')) return 'lock';
  if (/toolmap\.(json|ya?ml)$/.test(name)) return 'toolmap';
  if (name.endsWith('.resolve.json')) return 'resolve';
  return undefined;
}

export interface LintReport {
  file: string;
  kind: ManifestKind;
  ok: boolean;
  errors: PackProblem[];
  warnings: PackProblem[];
}

export interface LintOptions {
  /** Check the document alone, not the files it references. */
  manifestOnly?: boolean;
  /** Overrides the kind guessed from the file name. */
  kind?: ManifestKind;
}

/** Lints one file. Never throws for a bad manifest (problems are in the report); throws for bad usage. */
export async function lintFile(path: string, opts: LintOptions = {}): Promise<LintReport> {
  const kind = opts.kind ?? manifestKindOf(path);
  if (!kind) {
    throw new PackError(
      'GT_PACK_USAGE',
      `cannot tell what kind of manifest ${path} is from its name; name it pack.yaml, component.manifest.json, pack.lock.json, toolmap.json or *.resolve.json, or pass --kind (${MANIFEST_KINDS.join(', ')})`,
    );
  }
  let problems: PackProblem[];
  if (kind === 'pack' && !opts.manifestOnly) {
    const { validatePack } = await import('./build.js');
    problems = (await validatePack(path)).problems;
  } else {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      problems = [
        {
          code: 'GT_PACK_IO',
          severity: 'error',
          message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        },
      ];
      return report(path, kind, problems);
    }
    problems = lintText(text, path, kind, opts);
    if (kind === 'component' && !opts.manifestOnly && problems.every((p) => p.severity !== 'error')) {
      problems.push(...(await componentArtifactProblems(text, path)));
    }
  }
  return report(path, kind, problems);
}

function report(file: string, kind: ManifestKind, problems: PackProblem[]): LintReport {
  const errors = problems.filter((p) => p.severity === 'error');
  return {
    file,
    kind,
    ok: errors.length === 0,
    errors,
    warnings: problems.filter((p) => p.severity === 'warning'),
  };
}

/** Lints manifest text of a known kind (no file access). */
export function lintText(
  text: string,
  file: string,
  kind: ManifestKind,
  opts: LintOptions = {},
): PackProblem[] {
  if (kind === 'pack') return parsePackYaml(text, file).problems;
  const syntax = kind === 'toolmap' && /\.ya?ml$/i.test(file) ? 'yaml' : 'json';
  const doc = SourceDoc.parse(text, file, syntax);
  if (!(doc instanceof SourceDoc)) return [doc];
  switch (kind) {
    case 'component':
      return checkComponentManifest(doc, { requireSupportedWorld: opts.manifestOnly !== true }).problems;
    case 'lock':
      return lockProblems(doc);
    case 'toolmap':
      return toolmapProblems(doc);
    case 'resolve':
      return resolveProblems(doc);
  }
}

function isAbsoluteRef(ref: string): boolean {
  return /^file:\/\/(\/|[A-Za-z]:)/.test(ref) || ref.startsWith('/') || /^[A-Za-z]:[\\/]/.test(ref);
}

function portability(doc: SourceDoc, pointer: string, ref: string): PackProblem {
  return doc.problem(
    'GT_PACK_PORTABILITY',
    pointer,
    `${JSON.stringify(ref)} is an absolute path that exists only on the machine that wrote it, so the lock does not reproduce elsewhere; resolve again with a path relative to the pack, or pin an oci:// reference with its digest`,
    'warning',
  );
}

/** pack.lock.json: the current map form (`version: 1`) or the older list form (`schema_version: 1`). */
export function lockProblems(doc: SourceDoc): PackProblem[] {
  const data = doc.data as { components?: unknown } | null;
  const listForm = data !== null && typeof data === 'object' && Array.isArray(data.components);
  const validate = validator(`${SCHEMA_IDS.lock}#/$defs/${listForm ? 'list' : 'map'}`);
  const problems: PackProblem[] = [];
  if (!validate(doc.data)) return doc.schemaProblems(validate.errors ?? []);
  const components = (data as { components: unknown }).components;
  const entries: [string, unknown][] = Array.isArray(components)
    ? components.map((c, i) => [String(i), c])
    : Object.entries(components as Record<string, unknown>);
  for (const [key, c] of entries) {
    const ref = (c as { ref?: unknown }).ref;
    if (typeof ref === 'string' && isAbsoluteRef(ref))
      problems.push(portability(doc, joinPointer(['components', key, 'ref']), ref));
  }
  return problems;
}

/** An MCP tool map (greentic-mcp `ToolMap`): schema, and no tool name twice. */
export function toolmapProblems(doc: SourceDoc): PackProblem[] {
  const validate = validator(SCHEMA_IDS.toolmap);
  if (!validate(doc.data)) return doc.schemaProblems(validate.errors ?? []);
  const problems: PackProblem[] = [];
  const seen = new Set<string>();
  (doc.data as { tools: { name: string }[] }).tools.forEach((t, i) => {
    if (seen.has(t.name)) {
      problems.push(
        doc.problem(
          'GT_PACK_DUPLICATE_ID',
          `/tools/${i}/name`,
          `tool ${JSON.stringify(t.name)} is declared twice`,
        ),
      );
    }
    seen.add(t.name);
  });
  return problems;
}

/** A flow resolve sidecar (`flows/<flow>.ygtc.resolve.json`). */
export function resolveProblems(doc: SourceDoc): PackProblem[] {
  const validate = validator(SCHEMA_IDS.flowResolve);
  if (!validate(doc.data)) return doc.schemaProblems(validate.errors ?? []);
  const problems: PackProblem[] = [];
  const nodes = (doc.data as { nodes: Record<string, { source: { path?: string; ref?: string } }> }).nodes;
  for (const [node, { source }] of Object.entries(nodes)) {
    for (const field of ['path', 'ref'] as const) {
      const v = source[field];
      if (typeof v === 'string' && isAbsoluteRef(v)) {
        problems.push(portability(doc, joinPointer(['nodes', node, 'source', field]), v));
      }
    }
  }
  return problems;
}

/** For a full component lint: the artifact next to the manifest exists and matches `hashes.component_wasm`. */
async function componentArtifactProblems(text: string, path: string): Promise<PackProblem[]> {
  const doc = SourceDoc.parse(text, path, 'json');
  if (!(doc instanceof SourceDoc)) return [];
  const m = doc.data as { artifacts?: { component_wasm?: string }; hashes?: { component_wasm?: string } };
  const artifact = m.artifacts?.component_wasm;
  if (typeof artifact !== 'string') return [];
  let bytes: Uint8Array;
  try {
    bytes = await readFile(join(dirname(path), artifact));
  } catch {
    return [
      doc.problem(
        'GT_PACK_MISSING_REFERENCE',
        '/artifacts/component_wasm',
        `${artifact} does not exist next to the manifest; build the component or fix the path (lint --manifest-only skips this check)`,
      ),
    ];
  }
  const want = m.hashes?.component_wasm;
  const have = `blake3:${blake3Hex(bytes)}`;
  if (typeof want === 'string' && want.toLowerCase() !== have) {
    return [
      doc.problem(
        'GT_PACK_HASH_MISMATCH',
        '/hashes/component_wasm',
        `${artifact} hashes to ${have}, not ${want}; rebuild the component or update the hash`,
      ),
    ];
  }
  return [];
}
