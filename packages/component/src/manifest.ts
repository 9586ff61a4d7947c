import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Limits, type NetworkPolicy, validateNetworkPolicy } from '@greentic/types';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { ComponentError } from './errors.js';

/** A secret requirement (upstream `secret_requirement` / `host_secret_requirement`). */
export interface SecretRequirement {
  key: string;
  required: boolean;
  description?: string;
  scope: { env: string; tenant: string; team?: string; vars?: Record<string, string> };
  format: 'bytes' | 'text' | 'json';
  schema?: Record<string, unknown>;
  examples?: string[];
}

/** Upstream `component.manifest.json` (schema v1; only the parts the host reads are typed precisely). */
export interface ComponentManifest {
  id: string;
  name: string;
  version: string;
  world: string;
  describe_export: string;
  config_schema: Record<string, unknown>;
  operations: {
    name: string;
    input_schema: Record<string, unknown>;
    output_schema: Record<string, unknown>;
  }[];
  default_operation?: string;
  supports: string[];
  profiles: { default?: string; supported: string[] };
  capabilities: {
    wasi: {
      filesystem?: { mode: 'none' | 'read_only' | 'sandbox'; mounts?: unknown[] };
      env?: { allow?: string[] };
      random?: boolean;
      clocks?: boolean;
    };
    host: {
      secrets?: { required?: SecretRequirement[] };
      state?: { read?: boolean; write?: boolean; delete?: boolean };
      messaging?: { inbound?: boolean; outbound?: boolean };
      events?: { inbound?: boolean; outbound?: boolean };
      http?: { client?: boolean; server?: boolean };
      telemetry?: { scope?: 'tenant' | 'pack' | 'node' };
      iac?: { write_templates?: boolean; execute_plans?: boolean };
    };
  };
  secret_requirements?: SecretRequirement[];
  limits?: Limits;
  telemetry?: { span_prefix: string; attributes?: Record<string, string>; emit_node_spans?: boolean };
  provenance?: Record<string, string>;
  artifacts: { component_wasm: string };
  hashes: { component_wasm: string };
  /** Greentic-TS extensions (see {@link GREENTIC_EXTENSION}); not part of upstream's schema. */
  'x-greentic'?: GreenticManifestExtension;
  /** Deprecated place of `x-greentic.network` (what greentic-component wrote first); still read. */
  network?: NetworkPolicy;
  [extra: string]: unknown;
}

/**
 * The key of a component manifest that holds Greentic-TS extensions. Upstream's manifest schema is closed (no
 * unknown top-level keys), so the host takes this key out before validating the rest against the upstream schema
 * and validates it on its own. A manifest without it is exactly an upstream manifest.
 */
export const GREENTIC_EXTENSION = 'x-greentic';

/** `"x-greentic": {...}` of a component manifest. */
export interface GreenticManifestExtension {
  /**
   * The component's outbound HTTP policy (`{egress: {domains, ports?, protocols?}, deny_on_miss}`), used when the
   * deployer gives none (`ComponentSource.network` replaces it).
   */
  network?: NetworkPolicy;
}

/** What a component may do, resolved from its manifest. Everything absent is denied. */
export interface ComponentCapabilities {
  /** Canonical (lowercase) secret keys the component may read. */
  secrets: ReadonlySet<string>;
  state: { read: boolean; write: boolean; delete: boolean };
  http: boolean;
  wasi: { random: boolean; clocks: boolean };
}

/** No capabilities at all: what a component without a manifest gets. */
export const NO_CAPABILITIES: ComponentCapabilities = Object.freeze({
  secrets: new Set<string>(),
  state: { read: false, write: false, delete: false },
  http: false,
  wasi: { random: false, clocks: false },
});

export const MANIFEST_SCHEMA_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'schemas',
  'component.manifest.schema.json',
);

let validator: ValidateFunction | undefined;
function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
    // Upstream annotation keywords: no validation meaning.
    for (const keyword of ['x-default-applied', 'x-redact', 'x-capability']) ajv.addKeyword(keyword);
    validator = ajv.compile(JSON.parse(readFileSync(MANIFEST_SCHEMA_PATH, 'utf8')));
  }
  return validator;
}

function issue(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(root)' : e.instancePath;
  const extra =
    e.keyword === 'additionalProperties'
      ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
      : '';
  return `${where}: ${e.message}${extra}`;
}

/**
 * Validates an untrusted manifest: everything but the Greentic-TS extensions against the upstream v1 JSON Schema, and
 * the extensions on their own: `x-greentic` (`{network?}`), and the deprecated top-level `network`. Throws
 * `GT_COMPONENT_MANIFEST` listing every problem.
 */
export function parseManifest(input: unknown, source = 'component manifest'): ComponentManifest {
  const doc = typeof input === 'string' ? parseJson(input, source) : input;
  const isObject = typeof doc === 'object' && doc !== null && !Array.isArray(doc);
  const {
    [GREENTIC_EXTENSION]: extension,
    network: legacyNetwork,
    ...upstream
  } = isObject ? (doc as Record<string, unknown>) : {};
  const validate = getValidator();
  const issues: string[] = [];
  if (!validate(isObject ? upstream : doc)) issues.push(...(validate.errors ?? []).map(issue));
  if (extension !== undefined) issues.push(...extensionProblems(extension));
  if (legacyNetwork !== undefined) {
    const problem = networkProblem('/network', legacyNetwork);
    if (problem) issues.push(problem);
    if ((extension as GreenticManifestExtension | undefined)?.network !== undefined) {
      issues.push(
        `/network: the network policy is given twice: keep only "${GREENTIC_EXTENSION}": {"network": {...}} (top-level "network" is its old place)`,
      );
    }
  }
  if (issues.length > 0) {
    throw new ComponentError('GT_COMPONENT_MANIFEST', `${source} is invalid: ${issues.join('; ')}`);
  }
  return doc as ComponentManifest;
}

function networkProblem(at: string, value: unknown): string | undefined {
  try {
    validateNetworkPolicy(value);
    return undefined;
  } catch (e) {
    return `${at}: is not a network policy: ${(e as Error).message} (write {"egress": {"domains": ["api.example.com"], "protocols": ["https"]}, "deny_on_miss": true})`;
  }
}

function extensionProblems(ext: unknown): string[] {
  const at = `/${GREENTIC_EXTENSION}`;
  if (typeof ext !== 'object' || ext === null || Array.isArray(ext)) return [`${at}: must be object`];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(ext)) {
    if (key !== 'network') {
      problems.push(
        `${at}: must NOT have additional properties "${key}" (the Greentic-TS extensions: network)`,
      );
      continue;
    }
    const problem = networkProblem(`${at}/network`, value);
    if (problem) problems.push(problem);
  }
  return problems;
}

/**
 * The network policy a (validated) manifest declares — `x-greentic.network`, or the deprecated top-level `network`
 * — or `undefined`. The one place that reads it: the host uses it as the component's policy when
 * `ComponentSource.network` is not given.
 */
export function manifestNetworkPolicy(manifest: ComponentManifest | undefined): NetworkPolicy | undefined {
  const network = manifest?.[GREENTIC_EXTENSION]?.network ?? manifest?.network;
  return network === undefined ? undefined : validateNetworkPolicy(network);
}

/** Reads and validates a `component.manifest.json` file. */
export function readManifest(path: string): ComponentManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ComponentError('GT_COMPONENT_MANIFEST', `cannot read component manifest ${path}`, { cause });
  }
  return parseManifest(text, path);
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ComponentError('GT_COMPONENT_MANIFEST', `${source} is not JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/** Canonical form of a secret key (upstream SecretKey: lowercase). */
export function canonicalSecretKey(key: string): string {
  return key.toLowerCase();
}

/**
 * The capabilities a manifest grants: secrets from `capabilities.host.secrets.required` and top-level
 * `secret_requirements`; state operations, HTTP client and WASI random/clocks only when set to `true`.
 */
export function capabilitiesOf(manifest: ComponentManifest | undefined): ComponentCapabilities {
  if (!manifest) return NO_CAPABILITIES;
  const host = manifest.capabilities.host;
  const secrets = new Set<string>();
  for (const r of [...(host.secrets?.required ?? []), ...(manifest.secret_requirements ?? [])]) {
    secrets.add(canonicalSecretKey(r.key));
  }
  return {
    secrets,
    state: {
      read: host.state?.read === true,
      write: host.state?.write === true,
      delete: host.state?.delete === true,
    },
    http: host.http?.client === true,
    wasi: {
      random: manifest.capabilities.wasi.random === true,
      clocks: manifest.capabilities.wasi.clocks === true,
    },
  };
}
