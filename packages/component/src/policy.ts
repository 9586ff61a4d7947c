import type { ScopedSecretKey, ScopedStateKey } from '@greentic/interfaces';
import { type NetworkPolicy, scopeOf, type TenantCtx } from '@greentic/types';

/** Upstream SecretKey rule: `[a-zA-Z0-9._/-]`, no leading `/`, no `..`. */
const SECRET_KEY = /^(?!\/)(?!.*\.\.)[A-Za-z0-9._\-/]+$/;

/** A segment of a `secrets://` URI (upstream `greentic-secrets-spec`): `[a-z0-9._-]+`, not `.` or `..`. */
export function isSecretUriSegment(s: string): boolean {
  return /^[a-z0-9._-]+$/.test(s) && s !== '.' && s !== '..';
}

/** Upstream's category for a bare key when no pack id is known (`@greentic/secrets` `DEFAULT_CATEGORY`). */
export const DEFAULT_SECRET_CATEGORY = 'configs';

/** The category of a component's bare secret keys: its id when that is a valid URI segment, else `configs`. */
export function defaultSecretCategory(componentId: string): string {
  return isSecretUriSegment(componentId) ? componentId : DEFAULT_SECRET_CATEGORY;
}

/**
 * A key a component may ask for: upstream's SecretKey rule (1-256 characters of `[A-Za-z0-9._/-]`, no leading `/`,
 * no `..`) and, lowercased, `name` or `category/name` with valid URI segments, so that it names exactly one secret
 * URI (`a/b/c` does not).
 */
export function isValidSecretKey(key: string): boolean {
  if (key.length === 0 || key.length > 256 || !SECRET_KEY.test(key)) return false;
  const parts = key.toLowerCase().split('/');
  return parts.length <= 2 && parts.every(isSecretUriSegment);
}

/** A state key a component may name: 1-512 characters, no control characters. */
export function stateKeyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'a state key must be a non-empty string';
  if (key.length > 512) return `state key is ${key.length} characters long (at most 512)`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'a state key must not contain control characters';
  return undefined;
}

/** `{env}.{tenant}[.{team}[.{user}]]`: the tenant part of every qualified key (upstream state key format). */
export function scopePrefix(ctx: TenantCtx): string {
  const s = scopeOf(ctx);
  let p = `${s.env}.${s.tenant}`;
  if (s.team !== undefined) p += `.${s.team}`;
  if (s.user !== undefined) p += `${s.team === undefined ? '._' : ''}.${s.user}`;
  return p;
}

/** The component's namespace and the qualified key the host stores under; the component supplies only `key`. */
export function scopedStateKey(ctx: TenantCtx, component: string, key: string): ScopedStateKey {
  const namespace = `component/${component}`;
  return { namespace, key, qualified: `${scopePrefix(ctx)}:${namespace}:${key}` };
}

/**
 * A secret key after the allow-list: `key` is the relative key the component asked for, canonical (lowercased), as
 * the manifest and `@greentic/secrets` name it (`openai/api_key`, `kv_api_token`); `uri` is the 5-segment
 * `secrets://{env}/{tenant}/{team or _}/{category}/{name}` it resolves to in the caller's scope. A `category/name`
 * key names both; a bare `name` goes under `defaultCategory` — the same rule as `@greentic/secrets`'
 * `secretUriForKey(scope, key, packId)`, with the pack (or component) id as the category. The key must pass
 * {@link isValidSecretKey}.
 */
export function scopedSecretKey(
  ctx: TenantCtx,
  key: string,
  defaultCategory: string = DEFAULT_SECRET_CATEGORY,
): ScopedSecretKey {
  const s = scopeOf(ctx);
  const canonical = key.toLowerCase();
  const parts = canonical.split('/');
  const [category, name] = parts.length === 2 ? parts : [defaultCategory, canonical];
  return { key: canonical, uri: `secrets://${s.env}/${s.tenant}/${s.team ?? '_'}/${category}/${name}` };
}

function domainMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  if (p === '*') return true;
  if (p.startsWith('*.')) return host.endsWith(p.slice(1));
  return host === p || host.endsWith(`.${p}`);
}

/** The destination of an http(s) URL as policies see it: `host:port` (lowercase host, default port filled in). */
export function egressTarget(url: URL): string {
  const protocol = url.protocol.replace(/:$/, '');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port !== '' ? Number(url.port) : protocol === 'https' ? 443 : 80;
  return `${host}:${port}`;
}

/**
 * Whether a network policy lets a component reach `url`. No policy denies everything. A destination is covered
 * when its host matches a domain (exact, a parent domain, or `*.parent` for subdomains only) and its port and
 * protocol are listed (an empty ports/protocols list allows any). An uncovered destination is denied when
 * `deny_on_miss` is set, allowed otherwise (upstream semantics); an empty domain list covers nothing.
 */
export function egressDecision(
  policy: NetworkPolicy | undefined,
  url: URL,
): { allowed: boolean; reason: string } {
  const protocol = url.protocol.replace(/:$/, '');
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port !== '' ? Number(url.port) : protocol === 'https' ? 443 : 80;
  const target = `${host}:${port}`;
  if (!policy)
    return { allowed: false, reason: `no network policy is set for the component, so "${target}" is denied` };
  const { domains = [], ports = [], protocols = [] } = policy.egress;
  const covered =
    domains.some((d) => domainMatches(d, host)) &&
    (ports.length === 0 || ports.includes(port)) &&
    (protocols.length === 0 || protocols.some((p) => p === protocol));
  if (covered) return { allowed: true, reason: `"${target}" is in the allow list` };
  if (!policy.deny_on_miss)
    return { allowed: true, reason: `"${target}" is not listed and deny_on_miss is false` };
  return {
    allowed: false,
    reason: `outbound HTTP to "${target}" is not allowed by the component's network policy`,
  };
}
