/**
 * @greentic/pack — Greentic packs: pack.yaml validation with source positions, the deterministic `.gtpack`
 * build (stored ZIP, deterministic CBOR, BLAKE3 SBOM), ed25519 signing stored inside the archive, the hardened
 * reader that verifies everything before anything is parsed, and the `packc` CLI.
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
  type ComponentManifestFormat,
  checkComponentManifest,
  componentManifestFormat,
} from './component-manifest.js';
export {
  formatLocation,
  formatProblem,
  isPackError,
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
