/**
 * Push and pull Greentic packs and components to and from OCI registries.
 *
 * A pack is stored as an OCI image manifest with the empty config (`{}`) and ONE layer of media type
 * `application/vnd.greentic.pack+zip` holding the .gtpack bytes; a component likewise with one layer of
 * `application/vnd.wasm.component.v1+wasm`. Pulls are pinned by digest unless `allowTags` is set, every byte is
 * checked against its sha256, and results are cached by manifest digest (a cache hit makes no network call).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { PackError } from '../errors.js';
import { type ArtifactKind, defaultCacheDir, OciCache } from './cache.js';
import {
  buildManifestBytes,
  type Descriptor,
  humanSize,
  type ImageManifest,
  type OciClientOptions,
  RegistryClient,
  sha256Digest,
} from './client.js';
import {
  ANNOTATION_COMPONENT_ID,
  ANNOTATION_COMPONENT_VERSION,
  ANNOTATION_PACK_ID,
  ANNOTATION_PACK_VERSION,
  ANNOTATION_TITLE,
  COMPONENT_LAYER_MEDIA_TYPES,
  GREENTIC_PACK_MEDIA_TYPE,
  MAX_COMPONENT_BYTES,
  MAX_PACK_BYTES,
  OCI_EMPTY_BYTES,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  PACK_LAYER_MEDIA_TYPES,
  WASM_COMPONENT_MEDIA_TYPE,
} from './media-types.js';
import { formatOciReference, type OciReference, parseOciReference, pinnedReference } from './reference.js';

export interface OciPushOptions extends OciClientOptions {
  /** `org.opencontainers.image.title` of the layer. Default: the file's base name, else a generated name. */
  title?: string;
  /** Extra manifest annotations (keys and values are strings). */
  annotations?: Record<string, string>;
  /** Refuse inputs larger than this. Default 64 MiB for packs, 256 MiB for components. */
  maxBytes?: number;
}

export interface PushPackOptions extends OciPushOptions {
  /** The pack id, written as the `greentic.pack.id` annotation. */
  packId?: string;
  /** The pack version, written as the `greentic.pack.version` annotation. */
  packVersion?: string;
}

export interface PushComponentOptions extends OciPushOptions {
  /** The component id, written as the `greentic.component.id` annotation. */
  componentId?: string;
  /** The component version, written as the `greentic.component.version` annotation. */
  componentVersion?: string;
}

export interface OciPushResult {
  /** The pinned reference to pull it by: `oci://host/repo@sha256:<manifest digest>`. */
  ref: string;
  /** The manifest digest. */
  digest: string;
  /** The digest of the pack (or component) layer: sha256 of the bytes pushed. */
  layerDigest: string;
  /** Size of the layer in bytes. */
  size: number;
  /** The tag pushed to, when the reference had one. */
  tag: string | undefined;
  /** Media type of the layer. */
  mediaType: string;
  /** Blobs the registry already had (HEAD said so), so they were not uploaded again. */
  skippedBlobs: number;
}

export interface OciPullOptions extends OciClientOptions {
  /** Allow pulling by tag (mutable). Off by default: pin with `@sha256:…`. */
  allowTags?: boolean;
  /** Cache directory, or `false` for no cache. Default: `GREENTIC_PACK_CACHE_DIR` or `~/.cache/greentic/packs`. */
  cacheDir?: string | false;
  /** Also write the layer bytes to this file (atomically). */
  output?: string;
  /** Refuse layers larger than this. Default 64 MiB for packs, 256 MiB for components. */
  maxBytes?: number;
}

export interface OciPullResult {
  /** The pinned reference: `oci://host/repo@sha256:<manifest digest>`. */
  ref: string;
  /** The manifest digest. */
  digest: string;
  /** The layer digest (sha256 of `bytes`). */
  layerDigest: string;
  /** Size of the layer in bytes. */
  size: number;
  /** Media type of the layer. */
  mediaType: string;
  /** Annotations of the layer (title, pack id and version, …). */
  annotations: Record<string, string>;
  /** The layer bytes, verified. */
  bytes: Uint8Array;
  /** Where the bytes are on disk: `output` when given, else the cache file; undefined without either. */
  path: string | undefined;
  /** True when the cache answered (then no network call was made for a digest reference). */
  fromCache: boolean;
}

export interface OciResolveResult {
  /** The pinned reference. */
  ref: string;
  /** The manifest digest. */
  digest: string;
  /** The manifest media type the registry reported. */
  mediaType: string;
  /** Manifest size in bytes. */
  size: number;
}

const KIND_LABEL: Record<ArtifactKind, string> = { pack: 'pack', component: 'component' };

function limitFor(kind: ArtifactKind, maxBytes: number | undefined): number {
  return maxBytes ?? (kind === 'pack' ? MAX_PACK_BYTES : MAX_COMPONENT_BYTES);
}

async function readInput(input: string | Uint8Array, kind: ArtifactKind, limit: number): Promise<Uint8Array> {
  if (typeof input !== 'string') {
    if (!(input instanceof Uint8Array)) {
      throw new PackError('GT_PACK_OCI_IO', `the ${kind} to push must be a file path or a Uint8Array`);
    }
    return input;
  }
  try {
    const st = await stat(input);
    if (!st.isFile()) throw new PackError('GT_PACK_OCI_IO', `${input} is not a regular file`);
    if (st.size > limit) {
      throw new PackError(
        'GT_PACK_OCI_TOO_LARGE',
        `${input} is ${humanSize(st.size)}; a ${kind} may be at most ${humanSize(limit)}`,
      );
    }
    return await readFile(input);
  } catch (err) {
    if (err instanceof PackError) throw err;
    throw new PackError(
      'GT_PACK_OCI_IO',
      `cannot read the ${kind} file ${input}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function checkAnnotations(a: Record<string, string> | undefined, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a ?? {})) {
    if (typeof k !== 'string' || k === '' || typeof v !== 'string') {
      throw new PackError(
        'GT_PACK_OCI_USAGE',
        `${where} annotation ${JSON.stringify(k)} must be a non-empty key with a string value`,
      );
    }
    out[k] = v;
  }
  return out;
}

interface PushSpec {
  kind: ArtifactKind;
  mediaType: string;
  layerAnnotations: Record<string, string>;
  defaultTitle: string;
}

async function pushArtifact(
  input: string | Uint8Array,
  reference: string,
  options: OciPushOptions,
  spec: PushSpec,
): Promise<OciPushResult> {
  const ref = parseOciReference(reference);
  if (ref.digest) {
    throw new PackError(
      'GT_PACK_OCI_REF',
      `cannot push to ${reference}: a push names a tag (oci://${ref.registry}/${ref.repository}:1.0.0) or no tag ` +
        'at all; the digest is computed from the content and returned',
      { reference },
    );
  }
  const limit = limitFor(spec.kind, options.maxBytes);
  const bytes = await readInput(input, spec.kind, limit);
  if (bytes.byteLength > limit) {
    throw new PackError(
      'GT_PACK_OCI_TOO_LARGE',
      `the ${spec.kind} is ${humanSize(bytes.byteLength)}; the limit is ${humanSize(limit)}`,
      { reference },
    );
  }
  const title = options.title ?? (typeof input === 'string' ? basename(input) : spec.defaultTitle);
  const layerDigest = sha256Digest(bytes);
  const layer: Descriptor = {
    mediaType: spec.mediaType,
    digest: layerDigest,
    size: bytes.byteLength,
    annotations: { [ANNOTATION_TITLE]: title, ...spec.layerAnnotations },
  };
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    artifactType: spec.mediaType,
    config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: OCI_EMPTY_DIGEST, size: OCI_EMPTY_BYTES.byteLength },
    layers: [layer],
    annotations: { ...spec.layerAnnotations, ...checkAnnotations(options.annotations, 'manifest') },
  };
  const manifestBytes = buildManifestBytes(manifest);

  const client = new RegistryClient(ref, options);
  let skipped = 0;
  if ((await client.pushBlob(OCI_EMPTY_BYTES, OCI_EMPTY_DIGEST)).skipped) skipped++;
  if ((await client.pushBlob(bytes, layerDigest)).skipped) skipped++;
  const digest = await client.pushManifest(
    manifestBytes,
    OCI_MANIFEST_MEDIA_TYPE,
    ref.tag ?? sha256Digest(manifestBytes),
  );
  return {
    ref: pinnedReference(ref, digest),
    digest,
    layerDigest,
    size: bytes.byteLength,
    tag: ref.tag,
    mediaType: spec.mediaType,
    skippedBlobs: skipped,
  };
}

function selectLayer(manifest: ImageManifest, kind: ArtifactKind, display: string): Descriptor {
  const accepted = kind === 'pack' ? PACK_LAYER_MEDIA_TYPES : COMPONENT_LAYER_MEDIA_TYPES;
  for (const mediaType of accepted) {
    const layer = manifest.layers.find((l) => l.mediaType === mediaType);
    if (layer) return layer;
  }
  const found = manifest.layers.map((l) => l.mediaType);
  throw new PackError(
    'GT_PACK_OCI_NO_LAYER',
    `${display} holds no ${KIND_LABEL[kind]} layer: its layers are ${found.length ? found.join(', ') : '(none)'}; ` +
      `expected ${accepted[0]}${kind === 'pack' ? ' (is it a component? use pullComponent)' : ''}`,
    { reference: display },
  );
}

/** Requires a digest pin unless tags were allowed; returns what to ask the registry for. */
function pullTarget(ref: OciReference, reference: string, allowTags: boolean | undefined): string {
  if (ref.digest) return ref.digest;
  if (!ref.tag) {
    throw new PackError(
      'GT_PACK_OCI_REF',
      `${reference} names neither a digest nor a tag; pin it: oci://${ref.registry}/${ref.repository}@sha256:<digest>`,
      { reference },
    );
  }
  if (!allowTags) {
    throw new PackError(
      'GT_PACK_OCI_TAG_NOT_ALLOWED',
      `${reference} names the tag "${ref.tag}", which can move; pulls must be pinned by digest. Use ` +
        `oci://${ref.registry}/${ref.repository}@sha256:<digest> (the digest is printed by "packc push" and by ` +
        'resolveRef), or pass allowTags: true (packc pull --allow-tags) to accept a tag',
      { reference },
    );
  }
  return ref.tag;
}

async function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new PackError('GT_PACK_OCI_IO', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function pullArtifact(
  reference: string,
  options: OciPullOptions,
  kind: ArtifactKind,
): Promise<OciPullResult> {
  const ref = parseOciReference(reference);
  const target = pullTarget(ref, reference, options.allowTags);
  const limit = limitFor(kind, options.maxBytes);
  const cache =
    options.cacheDir === false
      ? undefined
      : new OciCache(options.cacheDir ?? defaultCacheDir(options.env ?? process.env));
  const onInvalid = (digest: string) => (path: string, reason: string) =>
    options.onProgress?.({ type: 'cache-invalid', digest, path, reason });

  const fromCache = async (digest: string): Promise<OciPullResult | undefined> => {
    if (!cache) return undefined;
    const pinned = pinnedReference(ref, digest);
    const hit = await cache.read(digest, kind, (m) => selectLayer(m, kind, pinned), onInvalid(digest));
    if (!hit) return undefined;
    if (hit.layer.size > limit) {
      throw new PackError(
        'GT_PACK_OCI_TOO_LARGE',
        `${pinned} is ${humanSize(hit.layer.size)}; the limit is ${humanSize(limit)}`,
        {
          reference,
        },
      );
    }
    options.onProgress?.({ type: 'cache-hit', digest, path: hit.path });
    if (options.output) await writeOutput(options.output, hit.bytes);
    return {
      ref: pinned,
      digest,
      layerDigest: hit.layer.digest,
      size: hit.layer.size,
      mediaType: hit.layer.mediaType,
      annotations: { ...hit.layer.annotations },
      bytes: hit.bytes,
      path: options.output ?? hit.path,
      fromCache: true,
    };
  };

  if (ref.digest) {
    const hit = await fromCache(ref.digest);
    if (hit) return hit;
  }
  const client = new RegistryClient(ref, options);
  const fetched = await client.getManifest(target);
  if (!ref.digest) {
    client.progress({ type: 'resolved', reference: formatOciReference(ref), digest: fetched.digest });
    const hit = await fromCache(fetched.digest);
    if (hit) return hit;
  }
  const pinned = pinnedReference(ref, fetched.digest);
  const layer = selectLayer(fetched.manifest, kind, pinned);
  const bytes = await client.fetchBlob(layer, limit, `${KIND_LABEL[kind]} layer`);
  let path: string | undefined;
  if (cache) path = await cache.write(fetched.digest, fetched.bytes, kind, layer, bytes, pinned);
  if (options.output) {
    await writeOutput(options.output, bytes);
    path = options.output;
  }
  return {
    ref: pinned,
    digest: fetched.digest,
    layerDigest: layer.digest,
    size: layer.size,
    mediaType: layer.mediaType,
    annotations: { ...layer.annotations },
    bytes,
    path,
    fromCache: false,
  };
}

/**
 * Pushes a .gtpack (a file path or its bytes) to `oci://host[:port]/repo[:tag]` as one
 * `application/vnd.greentic.pack+zip` layer. Blobs the registry already has are not uploaded again.
 */
export async function pushPack(
  pack: string | Uint8Array,
  ref: string,
  options: PushPackOptions = {},
): Promise<OciPushResult> {
  const layerAnnotations: Record<string, string> = {};
  if (options.packId) layerAnnotations[ANNOTATION_PACK_ID] = options.packId;
  if (options.packVersion) layerAnnotations[ANNOTATION_PACK_VERSION] = options.packVersion;
  const defaultTitle = options.packId
    ? `${options.packId}${options.packVersion ? `-${options.packVersion}` : ''}.gtpack`
    : 'pack.gtpack';
  return pushArtifact(pack, ref, options, {
    kind: 'pack',
    mediaType: GREENTIC_PACK_MEDIA_TYPE,
    layerAnnotations,
    defaultTitle,
  });
}

/**
 * Pulls a pack by digest (`oci://host/repo@sha256:…`; a tag only with `allowTags: true`), verifying every byte,
 * through the local cache.
 */
export async function pullPack(ref: string, options: OciPullOptions = {}): Promise<OciPullResult> {
  return pullArtifact(ref, options, 'pack');
}

/** Pushes a WebAssembly component as one `application/vnd.wasm.component.v1+wasm` layer. */
export async function pushComponent(
  component: string | Uint8Array,
  ref: string,
  options: PushComponentOptions = {},
): Promise<OciPushResult> {
  const layerAnnotations: Record<string, string> = {};
  if (options.componentId) layerAnnotations[ANNOTATION_COMPONENT_ID] = options.componentId;
  if (options.componentVersion) layerAnnotations[ANNOTATION_COMPONENT_VERSION] = options.componentVersion;
  const defaultTitle = `${options.componentId ?? 'component'}.wasm`;
  return pushArtifact(component, ref, options, {
    kind: 'component',
    mediaType: WASM_COMPONENT_MEDIA_TYPE,
    layerAnnotations,
    defaultTitle,
  });
}

/** Pulls a component (same rules as {@link pullPack}). */
export async function pullComponent(ref: string, options: OciPullOptions = {}): Promise<OciPullResult> {
  return pullArtifact(ref, options, 'component');
}

/**
 * Resolves a tag (or checks a digest) to the pinned `oci://host/repo@sha256:…` form, with a HEAD request. This is
 * how to pin a tag before pulling; it needs no `allowTags`.
 */
export async function resolveRef(ref: string, options: OciClientOptions = {}): Promise<OciResolveResult> {
  const parsed = parseOciReference(ref);
  const target = parsed.digest ?? parsed.tag;
  if (!target) {
    throw new PackError('GT_PACK_OCI_REF', `${ref} names neither a tag nor a digest; nothing to resolve`, {
      reference: ref,
    });
  }
  const client = new RegistryClient(parsed, options);
  const head = await client.headManifest(target);
  const pinned = pinnedReference(parsed, head.digest);
  client.progress({ type: 'resolved', reference: formatOciReference(parsed), digest: head.digest });
  return { ref: pinned, digest: head.digest, mediaType: head.mediaType, size: head.size };
}
