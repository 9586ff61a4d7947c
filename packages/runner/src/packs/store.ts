import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PackError } from '@greentic/pack';
import { isValidId } from '@greentic/types';
import { RunnerError } from '../errors.js';

/**
 * The runner's local pack store: verified `.gtpack` archives, content-addressed by the sha256 of their bytes, and
 * one index per tenant naming the tenant's current pack, with its history.
 *
 * ```
 * <store>/                                  default $GREENTIC_HOME/packs (~/.greentic/packs)
 *   blobs/sha256/<hex>.gtpack               an archive, named by its sha256 (written once, never changed)
 *   index/default.json                      the default pack: for every tenant without a pack of its own
 *   index/tenants/<tenant>.json             a tenant's pack
 *   .lock                                   held while an index is updated (a directory, removed after)
 * ```
 *
 * An index is `{schema, tenant, current, history}`; `current` and each history entry are a {@link StoredPackRef}
 * (newest first, at most 50 kept). Only packs that passed `readPack` (integrity and trust) are put in the store;
 * reading one back checks its bytes against its name.
 */

export const PACK_STORE_INDEX_SCHEMA = 'greentic.pack-store.index.v1';
/** History entries kept per index. */
export const PACK_STORE_HISTORY_LIMIT = 50;

/** One pack as the store's index records it. */
export interface StoredPackRef {
  pack_id: string;
  version: string;
  /** `sha256:<hex>` of the archive: its name in `blobs/`. */
  digest: string;
  size: number;
  /** RFC 3339 time of the `load`. */
  loaded_at: string;
  /** The pack carries signatures (all valid: an invalid one is never loaded). */
  signed: boolean;
  /** A signature is by a key of the trust store; false only for packs loaded with `--allow-unsigned`. */
  trusted: boolean;
  signers: { key_id: string; key_fingerprint: string; trusted: boolean }[];
  /** Where it was loaded from: an absolute file path or a digest-pinned `oci://` reference. */
  source: string;
}

export interface PackStoreIndex {
  schema: typeof PACK_STORE_INDEX_SCHEMA;
  /** The tenant, or null for the default pack. */
  tenant: string | null;
  current: StoredPackRef | null;
  /** Earlier current packs, newest first. */
  history: StoredPackRef[];
}

const DIGEST_RE = /^sha256:([0-9a-f]{64})$/;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;

function checkTenant(tenant: string): void {
  if (!isValidId(tenant))
    throw new RunnerError(
      'GT_RUNNER_USAGE',
      `tenant ${JSON.stringify(tenant)} is not a tenant id: letters, digits, ".", "_" and "-" only`,
    );
}

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export class PackStore {
  constructor(readonly dir: string) {}

  /** Where the archive with this digest lives. */
  blobPath(digest: string): string {
    const m = DIGEST_RE.exec(digest);
    if (!m) throw new RunnerError('GT_RUNNER_USAGE', `${digest} is not a sha256:<64 hex> digest`);
    return join(this.dir, 'blobs', 'sha256', `${m[1]}.gtpack`);
  }

  private indexPath(tenant: string | undefined): string {
    if (tenant === undefined) return join(this.dir, 'index', 'default.json');
    checkTenant(tenant);
    return join(this.dir, 'index', 'tenants', `${tenant}.json`);
  }

  /** Stores archive bytes under their sha256 (a no-op when they are there already). */
  async put(bytes: Uint8Array): Promise<{ digest: string; path: string; existed: boolean }> {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const path = this.blobPath(digest);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.isFile() && existing.size === bytes.length) return { digest, path, existed: true };
    await writeAtomically(path, bytes);
    return { digest, path, existed: false };
  }

  /** The archive with this digest; its bytes must still hash to it (`GT_PACK_HASH_MISMATCH` otherwise). */
  async read(digest: string): Promise<Uint8Array> {
    const path = this.blobPath(digest);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (err) {
      throw new PackError(
        'GT_PACK_IO',
        `the pack store has no archive ${digest} (${path}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; load the pack again`,
        { cause: err },
      );
    }
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest)
      throw new PackError(
        'GT_PACK_HASH_MISMATCH',
        `the stored pack ${path} hashes to ${actual}, not ${digest}: it was altered after it was loaded; load the pack again`,
      );
    return bytes;
  }

  /** A tenant's index (`undefined`: the default pack's), or undefined when none was ever loaded. */
  async index(tenant?: string): Promise<PackStoreIndex | undefined> {
    const path = this.indexPath(tenant);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new PackError(
        'GT_PACK_IO',
        `cannot read the pack store index ${path}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    let doc: PackStoreIndex;
    try {
      doc = JSON.parse(text) as PackStoreIndex;
    } catch (err) {
      throw new PackError('GT_PACK_IO', `the pack store index ${path} is not JSON; load the pack again`, {
        cause: err,
      });
    }
    if (doc?.schema !== PACK_STORE_INDEX_SCHEMA || !Array.isArray(doc.history))
      throw new PackError(
        'GT_PACK_IO',
        `the pack store index ${path} is not a ${PACK_STORE_INDEX_SCHEMA} document; load the pack again`,
      );
    return doc;
  }

  /**
   * The pack a tenant runs: its own, else the default pack. `tenant` in the result says which index it came
   * from (undefined: the default).
   */
  async resolve(tenant: string): Promise<{ tenant: string | undefined; ref: StoredPackRef } | undefined> {
    const own = (await this.index(tenant))?.current;
    if (own) return { tenant, ref: own };
    const fallback = (await this.index(undefined))?.current;
    return fallback ? { tenant: undefined, ref: fallback } : undefined;
  }

  /** Makes `ref` the tenant's (or, with `undefined`, the default) current pack; the previous one goes to history. */
  async setCurrent(tenant: string | undefined, ref: StoredPackRef): Promise<PackStoreIndex> {
    const path = this.indexPath(tenant);
    return this.locked(async () => {
      const previous = await this.index(tenant);
      const history = previous ? [...(previous.current ? [previous.current] : []), ...previous.history] : [];
      const next: PackStoreIndex = {
        schema: PACK_STORE_INDEX_SCHEMA,
        tenant: tenant ?? null,
        current: ref,
        history: history.slice(0, PACK_STORE_HISTORY_LIMIT),
      };
      await writeAtomically(path, `${JSON.stringify(next, null, 2)}\n`);
      return next;
    });
  }

  /**
   * Forgets a tenant's (or, with `undefined`, the default) pack: the tenant then runs the default pack, if any.
   * True when there was an index to remove.
   */
  async removeIndex(tenant: string | undefined): Promise<boolean> {
    const path = this.indexPath(tenant);
    return this.locked(async () => {
      const existed = (await stat(path).catch(() => undefined)) !== undefined;
      await rm(path, { force: true });
      return existed;
    });
  }

  /** Deletes the given archives unless an index (current or history) still names them; returns the deleted digests. */
  async prune(digests: readonly string[]): Promise<string[]> {
    return this.locked(async () => {
      const inUse = new Set<string>();
      for (const t of [undefined, ...(await this.tenants())]) {
        const doc = await this.index(t);
        for (const ref of [doc?.current, ...(doc?.history ?? [])]) if (ref) inUse.add(ref.digest);
      }
      const deleted: string[] = [];
      for (const d of digests) {
        if (inUse.has(d)) continue;
        await rm(this.blobPath(d), { force: true });
        deleted.push(d);
      }
      return deleted;
    });
  }

  /** Tenants with an index of their own. */
  async tenants(): Promise<string[]> {
    try {
      return (await readdir(join(this.dir, 'index', 'tenants')))
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort();
    } catch {
      return [];
    }
  }

  /** Runs `fn` holding the store's lock (a directory: creating one is atomic); a lock older than 30 s is stale. */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = join(this.dir, '.lock');
    await mkdir(this.dir, { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      try {
        await mkdir(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await stat(lock).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
          await rm(lock, { recursive: true, force: true });
          continue;
        }
        if (Date.now() > deadline)
          throw new PackError(
            'GT_PACK_IO',
            `the pack store ${this.dir} is locked by another load (${lock}); try again, or remove the lock if no load is running`,
          );
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}
