// The guest CBOR codec (bundled into components) must agree with the host's (cbor-x, plain CBOR).
import { decode as cborxDecode, Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../guest/cbor.js';

const host = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

const samples: unknown[] = [
  0,
  23,
  24,
  255,
  256,
  65_535,
  65_536,
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  -1,
  -24,
  -25,
  -(2 ** 40),
  1.5,
  -0.1,
  Math.PI,
  '',
  'héllo wörld — ☀️',
  'x'.repeat(300),
  true,
  false,
  null,
  [],
  [1, 'two', [3, [4]], { five: 5 }],
  { city: 'Paris', days: [{ date: '2025-06-02', min_c: 12, max_c: 21.5, summary: 'clear sky' }] },
  { nested: { deeper: { deepest: [null, true] } } },
  new Uint8Array([0, 1, 2, 255]),
];

describe('guest CBOR codec', () => {
  it('round-trips JSON-like values', () => {
    for (const v of samples) expect(decodeCbor(encodeCbor(v))).toEqual(v);
  });

  it('is read by the host (cbor-x) and reads what the host writes', () => {
    for (const v of samples) {
      expect(cborxDecode(encodeCbor(v))).toEqual(v);
      expect(decodeCbor(new Uint8Array(host.encode(v)))).toEqual(v);
    }
  });

  it('writes integers in the shortest form and leaves out undefined properties, like JSON', () => {
    expect([...encodeCbor(10)]).toEqual([0x0a]);
    expect([...encodeCbor(500)]).toEqual([0x19, 0x01, 0xf4]);
    expect([...encodeCbor(-1)]).toEqual([0x20]);
    expect(decodeCbor(encodeCbor({ a: 1, b: undefined }))).toEqual({ a: 1 });
    expect(decodeCbor(encodeCbor(10n))).toBe(10);
  });

  it('reads half/single floats, indefinite lengths and tags', () => {
    expect(decodeCbor(new Uint8Array([0xf9, 0x3c, 0x00]))).toBe(1);
    expect(decodeCbor(new Uint8Array([0xfa, 0x3f, 0xc0, 0x00, 0x00]))).toBe(1.5);
    expect(decodeCbor(new Uint8Array([0x9f, 0x01, 0x02, 0xff]))).toEqual([1, 2]);
    expect(decodeCbor(new Uint8Array([0xbf, 0x61, 0x61, 0x01, 0xff]))).toEqual({ a: 1 });
    expect(decodeCbor(new Uint8Array([0x7f, 0x61, 0x61, 0x61, 0x62, 0xff]))).toBe('ab');
    expect(decodeCbor(new Uint8Array([0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0]))).toBe(1363896240);
    expect(decodeCbor(new Uint8Array(0))).toBeUndefined();
  });

  it('rejects truncated input, trailing bytes and invalid UTF-8', () => {
    expect(() => decodeCbor(new Uint8Array([0x19, 0x01]))).toThrow(/ends early/);
    expect(() => decodeCbor(new Uint8Array([0x01, 0x02]))).toThrow(/1 bytes left/);
    expect(() => decodeCbor(new Uint8Array([0x61, 0xff]))).toThrow();
    expect(() => decodeCbor(new Uint8Array([0xff]))).toThrow(/break/);
  });

  it('does not let a map key reach the prototype', () => {
    const v = decodeCbor(encodeCbor(JSON.parse('{"__proto__": {"polluted": true}}'))) as Record<
      string,
      unknown
    >;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(v)).toEqual(['__proto__']);
  });

  it('refuses values it cannot encode', () => {
    expect(() => encodeCbor(Symbol('x'))).toThrow(/cannot encode a value of type symbol/);
    const deep: unknown[] = [];
    let cur = deep;
    for (let i = 0; i < 300; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    expect(() => encodeCbor(deep)).toThrow(/nested too deeply/);
  });
});
