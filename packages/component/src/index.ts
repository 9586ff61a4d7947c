export { defaultCacheDir, jcoTranspileVersion } from './cache.js';
export { decodeCbor, encodeCbor } from './codec.js';
export {
  componentOfCall,
  type PolicyCapability,
  type PolicyDecision,
  type PolicyDecisionHook,
} from './decision.js';
export { type DigestAlgorithm, parseDigest, sha256Digest, verifyDigest } from './digest.js';
export {
  ComponentError,
  type ComponentErrorCode,
  type ComponentErrorOptions,
  isComponentError,
  type SerializedComponentError,
} from './errors.js';
export {
  type ComponentCallResult,
  ComponentHost,
  type ComponentHostOptions,
  type HostStats,
  type InstanceScope,
  witTenantCtx,
} from './host.js';
export { DEFAULT_HTTP_LIMITS, type FetchHostHttpOptions, fetchHostHttp } from './http.js';
export {
  type ComponentLimits,
  type ComponentSource,
  clearCompiledModules,
  DEFAULT_LIMITS,
  type LoadEvent,
  type LoadedComponent,
  type LoadOptions,
  loadComponent,
  NODE_EXPORT,
} from './load.js';
export {
  type ComponentCapabilities,
  type ComponentManifest,
  canonicalSecretKey,
  capabilitiesOf,
  GREENTIC_EXTENSION,
  type GreenticManifestExtension,
  MANIFEST_SCHEMA_PATH,
  manifestNetworkPolicy,
  NO_CAPABILITIES,
  parseManifest,
  readManifest,
  type SecretRequirement,
} from './manifest.js';
export { capMemory, type MemoryPatchResult, WASM_PAGE } from './memory-limit.js';
export {
  DEFAULT_SECRET_CATEGORY,
  defaultSecretCategory,
  egressDecision,
  egressTarget,
  isSecretUriSegment,
  isValidSecretKey,
  scopedSecretKey,
  scopedStateKey,
  scopePrefix,
} from './policy.js';
export {
  type RegisterOptions,
  WasmComponentRegistry,
  type WasmComponentRegistryOptions,
} from './registry.js';
export { buildComponentFromWat, type WatComponentOptions } from './wat.js';
