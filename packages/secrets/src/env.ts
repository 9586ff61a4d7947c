import type {
  PutOptions,
  PutResult,
  SecretListFilter,
  SecretListItem,
  SecretRecord,
  SecretsProvider,
  SecretVersionInfo,
} from './provider.js';
import { matchesFilter, readOnly } from './provider.js';
import {
  ENV_KEY_PREFIX,
  envKeyForUri,
  formatSecretUri,
  type SecretUriLike,
  toSecretUri,
  uriFromEnvKey,
  withoutVersion,
} from './uri.js';
import { type SecretFormat, type SecretInput, SecretValue } from './value.js';

export interface EnvSecretsProviderOptions {
  /** The variables to read (default: `process.env`, read at each call). */
  env?: Record<string, string | undefined>;
  /** Format of every value (default `text`). */
  format?: SecretFormat;
}

/** The one version an environment variable has. */
export const ENV_VERSION = '1';

/**
 * Read-only secrets from environment variables named as upstream does:
 * `secrets://dev/acme/_/openai/api_key` is `GREENTIC_SECRET__DEV__ACME_____OPENAI__API_KEY` (see
 * {@link envKeyForUri}). A variable has one version, `1`. An empty variable counts as unset.
 *
 * `list` inverts the names it finds (best effort: the mapping is many-to-one, so `-` and `.` come back as `_`).
 */
export class EnvSecretsProvider implements SecretsProvider {
  readonly name = 'env';
  readonly writable = false;
  readonly #env: Record<string, string | undefined> | undefined;
  readonly #format: SecretFormat;

  constructor(options: EnvSecretsProviderOptions = {}) {
    this.#env = options.env;
    this.#format = options.format ?? 'text';
  }

  get #vars(): Record<string, string | undefined> {
    return this.#env ?? process.env;
  }

  async get(uri: SecretUriLike): Promise<SecretRecord | undefined> {
    const u = toSecretUri(uri);
    if (u.version !== undefined && u.version !== ENV_VERSION) return undefined;
    const key = envKeyForUri(u);
    const raw = this.#vars[key];
    if (raw === undefined || raw === '') return undefined;
    const id = formatSecretUri(withoutVersion(u));
    const value = SecretValue.parse(raw, this.#format, `environment variable ${key} (${id})`);
    return {
      uri: `${id}@${ENV_VERSION}`,
      version: ENV_VERSION,
      format: value.format,
      value,
      provider: this.name,
    };
  }

  async put(uri: SecretUriLike, _value?: SecretInput, _options?: PutOptions): Promise<PutResult> {
    return readOnly(this.name, 'put', toSecretUri(uri));
  }

  async delete(uri: SecretUriLike): Promise<boolean> {
    return readOnly(this.name, 'delete', toSecretUri(uri));
  }

  async list(filter?: SecretListFilter): Promise<SecretListItem[]> {
    const seen = new Map<string, SecretListItem>();
    for (const [key, raw] of Object.entries(this.#vars)) {
      if (!key.startsWith(`${ENV_KEY_PREFIX}__`) || raw === undefined || raw === '') continue;
      const u = uriFromEnvKey(key);
      if (!u || !matchesFilter(u, filter)) continue;
      const id = formatSecretUri(u);
      seen.set(id, {
        uri: id,
        format: this.#format,
        latest_version: ENV_VERSION,
        versions: 1,
        provider: this.name,
      });
    }
    return [...seen.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async versions(uri: SecretUriLike): Promise<SecretVersionInfo[]> {
    const raw = this.#vars[envKeyForUri(uri)];
    if (raw === undefined || raw === '') return [];
    return [{ version: ENV_VERSION, format: this.#format }];
  }
}
