import { createHash } from 'node:crypto';
import { SecretsError } from './errors.js';

/** Scheme prefix of runtime secret URIs. */
export const SECRET_URI_SCHEME = 'secrets://';
/** Team segment of a secret that belongs to no team: tenant-wide. */
export const TEAM_PLACEHOLDER = '_';
/** Category used for a requirement key without a `category/` part when no pack id is known (upstream default). */
export const DEFAULT_CATEGORY = 'configs';
/** Prefix of the environment variable that holds a secret (upstream `canonical_secret_store_key`). */
export const ENV_KEY_PREFIX = 'GREENTIC_SECRET';
/** Marker between a secret's name and the unit segment in a unit-scoped name (upstream runner convention). */
export const UNIT_NAME_MARKER = '.unit-';

/** The parts of a URI, in order. `env` is called `environment` in upstream's messages. */
export type SecretUriSegment = 'env' | 'tenant' | 'team' | 'category' | 'name' | 'version';

/**
 * A parsed `secrets://<env>/<tenant>/<team|_>/<category>/<name>[@version]`. `team` is absent for the tenant-wide
 * placeholder `_`. Build one with {@link parseSecretUri} or {@link secretUri}, which validate every segment.
 */
export interface SecretUri {
  readonly env: string;
  readonly tenant: string;
  readonly team?: string;
  readonly category: string;
  readonly name: string;
  readonly version?: string;
}

/** Input of {@link secretUri}: the team may be `_`, `''` or `undefined` for tenant-wide. */
export interface SecretUriInit {
  env: string;
  tenant: string;
  team?: string | undefined;
  category: string;
  name: string;
  version?: string | undefined;
}

const SEGMENT_CHARS = /^[a-z0-9._-]+$/;

/**
 * Why `value` is not a valid URI segment, or `undefined` when it is. Upstream's rule (`validate_component`): not
 * empty, only `a-z 0-9 . _ -`. Greentic-TS also rejects `.` and `..`, which name no secret and would walk out of
 * a directory in file-based providers.
 */
export function segmentProblem(value: string): string | undefined {
  if (value.length === 0) return 'must not be empty';
  if (!SEGMENT_CHARS.test(value)) {
    const bad = [...value].find((c) => !/[a-z0-9._-]/.test(c)) ?? '';
    const hint = /[A-Z]/.test(bad) ? ' (segments are lowercase)' : '';
    return `contains ${JSON.stringify(bad)}; only a-z, 0-9, ".", "_" and "-" are allowed${hint}`;
  }
  if (value === '.' || value === '..') return `must not be "${value}"`;
  return undefined;
}

function fail(segment: SecretUriSegment, value: string, problem: string, uri?: string): never {
  const where = uri === undefined ? '' : ` in ${JSON.stringify(uri)}`;
  throw new SecretsError(
    'GT_SECRETS_URI',
    `secret URI ${segment} ${JSON.stringify(value)} ${problem}${where}`,
    {
      segment,
      ...(uri === undefined ? {} : { uri }),
    },
  );
}

/** Throws `GT_SECRETS_URI` naming `segment` when `value` is not a valid segment. */
export function validateSegment(segment: SecretUriSegment, value: string, uri?: string): void {
  if (typeof value !== 'string') fail(segment, String(value), 'must be a string', uri);
  const problem = segmentProblem(value);
  if (problem !== undefined) fail(segment, value, problem, uri);
}

/** Builds a validated {@link SecretUri}; team `_`, `''` or absent means tenant-wide. */
export function secretUri(init: SecretUriInit): SecretUri {
  validateSegment('env', init.env);
  validateSegment('tenant', init.tenant);
  const team =
    init.team === undefined || init.team === '' || init.team === TEAM_PLACEHOLDER ? undefined : init.team;
  if (team !== undefined) validateSegment('team', team);
  validateSegment('category', init.category);
  validateSegment('name', init.name);
  if (init.version !== undefined) validateSegment('version', init.version);
  const uri: { -readonly [K in keyof SecretUri]: SecretUri[K] } = {
    env: init.env,
    tenant: init.tenant,
    category: init.category,
    name: init.name,
  };
  if (team !== undefined) uri.team = team;
  if (init.version !== undefined) uri.version = init.version;
  return uri;
}

/**
 * Parses `secrets://<env>/<tenant>/<team|_>/<category>/<name>[@version]` exactly as upstream `SecretUri::parse`:
 * surrounding whitespace is trimmed, there are exactly five segments, `_` as team means tenant-wide, a single `@`
 * in the last segment starts the version. Throws `SecretsError` `GT_SECRETS_URI` whose `segment` names the part
 * at fault.
 */
export function parseSecretUri(input: string): SecretUri {
  if (typeof input !== 'string') {
    throw new SecretsError('GT_SECRETS_URI', `a secret URI must be a string (got ${typeof input})`);
  }
  const raw = input.trim();
  if (!raw.startsWith(SECRET_URI_SCHEME)) {
    throw new SecretsError(
      'GT_SECRETS_URI',
      `${JSON.stringify(raw)} is not a secret URI: it must start with "${SECRET_URI_SCHEME}" ` +
        `(secrets://<env>/<tenant>/<team|_>/<category>/<name>[@version])`,
      { uri: raw },
    );
  }
  const parts = raw.slice(SECRET_URI_SCHEME.length).split('/');
  const names: SecretUriSegment[] = ['env', 'tenant', 'team', 'category', 'name'];
  if (parts.length < 5) {
    const missing = names[parts.length]!;
    throw new SecretsError(
      'GT_SECRETS_URI',
      `secret URI ${JSON.stringify(raw)} has no ${missing} segment: expected ` +
        'secrets://<env>/<tenant>/<team|_>/<category>/<name>[@version] (use "_" as team for a tenant-wide secret)',
      { uri: raw, segment: missing },
    );
  }
  if (parts.length > 5) {
    throw new SecretsError(
      'GT_SECRETS_URI',
      `secret URI ${JSON.stringify(raw)} has ${parts.length} segments, expected exactly 5 ` +
        '(secrets://<env>/<tenant>/<team|_>/<category>/<name>[@version])',
      { uri: raw, segment: 'name' },
    );
  }
  const [env, tenant, team, category, last] = parts as [string, string, string, string, string];
  const at = last.split('@');
  if (at.length > 2) fail('version', last, 'contains more than one "@"', raw);
  const name = at[0]!;
  const version = at[1];
  validateSegment('env', env, raw);
  validateSegment('tenant', tenant, raw);
  if (team !== TEAM_PLACEHOLDER) validateSegment('team', team, raw);
  validateSegment('category', category, raw);
  validateSegment('name', name, raw);
  if (version !== undefined) validateSegment('version', version, raw);
  return secretUri({ env, tenant, team, category, name, version });
}

/** True when `input` parses as a secret URI. */
export function isSecretUri(input: unknown): input is string {
  if (typeof input !== 'string') return false;
  try {
    parseSecretUri(input);
    return true;
  } catch {
    return false;
  }
}

/** The canonical string of a URI: `secrets://env/tenant/team-or-_/category/name[@version]`. */
export function formatSecretUri(uri: SecretUri): string {
  const base = `${SECRET_URI_SCHEME}${uri.env}/${uri.tenant}/${uri.team ?? TEAM_PLACEHOLDER}/${uri.category}/${uri.name}`;
  return uri.version === undefined ? base : `${base}@${uri.version}`;
}

/** A URI string or a parsed one, as accepted by providers. */
export type SecretUriLike = string | SecretUri;

/** Parses a string, or checks an already-parsed URI. */
export function toSecretUri(uri: SecretUriLike): SecretUri {
  return typeof uri === 'string' ? parseSecretUri(uri) : secretUri(uri);
}

/** The URI without its version. */
export function withoutVersion(uri: SecretUri): SecretUri {
  if (uri.version === undefined) return uri;
  const { version: _drop, ...rest } = uri;
  return rest;
}

/** The canonical string of `uri` without its version: the identity of a secret across versions. */
export function secretId(uri: SecretUriLike): string {
  return formatSecretUri(withoutVersion(toSecretUri(uri)));
}

/**
 * The environment variable that holds a secret (upstream `canonical_secret_store_key`):
 * `GREENTIC_SECRET__<ENV>__<TENANT>__<TEAM|_>__<CATEGORY>__<NAME>`, each segment uppercased and every other
 * character than A-Z and 0-9 mapped to `_`. The version is ignored. The mapping is many-to-one (`a-b`, `a.b`
 * and `a_b` share a key), as upstream's.
 */
export function envKeyForUri(uri: SecretUriLike): string {
  const u = toSecretUri(uri);
  const norm = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return [ENV_KEY_PREFIX, u.env, u.tenant, u.team ?? TEAM_PLACEHOLDER, u.category, u.name]
    .map(norm)
    .join('__');
}

/**
 * Best-effort inverse of {@link envKeyForUri}: the lowercase URI an environment variable name stands for, or
 * `undefined` when the name is not a `GREENTIC_SECRET__…` key with five segments. Lossy: `-` and `.` in the
 * original URI come back as `_`.
 */
export function uriFromEnvKey(key: string): SecretUri | undefined {
  const prefix = `${ENV_KEY_PREFIX}__`;
  if (!key.startsWith(prefix)) return undefined;
  const parts = key.slice(prefix.length).split('__');
  // The tenant-wide team `_` renders as five underscores: `TENANT_____CATEGORY` splits into "", "_CATEGORY".
  if (parts.length === 5 && parts[2] === '' && parts[3]!.startsWith('_')) {
    parts.splice(2, 2, TEAM_PLACEHOLDER, parts[3]!.slice(1));
  }
  for (let i = 0; i < parts.length; i++) parts[i] = parts[i]!.toLowerCase();
  if (parts.length !== 5) return undefined;
  try {
    return secretUri({
      env: parts[0]!,
      tenant: parts[1]!,
      team: parts[2]!,
      category: parts[3]!,
      name: parts[4]!,
    });
  } catch {
    return undefined;
  }
}

/**
 * Canonical secret name (upstream `canonical_secret_name`): lowercase ASCII, `[a-z0-9_]` kept, `-`, `.`, `/` and
 * space mapped to `_`, other characters dropped, runs of `_` collapsed, leading/trailing `_` trimmed; `secret`
 * when nothing is left.
 */
export function canonicalSecretName(raw: string): string {
  let out = '';
  for (const ch of raw) {
    let c: string | undefined;
    if (/[A-Z]/.test(ch)) c = ch.toLowerCase();
    else if (/[a-z0-9_]/.test(ch)) c = ch;
    else if (ch === '-' || ch === '.' || ch === ' ' || ch === '/') c = '_';
    if (c === undefined) continue;
    if (c === '_' && out.endsWith('_')) continue;
    out += c;
  }
  const trimmed = out.replace(/^_+|_+$/g, '');
  return trimmed === '' ? 'secret' : trimmed;
}

/** True for the team values upstream treats as "no team": absent, blank, `_`, `default` (any case). */
export function isDefaultTeam(team: string | undefined | null): boolean {
  if (team === undefined || team === null) return true;
  const t = team.trim();
  return t === '' || t === TEAM_PLACEHOLDER || t.toLowerCase() === 'default';
}

/** Upstream `normalize_team`: `undefined` for a default team, otherwise the trimmed team. */
export function normalizeTeam(team: string | undefined | null): string | undefined {
  return isDefaultTeam(team) ? undefined : team!.trim();
}

/**
 * The unit segment of a deployed unit's id (upstream runner `unit_segment`): a slug of the trimmed id (ASCII
 * alphanumerics lowercased, every other character `-`, runs collapsed, trimmed, cut to 40 characters) followed by
 * `-` and the first 6 bytes of the id's SHA-256 as hex. `undefined` for a blank id.
 */
export function unitSegment(unitId: string): string | undefined {
  const raw = unitId.trim();
  if (raw === '') return undefined;
  let slug = '';
  for (const ch of raw) {
    const c = /^[A-Za-z0-9]$/.test(ch) ? ch.toLowerCase() : '-';
    if (c === '-' && (slug === '' || slug.endsWith('-'))) continue;
    slug += c;
  }
  slug = slug.slice(0, 40).replace(/-+$/, '');
  const hash = createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, 12);
  return slug === '' ? hash : `${slug}-${hash}`;
}

/** The name a unit-scoped secret is stored under: `<name>.unit-<unitSegment(unit)>`. */
export function unitSecretName(name: string, unitId: string): string | undefined {
  const seg = unitSegment(unitId);
  return seg === undefined ? undefined : `${name}${UNIT_NAME_MARKER}${seg}`;
}

/** A requirement key split into the category and name of its URI. */
export interface SecretKeyParts {
  category: string;
  name: string;
}

/** Upstream `SecretKey` rule: `[A-Za-z0-9._/-]`, not starting with `/`, no `..` path segment. */
const SECRET_KEY = /^[A-Za-z0-9._/-]+$/;

/** Why `key` is not a valid requirement key (upstream `SecretKey::parse`), or `undefined`. */
export function secretKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'a secret key must be a non-empty string';
  if (key.startsWith('/')) return `secret key ${JSON.stringify(key)} must not start with "/"`;
  if (!SECRET_KEY.test(key)) {
    return `secret key ${JSON.stringify(key)} may only contain A-Z, a-z, 0-9, ".", "_", "-" and "/"`;
  }
  if (key.split('/').includes('..'))
    return `secret key ${JSON.stringify(key)} must not contain a ".." segment`;
  return undefined;
}

/**
 * Where a requirement key lives (upstream `normalize_req_key`): the key is lowercased; `category/name` names both,
 * a bare `name` goes under `defaultCategory` (the pack id when scaffolding from a pack, else `configs`). Throws
 * `GT_SECRETS_URI` when the result is not a valid category and name (for example `a/b/c`).
 */
export function splitSecretKey(key: string, defaultCategory: string = DEFAULT_CATEGORY): SecretKeyParts {
  const problem = secretKeyProblem(key);
  if (problem !== undefined)
    throw new SecretsError('GT_SECRETS_URI', problem, { uri: String(key), segment: 'name' });
  const lower = key.toLowerCase();
  const parts = lower.split('/');
  if (parts.length > 2) {
    throw new SecretsError(
      'GT_SECRETS_URI',
      `secret key ${JSON.stringify(key)} has ${parts.length} parts; a key is "name" or "category/name"`,
      { uri: key, segment: 'name' },
    );
  }
  const category = parts.length === 2 ? parts[0]! : defaultCategory;
  const name = parts[parts.length - 1]!;
  validateSegment('category', category);
  validateSegment('name', name);
  return { category, name };
}

/** The scope part of a URI. */
export interface SecretScope {
  env: string;
  tenant: string;
  team?: string | undefined;
}

/** The URI a requirement key resolves to in a scope: `secrets://env/tenant/team|_/<category>/<name>`. */
export function secretUriForKey(scope: SecretScope, key: string, defaultCategory?: string): SecretUri {
  const { category, name } = splitSecretKey(key, defaultCategory);
  return secretUri({ env: scope.env, tenant: scope.tenant, team: scope.team, category, name });
}
