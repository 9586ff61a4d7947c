import type {
  PutOptions,
  PutResult,
  SecretListFilter,
  SecretListItem,
  SecretRecord,
  SecretsProvider,
  SecretVersionInfo,
} from './provider.js';
import { matchesFilter } from './provider.js';
import {
  formatSecretUri,
  parseSecretUri,
  type SecretUriLike,
  secretId,
  toSecretUri,
  withoutVersion,
} from './uri.js';
import { type SecretInput, type SecretValue, toSecretValue } from './value.js';

interface MemoryVersion {
  version: string;
  value: SecretValue;
  created_at: string;
}

export interface MemorySecretsProviderOptions {
  /** Initial secrets: URI → value (strings are text). */
  secrets?: Record<string, SecretInput>;
  /** Clock for `created_at` (default: `Date.now`). */
  now?: () => number;
}

/** Secrets in process memory, with versions. For tests, development and as a cache layer. */
export class MemorySecretsProvider implements SecretsProvider {
  readonly name = 'memory';
  readonly writable = true;
  readonly #data = new Map<string, MemoryVersion[]>();
  readonly #now: () => number;

  constructor(options: MemorySecretsProviderOptions = {}) {
    this.#now = options.now ?? Date.now;
    for (const [uri, value] of Object.entries(options.secrets ?? {})) this.#store(uri, value);
  }

  #store(uri: SecretUriLike, input: SecretInput, options: PutOptions = {}): PutResult {
    const u = withoutVersion(toSecretUri(uri));
    const id = formatSecretUri(u);
    const value = toSecretValue(input, options.format, id);
    const versions = this.#data.get(id) ?? [];
    const last = versions[versions.length - 1];
    const version = String(last ? Number(last.version) + 1 : 1);
    versions.push({ version, value, created_at: new Date(this.#now()).toISOString() });
    this.#data.set(id, versions);
    return { uri: `${id}@${version}`, version };
  }

  async get(uri: SecretUriLike): Promise<SecretRecord | undefined> {
    const u = toSecretUri(uri);
    const id = formatSecretUri(withoutVersion(u));
    const versions = this.#data.get(id);
    if (!versions || versions.length === 0) return undefined;
    const v =
      u.version === undefined ? versions[versions.length - 1] : versions.find((x) => x.version === u.version);
    if (!v) return undefined;
    return {
      uri: `${id}@${v.version}`,
      version: v.version,
      format: v.value.format,
      value: v.value,
      created_at: v.created_at,
      provider: this.name,
    };
  }

  async put(uri: SecretUriLike, value: SecretInput, options?: PutOptions): Promise<PutResult> {
    return this.#store(uri, value, options);
  }

  async delete(uri: SecretUriLike): Promise<boolean> {
    return this.#data.delete(secretId(uri));
  }

  async list(filter?: SecretListFilter): Promise<SecretListItem[]> {
    const out: SecretListItem[] = [];
    for (const [id, versions] of this.#data) {
      const last = versions[versions.length - 1];
      if (!last || !matchesFilter(parseSecretUri(id), filter)) continue;
      out.push({
        uri: id,
        format: last.value.format,
        latest_version: last.version,
        versions: versions.length,
        provider: this.name,
      });
    }
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async versions(uri: SecretUriLike): Promise<SecretVersionInfo[]> {
    return (this.#data.get(secretId(uri)) ?? []).map((v) => ({
      version: v.version,
      format: v.value.format,
      created_at: v.created_at,
      size: v.value.size,
    }));
  }
}
