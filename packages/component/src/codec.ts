import { Decoder, Encoder } from 'cbor-x';
import { ComponentError } from './errors.js';

// Plain CBOR (no cbor-x record extension): maps decode to plain objects, so any CBOR implementation interoperates.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Encodes a JSON-like value as CBOR (`undefined` becomes CBOR null). */
export function encodeCbor(value: unknown, what = 'payload'): Uint8Array {
  try {
    return new Uint8Array(encoder.encode(value === undefined ? null : value));
  } catch (cause) {
    throw new ComponentError(
      'GT_COMPONENT_CODEC',
      `cannot encode the ${what} as CBOR: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** Decodes CBOR bytes; empty bytes decode to `null`. */
export function decodeCbor(bytes: Uint8Array, what = 'output', component?: string): unknown {
  if (bytes.length === 0) return null;
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new ComponentError(
      'GT_COMPONENT_CODEC',
      `the ${what} of component "${component ?? '?'}" is not valid CBOR: ${(cause as Error).message}`,
      {
        component,
        cause,
      },
    );
  }
}
