/** Media types and annotation keys of Greentic artifacts in OCI registries. */

/** The manifest we push (OCI image manifest v1, used as an artifact manifest). */
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** Docker's image manifest v2 schema 2: same shape; accepted on pull (some copy tools rewrite to it). */
export const DOCKER_MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
/** An image index (multi-platform list): not something a pack or component is stored as. */
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_LIST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** The empty config blob `{}` (OCI 1.1 guidance for artifacts). */
export const OCI_EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
export const OCI_EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const OCI_EMPTY_BYTES: Uint8Array = new TextEncoder().encode('{}');

/** A pack: ONE layer holding the .gtpack (ZIP) bytes. */
export const GREENTIC_PACK_MEDIA_TYPE = 'application/vnd.greentic.pack+zip';
/** A WebAssembly component (the CNCF wasm working group's media type). */
export const WASM_COMPONENT_MEDIA_TYPE = 'application/vnd.wasm.component.v1+wasm';

/**
 * Layer media types accepted as a pack on pull, most preferred first: ours, then the ones upstream Greentic
 * tools have written.
 */
export const PACK_LAYER_MEDIA_TYPES: readonly string[] = [
  GREENTIC_PACK_MEDIA_TYPE,
  'application/vnd.greentic.gtpack.v1+zip',
  'application/vnd.greentic.gtpack+zip',
  'application/vnd.greentic.pack+json',
];

/** Layer media types accepted as a component on pull, most preferred first. */
export const COMPONENT_LAYER_MEDIA_TYPES: readonly string[] = [
  WASM_COMPONENT_MEDIA_TYPE,
  'application/vnd.module.wasm.content.layer.v1+wasm',
  'application/vnd.greentic.wasm.component',
  'application/wasm',
];

/** Manifest media types we can read, in the order sent in `Accept`. */
export const ACCEPTED_MANIFEST_MEDIA_TYPES: readonly string[] = [
  OCI_MANIFEST_MEDIA_TYPE,
  DOCKER_MANIFEST_MEDIA_TYPE,
];

export const ANNOTATION_TITLE = 'org.opencontainers.image.title';
export const ANNOTATION_PACK_ID = 'greentic.pack.id';
export const ANNOTATION_PACK_VERSION = 'greentic.pack.version';
export const ANNOTATION_COMPONENT_ID = 'greentic.component.id';
export const ANNOTATION_COMPONENT_VERSION = 'greentic.component.version';

/** Default size limits. */
export const MAX_PACK_BYTES = 64 * 1024 * 1024;
export const MAX_COMPONENT_BYTES = 256 * 1024 * 1024;
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
