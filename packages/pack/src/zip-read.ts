import { crc32, inflateRawSync } from 'node:zlib';
import { PackError } from './errors.js';
import { packPathProblem } from './paths.js';

/**
 * The hardened ZIP reader: it trusts nothing in the archive. Every check runs on the central directory
 * before any entry is extracted (names, types, duplicates, methods, declared sizes and their totals), then
 * each local header must repeat its central record exactly, entries must tile the archive with no gap or
 * overlap, and every entry is extracted under its declared size (deflate is inflated with a hard output cap)
 * and checked against its CRC-32. Nothing is parsed as content here.
 */

export interface ReaderLimits {
  /** Largest archive, and largest sum of entry sizes (bytes). Default 64 MiB. */
  maxArchiveBytes: number;
  /** Largest single entry (bytes). Default 16 MiB. */
  maxEntryBytes: number;
  /** Most entries. Default 10,000. */
  maxEntries: number;
  /** Largest inflated/deflated ratio for a deflated entry above `ratioFloorBytes`. Default 100. */
  maxCompressionRatio: number;
  /** Entries up to this size are not ratio-checked (tiny files compress well). Default 1 MiB. */
  ratioFloorBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_LIMITS: Readonly<ReaderLimits> = Object.freeze({
  maxArchiveBytes: 64 * MiB,
  maxEntryBytes: 16 * MiB,
  maxEntries: 10_000,
  maxCompressionRatio: 100,
  ratioFloorBytes: MiB,
});

export interface ZipEntry {
  path: string;
  data: Uint8Array;
  /** 0 stored, 8 deflate. */
  method: number;
  /** Bytes the entry occupies in the archive (compressed). */
  compressedSize: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Central {
  path: string;
  rawName: Uint8Array;
  versionNeeded: number;
  flags: number;
  method: number;
  time: number;
  date: number;
  crc: number;
  csize: number;
  usize: number;
  localOffset: number;
}

function fail(code: ConstructorParameters<typeof PackError>[0], message: string, entry?: string): never {
  throw new PackError(code, message, entry !== undefined ? { entry } : {});
}

const MiBs = (n: number) => `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB`;

function fileTypeName(type: number): string {
  switch (type) {
    case 0o120000:
      return 'a symbolic link';
    case 0o040000:
      return 'a directory';
    case 0o020000:
      return 'a character device';
    case 0o060000:
      return 'a block device';
    case 0o010000:
      return 'a FIFO';
    case 0o140000:
      return 'a socket';
    default:
      return `a non-regular file (type 0o${type.toString(8)})`;
  }
}

/** Reads and checks every entry of a ZIP archive; throws a `PackError` naming the first problem. */
export function readZipEntries(bytes: Uint8Array, limits: ReaderLimits = DEFAULT_LIMITS): ZipEntry[] {
  if (bytes.length > limits.maxArchiveBytes) {
    fail(
      'GT_PACK_TOO_LARGE',
      `the archive is ${bytes.length} bytes, more than the ${MiBs(limits.maxArchiveBytes)} a pack may have; split it or move large assets out of the pack`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);

  // End of central directory: it must end the file exactly (after its comment).
  let eocd = -1;
  for (let o = bytes.length - EOCD_SIZE; o >= 0 && o >= bytes.length - EOCD_SIZE - 0xffff; o--) {
    if (u32(o) === SIG_EOCD && o + EOCD_SIZE + u16(o + 20) === bytes.length) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0)
    fail('GT_PACK_ARCHIVE', 'not a ZIP archive (no end-of-central-directory record); is this a .gtpack?');
  const disk = u16(eocd + 4);
  const cdDisk = u16(eocd + 6);
  const onDisk = u16(eocd + 8);
  const total = u16(eocd + 10);
  const cdSize = u32(eocd + 12);
  const cdOffset = u32(eocd + 16);
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    fail('GT_PACK_ARCHIVE', 'the archive uses ZIP64, which a pack (at most 64 MiB) never needs');
  }
  if (disk !== 0 || cdDisk !== 0 || onDisk !== total)
    fail('GT_PACK_ARCHIVE', 'multi-disk ZIP archives are not supported');
  if (total > limits.maxEntries) {
    fail(
      'GT_PACK_TOO_LARGE',
      `the archive has ${total} entries, more than the ${limits.maxEntries} a pack may have`,
    );
  }
  if (cdOffset + cdSize !== eocd) {
    fail(
      'GT_PACK_ARCHIVE',
      'the central directory does not end where the end-of-central-directory record starts',
    );
  }

  // Central directory: all metadata checks, before any data is touched.
  const centrals: Central[] = [];
  const seen = new Set<string>();
  let sum = 0;
  let o = cdOffset;
  for (let i = 0; i < total; i++) {
    if (o + CENTRAL_SIZE > eocd || u32(o) !== SIG_CENTRAL) {
      fail('GT_PACK_ARCHIVE', `central directory record #${i + 1} is missing or truncated`);
    }
    const madeBy = u16(o + 4);
    const versionNeeded = u16(o + 6);
    const flags = u16(o + 8);
    const method = u16(o + 10);
    const time = u16(o + 12);
    const date = u16(o + 14);
    const crc = u32(o + 16);
    const csize = u32(o + 20);
    const usize = u32(o + 24);
    const nameLen = u16(o + 28);
    const extraLen = u16(o + 30);
    const commentLen = u16(o + 32);
    const diskStart = u16(o + 34);
    const extAttr = u32(o + 38);
    const localOffset = u32(o + 42);
    const end = o + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (end > eocd) fail('GT_PACK_ARCHIVE', `central directory record #${i + 1} runs past the directory`);
    const rawName = bytes.subarray(o + CENTRAL_SIZE, o + CENTRAL_SIZE + nameLen);
    let path: string;
    try {
      path = utf8.decode(rawName);
    } catch {
      fail('GT_PACK_PATH_ESCAPE', `entry #${i + 1} has a name that is not valid UTF-8`);
    }
    const shown = JSON.stringify(path);
    if (path.endsWith('/') || (extAttr & 0x10) !== 0) {
      fail('GT_PACK_LINK', `entry ${shown} is a directory; a pack holds only regular files`, path);
    }
    const host = madeBy >> 8;
    if (host === 3 || host === 19) {
      const type = (extAttr >>> 16) & 0o170000;
      if (type !== 0 && type !== 0o100000) {
        fail(
          'GT_PACK_LINK',
          `entry ${shown} is ${fileTypeName(type)}; a pack holds only regular files`,
          path,
        );
      }
    }
    const problem = packPathProblem(path);
    if (problem) {
      fail(
        'GT_PACK_PATH_ESCAPE',
        `entry name ${shown} ${problem}; refusing an entry that could escape the pack`,
        path,
      );
    }
    if (seen.has(path)) fail('GT_PACK_DUPLICATE_ENTRY', `entry ${shown} appears twice in the archive`, path);
    seen.add(path);
    if (flags & 0x41) fail('GT_PACK_ARCHIVE', `entry ${shown} is encrypted; packs are never encrypted`, path);
    if (flags & 0x08) {
      fail(
        'GT_PACK_ARCHIVE',
        `entry ${shown} uses a data descriptor (streamed sizes); packs declare sizes up front`,
        path,
      );
    }
    if (method !== 0 && method !== 8) {
      fail(
        'GT_PACK_COMPRESSION',
        `entry ${shown} uses compression method ${method}; only stored (0) and deflate (8) are read`,
        path,
      );
    }
    if (usize > limits.maxEntryBytes) {
      fail(
        'GT_PACK_ENTRY_TOO_LARGE',
        `entry ${shown} declares ${usize} bytes, more than the ${MiBs(limits.maxEntryBytes)} one file of a pack may have`,
        path,
      );
    }
    if (method === 0 && csize !== usize) {
      fail(
        'GT_PACK_COMPRESSION',
        `stored entry ${shown} declares ${csize} bytes in the archive but ${usize} bytes of content; its sizes lie`,
        path,
      );
    }
    if (method === 8 && usize > limits.ratioFloorBytes && usize > csize * limits.maxCompressionRatio) {
      fail(
        'GT_PACK_COMPRESSION',
        `deflated entry ${shown} would inflate ${csize} bytes to ${usize} (ratio over ${limits.maxCompressionRatio}:1); refusing a likely compression bomb`,
        path,
      );
    }
    sum += usize;
    if (sum > limits.maxArchiveBytes) {
      fail(
        'GT_PACK_TOO_LARGE',
        `the entries add up to more than the ${MiBs(limits.maxArchiveBytes)} a pack may hold (at ${shown})`,
        path,
      );
    }
    if (diskStart !== 0) fail('GT_PACK_ARCHIVE', `entry ${shown} claims to start on another disk`, path);
    if (versionNeeded > 20) {
      fail(
        'GT_PACK_ARCHIVE',
        `entry ${shown} needs ZIP version ${versionNeeded / 10}; packs use ZIP 2.0 features only`,
        path,
      );
    }
    centrals.push({
      path,
      rawName,
      versionNeeded,
      flags,
      method,
      time,
      date,
      crc,
      csize,
      usize,
      localOffset,
    });
    o = end;
  }
  if (o !== eocd) fail('GT_PACK_ARCHIVE', 'the central directory holds more bytes than its records');

  // Local headers and data: in archive order, tiling [0, cdOffset) exactly.
  const byOffset = [...centrals].sort((a, b) => a.localOffset - b.localOffset);
  const data = new Map<string, Uint8Array>();
  let expected = 0;
  for (const c of byOffset) {
    const shown = JSON.stringify(c.path);
    if (c.localOffset !== expected) {
      fail(
        'GT_PACK_ARCHIVE',
        `entry ${shown} starts at byte ${c.localOffset}, expected ${expected}: the archive has hidden or overlapping data`,
        c.path,
      );
    }
    const lo = c.localOffset;
    if (lo + LOCAL_SIZE > cdOffset || u32(lo) !== SIG_LOCAL) {
      fail('GT_PACK_ARCHIVE', `the local header of entry ${shown} is missing`, c.path);
    }
    const nameLen = u16(lo + 26);
    const extraLen = u16(lo + 28);
    const mismatch =
      u16(lo + 4) !== c.versionNeeded
        ? 'version needed'
        : u16(lo + 6) !== c.flags
          ? 'flags'
          : u16(lo + 8) !== c.method
            ? 'compression method'
            : u16(lo + 10) !== c.time || u16(lo + 12) !== c.date
              ? 'modification time'
              : u32(lo + 14) !== c.crc
                ? 'CRC-32'
                : u32(lo + 18) !== c.csize || u32(lo + 22) !== c.usize
                  ? 'sizes'
                  : nameLen !== c.rawName.length ||
                      Buffer.compare(
                        bytes.subarray(lo + LOCAL_SIZE, lo + LOCAL_SIZE + nameLen),
                        c.rawName,
                      ) !== 0
                    ? 'name'
                    : undefined;
    if (mismatch) {
      fail(
        'GT_PACK_ARCHIVE',
        `the local header of entry ${shown} disagrees with the central directory (${mismatch}); the archive was altered`,
        c.path,
      );
    }
    const start = lo + LOCAL_SIZE + nameLen + extraLen;
    const stop = start + c.csize;
    if (stop > cdOffset) fail('GT_PACK_ARCHIVE', `the data of entry ${shown} runs past the archive`, c.path);
    const raw = bytes.subarray(start, stop);
    let content: Uint8Array;
    if (c.method === 0) {
      content = raw;
    } else {
      try {
        content = inflateRawSync(raw, { maxOutputLength: Math.max(1, c.usize) });
      } catch (err) {
        const tooBig =
          (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
        fail(
          'GT_PACK_COMPRESSION',
          tooBig
            ? `deflated entry ${shown} inflates to more than its declared ${c.usize} bytes; stopped`
            : `deflated entry ${shown} is corrupt: ${(err as Error).message}`,
          c.path,
        );
      }
      if (content.length !== c.usize) {
        fail(
          'GT_PACK_COMPRESSION',
          `deflated entry ${shown} inflates to ${content.length} bytes, not the ${c.usize} it declares`,
          c.path,
        );
      }
    }
    if (crc32(content) >>> 0 !== c.crc) {
      fail(
        'GT_PACK_HASH_MISMATCH',
        `entry ${shown} does not match its CRC-32: its content was altered`,
        c.path,
      );
    }
    data.set(c.path, content);
    expected = stop;
  }
  if (expected !== cdOffset) {
    fail('GT_PACK_ARCHIVE', 'there are bytes between the last entry and the central directory');
  }
  return centrals.map((c) => ({
    path: c.path,
    data: data.get(c.path)!,
    method: c.method,
    compressedSize: c.csize,
  }));
}
