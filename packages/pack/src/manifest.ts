import { basename } from 'node:path';
import type { SecretRequirement } from '@greentic/component';
import { stringify } from 'yaml';
import { componentSemanticProblems } from './component-manifest.js';
import type { PackProblem } from './errors.js';
import { normaliseSourcePath } from './paths.js';
import { SCHEMA_IDS, validator } from './schemas.js';
import { joinPointer, SourceDoc } from './source.js';
import { isVersionReq } from './versions.js';

/**
 * pack.yaml in upstream's current format (greentic-pack `crates/packc/src/config.rs`), parsed with source
 * positions and validated (schema, then the rules a schema cannot express). Paths are normalised (a leading
 * `./` dropped) and must stay inside the pack root.
 */

export type PackKind = 'application' | 'provider' | 'infrastructure' | 'library';
export const PACK_KINDS: readonly PackKind[] = ['application', 'provider', 'infrastructure', 'library'];

/** A secret requirement, as a component manifest declares it (owned by `@greentic/component`). */
export type { SecretRequirement };

export interface ComponentConfig {
  id: string;
  version?: string;
  world?: string;
  supports?: string[];
  profiles?: { default?: string; supported: string[] };
  capabilities?: { wasi: Record<string, unknown>; host: Record<string, unknown> };
  /** Path of the Wasm file, relative to the pack root. */
  wasm: string;
  /** Greentic-TS extension: path of the component's `component.manifest.json`, relative to the pack root. */
  manifest?: string;
  operations?: { name: string; input_schema: unknown; output_schema: unknown }[];
  config_schema?: unknown;
  resources?: Record<string, unknown>;
  configurators?: { basic?: string; full?: string };
}

export interface FlowConfig {
  id: string;
  /** Path of the `.ygtc` file, relative to the pack root. */
  file: string;
  tags?: string[];
  entrypoints?: string[];
}

export interface DependencyConfig {
  alias: string;
  pack_id: string;
  version_req: string;
  required_capabilities?: string[];
}

export interface ExtensionRef {
  kind: string;
  version: string;
  digest?: string;
  location?: string;
  inline?: unknown;
}

export interface BootstrapSpec {
  install_flow?: string;
  upgrade_flow?: string;
  installer_component?: string;
}

/** A validated pack.yaml. */
export interface PackConfig {
  pack_id: string;
  version: string;
  kind: PackKind;
  publisher: string;
  name?: string;
  components: ComponentConfig[];
  dependencies: DependencyConfig[];
  flows: FlowConfig[];
  assets: { path: string }[];
  secret_requirements: SecretRequirement[];
  bootstrap?: BootstrapSpec;
  extensions?: Record<string, ExtensionRef>;
}

export interface ParsedPackYaml {
  /** Present when the document is a mapping in the current format (even with problems). */
  config?: PackConfig;
  doc?: SourceDoc;
  problems: PackProblem[];
}

/** Parses and validates pack.yaml text (without reading the files it references). */
export function parsePackYaml(text: string, file: string): ParsedPackYaml {
  const parsed = SourceDoc.parse(text, file, 'yaml');
  if (!(parsed instanceof SourceDoc)) return { problems: [parsed] };
  const doc = parsed;
  const data = doc.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      doc,
      problems: [
        doc.problem('GT_PACK_SCHEMA', '', 'pack.yaml must be a mapping (pack_id, version, kind, …)'),
      ],
    };
  }
  const legacy = legacyProblem(doc, data as Record<string, unknown>);
  if (legacy) return { doc, problems: [legacy] };

  const problems: PackProblem[] = [];
  const validate = validator(SCHEMA_IDS.pack);
  if (!validate(data)) problems.push(...doc.schemaProblems(validate.errors ?? []));
  const raw = data as Record<string, unknown>;
  const list = (key: string): Record<string, unknown>[] =>
    Array.isArray(raw[key]) ? (raw[key] as unknown[]).filter(isRecord) : [];

  const config: PackConfig = {
    pack_id: String(raw.pack_id ?? ''),
    version: String(raw.version ?? ''),
    kind: raw.kind as PackKind,
    publisher: String(raw.publisher ?? ''),
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    components: list('components') as unknown as ComponentConfig[],
    dependencies: list('dependencies') as unknown as DependencyConfig[],
    flows: list('flows') as unknown as FlowConfig[],
    assets: list('assets') as unknown as { path: string }[],
    secret_requirements: list('secret_requirements') as unknown as SecretRequirement[],
    ...(isRecord(raw.bootstrap) ? { bootstrap: raw.bootstrap as BootstrapSpec } : {}),
    ...(isRecord(raw.extensions) ? { extensions: raw.extensions as Record<string, ExtensionRef> } : {}),
  };

  // Paths stay inside the pack root.
  const path = (pointer: string, value: unknown, set: (p: string) => void) => {
    if (typeof value !== 'string' || value === '') return;
    const n = normaliseSourcePath(value);
    if ('problem' in n) {
      problems.push(
        doc.problem(
          'GT_PACK_PATH_ESCAPE',
          pointer,
          `path ${JSON.stringify(value)} ${n.problem}; paths in pack.yaml are relative to the pack root and stay inside it`,
        ),
      );
    } else set(n.path);
  };
  config.components = config.components.map((c, i) => {
    const out = { ...c };
    path(`/components/${i}/wasm`, c.wasm, (p) => {
      out.wasm = p;
    });
    path(`/components/${i}/manifest`, c.manifest, (p) => {
      out.manifest = p;
    });
    problems.push(...componentSemanticProblems(doc, `/components/${i}`, 'pack.yaml', {}, problems));
    return out;
  });
  config.flows = config.flows.map((f, i) => {
    const out = { ...f };
    path(`/flows/${i}/file`, f.file, (p) => {
      out.file = p;
    });
    return out;
  });
  config.assets = config.assets.map((a, i) => {
    const out = { ...a };
    path(`/assets/${i}/path`, a.path, (p) => {
      out.path = p;
    });
    return out;
  });

  // Duplicate ids.
  const unique = (key: string, field: string, items: Record<string, unknown>[], what: string) => {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      const v = item[field];
      if (typeof v !== 'string') return;
      const prev = first.get(v);
      if (prev === undefined) {
        first.set(v, i);
        return;
      }
      const prevLine = doc.locate(joinPointer([key, prev, field])).line;
      problems.push(
        doc.problem(
          'GT_PACK_DUPLICATE_ID',
          joinPointer([key, i, field]),
          `${what} ${JSON.stringify(v)} is declared twice (first at line ${prevLine}); ids must be unique in a pack`,
        ),
      );
    });
  };
  unique('components', 'id', config.components as unknown as Record<string, unknown>[], 'component');
  unique('flows', 'id', config.flows as unknown as Record<string, unknown>[], 'flow');
  unique(
    'dependencies',
    'alias',
    config.dependencies as unknown as Record<string, unknown>[],
    'dependency alias',
  );
  unique('assets', 'path', config.assets as unknown as Record<string, unknown>[], 'asset');
  unique(
    'secret_requirements',
    'key',
    config.secret_requirements as unknown as Record<string, unknown>[],
    'secret requirement',
  );

  config.dependencies.forEach((d, i) => {
    if (typeof d.version_req === 'string' && d.version_req !== '' && !isVersionReq(d.version_req)) {
      problems.push(
        doc.problem(
          'GT_PACK_SCHEMA',
          `/dependencies/${i}/version_req`,
          `must be a version requirement like ^1.0.0, ~1.2 or >=1, <2 (got ${JSON.stringify(d.version_req)})`,
        ),
      );
    }
  });

  // References inside the manifest.
  const flowIds = new Set(config.flows.map((f) => f.id));
  const componentIds = new Set(config.components.map((c) => c.id));
  const ref = (pointer: string, value: unknown, known: Set<string>, what: string) => {
    if (typeof value === 'string' && !known.has(value)) {
      problems.push(
        doc.problem(
          'GT_PACK_MISSING_REFERENCE',
          pointer,
          `${what} ${JSON.stringify(value)} is not in this pack (${what}s: ${[...known].join(', ') || 'none'})`,
        ),
      );
    }
  };
  ref('/bootstrap/install_flow', config.bootstrap?.install_flow, flowIds, 'flow');
  ref('/bootstrap/upgrade_flow', config.bootstrap?.upgrade_flow, flowIds, 'flow');
  ref('/bootstrap/installer_component', config.bootstrap?.installer_component, componentIds, 'component');
  config.components.forEach((c, i) => {
    ref(`/components/${i}/configurators/basic`, c.configurators?.basic, flowIds, 'flow');
    ref(`/components/${i}/configurators/full`, c.configurators?.full, flowIds, 'flow');
  });

  for (const [key, ext] of Object.entries(config.extensions ?? {})) {
    if (!isRecord(ext)) continue;
    const base = joinPointer(['extensions', key]);
    if (typeof ext.kind === 'string' && ext.kind !== key) {
      problems.push(
        doc.problem(
          'GT_PACK_SCHEMA',
          `${base}/kind`,
          `must equal its key ${JSON.stringify(key)} (got ${JSON.stringify(ext.kind)})`,
        ),
      );
    }
    if (typeof ext.location === 'string')
      problems.push(...locationProblems(doc, `${base}/location`, ext.location));
  }

  return { config, doc, problems };
}

/** An extension location must be `oci://`, `https://` or `file://`; an absolute `file://` is not portable. */
function locationProblems(doc: SourceDoc, pointer: string, location: string): PackProblem[] {
  if (/^file:\/\/\//.test(location) || /^file:\/\/[A-Za-z]:/.test(location)) {
    return [
      doc.problem(
        'GT_PACK_PORTABILITY',
        pointer,
        `${JSON.stringify(location)} is an absolute file:// path, which only exists on the machine that wrote it; use a path relative to the pack, or an oci:// or https:// reference`,
        'warning',
      ),
    ];
  }
  if (!/^(oci|https|file):\/\//.test(location)) {
    return [
      doc.problem(
        'GT_PACK_SCHEMA',
        pointer,
        `must be an oci://, https:// or file:// reference (got ${JSON.stringify(location)})`,
      ),
    ];
  }
  return [];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The legacy format (greentic-ai/greentic-pack `crates/packc/src/manifest.rs`: `packVersion: 1`, `id`,
 * `flow_files`, …) is refused — its fields have no one-to-one meaning in the current format — with a message
 * that maps every field and a suggested current-format pack.yaml built from the file's own values.
 */
function legacyProblem(doc: SourceDoc, data: Record<string, unknown>): PackProblem | undefined {
  const isLegacy = 'packVersion' in data || 'flow_files' in data || ('id' in data && !('pack_id' in data));
  if (!isLegacy) return undefined;
  const suggestion = suggestCurrentFormat(data);
  const lines = [
    'this pack.yaml is in the legacy format (packVersion: 1), which packc does not read. Migrate it field by field:',
    '  packVersion: 1            → remove',
    '  id: <id>                  → pack_id: <id>',
    '  version                   → version (unchanged; must be semver)',
    '  (new, required)           → kind: application | provider | infrastructure | library, and publisher: <who publishes it>',
    '  flow_files: [<file>, …]   → flows: [{id: <the id: inside the file>, file: <file>, tags: [], entrypoints: [default]}]',
    '  entry_flows: [<id>, …]    → give those flows tags: [default] and entrypoints: [default]',
    '  template_dirs: [<dir>, …] → assets: [{path: <dir>}]',
    '  imports_required: [<op>]  → a components[] entry for each component you ship (id, version, world, wasm, …), or a dependencies[] entry {alias, pack_id, version_req, required_capabilities} for each pack that provides it',
    '  mcp_components: [{id, router_ref}] → components[] entries (the router is a component)',
    '  repo, events, messaging, interfaces, annotations → extensions: {<kind>: {kind, version, inline}} (no direct equivalent)',
    'Suggested pack.yaml (check flow ids, kind and publisher):',
    suggestion.trimEnd(),
  ];
  return {
    ...doc.problem('GT_PACK_LEGACY_MANIFEST', 'packVersion' in data ? '/packVersion' : '/id', ''),
    message: lines.join('\n'),
    suggestion,
  };
}

function suggestCurrentFormat(data: Record<string, unknown>): string {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
  const entry = new Set(strings(data.entry_flows));
  const flows = strings(data.flow_files).map((file) => {
    const id = basename(file).replace(/\.ygtc$/, '');
    const isEntry = entry.size === 0 || entry.has(id);
    return { id, file, tags: isEntry ? ['default'] : [], entrypoints: isEntry ? ['default'] : [] };
  });
  const imports = strings(data.imports_required);
  const suggestion: Record<string, unknown> = {
    pack_id: typeof data.id === 'string' ? data.id : 'CHANGE.ME',
    version: typeof data.version === 'string' ? data.version : '0.1.0',
    kind: 'application',
    publisher: 'CHANGE-ME',
    components: [],
    dependencies: imports.map((op) => ({
      alias: op.split('.')[0],
      pack_id: `CHANGE.ME.${op.split('.')[0]}`,
      version_req: '^1.0.0',
      required_capabilities: [op.replace(/\./g, ':')],
    })),
    flows,
    assets: strings(data.template_dirs).map((path) => ({ path })),
  };
  // One dependency per provider alias.
  const seen = new Set<string>();
  suggestion.dependencies = (
    suggestion.dependencies as { alias: string; required_capabilities: string[] }[]
  ).filter((d, _i, all) => {
    if (seen.has(d.alias)) return false;
    seen.add(d.alias);
    d.required_capabilities = all.filter((o) => o.alias === d.alias).flatMap((o) => o.required_capabilities);
    return true;
  });
  return stringify(suggestion, { lineWidth: 0 });
}
