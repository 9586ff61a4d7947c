import type { ComponentManifestFormat } from './component-manifest.js';
import type {
  BootstrapSpec,
  DependencyConfig,
  ExtensionRef,
  PackKind,
  SecretRequirement,
} from './manifest.js';

/**
 * `manifest.cbor` of a Greentic-TS `.gtpack`. It follows upstream's `PackManifest` (greentic-types
 * `src/pack_manifest.rs`: schema_version "pack-v1", pack_id, name, version, kind, publisher, components,
 * flows, dependencies, capabilities, secret_requirements, bootstrap, extensions) with one deliberate
 * difference: a flow entry names its source file (`flows/<id>.ygtc`, shipped in the archive) instead of
 * embedding the flow IR, so a runner loads exactly what the build validated, with the same loader.
 * Signatures live in `signatures/pack.sig`, not in the manifest.
 */
export interface PackManifest {
  schema_version: 'pack-v1';
  pack_id: string;
  name?: string;
  version: string;
  kind: PackKind;
  publisher: string;
  components: PackComponentEntry[];
  flows: PackFlowEntry[];
  assets: { path: string }[];
  dependencies: DependencyConfig[];
  /** Capabilities derived from the components (upstream `derive_pack_capabilities`). */
  capabilities: { name: string }[];
  /** Pack-level secret requirements plus every component's, one per key. */
  secret_requirements: SecretRequirement[];
  bootstrap?: BootstrapSpec;
  extensions?: Record<string, ExtensionRef>;
  /** `pack.lock.cbor` when the pack has a lock. */
  lock?: string;
}

export interface PackComponentEntry {
  id: string;
  version: string;
  world: string;
  supports: string[];
  profiles?: { default?: string; supported: string[] };
  capabilities?: { wasi: Record<string, unknown>; host: Record<string, unknown> };
  operations: { name: string; input_schema: unknown; output_schema: unknown }[];
  config_schema?: unknown;
  resources?: Record<string, unknown>;
  configurators?: { basic?: string; full?: string };
  /** `components/<id>.wasm` */
  wasm: string;
  /** `components/<id>.manifest.cbor` */
  manifest: string;
  manifest_format: ComponentManifestFormat;
  /** BLAKE3 of the Wasm bytes, lowercase hex. */
  hash_blake3: string;
}

export interface PackFlowEntry {
  id: string;
  /** The flow's `type` (messaging, event, …). */
  kind: string;
  /** `flows/<id>.ygtc` */
  file: string;
  tags: string[];
  entrypoints: string[];
  /** The resolved start node. */
  start: string;
}
