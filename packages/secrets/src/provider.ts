import { SecretsError } from './errors.js';
import { formatSecretUri, type SecretUri, type SecretUriLike } from './uri.js';
import type { SecretFormat, SecretInput, SecretValue } from './value.js';

/** One stored version of a secret, with its value. */
export interface SecretRecord {
  /** The secret's URI with the version that was read (`…/name@3`). */
  uri: string;
  version: string;
  format: SecretFormat;
  value: SecretValue;
  /** ISO time the version was written, when the provider knows it. */
  created_at?: string;
  /** Name of the provider the value came from. */
  provider: string;
}

/** A version of a secret, without its value. */
export interface SecretVersionInfo {
  version: string;
  format: SecretFormat;
  created_at?: string;
  size?: number;
}

/** A secret in a listing, without its value. */
export interface SecretListItem {
  /** The secret's URI without version. */
  uri: string;
  format: SecretFormat;
  latest_version: string;
  /** Number of stored versions. */
  versions: number;
  provider: string;
}

/** Narrows a listing; every field is optional and `team: '_'` means tenant-wide secrets only. */
export interface SecretListFilter {
  env?: string | undefined;
  tenant?: string | undefined;
  team?: string | undefined;
  category?: string | undefined;
}

export interface PutOptions {
  /** Overrides the value's format (a string is `text` and a Uint8Array `bytes` by default). */
  format?: SecretFormat | undefined;
}

export interface PutResult {
  /** The URI of the new version (`…/name@4`). */
  uri: string;
  version: string;
}

/**
 * A place secrets are read from and (when `writable`) written to. Implementations: {@link MemorySecretsProvider},
 * {@link EncryptedFileSecretsProvider}, {@link EnvSecretsProvider}, {@link MountedSecretsProvider}, and the chain
 * {@link SecretsResolver}. Every backend passes the contract suite in `@greentic/secrets/testing`.
 *
 * URIs are exact here: no team fallback (that is the resolver's job). A URI with `@version` names that version;
 * without, the latest. Read-only providers reject `put`/`delete` with `GT_SECRETS_READ_ONLY`.
 */
export interface SecretsProvider {
  /** Short name for listings and audit records (`memory`, `file`, `env`, `k8s`, `chain`). */
  readonly name: string;
  readonly writable: boolean;
  /** The record, or `undefined` when the secret (or that version) does not exist. */
  get(uri: SecretUriLike): Promise<SecretRecord | undefined>;
  /** Stores a new version (the previous ones stay readable by `@version`). */
  put(uri: SecretUriLike, value: SecretInput, options?: PutOptions): Promise<PutResult>;
  /** Removes the secret and all its versions; `true` when something was removed. */
  delete(uri: SecretUriLike): Promise<boolean>;
  /** Secrets matching `filter`, sorted by URI. */
  list(filter?: SecretListFilter): Promise<SecretListItem[]>;
  /** The stored versions, oldest first; empty when the secret does not exist. */
  versions(uri: SecretUriLike): Promise<SecretVersionInfo[]>;
  /** Releases resources (optional). */
  close?(): Promise<void>;
}

/** Throws `GT_SECRETS_READ_ONLY` for a write to a read-only provider. */
export function readOnly(provider: string, op: 'put' | 'delete', uri: SecretUri): never {
  throw new SecretsError(
    'GT_SECRETS_READ_ONLY',
    `cannot ${op} ${formatSecretUri(uri)}: the ${provider} provider is read-only; write it with a writable ` +
      'provider (the encrypted file store) or where this provider reads from',
    { uri: formatSecretUri(uri) },
  );
}

/** True when a URI falls under a listing filter. */
export function matchesFilter(uri: SecretUri, filter: SecretListFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.env !== undefined && uri.env !== filter.env) return false;
  if (filter.tenant !== undefined && uri.tenant !== filter.tenant) return false;
  if (filter.team !== undefined && (uri.team ?? '_') !== filter.team) return false;
  if (filter.category !== undefined && uri.category !== filter.category) return false;
  return true;
}
