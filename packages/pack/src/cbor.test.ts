import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from './cbor.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('deterministic CBOR', () => {
  it('sorts map keys by their encoding (shorter first, then bytewise), whatever the insertion order', () => {
    // {"a": 2, "b": 1, "10": true, "aa": [1, "x"]}
    expect(hex(encodeCanonical({ b: 1, aa: [1, 'x'], 10: true, a: 2 }))).toBe(
      'a4616102616201623130f562616182016178',
    );
  });

  it('drops undefined members and writes byte strings untagged, integers in their shortest form', () => {
    expect(hex(encodeCanonical({ u: undefined, x: new Uint8Array([1, 2]), n: 70000 }))).toBe(
      'a2616e1a00011170617842' + '0102',
    );
  });

  it('round-trips plain data', () => {
    const v = { format: 'greentic-sbom-v1', files: [{ path: 'a', size: 1, ok: true, none: null, f: 1.5 }] };
    expect(decodeCanonical(encodeCanonical(v))).toEqual(v);
  });

  it('refuses non-canonical encodings, tags, non-text keys and trailing bytes', () => {
    expect(() => decodeCanonical(new Uint8Array([0xb9, 0x00, 0x01, 0x61, 0x61, 0x01]))).toThrow(
      /deterministic/,
    ); // map16 header
    expect(() => decodeCanonical(new Uint8Array([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]))).toThrow(
      /deterministic/,
    ); // unsorted
    expect(() => decodeCanonical(new Uint8Array([0xc1, 0x01]))).toThrow(/unsupported type/); // tag 1 (date)
    expect(() => decodeCanonical(new Uint8Array([0xa1, 0x01, 0x01]))).toThrow(/deterministic/); // integer key
    expect(() => decodeCanonical(new Uint8Array([0xa1, 0x61, 0x61, 0x01, 0x00]))).toThrow(/not valid CBOR/);
  });
});
