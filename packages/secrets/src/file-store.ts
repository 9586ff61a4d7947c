import { createCipheriv, createDecipheriv, randomBytes, randomUUID, scrypt } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { jsonErrorPosition, SecretsError } from './errors.js';
import { enqueue, withFileLock } from './lock.js';
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
import { formatSecretUri, parseSecretUri, type SecretUriLike, toSecretUri, withoutVersion } from './uri.js';
import { isSecretFormat, type SecretFormat, type SecretInput, SecretValue, toSecretValue } from './value.js';

/** File name of the store inside its directory. */
export const STORE_FILE = 'secrets.store.json';
/** Lock file name inside the store directory. */
export const LOCK_FILE = 'secrets.store.lock';
/** The shortest master key accepted, in bytes. */
export const MIN_MASTER_KEY_BYTES = 16;

/** scrypt cost of new stores (N = 2^15, r = 8, p = 1: about 32 MiB and tens of milliseconds, once per open). */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const;

const FORMAT_ID = 'greentic-secrets-store';
const AAD_PREFIX = 'greentic-secrets/v1';
const KEY_CHECK_PLAINTEXT = 'greentic-secrets key check';

interface Sealed {
  iv: string;
  tag: string;
  ct: string;
}

interface StoredVersion extends Sealed {
  version: string;
  format: SecretFormat;
  created_at: string;
  size: number;
}

interface StoreHeader {
  format: typeof FORMAT_ID;
  version: 1;
  cipher: 'aes-256-gcm';
  kdf: { alg: 'scrypt'; salt: string; N: number; r: number; p: number };
  key_check: Sealed;
}

interface StoreFile extends StoreHeader {
  secrets: Record<string, { versions: StoredVersion[] }>;
}

export interface EncryptedFileSecretsProviderOptions {
  /** Directory of the store (created with mode 0700 on first write). */
  dir: string;
  /**
   * The master secret the encryption key is derived from (at least 16 bytes). Without it, `list` and `versions`
   * still work; reading or writing a value throws `GT_SECRETS_KEY`.
   */
  masterKey?: string | Uint8Array | undefined;
  /** scrypt cost for a new store (an existing store keeps the cost in its header). */
  kdf?: { N?: number; r?: number; p?: number };
  /** How long a writer waits for another process's lock (default 10 s). */
  lockTimeoutMs?: number;
  /** A lock older than this whose holder cannot be checked is taken over (default 30 s). */
  staleLockMs?: number;
  /** Keep at most this many versions per secret, dropping the oldest (default: keep all). */
  maxVersions?: number;
  now?: () => number;
}

function b64(buf: Uint8Array): string {
  return Buffer.from(buf).toString('base64');
}

function deriveKey(
  master: Uint8Array,
  salt: Buffer,
  kdf: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((res, rej) =>
    scrypt(
      master,
      salt,
      32,
      { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 1024 * 1024 },
      (err, key) => (err ? rej(err) : res(key)),
    ),
  );
}

function seal(key: Buffer, plaintext: Uint8Array, aad: string): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv: b64(iv), tag: b64(cipher.getAuthTag()), ct: b64(ct) };
}

/** Decrypts, or returns `undefined` when authentication fails (wrong key, tampered data, wrong AAD). */
function open_(key: Buffer, sealed: Sealed, aad: string): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** The additional authenticated data of one version: binds the ciphertext to its secret, version and format. */
function recordAad(id: string, v: Pick<StoredVersion, 'version' | 'format' | 'created_at'>): string {
  return `${AAD_PREFIX}\n${id}\n${v.version}\n${v.format}\n${v.created_at}`;
}

function isSealed(v: unknown): v is Sealed {
  const s = v as Sealed;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.iv === 'string' &&
    typeof s.tag === 'string' &&
    typeof s.ct === 'string'
  );
}

/**
 * The encrypted file store: every secret of every tenant in one JSON file, `secrets.store.json`, inside `dir`.
 *
 * - Values are encrypted with AES-256-GCM under a key derived with scrypt from the master key and a random
 *   per-store salt; every version gets a fresh 96-bit IV, and its URI, version, format and time are the
 *   additional authenticated data, so a ciphertext moved to another secret or version fails to decrypt
 *   (`GT_SECRETS_CORRUPT`). A key-check record tells a wrong master key (`GT_SECRETS_KEY`) from damage.
 * - URIs, versions, formats, sizes and times are stored in clear (they are not secret and `list` needs them).
 * - Writers serialize through an in-process queue and a lock file (`O_EXCL`; a lock left by a dead process is
 *   taken over), re-read the file under the lock, and replace it atomically (temp file, fsync, rename, fsync of
 *   the directory). Readers never lock: they see the file before or after a write, never half of one.
 * - `put` adds a version (`1`, `2`, …); `get` returns the latest, or `@version`; `delete` removes every version.
 */
export class EncryptedFileSecretsProvider implements SecretsProvider {
  readonly name = 'file';
  readonly writable = true;
  readonly dir: string;
  readonly #file: string;
  readonly #lock: string;
  readonly #master: Uint8Array | undefined;
  readonly #kdf: { N: number; r: number; p: number };
  readonly #lockOptions: { timeoutMs?: number; staleMs?: number };
  readonly #maxVersions: number | undefined;
  readonly #now: () => number;
  /** Derived keys by salt (one store has one salt; kept per instance only). */
  readonly #keys = new Map<string, Promise<Buffer>>();

  constructor(options: EncryptedFileSecretsProviderOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir === '') {
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        'the encrypted file store needs a directory (options.dir)',
      );
    }
    this.dir = resolve(options.dir);
    this.#file = join(this.dir, STORE_FILE);
    this.#lock = join(this.dir, LOCK_FILE);
    if (options.masterKey !== undefined) {
      const bytes =
        typeof options.masterKey === 'string'
          ? Buffer.from(options.masterKey, 'utf8')
          : new Uint8Array(options.masterKey);
      if (bytes.length < MIN_MASTER_KEY_BYTES) {
        throw new SecretsError(
          'GT_SECRETS_KEY',
          `the master key is too short (${bytes.length} bytes, at least ${MIN_MASTER_KEY_BYTES}); ` +
            'generate one with: openssl rand -base64 32',
        );
      }
      this.#master = bytes;
    }
    this.#kdf = { ...DEFAULT_KDF, ...options.kdf };
    if (!Number.isInteger(Math.log2(this.#kdf.N)) || this.#kdf.N < 2 ** 10) {
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        `kdf.N must be a power of two of at least 1024 (got ${this.#kdf.N})`,
      );
    }
    this.#lockOptions = {
      ...(options.lockTimeoutMs !== undefined ? { timeoutMs: options.lockTimeoutMs } : {}),
      ...(options.staleLockMs !== undefined ? { staleMs: options.staleLockMs } : {}),
    };
    this.#maxVersions = options.maxVersions;
    this.#now = options.now ?? Date.now;
  }

  /** True when a master key was given. */
  get hasKey(): boolean {
    return this.#master !== undefined;
  }

  async #read(): Promise<StoreFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SecretsError(
        'GT_SECRETS_BACKEND',
        `cannot read the secrets store ${this.#file}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    let data: StoreFile;
    try {
      data = JSON.parse(text) as StoreFile;
    } catch (e) {
      const at = jsonErrorPosition(e);
      throw new SecretsError(
        'GT_SECRETS_CORRUPT',
        `the secrets store ${this.#file} is not valid JSON${at ? ` (${at})` : ''}`,
      );
    }
    const kdf = data?.kdf;
    if (
      data?.format !== FORMAT_ID ||
      data.version !== 1 ||
      typeof kdf?.salt !== 'string' ||
      !Number.isInteger(kdf.N) ||
      !Number.isInteger(kdf.r) ||
      !Number.isInteger(kdf.p) ||
      !isSealed(data.key_check) ||
      typeof data.secrets !== 'object' ||
      data.secrets === null
    ) {
      throw new SecretsError(
        'GT_SECRETS_CORRUPT',
        `${this.#file} is not a greentic secrets store (version 1): its header is missing or damaged`,
      );
    }
    return data;
  }

  #requireKey(what: string): Uint8Array {
    if (!this.#master) {
      throw new SecretsError(
        'GT_SECRETS_KEY',
        `no master key to ${what}: set GREENTIC_SECRETS_MASTER_KEY (or pass a key file); ` +
          'generate one with: openssl rand -base64 32',
      );
    }
    return this.#master;
  }

  /** The store's key, checked against its key-check record. */
  #key(header: StoreHeader, what: string): Promise<Buffer> {
    const master = this.#requireKey(what);
    const cacheKey = `${header.kdf.salt}:${header.kdf.N}:${header.kdf.r}:${header.kdf.p}`;
    let p = this.#keys.get(cacheKey);
    if (!p) {
      p = (async () => {
        const { N, r, p: par } = header.kdf;
        let key: Buffer;
        try {
          key = await deriveKey(master, Buffer.from(header.kdf.salt, 'base64'), { N, r, p: par });
        } catch (e) {
          throw new SecretsError(
            'GT_SECRETS_CORRUPT',
            `cannot derive the store key (kdf parameters in ${this.#file})`,
            {
              cause: e,
            },
          );
        }
        const check = open_(key, header.key_check, `${AAD_PREFIX}\nkey-check`);
        if (!check || check.toString('utf8') !== KEY_CHECK_PLAINTEXT) {
          throw new SecretsError(
            'GT_SECRETS_KEY',
            `the master key does not open the secrets store ${this.#file}: use the key the store was created with`,
          );
        }
        return key;
      })();
      p.catch(() => this.#keys.delete(cacheKey));
      this.#keys.set(cacheKey, p);
    }
    return p;
  }

  async #newHeader(): Promise<StoreHeader> {
    const master = this.#requireKey('create the store');
    const salt = randomBytes(16);
    const key = await deriveKey(master, salt, this.#kdf);
    const header: StoreHeader = {
      format: FORMAT_ID,
      version: 1,
      cipher: 'aes-256-gcm',
      kdf: { alg: 'scrypt', salt: b64(salt), ...this.#kdf },
      key_check: seal(key, Buffer.from(KEY_CHECK_PLAINTEXT, 'utf8'), `${AAD_PREFIX}\nkey-check`),
    };
    this.#keys.set(
      `${header.kdf.salt}:${header.kdf.N}:${header.kdf.r}:${header.kdf.p}`,
      Promise.resolve(key),
    );
    return header;
  }

  async #write(data: StoreFile): Promise<void> {
    const tmp = join(this.dir, `.${STORE_FILE}.${process.pid}.${randomUUID()}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify(data, null, 1)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.#file);
      const dh = await open(this.dir, 'r');
      try {
        await dh.sync();
      } catch {
        // some filesystems cannot fsync a directory; the rename is still atomic
      } finally {
        await dh.close();
      }
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if (e instanceof SecretsError) throw e;
      throw new SecretsError(
        'GT_SECRETS_BACKEND',
        `cannot write the secrets store ${this.#file}: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  /** Read-modify-write under the in-process queue and the lock file. */
  #mutate<T>(fn: (data: StoreFile | undefined) => Promise<{ data?: StoreFile; result: T }>): Promise<T> {
    return enqueue(this.#file, async () => {
      try {
        await mkdir(this.dir, { recursive: true, mode: 0o700 });
      } catch (e) {
        throw new SecretsError(
          'GT_SECRETS_BACKEND',
          `cannot create the store directory ${this.dir}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      return withFileLock(
        this.#lock,
        async () => {
          const { data, result } = await fn(await this.#read());
          if (data) await this.#write(data);
          return result;
        },
        this.#lockOptions,
      );
    });
  }

  async get(uri: SecretUriLike): Promise<SecretRecord | undefined> {
    const u = toSecretUri(uri);
    const id = formatSecretUri(withoutVersion(u));
    const data = await this.#read();
    const versions = data?.secrets[id]?.versions;
    if (!data || !versions || versions.length === 0) return undefined;
    const v =
      u.version === undefined ? versions[versions.length - 1] : versions.find((x) => x.version === u.version);
    if (!v) return undefined;
    const key = await this.#key(data, `read ${id}`);
    if (!isSealed(v) || !isSecretFormat(v.format)) {
      throw new SecretsError(
        'GT_SECRETS_CORRUPT',
        `the record of ${id}@${String(v.version)} in ${this.#file} is damaged`,
        {
          uri: id,
        },
      );
    }
    const plain = open_(key, v, recordAad(id, v));
    if (!plain) {
      throw new SecretsError(
        'GT_SECRETS_CORRUPT',
        `${id}@${v.version} does not decrypt: its record in ${this.#file} was altered or moved from another secret`,
        { uri: id },
      );
    }
    const value = SecretValue.fromBytes(plain, v.format, `${id}@${v.version}`);
    plain.fill(0);
    return {
      uri: `${id}@${v.version}`,
      version: v.version,
      format: v.format,
      value,
      created_at: v.created_at,
      provider: this.name,
    };
  }

  async put(uri: SecretUriLike, input: SecretInput, options: PutOptions = {}): Promise<PutResult> {
    const u = withoutVersion(toSecretUri(uri));
    const id = formatSecretUri(u);
    const value = toSecretValue(input, options.format, id);
    this.#requireKey(`write ${id}`);
    return this.#mutate(async (current) => {
      const data: StoreFile = current ?? { ...(await this.#newHeader()), secrets: {} };
      const key = await this.#key(data, `write ${id}`);
      const entry = data.secrets[id] ?? { versions: [] };
      const last = entry.versions[entry.versions.length - 1];
      const version = String(last ? Number(last.version) + 1 : 1);
      const meta = { version, format: value.format, created_at: new Date(this.#now()).toISOString() };
      const plain = value.reveal();
      const sealed = seal(key, plain, recordAad(id, meta));
      plain.fill(0);
      entry.versions.push({ ...meta, size: value.size, ...sealed });
      if (this.#maxVersions !== undefined && entry.versions.length > this.#maxVersions) {
        entry.versions.splice(0, entry.versions.length - this.#maxVersions);
      }
      data.secrets[id] = entry;
      return { data, result: { uri: `${id}@${version}`, version } };
    });
  }

  async delete(uri: SecretUriLike): Promise<boolean> {
    const id = formatSecretUri(withoutVersion(toSecretUri(uri)));
    return this.#mutate(async (data) => {
      if (!data?.secrets[id]) return { result: false };
      delete data.secrets[id];
      return { data, result: true };
    });
  }

  async list(filter?: SecretListFilter): Promise<SecretListItem[]> {
    const data = await this.#read();
    const out: SecretListItem[] = [];
    for (const [id, entry] of Object.entries(data?.secrets ?? {})) {
      const last = entry.versions[entry.versions.length - 1];
      let u: ReturnType<typeof parseSecretUri>;
      try {
        u = parseSecretUri(id);
      } catch {
        continue;
      }
      if (!last || !matchesFilter(u, filter)) continue;
      out.push({
        uri: id,
        format: last.format,
        latest_version: last.version,
        versions: entry.versions.length,
        provider: this.name,
      });
    }
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  async versions(uri: SecretUriLike): Promise<SecretVersionInfo[]> {
    const id = formatSecretUri(withoutVersion(toSecretUri(uri)));
    const data = await this.#read();
    return (data?.secrets[id]?.versions ?? []).map((v) => ({
      version: v.version,
      format: v.format,
      created_at: v.created_at,
      size: v.size,
    }));
  }
}
