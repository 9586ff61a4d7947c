import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll } from 'vitest';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const HELLO = join(FIXTURES, 'hello');

/** A temporary directory removed after the test file. */
export function tempDir(prefix = 'packc-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of a fixture pack in a temporary directory (so tests can edit it). */
export function copyFixture(name = 'hello'): string {
  const dir = join(tempDir(), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/**
 * One entry of a hand-made ZIP. Everything a malicious archive could lie about can be set: the name (even
 * one a ZIP library would refuse), method, flags, sizes, CRC, Unix mode, and the local header's own copy.
 */
export interface RawEntry {
  name: string | Uint8Array;
  data?: Uint8Array | string;
  /** 0 stored (default), 8 deflate (data is deflated unless `compressed` is given), anything else verbatim. */
  method?: number;
  /** The bytes stored in the archive (defaults to `data`, deflated for method 8). */
  compressed?: Uint8Array;
  /** Declared uncompressed size (defaults to the real one). */
  size?: number;
  /** Declared compressed size (defaults to the real one). */
  compressedSize?: number;
  crc?: number;
  flags?: number;
  /** Unix mode (type and permission bits), written in the high 16 bits of the external attributes. */
  mode?: number;
  /** Raw external attributes (overrides `mode`). */
  externalAttrs?: number;
  /** Host system in "version made by" (3 = Unix, 0 = DOS). */
  host?: number;
  /** A different name in the local header only. */
  localName?: string;
  /** Omit the data bytes from the archive (the header still declares them). */
  truncate?: boolean;
}

/** Builds ZIP bytes exactly as described, with no validation at all. */
export function rawZip(
  entries: readonly RawEntry[],
  opts: { comment?: string; trailing?: Uint8Array } = {},
): Uint8Array {
  const enc = new TextEncoder();
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? enc.encode(e.name) : e.name;
    const localName = e.localName !== undefined ? enc.encode(e.localName) : name;
    const data = typeof e.data === 'string' ? enc.encode(e.data) : (e.data ?? new Uint8Array());
    const method = e.method ?? 0;
    const stored = e.compressed ?? (method === 8 ? new Uint8Array(deflateRawSync(data)) : data);
    const crc = e.crc ?? crc32(data) >>> 0;
    const size = e.size ?? data.length;
    const csize = e.compressedSize ?? stored.length;
    const flags = e.flags ?? 0x0800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(csize, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(localName.length, 26);
    local.writeUInt16LE(0, 28);
    const body = e.truncate ? Buffer.alloc(0) : Buffer.from(stored);
    const localBytes = Buffer.concat([local, Buffer.from(localName), body]);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(((e.host ?? 3) << 8) | 63, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(csize, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30);
    central.writeUInt16LE(0, 32);
    central.writeUInt16LE(0, 34);
    central.writeUInt16LE(0, 36);
    central.writeUInt32LE(e.externalAttrs ?? ((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(Buffer.concat([central, Buffer.from(name)]));
    locals.push(localBytes);
    offset += localBytes.length;
  }
  const trailing = Buffer.from(opts.trailing ?? new Uint8Array());
  const cd = Buffer.concat(centrals);
  const comment = Buffer.from(opts.comment ?? '');
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset + trailing.length, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return new Uint8Array(Buffer.concat([...locals, trailing, cd, eocd, comment]));
}

/** Entries of a well-formed archive as raw entries (to rebuild it with one thing changed). */
export function rawEntriesOf(files: ReadonlyMap<string, Uint8Array>): RawEntry[] {
  return [...files.entries()].map(([name, data]) => ({ name, data }));
}
