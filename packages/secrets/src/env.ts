import type { SecretListFilter, SecretListItem, SecretRecord, SecretVersionInfo } from './provider.js';
import { matchesFilter } from './provider.js';
import { ReadOnlySecretsProvider } from './read-only.js';
import {
  ENV_KEY_PREFIX,
  envKeyForUri,
  formatSecretUri,
  type SecretUriLike,
  toSecretUri,
  uriFromEnvKey,
  withoutVersion,
} from './uri.js';
import { type SecretFormat, SecretValue } from './value.js';

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
export class EnvSecretsProvider extends ReadOnlySecretsProvider {
  readonly name = 'env';
  readonly #env: Record<string, string | undefined> | undefined;
  readonly #format: SecretFormat;

  constructor(options: EnvSecretsProviderOptions = {}) {
    super();
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
    return this.record(id, ENV_VERSION, value);
  }

  async list(filter?: SecretListFilter): Promise<SecretListItem[]> {
    const seen = new Set<string>();
    for (const [key, raw] of Object.entries(this.#vars)) {
      if (!key.startsWith(`${ENV_KEY_PREFIX}__`) || raw === undefined || raw === '') continue;
      const u = uriFromEnvKey(key);
      if (!u || !matchesFilter(u, filter)) continue;
      seen.add(formatSecretUri(u));
    }
    return this.listing(seen, this.#format, ENV_VERSION);
  }

  async versions(uri: SecretUriLike): Promise<SecretVersionInfo[]> {
    const raw = this.#vars[envKeyForUri(uri)];
    if (raw === undefined || raw === '') return [];
    return [{ version: ENV_VERSION, format: this.#format }];
  }
}
