import { SecretsError } from './errors.js';
import type { SecretsProvider } from './provider.js';
import { candidateUris } from './resolver.js';
import {
  DEFAULT_CATEGORY,
  formatSecretUri,
  type SecretScope,
  secretKeyProblem,
  segmentProblem,
  splitSecretKey,
} from './uri.js';
import { isSecretFormat, type SecretFormat } from './value.js';

/** A secret requirement as upstream writes it (greentic-types `SecretRequirement`, component manifest schema). */
export interface SecretRequirement {
  key: string;
  /** Default true (upstream's default). */
  required?: boolean;
  description?: string;
  /** The scope the author expected; advisory here (the runtime uses the caller's scope). */
  scope?: { env: string; tenant: string; team?: string };
  /** Default `text`. */
  format?: SecretFormat;
  /** JSON Schema of a `json` value. */
  schema?: Record<string, unknown>;
  examples?: string[];
}

/** One secret a pack needs, merged over every component that declares it. */
export interface PackSecretRequirement {
  /** The key as first declared. */
  key: string;
  /** Where it lives: category (the pack id for a bare key) and name. */
  category: string;
  name: string;
  required: boolean;
  format: SecretFormat;
  description?: string;
  scope?: { env: string; tenant: string; team?: string };
  schema?: Record<string, unknown>;
  examples?: string[];
  /** Ids of the components that declare it (`(pack)` for a pack-level requirement). */
  components: string[];
}

export interface PackSecrets {
  pack_id?: string;
  /** The category of bare keys. */
  category: string;
  requirements: PackSecretRequirement[];
  /** Conflicts found while merging (a key declared with two formats). */
  warnings: string[];
}

export interface PackSecretsOptions {
  /** Category of bare keys (default: the pack id, lowercased, else `configs`). */
  category?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(pointer: string, message: string): never {
  throw new SecretsError('GT_SECRETS_INVALID', `pack manifest ${pointer}: ${message}`);
}

function readRequirement(raw: unknown, pointer: string): SecretRequirement {
  if (typeof raw === 'string') {
    const p = secretKeyProblem(raw);
    if (p) invalid(pointer, p);
    return { key: raw };
  }
  if (!isObject(raw))
    invalid(pointer, 'a secret requirement must be an object {key, required, scope, format} or a key string');
  const p = secretKeyProblem(raw.key);
  if (p) invalid(`${pointer}/key`, p);
  const req: SecretRequirement = { key: raw.key as string };
  if (raw.required !== undefined) {
    if (typeof raw.required !== 'boolean') invalid(`${pointer}/required`, 'must be true or false');
    req.required = raw.required;
  }
  if (raw.format !== undefined) {
    if (!isSecretFormat(raw.format))
      invalid(`${pointer}/format`, `must be "text", "json" or "bytes" (got ${JSON.stringify(raw.format)})`);
    req.format = raw.format;
  }
  if (raw.description !== undefined) {
    if (typeof raw.description !== 'string') invalid(`${pointer}/description`, 'must be a string');
    req.description = raw.description;
  }
  if (raw.scope !== undefined) {
    const s = raw.scope;
    if (
      !isObject(s) ||
      typeof s.env !== 'string' ||
      typeof s.tenant !== 'string' ||
      (s.team !== undefined && typeof s.team !== 'string')
    ) {
      invalid(`${pointer}/scope`, 'must be {env, tenant, team?} strings');
    }
    req.scope = {
      env: s.env as string,
      tenant: s.tenant as string,
      ...(typeof s.team === 'string' ? { team: s.team } : {}),
    };
  }
  if (raw.schema !== undefined) {
    if (!isObject(raw.schema)) invalid(`${pointer}/schema`, 'must be a JSON Schema object');
    req.schema = raw.schema;
  }
  if (raw.examples !== undefined) {
    if (!Array.isArray(raw.examples) || raw.examples.some((e) => typeof e !== 'string'))
      invalid(`${pointer}/examples`, 'must be an array of strings');
    req.examples = raw.examples as string[];
  }
  return req;
}

function readList(raw: unknown, pointer: string): SecretRequirement[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) invalid(pointer, 'must be an array');
  return raw.map((r, i) => readRequirement(r, `${pointer}/${i}`));
}

/** The requirements one component manifest declares: `secret_requirements` and `capabilities.host.secrets.required`. */
export function componentSecretRequirements(manifest: unknown, pointer = ''): SecretRequirement[] {
  if (!isObject(manifest)) invalid(pointer || '(root)', 'a component manifest must be an object');
  const host =
    isObject(manifest.capabilities) && isObject(manifest.capabilities.host)
      ? manifest.capabilities.host
      : undefined;
  const hostSecrets = host && isObject(host.secrets) ? host.secrets.required : undefined;
  return [
    ...readList(manifest.secret_requirements, `${pointer}/secret_requirements`),
    ...readList(hostSecrets, `${pointer}/capabilities/host/secrets/required`),
  ];
}

/**
 * The secrets a pack needs, from plain JSON. Accepted shapes:
 * - a pack: `{pack_id | id, components: [{id, manifest: {secret_requirements, capabilities: {host: {secrets:
 *   {required}}}}}], secret_requirements?, capabilities?: {secrets: {required}}}` (a component entry may also carry
 *   `secret_requirements`/`capabilities` itself, as in pack.yaml);
 * - upstream's metadata `{pack_id, secret_requirements}`;
 * - one component manifest `{id, secret_requirements, capabilities}`.
 *
 * Requirements with the same `category/name` are merged: required if any says so, the first format and
 * description win (a format conflict is reported in `warnings`). Throws `GT_SECRETS_INVALID` naming the JSON
 * pointer of a malformed entry.
 */
export function packSecretRequirements(pack: unknown, options: PackSecretsOptions = {}): PackSecrets {
  if (!isObject(pack)) invalid('(root)', 'must be a pack manifest object');
  const isPack = Array.isArray(pack.components) || typeof pack.pack_id === 'string';
  const rawId =
    typeof pack.pack_id === 'string'
      ? pack.pack_id
      : isPack && typeof pack.id === 'string'
        ? pack.id
        : undefined;
  const category = (options.category ?? rawId ?? DEFAULT_CATEGORY).toLowerCase();
  const problem = segmentProblem(category);
  if (problem) {
    invalid(
      options.category !== undefined ? '(category)' : '/pack_id',
      `cannot be a secret category: ${problem}; pass a category explicitly`,
    );
  }

  const sources: { component: string; reqs: SecretRequirement[] }[] = [];
  if (isPack) {
    const caps =
      isObject(pack.capabilities) && isObject(pack.capabilities.secrets)
        ? pack.capabilities.secrets.required
        : undefined;
    sources.push({
      component: '(pack)',
      reqs: [
        ...readList(pack.secret_requirements, '/secret_requirements'),
        ...readList(caps, '/capabilities/secrets/required'),
      ],
    });
    const components = pack.components ?? [];
    if (!Array.isArray(components)) invalid('/components', 'must be an array');
    components.forEach((c, i) => {
      if (!isObject(c)) invalid(`/components/${i}`, 'must be an object {id, manifest}');
      const id =
        typeof c.id === 'string'
          ? c.id
          : isObject(c.manifest) && typeof c.manifest.id === 'string'
            ? c.manifest.id
            : `#${i}`;
      const reqs = componentSecretRequirements(c, `/components/${i}`);
      if (c.manifest !== undefined)
        reqs.push(...componentSecretRequirements(c.manifest, `/components/${i}/manifest`));
      sources.push({ component: id, reqs });
    });
  } else {
    sources.push({
      component: typeof pack.id === 'string' ? pack.id : '(component)',
      reqs: componentSecretRequirements(pack),
    });
  }

  const merged = new Map<string, PackSecretRequirement>();
  const warnings: string[] = [];
  for (const { component, reqs } of sources) {
    for (const r of reqs) {
      const { category: cat, name } = splitSecretKey(r.key, category);
      const id = `${cat}/${name}`;
      const format = r.format ?? 'text';
      const prev = merged.get(id);
      if (!prev) {
        const entry: PackSecretRequirement = {
          key: r.key,
          category: cat,
          name,
          required: r.required ?? true,
          format,
          components: [component],
        };
        if (r.description !== undefined) entry.description = r.description;
        if (r.scope !== undefined) entry.scope = r.scope;
        if (r.schema !== undefined) entry.schema = r.schema;
        if (r.examples !== undefined) entry.examples = r.examples;
        merged.set(id, entry);
        continue;
      }
      prev.required ||= r.required ?? true;
      if (!prev.components.includes(component)) prev.components.push(component);
      if (r.format !== undefined && r.format !== prev.format) {
        warnings.push(
          `${id}: ${component} declares format ${r.format} but ${prev.components[0]} declared ${prev.format}; using ${prev.format}`,
        );
      }
      if (prev.description === undefined && r.description !== undefined) prev.description = r.description;
      if (prev.scope === undefined && r.scope !== undefined) prev.scope = r.scope;
      if (prev.schema === undefined && r.schema !== undefined) prev.schema = r.schema;
      if (prev.examples === undefined && r.examples !== undefined) prev.examples = r.examples;
    }
  }
  // A pack manifest repeats its components' requirements at pack level: name the components only.
  for (const r of merged.values()) {
    if (r.components.length > 1) r.components = r.components.filter((c) => c !== '(pack)');
  }
  const out: PackSecrets = {
    category,
    requirements: [...merged.values()].sort((a, b) =>
      `${a.category}/${a.name}`.localeCompare(`${b.category}/${b.name}`),
    ),
    warnings,
  };
  if (rawId !== undefined) out.pack_id = rawId;
  return out;
}

/** The keys to pass as `packDeclares` to `scopedSecrets` (`category/name`). */
export function declaredKeys(secrets: PackSecrets): string[] {
  return secrets.requirements.map((r) => `${r.category}/${r.name}`);
}

/** Whether one requirement has a value in a scope. */
export interface RequirementStatus {
  key: string;
  category: string;
  name: string;
  required: boolean;
  format: SecretFormat;
  /** `present`, `missing` (required) or `optional` (not required and absent). */
  status: 'present' | 'missing' | 'optional';
  /** The URI that has a value (unit, team or tenant-wide), when present. */
  found_at?: string;
  provider?: string;
  /** Every URI checked, most specific first. */
  checked: string[];
}

export interface SecretsDoctorReport {
  scope: { env: string; tenant: string; team?: string };
  ok: boolean;
  missing: number;
  requirements: RequirementStatus[];
}

/**
 * What a tenant (scope) still lacks: every requirement is looked up with the runtime's fallback (unit → team →
 * tenant-wide) through `versions()`, so no value is decrypted and no master key is needed.
 */
export async function secretsDoctor(
  providers: SecretsProvider | readonly SecretsProvider[],
  secrets: PackSecrets,
  scope: SecretScope & { unit?: string },
): Promise<SecretsDoctorReport> {
  const list = Array.isArray(providers) ? (providers as SecretsProvider[]) : [providers as SecretsProvider];
  const statuses: RequirementStatus[] = [];
  for (const r of secrets.requirements) {
    const candidates = candidateUris({ ...scope, category: r.category, name: r.name });
    const checked = candidates.map(formatSecretUri);
    let found: { uri: string; provider: string } | undefined;
    outer: for (const u of candidates) {
      for (const p of list) {
        if ((await p.versions(u)).length > 0) {
          found = { uri: formatSecretUri(u), provider: p.name };
          break outer;
        }
      }
    }
    const s: RequirementStatus = {
      key: r.key,
      category: r.category,
      name: r.name,
      required: r.required,
      format: r.format,
      status: found ? 'present' : r.required ? 'missing' : 'optional',
      checked,
    };
    if (found) {
      s.found_at = found.uri;
      s.provider = found.provider;
    }
    statuses.push(s);
  }
  const missing = statuses.filter((s) => s.status === 'missing').length;
  const team = scope.team === undefined || scope.team === '_' ? undefined : scope.team;
  return {
    scope:
      team === undefined
        ? { env: scope.env, tenant: scope.tenant }
        : { env: scope.env, tenant: scope.tenant, team },
    ok: missing === 0,
    missing,
    requirements: statuses,
  };
}
