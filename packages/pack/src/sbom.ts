import { decodeCanonical, encodeCanonical } from './cbor.js';
import { PackError } from './errors.js';
import { blake3Hex } from './hash.js';
import { packPathProblem } from './paths.js';

/**
 * `sbom.cbor`: the inventory of every file in a pack except itself and `signatures/pack.sig` — upstream's
 * `greentic-sbom-v1` (`{format, files: [{path, size, hash_blake3, media_type}]}`), in deterministic CBOR,
 * sorted by path.
 */

export const SBOM_FORMAT = 'greentic-sbom-v1';
export const SBOM_PATH = 'sbom.cbor';
export const MANIFEST_PATH = 'manifest.cbor';
export const SIGNATURE_PATH = 'signatures/pack.sig';

export interface SbomEntry {
  path: string;
  size: number;
  /** BLAKE3-256, lowercase hex. */
  hash_blake3: string;
  media_type: string;
}

export interface Sbom {
  format: typeof SBOM_FORMAT;
  files: SbomEntry[];
}

const MEDIA_TYPES: Record<string, string> = {
  cbor: 'application/cbor',
  wasm: 'application/wasm',
  ygtc: 'application/yaml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  json: 'application/json',
  txt: 'text/plain',
  md: 'text/markdown',
  hbs: 'text/x-handlebars-template',
  html: 'text/html',
  css: 'text/css',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pem: 'application/x-pem-file',
};

/** Media type by extension (upstream's list plus common asset types); `application/octet-stream` otherwise. */
export function mediaTypeOf(path: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(path)?.[1]?.toLowerCase();
  return (ext && MEDIA_TYPES[ext]) || 'application/octet-stream';
}

/** The SBOM of `files` (archive path → bytes), sorted by path. */
export function buildSbom(files: ReadonlyMap<string, Uint8Array>): Sbom {
  const entries = [...files.entries()]
    .filter(([path]) => path !== SBOM_PATH && path !== SIGNATURE_PATH)
    .map(([path, bytes]) => ({
      path,
      size: bytes.length,
      hash_blake3: blake3Hex(bytes),
      media_type: mediaTypeOf(path),
    }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return { format: SBOM_FORMAT, files: entries };
}

export function encodeSbom(sbom: Sbom): Uint8Array {
  return encodeCanonical(sbom);
}

/** Parses an untrusted sbom.cbor; throws `GT_PACK_SBOM` when it is not a well-formed `greentic-sbom-v1`. */
export function parseSbom(bytes: Uint8Array): Sbom {
  let value: unknown;
  try {
    value = decodeCanonical(bytes);
  } catch (err) {
    throw new PackError('GT_PACK_SBOM', `sbom.cbor is ${(err as Error).message}`, {
      entry: SBOM_PATH,
      cause: err,
    });
  }
  const bad = (why: string): never => {
    throw new PackError('GT_PACK_SBOM', `sbom.cbor ${why}`, { entry: SBOM_PATH });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad('is not a map');
  const doc = value as Record<string, unknown>;
  if (doc.format !== SBOM_FORMAT) bad(`has format ${JSON.stringify(doc.format)}, expected "${SBOM_FORMAT}"`);
  const extra = Object.keys(doc).filter((k) => k !== 'format' && k !== 'files');
  if (extra.length > 0) bad(`has unknown fields (${extra.join(', ')})`);
  if (!Array.isArray(doc.files)) bad('has no "files" list');
  const files: SbomEntry[] = [];
  let previous: string | undefined;
  for (const [i, raw] of (doc.files as unknown[]).entries()) {
    const e = raw as Record<string, unknown>;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) bad(`files[${i}] is not a map`);
    const keys = Object.keys(e).sort().join(',');
    if (keys !== 'hash_blake3,media_type,path,size')
      bad(`files[${i}] must have exactly path, size, hash_blake3, media_type`);
    if (typeof e.path !== 'string' || packPathProblem(e.path) !== undefined) {
      bad(`files[${i}].path ${JSON.stringify(e.path)} is not a safe pack path`);
    }
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0)
      bad(`files[${i}].size is not a size`);
    if (typeof e.hash_blake3 !== 'string' || !/^[0-9a-f]{64}$/.test(e.hash_blake3)) {
      bad(`files[${i}].hash_blake3 is not 64 lowercase hex digits`);
    }
    if (typeof e.media_type !== 'string') bad(`files[${i}].media_type is not a string`);
    const path = e.path as string;
    if (path === SBOM_PATH || path === SIGNATURE_PATH) bad(`lists ${path}, which is never part of the SBOM`);
    if (previous !== undefined && Buffer.compare(Buffer.from(previous), Buffer.from(path)) >= 0) {
      bad(`is not sorted by path, or lists ${JSON.stringify(path)} twice`);
    }
    previous = path;
    files.push(e as unknown as SbomEntry);
  }
  return { format: SBOM_FORMAT, files };
}
