import type {
  PutOptions,
  PutResult,
  SecretListItem,
  SecretRecord,
  SecretsProvider,
  SecretVersionInfo,
} from './provider.js';
import { readOnly, type SecretListFilter } from './provider.js';
import { type SecretUriLike, toSecretUri } from './uri.js';
import type { SecretFormat, SecretInput, SecretValue } from './value.js';

/**
 * What the read-only backends (environment variables, mounted files) share: writes are refused with
 * `GT_SECRETS_READ_ONLY`, and every secret has one version.
 */
export abstract class ReadOnlySecretsProvider implements SecretsProvider {
  abstract readonly name: string;
  readonly writable = false;

  abstract get(uri: SecretUriLike): Promise<SecretRecord | undefined>;
  abstract list(filter?: SecretListFilter): Promise<SecretListItem[]>;
  abstract versions(uri: SecretUriLike): Promise<SecretVersionInfo[]>;

  async put(uri: SecretUriLike, _value?: SecretInput, _options?: PutOptions): Promise<PutResult> {
    return readOnly(this.name, 'put', toSecretUri(uri));
  }

  async delete(uri: SecretUriLike): Promise<boolean> {
    return readOnly(this.name, 'delete', toSecretUri(uri));
  }

  /** The record of the one version of `id` (a URI without version). */
  protected record(id: string, version: string, value: SecretValue): SecretRecord {
    return { uri: `${id}@${version}`, version, format: value.format, value, provider: this.name };
  }

  /** A listing of single-version secrets (URIs without version, each once), sorted by URI. */
  protected listing(ids: Iterable<string>, format: SecretFormat, version: string): SecretListItem[] {
    return [...ids]
      .map((uri) => ({ uri, format, latest_version: version, versions: 1, provider: this.name }))
      .sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }
}
