import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * The JSON schemas packc validates with, compiled once per process into one Ajv instance (so that our
 * schemas can `$ref` parts of upstream's component manifest schema). The component manifest schema is the
 * one `@greentic/component` ships (upstream's `component.manifest.schema.json`, verbatim); ours live in
 * this package's `schemas/`.
 */

const here = dirname(fileURLToPath(import.meta.url));
/** This package's `schemas/` directory. */
export const SCHEMAS_DIR = join(here, '..', 'schemas');

/** Path of upstream's component manifest schema, as shipped by `@greentic/component`. */
export const COMPONENT_MANIFEST_SCHEMA_PATH = createRequire(import.meta.url).resolve(
  '@greentic/component/schemas/component.manifest.schema.json',
);

export const SCHEMA_IDS = {
  pack: 'https://greentic.dev/schemas/pack/v1/pack.schema.json',
  packComponent: 'https://greentic.dev/schemas/pack/v1/pack-component.schema.json',
  packManifest: 'https://greentic.dev/schemas/pack/v1/pack-manifest.schema.json',
  lock: 'https://greentic.dev/schemas/pack/v1/pack.lock.schema.json',
  toolmap: 'https://greentic.dev/schemas/pack/v1/toolmap.schema.json',
  flowResolve: 'https://greentic.dev/schemas/pack/v1/flow-resolve.schema.json',
  componentManifest:
    'https://greenticai.github.io/greentic-component/schemas/v1/component.manifest.schema.json',
} as const;

const FILES = [
  'pack.schema.json',
  'pack-component.schema.json',
  'pack-manifest.schema.json',
  'pack.lock.schema.json',
  'toolmap.schema.json',
  'flow-resolve.schema.json',
];

let ajv: Ajv2020 | undefined;
function instance(): Ajv2020 {
  if (!ajv) {
    const a = new Ajv2020({
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      validateFormats: false,
    });
    // Annotation keywords: upstream's, and ours (a human hint for `pattern` errors).
    for (const keyword of ['x-default-applied', 'x-redact', 'x-capability', 'x-hint']) a.addKeyword(keyword);
    a.addSchema(JSON.parse(readFileSync(COMPONENT_MANIFEST_SCHEMA_PATH, 'utf8')));
    for (const f of FILES) a.addSchema(JSON.parse(readFileSync(join(SCHEMAS_DIR, f), 'utf8')));
    ajv = a;
  }
  return ajv;
}

const cache = new Map<string, ValidateFunction>();

/** The compiled validator for a schema id (optionally with a `#/$defs/…` fragment). */
export function validator(ref: string): ValidateFunction {
  let v = cache.get(ref);
  if (!v) {
    v = instance().getSchema(ref);
    if (!v) throw new Error(`internal: schema ${ref} is not registered`);
    cache.set(ref, v);
  }
  return v;
}
