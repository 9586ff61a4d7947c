import { Decoder, Encoder } from 'cbor-x';

/**
 * Deterministic CBOR (RFC 8949 §4.2.1 "core deterministic encoding") for manifest.cbor, sbom.cbor,
 * pack.lock.cbor and components/<id>.manifest.cbor: map keys sorted by the bytewise order of their encodings
 * (for text keys: shorter first, then byte order), definite lengths, shortest integer heads, no tags, no
 * `undefined` members. Non-integer numbers are float64.
 */

// `useTag259ForMaps` is honoured by cbor-x but missing from its typings, hence the separate object.
const encoderOptions = {
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  tagUint8Array: false,
  pack: false,
  structuredClone: false,
  useFloat32: 0,
  bundleStrings: false,
  useTag259ForMaps: false,
};
const encoder = new Encoder(encoderOptions);

const decoder = new Decoder({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
  bundleStrings: false,
});

const textEncoder = new TextEncoder();

/** RFC 8949 deterministic key order for text keys. */
export function compareCborKeys(a: string, b: string): number {
  const ea = textEncoder.encode(a);
  const eb = textEncoder.encode(b);
  if (ea.length !== eb.length) return ea.length - eb.length;
  for (let i = 0; i < ea.length; i++) if (ea[i] !== eb[i]) return ea[i]! - eb[i]!;
  return 0;
}

function canonical(value: unknown, depth: number): unknown {
  if (depth > 64) throw new Error('value nests deeper than 64 levels');
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('non-finite number');
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
      throw new Error(`cannot encode a ${typeof value}`);
    }
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => canonical(v === undefined ? null : v, depth + 1));
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => compareCborKeys(a, b));
  return new Map(entries.map(([k, v]) => [k, canonical(v, depth + 1)]));
}

/** Encodes JSON-like data (plus byte strings) deterministically. */
export function encodeCanonical(value: unknown): Uint8Array {
  return new Uint8Array(encoder.encode(canonical(value, 0)));
}

/**
 * Decodes untrusted CBOR into plain data. Throws when the bytes are not one complete CBOR item, hold
 * anything but maps with text keys, arrays, text, byte strings, numbers, booleans and null, or are not in
 * the deterministic encoding (so one value has exactly one encoding).
 */
export function decodeCanonical(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    throw new Error(`not valid CBOR: ${(err as Error).message}`);
  }
  assertPlain(value, 0);
  const again = encodeCanonical(value);
  if (!equalBytes(again, bytes)) throw new Error('not in deterministic CBOR encoding (RFC 8949 §4.2.1)');
  return value;
}

function assertPlain(v: unknown, depth: number): void {
  if (depth > 64) throw new Error('nests deeper than 64 levels');
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('holds a non-finite number');
    return;
  }
  if (v instanceof Uint8Array) return;
  if (Array.isArray(v)) {
    for (const x of v) assertPlain(x, depth + 1);
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v as Record<string, unknown>)) assertPlain(x, depth + 1);
    return;
  }
  throw new Error(`holds a value of an unsupported type (${Object.prototype.toString.call(v)})`);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
