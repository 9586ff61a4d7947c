/**
 * OCI distribution for Greentic packs and components: push, pull (pinned, verified, cached), resolve, and the
 * `packc push|pull|resolve` command helper.
 */

// Errors are PackErrors with GT_PACK_OCI_* codes, in the package catalog (../errors.ts).
export { isOciError, OCI_ERROR_CODES, type OciErrorCode } from '../errors.js';
export type { OciCredentials } from './auth.js';
export { CACHE_LAYER_FILE, type CacheMetadata, defaultCacheDir } from './cache.js';
export { type OciCommandIo, runOciCommand } from './cli.js';
export type { Descriptor, ImageManifest, OciClientOptions, OciProgressEvent } from './client.js';
export {
  ANNOTATION_COMPONENT_ID,
  ANNOTATION_COMPONENT_VERSION,
  ANNOTATION_PACK_ID,
  ANNOTATION_PACK_VERSION,
  ANNOTATION_TITLE,
  COMPONENT_LAYER_MEDIA_TYPES,
  GREENTIC_PACK_MEDIA_TYPE,
  MAX_COMPONENT_BYTES,
  MAX_PACK_BYTES,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  PACK_LAYER_MEDIA_TYPES,
  WASM_COMPONENT_MEDIA_TYPE,
} from './media-types.js';
export {
  type OciPullOptions,
  type OciPullResult,
  type OciPushOptions,
  type OciPushResult,
  type OciResolveResult,
  type PushComponentOptions,
  type PushPackOptions,
  pullComponent,
  pullPack,
  pushComponent,
  pushPack,
  resolveRef,
} from './pack.js';
export { formatOciReference, isLoopbackHost, type OciReference, parseOciReference } from './reference.js';
