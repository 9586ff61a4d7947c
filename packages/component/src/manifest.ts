import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Limits } from '@greentic/types';
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
  [extra: string]: unknown;
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

/** Validates an untrusted manifest against the upstream v1 JSON Schema; throws `GT_COMPONENT_MANIFEST` listing every problem. */
export function parseManifest(input: unknown, source = 'component manifest'): ComponentManifest {
  const doc = typeof input === 'string' ? parseJson(input, source) : input;
  const validate = getValidator();
  if (!validate(doc)) {
    const issues = (validate.errors ?? []).map(issue);
    throw new ComponentError('GT_COMPONENT_MANIFEST', `${source} is invalid: ${issues.join('; ')}`);
  }
  return doc as ComponentManifest;
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
