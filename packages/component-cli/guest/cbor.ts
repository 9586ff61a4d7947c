/**
 * A small CBOR (RFC 8949) codec for components: `greentic:component@0.6.0` carries every payload as CBOR. It
 * covers what JSON-like data needs — integers, floats, strings, byte strings, arrays, maps, booleans, null and
 * undefined — and reads what other encoders write (indefinite lengths, half/single floats, tags, 64-bit ints).
 * It runs inside the component (no Node APIs).
 */

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  byte(b: number) {
    this.reserve(1);
    this.buf[this.length++] = b;
  }
  bytes(b: Uint8Array) {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  head(major: number, n: number) {
    const m = major << 5;
    if (n < 24) this.byte(m | n);
    else if (n < 0x100) {
      this.byte(m | 24);
      this.byte(n);
    } else if (n < 0x10000) {
      this.reserve(3);
      this.buf[this.length++] = m | 25;
      this.view.setUint16(this.length, n);
      this.length += 2;
    } else if (n < 0x100000000) {
      this.reserve(5);
      this.buf[this.length++] = m | 26;
      this.view.setUint32(this.length, n);
      this.length += 4;
    } else {
      this.reserve(9);
      this.buf[this.length++] = m | 27;
      this.view.setBigUint64(this.length, BigInt(n));
      this.length += 8;
    }
  }
  float64(x: number) {
    this.reserve(9);
    this.buf[this.length++] = 0xfb;
    this.view.setFloat64(this.length, x);
    this.length += 8;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const SIMPLE = new Map<unknown, number>([
  [false, 0xf4],
  [true, 0xf5],
  [null, 0xf6],
  [undefined, 0xf7],
]);

function writeMap(w: Writer, entries: [unknown, unknown][], depth: number): void {
  w.head(5, entries.length);
  for (const [k, v] of entries) {
    write(w, k, depth + 1);
    write(w, v, depth + 1);
  }
}

function write(w: Writer, value: unknown, depth: number): void {
  if (depth > 256) throw new TypeError('cbor: value is nested too deeply (more than 256 levels)');
  const simple = SIMPLE.get(value);
  if (simple !== undefined) {
    w.byte(simple);
  } else if (typeof value === 'number') {
    // Integers up to 32 bits as CBOR integers; larger ones as float64 (exact up to 2^53), which every decoder reads
    // as a number (cbor-x, for one, reads 64-bit integers as BigInt).
    if (Number.isInteger(value) && !Object.is(value, -0) && value < 2 ** 32 && value >= -(2 ** 32)) {
      if (value >= 0) w.head(0, value);
      else w.head(1, -1 - value);
    } else w.float64(value);
  } else if (typeof value === 'bigint') {
    write(w, Number(value), depth);
  } else if (typeof value === 'string') {
    const b = textEncoder.encode(value);
    w.head(3, b.length);
    w.bytes(b);
  } else if (value instanceof Uint8Array) {
    w.head(2, value.length);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.head(4, value.length);
    for (const v of value) write(w, v, depth + 1);
  } else if (value instanceof Date) {
    write(w, value.toISOString(), depth);
  } else if (value instanceof Map) {
    writeMap(w, [...value.entries()], depth);
  } else if (typeof value === 'object') {
    // Like JSON: properties whose value is undefined or a function are left out.
    writeMap(
      w,
      Object.entries(value as Record<string, unknown>).filter(
        ([, v]) => v !== undefined && typeof v !== 'function',
      ),
      depth,
    );
  } else {
    throw new TypeError(`cbor: cannot encode a value of type ${typeof value}`);
  }
}

/** Encodes a JSON-like value as CBOR. Objects become maps with text keys; Uint8Array becomes a byte string. */
export function encodeCbor(value: unknown): Uint8Array {
  const w = new Writer();
  write(w, value, 0);
  return w.result();
}

const BREAK = Symbol('break');

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number) {
    if (this.pos + n > this.buf.length) throw new RangeError(`cbor: input ends early (at byte ${this.pos})`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  arg(info: number): number {
    if (info < 24) return info;
    if (info === 24) return this.u8();
    if (info === 25) {
      this.need(2);
      const v = this.view.getUint16(this.pos);
      this.pos += 2;
      return v;
    }
    if (info === 26) {
      this.need(4);
      const v = this.view.getUint32(this.pos);
      this.pos += 4;
      return v;
    }
    if (info === 27) {
      this.need(8);
      const v = this.view.getBigUint64(this.pos);
      this.pos += 8;
      return Number(v);
    }
    throw new RangeError(`cbor: invalid additional information ${info} at byte ${this.pos - 1}`);
  }
  slice(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  item(depth: number): unknown {
    if (depth > 256) throw new RangeError('cbor: input is nested too deeply (more than 256 levels)');
    const first = this.u8();
    const major = first >> 5;
    const info = first & 0x1f;
    switch (major) {
      case 0:
        return this.arg(info);
      case 1:
        return -1 - this.arg(info);
      case 2:
      case 3: {
        let bytes: Uint8Array;
        if (info === 31) {
          const chunks: Uint8Array[] = [];
          for (;;) {
            const c = this.item(depth + 1);
            if (c === BREAK) break;
            chunks.push(typeof c === 'string' ? textEncoder.encode(c) : (c as Uint8Array));
          }
          bytes = concat(chunks);
        } else bytes = this.slice(this.arg(info));
        return major === 2 ? bytes : textDecoder.decode(bytes);
      }
      case 4: {
        const out: unknown[] = [];
        if (info === 31) {
          for (;;) {
            const v = this.item(depth + 1);
            if (v === BREAK) return out;
            out.push(v);
          }
        }
        const n = this.arg(info);
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const out: Record<string, unknown> = {};
        const put = (k: unknown, v: unknown) => {
          const key = typeof k === 'string' ? k : JSON.stringify(k);
          Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
        };
        if (info === 31) {
          for (;;) {
            const k = this.item(depth + 1);
            if (k === BREAK) return out;
            put(k, this.item(depth + 1));
          }
        }
        const n = this.arg(info);
        for (let i = 0; i < n; i++) put(this.item(depth + 1), this.item(depth + 1));
        return out;
      }
      case 6:
        this.arg(info); // tag number: the tagged value is returned as is
        return this.item(depth + 1);
      default:
        return this.simple(info);
    }
  }
  simple(info: number): unknown {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25: {
        this.need(2);
        const h = this.view.getUint16(this.pos);
        this.pos += 2;
        return half(h);
      }
      case 26: {
        this.need(4);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        return v;
      }
      case 31:
        return BREAK;
      default:
        if (info === 24) return this.u8();
        return info;
    }
  }
}

function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Decodes one CBOR item. Maps become plain objects (non-text keys are written as JSON text). */
export function decodeCbor(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  const r = new Reader(bytes);
  const v = r.item(0);
  if (v === BREAK) throw new RangeError('cbor: unexpected "break" byte');
  if (r.pos !== bytes.length)
    throw new RangeError(`cbor: ${bytes.length - r.pos} bytes left after the value`);
  return v;
}
