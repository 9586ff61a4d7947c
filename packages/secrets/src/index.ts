export {
  type AllowListDoc,
  type AllowMatch,
  type AllowRules,
  type AllowTarget,
  parseAllowList,
  SecretsAllowList,
  type TenantAllowRules,
} from './allow-list.js';
export {
  type AuditCtx,
  type AuditSink,
  MemoryAuditLog,
  type SecretAccessReason,
  type SecretAccessRecord,
} from './audit.js';
export { EXIT_ERROR, EXIT_NEGATIVE, EXIT_OK, runSecretsCli, type SecretsCliIO } from './cli.js';
export { ENV_VERSION, EnvSecretsProvider, type EnvSecretsProviderOptions } from './env.js';
export { isSecretsError, SecretsError, type SecretsErrorCode, type SecretsErrorOptions } from './errors.js';
export {
  DEFAULT_KDF,
  EncryptedFileSecretsProvider,
  type EncryptedFileSecretsProviderOptions,
  LOCK_FILE,
  MIN_MASTER_KEY_BYTES,
  STORE_FILE,
} from './file-store.js';
export { MemorySecretsProvider, type MemorySecretsProviderOptions } from './memory.js';
export {
  DEFAULT_MOUNT_ROOT,
  MAX_MOUNTED_BYTES,
  MOUNTED_VERSION,
  MountedSecretsProvider,
  type MountedSecretsProviderOptions,
  type MountLayout,
} from './mounted.js';
export type {
  PutOptions,
  PutResult,
  SecretListFilter,
  SecretListItem,
  SecretRecord,
  SecretsProvider,
  SecretVersionInfo,
} from './provider.js';
export {
  componentSecretRequirements,
  declaredKeys,
  type PackSecretRequirement,
  type PackSecrets,
  type PackSecretsOptions,
  packSecretRequirements,
  type RequirementStatus,
  type SecretRequirement,
  type SecretsDoctorReport,
  secretsDoctor,
} from './requirements.js';
export {
  candidateUris,
  type SecretLookup,
  type SecretResolution,
  SecretsResolver,
  type SecretsResolverOptions,
} from './resolver.js';
export {
  type ApplyReport,
  type ApplySeedOptions,
  applySeed,
  formatSeed,
  parseSeed,
  type SeedDoc,
  type SeedEntry,
  type SeedValue,
  scaffoldSeed,
  seedEntryValue,
  validateSeed,
} from './seed.js';
export {
  type DeclaredSecret,
  type HostComponentSecrets,
  type HostSecretsAdapter,
  type HostSecretsCall,
  ScopedSecrets,
  type ScopedSecretsOptions,
  SecretsService,
  type SecretsServiceOptions,
} from './service.js';
export {
  canonicalSecretName,
  DEFAULT_CATEGORY,
  ENV_KEY_PREFIX,
  envKeyForUri,
  formatSecretUri,
  isDefaultTeam,
  isSecretUri,
  normalizeTeam,
  parseSecretUri,
  SECRET_URI_SCHEME,
  type SecretKeyParts,
  type SecretScope,
  type SecretUri,
  type SecretUriInit,
  type SecretUriLike,
  type SecretUriSegment,
  secretId,
  secretKeyProblem,
  secretUri,
  secretUriForKey,
  segmentProblem,
  splitSecretKey,
  TEAM_PLACEHOLDER,
  toSecretUri,
  UNIT_NAME_MARKER,
  unitSecretName,
  unitSegment,
  uriFromEnvKey,
  validateSegment,
  withoutVersion,
} from './uri.js';
export {
  isSecretFormat,
  REDACTED,
  SECRET_FORMATS,
  type SecretFormat,
  type SecretInput,
  SecretValue,
  toSecretValue,
} from './value.js';
