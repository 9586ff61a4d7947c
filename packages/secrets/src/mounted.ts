import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { SecretsError } from './errors.js';
import type { SecretListFilter, SecretListItem, SecretRecord, SecretVersionInfo } from './provider.js';
import { matchesFilter } from './provider.js';
import { ReadOnlySecretsProvider } from './read-only.js';
import {
  ENV_KEY_PREFIX,
  envKeyForUri,
  formatSecretUri,
  type SecretUri,
  type SecretUriLike,
  secretUri,
  TEAM_PLACEHOLDER,
  toSecretUri,
  uriFromEnvKey,
  withoutVersion,
} from './uri.js';
import { type SecretFormat, SecretValue } from './value.js';

/** Where Greentic looks for mounted secret files by default. */
export const DEFAULT_MOUNT_ROOT = '/var/run/secrets/greentic';
/** The one version a mounted file has. */
export const MOUNTED_VERSION = '1';
/** Kubernetes Secrets hold at most 1 MiB; a larger file is refused. */
export const MAX_MOUNTED_BYTES = 1024 * 1024;

/**
 * - `tree`: `<root>/<env>/<tenant>/<team|_>/<category>/<name>`, one file per secret (a projected volume with
 *   `items[].path` set to that path, or any directory tree).
 * - `flat`: `<root>/GREENTIC_SECRET__ENV__TENANT__TEAM__CATEGORY__NAME`, one file per secret named like the
 *   environment variable (a Secret whose keys are those names, mounted as a volume as is).
 */
export type MountLayout = 'tree' | 'flat';

export interface MountedSecretsProviderOptions {
  /** The mount point (default `/var/run/secrets/greentic`). */
  root?: string;
  /** Default `tree`. */
  layout?: MountLayout;
  /** Format of every value (default `text`). */
  format?: SecretFormat;
  /** Strip one trailing newline from values (default true: `kubectl create secret --from-file` keeps it). */
  trimTrailingNewline?: boolean;
}

/**
 * Read-only secrets from files mounted by Kubernetes (or any directory). Each file holds one value; a file has one
 * version, `1`, and is re-read at every `get`, so a rotated Secret is picked up when the kubelet updates the volume.
 * Names beginning with `.` (the kubelet's `..data` links) are never read or listed, and a symlink that leads
 * outside `root` is refused.
 */
export class MountedSecretsProvider extends ReadOnlySecretsProvider {
  readonly name = 'k8s';
  readonly root: string;
  readonly layout: MountLayout;
  readonly #format: SecretFormat;
  readonly #trim: boolean;

  constructor(options: MountedSecretsProviderOptions = {}) {
    super();
    this.root = resolve(options.root ?? DEFAULT_MOUNT_ROOT);
    this.layout = options.layout ?? 'tree';
    if (this.layout !== 'tree' && this.layout !== 'flat') {
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        `unknown mount layout ${JSON.stringify(this.layout)} (tree or flat)`,
      );
    }
    this.#format = options.format ?? 'text';
    this.#trim = options.trimTrailingNewline ?? true;
  }

  /** The file a URI maps to, or `undefined` when a segment cannot be a file name here (it starts with `.`). */
  pathFor(uri: SecretUriLike): string | undefined {
    const u = toSecretUri(uri);
    if (this.layout === 'flat') return join(this.root, envKeyForUri(u));
    const segments = [u.env, u.tenant, u.team ?? TEAM_PLACEHOLDER, u.category, u.name];
    if (segments.some((s) => s.startsWith('.'))) return undefined;
    return join(this.root, ...segments);
  }

  async #readFile(path: string, id: string): Promise<Buffer | undefined> {
    let real: string;
    let realRoot: string;
    try {
      real = await realpath(path);
      realRoot = await realpath(this.root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new SecretsError(
        'GT_SECRETS_BACKEND',
        `cannot read the mounted secret ${id}: ${(e as Error).message}`,
        {
          cause: e,
          uri: id,
        },
      );
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new SecretsError(
        'GT_SECRETS_BACKEND',
        `the mounted secret ${id} is a link that leads outside ${this.root}; refused`,
        {
          uri: id,
        },
      );
    }
    const st = await stat(real);
    if (!st.isFile()) return undefined;
    if (st.size > MAX_MOUNTED_BYTES) {
      throw new SecretsError(
        'GT_SECRETS_BACKEND',
        `the mounted secret ${id} is ${st.size} bytes, over the 1 MiB limit`,
        { uri: id },
      );
    }
    try {
      return await readFile(real);
    } catch (e) {
      throw new SecretsError(
        'GT_SECRETS_BACKEND',
        `cannot read the mounted secret ${id}: ${(e as Error).message}`,
        {
          cause: e,
          uri: id,
        },
      );
    }
  }

  async get(uri: SecretUriLike): Promise<SecretRecord | undefined> {
    const u = toSecretUri(uri);
    if (u.version !== undefined && u.version !== MOUNTED_VERSION) return undefined;
    const path = this.pathFor(u);
    if (path === undefined) return undefined;
    const id = formatSecretUri(withoutVersion(u));
    let bytes = await this.#readFile(path, id);
    if (!bytes) return undefined;
    if (this.#trim && this.#format !== 'bytes' && bytes.at(-1) === 0x0a) {
      bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
    }
    const value = SecretValue.fromBytes(bytes, this.#format, `the mounted secret ${id}`);
    bytes.fill(0);
    return this.record(id, MOUNTED_VERSION, value);
  }

  async #entries(dir: string): Promise<string[]> {
    try {
      return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
    } catch {
      return [];
    }
  }

  async list(filter?: SecretListFilter): Promise<SecretListItem[]> {
    const found: SecretUri[] = [];
    if (this.layout === 'flat') {
      for (const n of await this.#entries(this.root)) {
        if (!n.startsWith(`${ENV_KEY_PREFIX}__`)) continue;
        const u = uriFromEnvKey(n);
        if (u) found.push(u);
      }
    } else {
      const level = async (dir: string, prefix: string[]): Promise<void> => {
        for (const n of await this.#entries(dir)) {
          const path = join(dir, n);
          const parts = [...prefix, n];
          if (parts.length < 5) {
            await level(path, parts);
            continue;
          }
          try {
            const u = secretUri({
              env: parts[0]!,
              tenant: parts[1]!,
              team: parts[2]!,
              category: parts[3]!,
              name: parts[4]!,
            });
            if ((await stat(path)).isFile()) found.push(u);
          } catch {
            // not a secret file (bad segment, vanished)
          }
        }
      };
      await level(this.root, []);
    }
    return this.listing(
      found.filter((u) => matchesFilter(u, filter)).map((u) => formatSecretUri(u)),
      this.#format,
      MOUNTED_VERSION,
    );
  }

  async versions(uri: SecretUriLike): Promise<SecretVersionInfo[]> {
    const path = this.pathFor(withoutVersion(toSecretUri(uri)));
    if (path === undefined) return [];
    try {
      const st = await stat(path);
      return st.isFile() ? [{ version: MOUNTED_VERSION, format: this.#format, size: st.size }] : [];
    } catch {
      return [];
    }
  }
}
