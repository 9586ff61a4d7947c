/**
 * @greentic/pack — Greentic packs: pack.yaml validation with source positions, the deterministic `.gtpack`
 * build (stored ZIP, deterministic CBOR, BLAKE3 SBOM), ed25519 signing stored inside the archive, the hardened
 * reader that verifies everything before anything is parsed, OCI registry push/pull (pinned, verified, cached),
 * and the `packc` CLI.
 */

export {
  type BuildOptions,
  type BuildResult,
  buildPack,
  type PackPlan,
  type ValidateOptions,
  type ValidationResult,
  validatePack,
} from './build.js';
export { compareCborKeys, decodeCanonical, encodeCanonical } from './cbor.js';
export { type PackcIO, runPackc } from './cli.js';
export {
  defaultGreenticHome,
  devKeyPaths,
  trustDir,
} from './cli-home.js';
export {
  type ComponentManifestFormat,
  checkComponentManifest,
  componentManifestFormat,
} from './component-manifest.js';
export {
  formatLocation,
  formatProblem,
  isOciError,
  isPackError,
  OCI_ERROR_CODES,
  type OciErrorCode,
  PACK_ERROR_CODES,
  PackError,
  type PackErrorCode,
  type PackErrorOptions,
  type PackProblem,
  problemToJSON,
  type SourceLocation,
} from './errors.js';
export { blake3Hex, sha256Hex } from './hash.js';
export {
  type GeneratedKeyPair,
  generateKeyPair,
  keyFingerprint,
  loadSigningKey,
  loadTrustStore,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
  type SigningKey,
  type TrustedKey,
  type TrustInput,
  type TrustStore,
} from './keys.js';
export {
  type LintOptions,
  type LintReport,
  lintFile,
  lintText,
  MANIFEST_KINDS,
  type ManifestKind,
  manifestKindOf,
} from './lint.js';
export {
  type BootstrapSpec,
  type ComponentConfig,
  type DependencyConfig,
  type ExtensionRef,
  type FlowConfig,
  PACK_KINDS,
  type PackConfig,
  type PackKind,
  type ParsedPackYaml,
  parsePackYaml,
  type SecretRequirement,
} from './manifest.js';
export {
  ANNOTATION_COMPONENT_ID,
  ANNOTATION_COMPONENT_VERSION,
  ANNOTATION_PACK_ID,
  ANNOTATION_PACK_VERSION,
  ANNOTATION_TITLE,
  CACHE_LAYER_FILE,
  type CacheMetadata,
  COMPONENT_LAYER_MEDIA_TYPES,
  type Descriptor,
  defaultCacheDir as defaultOciCacheDir,
  formatOciReference,
  GREENTIC_PACK_MEDIA_TYPE,
  type ImageManifest,
  isLoopbackHost,
  MAX_COMPONENT_BYTES,
  MAX_PACK_BYTES,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  type OciClientOptions,
  type OciCommandIo,
  type OciCredentials,
  type OciProgressEvent,
  type OciPullOptions,
  type OciPullResult,
  type OciPushOptions,
  type OciPushResult,
  type OciReference,
  type OciResolveResult,
  PACK_LAYER_MEDIA_TYPES,
  type PushComponentOptions,
  type PushPackOptions,
  parseOciReference,
  pullComponent,
  pullPack,
  pushComponent,
  pushPack,
  resolveRef,
  runOciCommand,
  WASM_COMPONENT_MEDIA_TYPE,
} from './oci/index.js';
export type { PackComponentEntry, PackFlowEntry, PackManifest } from './pack-manifest.js';
export { isSafePackPath, packPathProblem } from './paths.js';
export {
  type LoadedComponent,
  type LoadedPack,
  readPack,
  readPackBytes,
  type SignOptions,
  type SignResult,
  signPack,
  type VerifyOptions,
  type VerifyReport,
  verifyPack,
} from './read.js';
export {
  buildSbom,
  MANIFEST_PATH,
  mediaTypeOf,
  SBOM_FORMAT,
  SBOM_PATH,
  type Sbom,
  type SbomEntry,
  SIGNATURE_PATH,
} from './sbom.js';
export { COMPONENT_MANIFEST_SCHEMA_PATH, SCHEMA_IDS, SCHEMAS_DIR } from './schemas.js';
export {
  canonicalJson,
  MAX_SIGNATURES,
  type PackSignatureEntry,
  packDigest,
  SIGNATURE_FORMAT,
  SIGNATURES_FILE_FORMAT,
  type SignatureInfo,
  type SignatureReport,
  statementBytes,
} from './signature.js';
export { isSemver, isSupportedWorld, parseWitWorld, SUPPORTED_WORLDS, type WitWorld } from './versions.js';
export { DEFAULT_LIMITS, type ReaderLimits, readZipEntries, type ZipEntry } from './zip-read.js';
export { writeDeterministicZip } from './zip-write.js';
