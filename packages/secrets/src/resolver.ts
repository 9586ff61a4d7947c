import { SecretsError } from './errors.js';
import type {
  PutOptions,
  PutResult,
  SecretListFilter,
  SecretListItem,
  SecretRecord,
  SecretsProvider,
  SecretVersionInfo,
} from './provider.js';
import {
  formatSecretUri,
  normalizeTeam,
  type SecretScope,
  type SecretUri,
  type SecretUriLike,
  secretUri,
  toSecretUri,
  unitSecretName,
} from './uri.js';
import type { SecretInput } from './value.js';

/** A secret asked for by scope and key rather than by exact URI. */
export interface SecretLookup extends SecretScope {
  category: string;
  name: string;
  version?: string | undefined;
  /** The deployed unit (a revision's bundle id): its unit-scoped value is tried first. */
  unit?: string | undefined;
}

/** The outcome of {@link SecretsResolver.resolve}. */
export interface SecretResolution {
  /** The record found, or `undefined`. */
  record: SecretRecord | undefined;
  /** Every URI tried, in order. */
  tried: string[];
}

/**
 * The URIs a lookup tries, most specific first (upstream runner order): the unit-scoped name
 * (`<name>.unit-<segment>` in the caller's team, or `_`), the caller's team, then the tenant-wide `_`. A team of
 * `_`, `default` or blank is tenant-wide, so it is tried once.
 */
export function candidateUris(lookup: SecretLookup): SecretUri[] {
  const team = normalizeTeam(lookup.team);
  const base = { env: lookup.env, tenant: lookup.tenant, category: lookup.category, version: lookup.version };
  const out: SecretUri[] = [];
  if (lookup.unit !== undefined) {
    const unitName = unitSecretName(lookup.name, lookup.unit);
    if (unitName !== undefined) out.push(secretUri({ ...base, team, name: unitName }));
  }
  if (team !== undefined) out.push(secretUri({ ...base, team, name: lookup.name }));
  out.push(secretUri({ ...base, team: undefined, name: lookup.name }));
  return out;
}

export interface SecretsResolverOptions {
  /** Name of the provider `put`/`delete` go to (default: the first writable one). */
  writeTo?: string;
}

/**
 * A chain of providers read in order: the first that has a URI answers. `resolve` adds upstream's scope fallback
 * (unit → team → tenant-wide): each candidate URI is asked of every provider before the next, less specific, URI,
 * so a team-specific value anywhere beats a tenant-wide one. Writes go to one writable provider. It is itself a
 * {@link SecretsProvider}, so chains nest.
 */
export class SecretsResolver implements SecretsProvider {
  readonly name = 'chain';
  readonly providers: readonly SecretsProvider[];
  readonly #writeTo: string | undefined;

  constructor(providers: SecretsProvider[], options: SecretsResolverOptions = {}) {
    if (!Array.isArray(providers) || providers.length === 0) {
      throw new SecretsError('GT_SECRETS_INVALID', 'a secrets resolver needs at least one provider');
    }
    this.providers = [...providers];
    this.#writeTo = options.writeTo;
    if (this.#writeTo !== undefined && !this.providers.some((p) => p.name === this.#writeTo)) {
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        `writeTo names no provider of the chain: ${JSON.stringify(this.#writeTo)} (have ${this.providers.map((p) => p.name).join(', ')})`,
      );
    }
  }

  get writable(): boolean {
    return this.providers.some((p) => p.writable);
  }

  #writer(uri: SecretUri, op: 'put' | 'delete'): SecretsProvider {
    const p =
      this.#writeTo !== undefined
        ? this.providers.find((x) => x.name === this.#writeTo)
        : this.providers.find((x) => x.writable);
    if (!p?.writable) {
      throw new SecretsError(
        'GT_SECRETS_READ_ONLY',
        `cannot ${op} ${formatSecretUri(uri)}: no provider of the chain (${this.providers.map((x) => x.name).join(', ')}) is writable`,
        { uri: formatSecretUri(uri) },
      );
    }
    return p;
  }

  /** The exact URI from the first provider that has it. */
  async get(uri: SecretUriLike): Promise<SecretRecord | undefined> {
    const u = toSecretUri(uri);
    for (const p of this.providers) {
      const r = await p.get(u);
      if (r) return r;
    }
    return undefined;
  }

  /** Scope fallback: the first of {@link candidateUris} that any provider has. */
  async resolve(lookup: SecretLookup): Promise<SecretResolution> {
    const tried: string[] = [];
    for (const uri of candidateUris(lookup)) {
      tried.push(formatSecretUri(uri));
      const record = await this.get(uri);
      if (record) return { record, tried };
    }
    return { record: undefined, tried };
  }

  async put(uri: SecretUriLike, value: SecretInput, options?: PutOptions): Promise<PutResult> {
    const u = toSecretUri(uri);
    return this.#writer(u, 'put').put(u, value, options);
  }

  async delete(uri: SecretUriLike): Promise<boolean> {
    const u = toSecretUri(uri);
    return this.#writer(u, 'delete').delete(u);
  }

  /** Every provider's secrets; a URI several providers have is listed once, from the first. */
  async list(filter?: SecretListFilter): Promise<SecretListItem[]> {
    const seen = new Map<string, SecretListItem>();
    for (const p of this.providers) {
      for (const item of await p.list(filter)) if (!seen.has(item.uri)) seen.set(item.uri, item);
    }
    return [...seen.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  /** The versions held by the first provider that has the secret. */
  async versions(uri: SecretUriLike): Promise<SecretVersionInfo[]> {
    const u = toSecretUri(uri);
    for (const p of this.providers) {
      const v = await p.versions(u);
      if (v.length > 0) return v;
    }
    return [];
  }

  async close(): Promise<void> {
    for (const p of this.providers) await p.close?.();
  }
}
