/**
 * The local cache of pulled artifacts, content-addressed by manifest digest:
 *
 *   <cacheDir>/sha256/<manifest hex>/manifest.json    the manifest bytes exactly as pulled
 *   <cacheDir>/sha256/<manifest hex>/pack.gtpack      the pack layer   (component.wasm for a component)
 *   <cacheDir>/sha256/<manifest hex>/metadata.json    where it came from, layer digests, when (informative)
 *
 * Entries are trusted only after re-hashing: manifest.json must hash to the directory name and the layer file to
 * its descriptor in that manifest. A damaged entry is removed and counts as a miss. Files are written to a
 * temporary name and renamed, so a concurrent reader never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PackError } from '../errors.js';
import { type Descriptor, type ImageManifest, parseImageManifest, sha256Digest } from './client.js';

export type ArtifactKind = 'pack' | 'component';

/** File name of the cached layer, per kind. */
export const CACHE_LAYER_FILE: Record<ArtifactKind, string> = {
  pack: 'pack.gtpack',
  component: 'component.wasm',
};

/** `GREENTIC_PACK_CACHE_DIR`, else `~/.cache/greentic/packs`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env.GREENTIC_PACK_CACHE_DIR;
  return fromEnv && fromEnv !== '' ? fromEnv : join(homedir(), '.cache', 'greentic', 'packs');
}

export interface CacheHit {
  path: string;
  bytes: Buffer;
  manifest: ImageManifest;
  manifestBytes: Buffer;
  layer: Descriptor;
}

export interface CacheMetadata {
  schema: 'greentic-oci-cache-v1';
  manifestDigest: string;
  /** The pinned reference it was pulled as. */
  reference: string;
  layers: Partial<Record<ArtifactKind, { digest: string; size: number; mediaType: string; file: string }>>;
  pulledAt: string;
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export class OciCache {
  constructor(readonly dir: string) {}

  entryDir(manifestDigest: string): string {
    return join(this.dir, 'sha256', manifestDigest.slice('sha256:'.length));
  }

  /**
   * The cached layer of `kind` for a manifest digest, verified, or `undefined`. `select` picks the layer from the
   * manifest (and throws when the manifest has none of that kind, as a pull from the registry would).
   */
  async read(
    manifestDigest: string,
    kind: ArtifactKind,
    select: (manifest: ImageManifest) => Descriptor,
    onInvalid: (path: string, reason: string) => void,
  ): Promise<CacheHit | undefined> {
    const dir = this.entryDir(manifestDigest);
    let manifestBytes: Buffer | undefined;
    let layerBytes: Buffer | undefined;
    const path = join(dir, CACHE_LAYER_FILE[kind]);
    try {
      manifestBytes = await readIfExists(join(dir, 'manifest.json'));
      if (!manifestBytes) return undefined;
      if (sha256Digest(manifestBytes) !== manifestDigest) {
        onInvalid(dir, 'manifest.json does not hash to its digest');
        await rm(dir, { recursive: true, force: true });
        return undefined;
      }
      let manifest: ImageManifest;
      try {
        manifest = parseImageManifest(manifestBytes, manifestDigest);
      } catch {
        onInvalid(dir, 'manifest.json is not a valid manifest');
        await rm(dir, { recursive: true, force: true });
        return undefined;
      }
      const layer = select(manifest);
      layerBytes = await readIfExists(path);
      if (!layerBytes) return undefined;
      if (layerBytes.byteLength !== layer.size || sha256Digest(layerBytes) !== layer.digest) {
        onInvalid(path, `${CACHE_LAYER_FILE[kind]} does not match ${layer.digest}`);
        await rm(path, { force: true });
        return undefined;
      }
      return { path, bytes: layerBytes, manifest, manifestBytes, layer };
    } catch (err) {
      if (err instanceof PackError) throw err;
      throw new PackError(
        'GT_PACK_OCI_IO',
        `cannot read the OCI cache at ${dir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Stores a verified manifest and layer; returns the layer's path. */
  async write(
    manifestDigest: string,
    manifestBytes: Uint8Array,
    kind: ArtifactKind,
    layer: Descriptor,
    bytes: Uint8Array,
    reference: string,
  ): Promise<string> {
    const dir = this.entryDir(manifestDigest);
    const path = join(dir, CACHE_LAYER_FILE[kind]);
    try {
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, 'manifest.json'), manifestBytes);
      await writeAtomic(path, bytes);
      let metadata: CacheMetadata | undefined;
      try {
        const old = await readIfExists(join(dir, 'metadata.json'));
        if (old) metadata = JSON.parse(old.toString('utf8')) as CacheMetadata;
      } catch {
        metadata = undefined; // informative only: rewrite it
      }
      metadata = {
        schema: 'greentic-oci-cache-v1',
        manifestDigest,
        reference,
        layers: {
          ...(metadata?.manifestDigest === manifestDigest ? metadata.layers : {}),
          [kind]: {
            digest: layer.digest,
            size: layer.size,
            mediaType: layer.mediaType,
            file: CACHE_LAYER_FILE[kind],
          },
        },
        pulledAt: new Date().toISOString(),
      };
      await writeAtomic(join(dir, 'metadata.json'), Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`));
      return path;
    } catch (err) {
      throw new PackError(
        'GT_PACK_OCI_IO',
        `cannot write the OCI cache at ${dir}: ${(err as Error).message} (set GREENTIC_PACK_CACHE_DIR to a ` +
          'writable directory, or pull with cacheDir: false / --no-cache and an output file)',
        { cause: err },
      );
    }
  }
}
