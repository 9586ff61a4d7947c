import { isValidId, validateNetworkPolicy } from '@greentic/types';
import type { PackProblem } from './errors.js';
import { packPathProblem } from './paths.js';
import { SCHEMA_IDS, validator } from './schemas.js';
import { joinPointer, type SourceDoc, valueAt } from './source.js';
import { isSemver, isSupportedWorld, parseWitWorld, SUPPORTED_WORLDS } from './versions.js';

/**
 * Component manifests come in two shapes, and packc accepts both:
 *
 * - `greentic.component.manifest.v1` — greentic-component's `component.manifest.json` (JSON Schema v1, what
 *   `greentic-component build` writes and what `@greentic/component` loads): has `name`, `describe_export`,
 *   `artifacts`, `hashes`, …
 * - `greentic.pack.component.v1` — greentic-types' `ComponentManifest`, the descriptor a pack.yaml
 *   `components[]` entry holds (and that upstream packc writes as `components/<id>/component.manifest.json`):
 *   `id, version, world, supports, profiles, capabilities, operations, …`.
 *
 * A document with `name`, `describe_export` or `hashes` is taken as the first, anything else as the second.
 * The first may also carry `"x-greentic": {"network": …}` (a `NetworkPolicy`, the Greentic-TS extension
 * greentic-component writes and the component host reads).
 */
export type ComponentManifestFormat = 'greentic.component.manifest.v1' | 'greentic.pack.component.v1';

export function componentManifestFormat(data: unknown): ComponentManifestFormat {
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    const o = data as Record<string, unknown>;
    if ('name' in o || 'describe_export' in o || 'hashes' in o) return 'greentic.component.manifest.v1';
  }
  return 'greentic.pack.component.v1';
}

export interface ComponentCheckOptions {
  /** Also require a WIT world this host runs (build); lint only checks the world's grammar. */
  requireSupportedWorld?: boolean;
}

/** Validates a standalone component manifest file; every problem is located in `doc`. */
export function checkComponentManifest(
  doc: SourceDoc,
  opts: ComponentCheckOptions = {},
): { format: ComponentManifestFormat; problems: PackProblem[] } {
  const format = componentManifestFormat(doc.data);
  const validate = validator(
    format === 'greentic.component.manifest.v1' ? SCHEMA_IDS.componentManifest : SCHEMA_IDS.packComponent,
  );
  const problems: PackProblem[] = [];
  let data = doc.data;
  if (format === 'greentic.component.manifest.v1' && data !== null && typeof data === 'object') {
    // Greentic-TS extensions live under "x-greentic" (upstream's schema is closed): `network`, the component's
    // outbound HTTP policy. Checked here, kept in the packed manifest (the host reads it), and left out of the
    // upstream schema check — as the host's own manifest parser does.
    const { 'x-greentic': extension, ...rest } = data as Record<string, unknown>;
    if (extension !== undefined) {
      data = rest;
      problems.push(...greenticExtensionProblems(doc, extension));
    }
    if ('network' in rest) {
      // Where greentic-component wrote the policy before `x-greentic`: still read (the runner hands it to the
      // host as the component's policy), with a warning.
      const { network, ...withoutNetwork } = rest;
      data = withoutNetwork;
      try {
        validateNetworkPolicy(network);
        problems.push({
          ...doc.problem(
            'GT_PACK_COMPONENT_MANIFEST',
            '/network',
            'a network policy at the top level is the old place: move it under "x-greentic": {"network": {…}} (what greentic-component build writes now)',
          ),
          severity: 'warning',
        });
      } catch (err) {
        problems.push(
          doc.problem(
            'GT_PACK_COMPONENT_MANIFEST',
            '/network',
            `is not a network policy (${(err as Error).message}); write {"egress": {"domains": ["api.example.com"], "protocols": ["https"]}, "deny_on_miss": true} under "x-greentic": {"network": …}`,
          ),
        );
      }
    }
  }
  if (!validate(data))
    problems.push(...doc.schemaProblems(validate.errors ?? [], 'GT_PACK_COMPONENT_MANIFEST'));
  problems.push(...componentSemanticProblems(doc, '', format, opts, problems));
  return { format, problems };
}

/** Problems of a manifest's `x-greentic` object: only `network`, which must be a NetworkPolicy. */
function greenticExtensionProblems(doc: SourceDoc, extension: unknown): PackProblem[] {
  if (extension === null || typeof extension !== 'object' || Array.isArray(extension)) {
    return [
      doc.problem('GT_PACK_COMPONENT_MANIFEST', '/x-greentic', 'must be an object like {"network": {…}}'),
    ];
  }
  const problems: PackProblem[] = [];
  for (const [key, value] of Object.entries(extension)) {
    if (key !== 'network') {
      problems.push(
        doc.problem(
          'GT_PACK_COMPONENT_MANIFEST',
          `/x-greentic/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          'is not a known Greentic-TS extension (known: network)',
        ),
      );
      continue;
    }
    try {
      validateNetworkPolicy(value);
    } catch (err) {
      problems.push(
        doc.problem(
          'GT_PACK_COMPONENT_MANIFEST',
          '/x-greentic/network',
          `is not a network policy (${(err as Error).message}); write {"egress": {"domains": ["api.example.com"], "protocols": ["https"]}, "deny_on_miss": true}`,
        ),
      );
    }
  }
  return problems;
}

/**
 * The checks a JSON schema cannot express (or upstream's schema leaves out), for the component at `base`
 * in `doc`: id and version rules, WIT world grammar (and support), relative artifact path, profile and
 * operation consistency, and secret requirement consistency. Fields already reported in `already` are skipped.
 */
export function componentSemanticProblems(
  doc: SourceDoc,
  base: string,
  format: ComponentManifestFormat | 'pack.yaml',
  opts: ComponentCheckOptions,
  already: readonly PackProblem[],
): PackProblem[] {
  const code = format === 'pack.yaml' ? 'GT_PACK_SCHEMA' : 'GT_PACK_COMPONENT_MANIFEST';
  const out: PackProblem[] = [];
  const flagged = new Set(already.map((p) => p.location?.pointer));
  const at = (...segs: (string | number)[]) => base + joinPointer(segs);
  const get = (...segs: (string | number)[]) => valueAt(doc.data, at(...segs));
  const add = (pointer: string, message: string) => {
    if (!flagged.has(pointer)) out.push(doc.problem(code, pointer, message));
  };
  if (get() === null || typeof get() !== 'object') return out;

  const id = get('id');
  if (typeof id === 'string' && id !== '' && !isValidId(id)) {
    add(at('id'), `must be an identifier: letters, digits, ".", "_", "-" (got ${JSON.stringify(id)})`);
  }
  const version = get('version');
  if (typeof version === 'string' && version !== '' && !isSemver(version)) {
    add(at('version'), `must be a semantic version like 1.2.3 (got ${JSON.stringify(version)})`);
  }
  const world = get('world');
  if (typeof world === 'string' && world !== '') {
    if (!parseWitWorld(world)) {
      add(
        at('world'),
        `must be a WIT world reference namespace:package/world[@version], like greentic:component/component@0.6.0 (got ${JSON.stringify(world)})`,
      );
    } else if (opts.requireSupportedWorld && !isSupportedWorld(world)) {
      if (!flagged.has(at('world'))) {
        out.push({
          ...doc.problem(
            'GT_PACK_UNSUPPORTED_WORLD',
            at('world'),
            `component targets WIT world ${JSON.stringify(world)}, which this host does not run; build it against one of ${SUPPORTED_WORLDS.join(', ')}${world.startsWith('root:') ? ' ("root:…" is what wasm-tools names a component without a named world)' : ''}`,
          ),
        });
      }
    }
  }
  const artifact = get('artifacts', 'component_wasm');
  if (typeof artifact === 'string' && artifact !== '') {
    const problem = packPathProblem(artifact.replace(/^(\.\/)+/, ''));
    if (problem) {
      add(
        at('artifacts', 'component_wasm'),
        `must be a relative path next to the manifest, but it ${problem} (got ${JSON.stringify(artifact)})`,
      );
    }
  }
  const profiles = get('profiles') as { default?: unknown; supported?: unknown } | undefined;
  if (
    profiles &&
    typeof profiles.default === 'string' &&
    Array.isArray(profiles.supported) &&
    !profiles.supported.includes(profiles.default)
  ) {
    add(
      at('profiles', 'default'),
      `default profile ${JSON.stringify(profiles.default)} is not in profiles.supported (${profiles.supported.join(', ')}); add it there or pick a supported one`,
    );
  }
  const ops = get('operations');
  if (Array.isArray(ops)) {
    const seen = new Set<string>();
    ops.forEach((op, i) => {
      const name = (op as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return;
      if (seen.has(name))
        add(at('operations', i, 'name'), `operation ${JSON.stringify(name)} is declared twice`);
      seen.add(name);
    });
    const def = get('default_operation');
    if (typeof def === 'string' && !seen.has(def)) {
      add(
        at('default_operation'),
        `${JSON.stringify(def)} is not one of the declared operations (${[...seen].join(', ') || 'none'})`,
      );
    }
  }
  // Secret requirements: no key twice, and the two places that declare them must agree (upstream rule).
  const host = (get('capabilities', 'host', 'secrets', 'required') ?? []) as unknown[];
  const top = (get('secret_requirements') ?? []) as unknown[];
  const keysOf = (list: unknown[], ...segs: (string | number)[]): string[] => {
    const keys: string[] = [];
    if (!Array.isArray(list)) return keys;
    list.forEach((r, i) => {
      const key = (r as { key?: unknown } | null)?.key;
      if (typeof key !== 'string') return;
      if (keys.includes(key)) add(at(...segs, i, 'key'), `secret ${JSON.stringify(key)} is declared twice`);
      keys.push(key);
    });
    return keys;
  };
  const hostKeys = keysOf(host, 'capabilities', 'host', 'secrets', 'required');
  const topKeys = keysOf(top, 'secret_requirements');
  if (hostKeys.length > 0 && topKeys.length > 0) {
    const missing = hostKeys.filter((k) => !topKeys.includes(k));
    const extra = topKeys.filter((k) => !hostKeys.includes(k));
    if (missing.length + extra.length > 0) {
      add(
        at('secret_requirements'),
        `secret_requirements and capabilities.host.secrets.required disagree (only in capabilities: ${missing.join(', ') || 'none'}; only in secret_requirements: ${extra.join(', ') || 'none'}); declare the same secrets in both, or in one of them only`,
      );
    }
  }
  return out;
}

/** The secret keys a component manifest (either shape) declares. */
export function declaredSecretKeys(manifest: unknown): string[] {
  const keys = new Set<string>();
  const m = manifest as {
    secret_requirements?: { key?: unknown }[];
    capabilities?: { host?: { secrets?: { required?: { key?: unknown }[] } } };
  } | null;
  for (const r of [...(m?.secret_requirements ?? []), ...(m?.capabilities?.host?.secrets?.required ?? [])]) {
    if (typeof r?.key === 'string') keys.add(r.key);
  }
  return [...keys];
}
