import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildPack,
  buildSbom,
  encodeCanonical,
  generateKeyPair,
  PackError,
  type PackErrorCode,
  readPack,
  readZipEntries,
  signPack,
  verifyPack,
  writeDeterministicZip,
} from '../src/index.js';
import { HELLO, type RawEntry, rawEntriesOf, rawZip, tempDir } from './helpers.js';

const MiB = 1024 * 1024;

async function rejection(
  bytes: Uint8Array | string,
  opts: Parameters<typeof verifyPack>[1] = { allowUnsigned: true },
) {
  try {
    await verifyPack(bytes, opts);
  } catch (err) {
    if (err instanceof PackError) return err;
    throw err;
  }
  throw new Error('expected verification to fail');
}

async function expectCode(bytes: Uint8Array, code: PackErrorCode, entry?: string): Promise<PackError> {
  const err = await rejection(bytes);
  expect({ code: err.code, message: err.message }).toMatchObject({ code });
  if (entry !== undefined) expect(err.entry).toBe(entry);
  return err;
}

/** A valid pack's files, to rebuild with one thing changed. */
let files: Map<string, Uint8Array>;
let packBytes: Uint8Array;
beforeAll(async () => {
  packBytes = (await buildPack(join(HELLO, 'pack.yaml'))).bytes;
  files = new Map(readZipEntries(packBytes).map((e) => [e.path, e.data]));
});

/** The pack's files plus/minus some, with a fresh SBOM unless `keepSbom`. */
function variant(
  change: (m: Map<string, Uint8Array>) => void,
  opts: { keepSbom?: boolean } = {},
): Map<string, Uint8Array> {
  const m = new Map(files);
  change(m);
  if (!opts.keepSbom) {
    m.delete('sbom.cbor');
    m.set('sbom.cbor', encodeCanonical(buildSbom(m)));
  }
  return m;
}

function zipOf(m: Map<string, Uint8Array>, extra: RawEntry[] = []): Uint8Array {
  return rawZip([...rawEntriesOf(m), ...extra]);
}

describe('verifyPack: archive limits', () => {
  it('accepts the pack as built, and a hand-made archive of the same files', async () => {
    const report = await verifyPack(packBytes, { allowUnsigned: true });
    expect(report.sbom.files).toHaveLength(7);
    expect(report.signature).toMatchObject({ signed: false, trusted: false });
    await expect(verifyPack(zipOf(files), { allowUnsigned: true })).resolves.toBeDefined();
  });

  it('rejects an archive over 64 MiB before reading its structure (GT_PACK_TOO_LARGE)', async () => {
    const big = new Uint8Array(64 * MiB + 1);
    const err = await expectCode(big, 'GT_PACK_TOO_LARGE');
    expect(err.message).toContain('64 MiB');
  });

  it('rejects an archive whose entries add up to more than 64 MiB (GT_PACK_TOO_LARGE)', async () => {
    const entries: RawEntry[] = Array.from({ length: 5 }, (_, i) => ({
      name: `assets/big${i}.bin`,
      data: new Uint8Array(),
      size: 15 * MiB,
      compressedSize: 15 * MiB,
      truncate: true,
    }));
    await expectCode(rawZip(entries), 'GT_PACK_TOO_LARGE');
  });

  it('rejects a pack file over the limit by its size alone (GT_PACK_TOO_LARGE)', async () => {
    const { truncateSync, writeFileSync } = await import('node:fs');
    const path = join(tempDir(), 'huge.gtpack');
    writeFileSync(path, '');
    truncateSync(path, 64 * MiB + 1); // sparse: nothing is read
    await expect(verifyPack(path, { allowUnsigned: true })).rejects.toMatchObject({
      code: 'GT_PACK_TOO_LARGE',
    });
  });

  it('rejects an entry over 16 MiB (GT_PACK_ENTRY_TOO_LARGE), declared or real', async () => {
    const declared = rawZip([
      {
        name: 'assets/big.bin',
        data: new Uint8Array(),
        size: 17 * MiB,
        compressedSize: 17 * MiB,
        truncate: true,
      },
    ]);
    await expectCode(declared, 'GT_PACK_ENTRY_TOO_LARGE', 'assets/big.bin');
    const real = rawZip([{ name: 'assets/big.bin', data: new Uint8Array(16 * MiB + 1) }]);
    await expectCode(real, 'GT_PACK_ENTRY_TOO_LARGE', 'assets/big.bin');
  });

  it('rejects too many entries (GT_PACK_TOO_LARGE)', async () => {
    const entries = Array.from({ length: 20 }, (_, i) => ({ name: `a/${i}`, data: 'x' }));
    const err = await rejection(rawZip(entries), { allowUnsigned: true, limits: { maxEntries: 10 } });
    expect(err.code).toBe('GT_PACK_TOO_LARGE');
  });
});

describe('verifyPack: entry names and types', () => {
  for (const name of [
    '../evil.wasm',
    'flows/../../evil',
    '/etc/passwd',
    'C:/Windows/evil.dll',
    'c:evil',
    'flows\\..\\evil',
    'a//b',
    './manifest.cbor',
    'nul\u0000byte',
  ]) {
    it(`rejects the entry name ${JSON.stringify(name)} (GT_PACK_PATH_ESCAPE)`, async () => {
      const err = await expectCode(zipOf(files, [{ name, data: 'x' }]), 'GT_PACK_PATH_ESCAPE');
      expect(err.message).toContain('escape');
    });
  }

  it('rejects a name that is not UTF-8 (GT_PACK_PATH_ESCAPE)', async () => {
    await expectCode(
      zipOf(files, [{ name: new Uint8Array([0x61, 0xff, 0xfe]), data: 'x' }]),
      'GT_PACK_PATH_ESCAPE',
    );
  });

  for (const [what, mode] of [
    ['a symbolic link', 0o120777],
    ['a character device', 0o020644],
    ['a FIFO', 0o010644],
    ['a directory', 0o040755],
  ] as const) {
    it(`rejects ${what} entry (GT_PACK_LINK)`, async () => {
      const err = await expectCode(
        zipOf(files, [{ name: 'assets/link', data: '/etc/passwd', mode }]),
        'GT_PACK_LINK',
        'assets/link',
      );
      expect(err.message).toContain(what);
    });
  }

  it('rejects directory entries, by name or by DOS attribute (GT_PACK_LINK)', async () => {
    await expectCode(zipOf(files, [{ name: 'assets/', data: '' }]), 'GT_PACK_LINK');
    await expectCode(
      zipOf(files, [{ name: 'assets/d', data: '', host: 0, externalAttrs: 0x10 }]),
      'GT_PACK_LINK',
    );
  });

  it('rejects a name that appears twice (GT_PACK_DUPLICATE_ENTRY)', async () => {
    const err = await expectCode(
      zipOf(files, [{ name: 'manifest.cbor', data: encodeCanonical({ evil: true }) }]),
      'GT_PACK_DUPLICATE_ENTRY',
      'manifest.cbor',
    );
    expect(err.message).toContain('twice');
  });
});

describe('verifyPack: compression', () => {
  it('reads a well-behaved deflated entry', async () => {
    const entries = rawEntriesOf(files).map((e) => (e.name === 'flows/main.ygtc' ? { ...e, method: 8 } : e));
    await expect(verifyPack(rawZip(entries), { allowUnsigned: true })).resolves.toBeDefined();
  });

  it('stops inflating an entry that inflates past its declared size (GT_PACK_COMPRESSION)', async () => {
    const bomb = new Uint8Array(8 * MiB); // zeros: about 8 KB deflated
    const err = await expectCode(
      rawZip([
        {
          name: 'assets/bomb.bin',
          method: 8,
          compressed: new Uint8Array(deflateRawSync(bomb)),
          size: 1000,
          crc: 0,
        },
      ]),
      'GT_PACK_COMPRESSION',
      'assets/bomb.bin',
    );
    expect(err.message).toContain('more than its declared 1000 bytes');
  });

  it('rejects a deflated entry over the compression ratio cap (GT_PACK_COMPRESSION)', async () => {
    const zeros = new Uint8Array(4 * MiB);
    const err = await expectCode(
      rawZip([{ name: 'assets/zeros.bin', data: zeros, method: 8 }]),
      'GT_PACK_COMPRESSION',
    );
    expect(err.message).toContain('ratio');
  });

  it('rejects a deflated entry that inflates to less than it declares (GT_PACK_COMPRESSION)', async () => {
    const data = new TextEncoder().encode('hello hello hello');
    await expectCode(
      rawZip([{ name: 'a.txt', data, method: 8, size: data.length + 5 }]),
      'GT_PACK_COMPRESSION',
    );
  });

  it('rejects a stored entry whose two sizes differ (GT_PACK_COMPRESSION)', async () => {
    await expectCode(rawZip([{ name: 'a.txt', data: 'hello', size: 3 }]), 'GT_PACK_COMPRESSION');
  });

  it('rejects an unsupported compression method (GT_PACK_COMPRESSION)', async () => {
    await expectCode(rawZip([{ name: 'a.txt', data: 'hello', method: 12 }]), 'GT_PACK_COMPRESSION');
  });
});

describe('verifyPack: archive structure (GT_PACK_ARCHIVE)', () => {
  it('rejects bytes that are not a ZIP archive', async () => {
    await expectCode(new TextEncoder().encode('not a zip at all'), 'GT_PACK_ARCHIVE');
    await expectCode(packBytes.subarray(0, packBytes.length - 10), 'GT_PACK_ARCHIVE');
  });

  it('rejects encrypted entries and data descriptors', async () => {
    await expectCode(rawZip([{ name: 'a.txt', data: 'x', flags: 0x0801 }]), 'GT_PACK_ARCHIVE');
    await expectCode(rawZip([{ name: 'a.txt', data: 'x', flags: 0x0808 }]), 'GT_PACK_ARCHIVE');
  });

  it('rejects a local header that disagrees with the central directory (a smuggled name)', async () => {
    const err = await expectCode(
      rawZip([...rawEntriesOf(files), { name: 'assets/ok.txt', localName: '../../evil', data: 'x' }]),
      'GT_PACK_ARCHIVE',
    );
    expect(err.message).toContain('name');
  });

  it('rejects hidden bytes between entries and the central directory', async () => {
    await expectCode(rawZip(rawEntriesOf(files), { trailing: new Uint8Array([1, 2, 3]) }), 'GT_PACK_ARCHIVE');
  });
});

describe('verifyPack: SBOM', () => {
  it('rejects a file whose content changed while its CRC was fixed up (GT_PACK_HASH_MISMATCH naming the file)', async () => {
    const m = variant(
      (x) => x.set('components/echo.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9, 9, 9])),
      {
        keepSbom: true,
      },
    );
    const err = await expectCode(zipOf(m), 'GT_PACK_HASH_MISMATCH', 'components/echo.wasm');
    expect(err.message).toContain('components/echo.wasm has BLAKE3');
  });

  it('rejects a flipped byte in a file (the CRC catches it first, naming the file)', async () => {
    const bytes = Buffer.from(packBytes);
    const at = bytes.indexOf(Buffer.from('Ask me anything'));
    bytes[at] = 'a'.charCodeAt(0);
    await expectCode(new Uint8Array(bytes), 'GT_PACK_HASH_MISMATCH', 'flows/help.ygtc');
  });

  it('rejects a file the SBOM does not list (GT_PACK_UNLISTED_FILE)', async () => {
    const m = variant(() => {}, {});
    const err = await expectCode(
      zipOf(m, [{ name: 'components/extra.wasm', data: 'x' }]),
      'GT_PACK_UNLISTED_FILE',
    );
    expect(err.entry).toBe('components/extra.wasm');
    await expectCode(
      zipOf(m, [{ name: 'signatures/other.sig', data: 'x' }]),
      'GT_PACK_UNLISTED_FILE',
      'signatures/other.sig',
    );
  });

  it('rejects a file the SBOM lists but the archive lacks (GT_PACK_MISSING_FILE)', async () => {
    const m = variant((x) => x.delete('flows/help.ygtc'), { keepSbom: true });
    await expectCode(zipOf(m), 'GT_PACK_MISSING_FILE', 'flows/help.ygtc');
  });

  it('rejects an archive without manifest.cbor (GT_PACK_MISSING_FILE) or without sbom.cbor (GT_PACK_SBOM)', async () => {
    await expectCode(zipOf(variant((x) => x.delete('manifest.cbor'))), 'GT_PACK_MISSING_FILE');
    const m = new Map(files);
    m.delete('sbom.cbor');
    await expectCode(zipOf(m), 'GT_PACK_SBOM');
  });

  it('rejects an SBOM that is not a canonical greentic-sbom-v1 document (GT_PACK_SBOM)', async () => {
    for (const sbom of [
      new TextEncoder().encode('{"format":"greentic-sbom-v1"}'),
      encodeCanonical({ format: 'cyclonedx', files: [] }),
      encodeCanonical({
        format: 'greentic-sbom-v1',
        files: [{ path: '../x', size: 1, hash_blake3: 'a'.repeat(64), media_type: 'x' }],
      }),
    ]) {
      const m = new Map(files);
      m.set('sbom.cbor', sbom);
      await expectCode(zipOf(m), 'GT_PACK_SBOM');
    }
  });
});

describe('readPack', () => {
  it('verifies before it parses: a tampered manifest is reported by the SBOM, not by the manifest parser', async () => {
    const m = variant((x) => x.set('manifest.cbor', new TextEncoder().encode('garbage')), { keepSbom: true });
    await expect(readPack(zipOf(m), { allowUnsigned: true })).rejects.toMatchObject({
      code: 'GT_PACK_HASH_MISMATCH',
      entry: 'manifest.cbor',
    });
  });

  it('rejects a manifest that passes the SBOM but is not a pack manifest (GT_PACK_MANIFEST)', async () => {
    const m = variant((x) => x.set('manifest.cbor', encodeCanonical({ schema_version: 'pack-v1' })));
    await expect(readPack(zipOf(m), { allowUnsigned: true })).rejects.toMatchObject({
      code: 'GT_PACK_MANIFEST',
    });
  });

  it('loads flows with the flow loader and reports a broken one as GT_PACK_FLOW', async () => {
    const m = variant((x) =>
      x.set('flows/help.ygtc', new TextEncoder().encode('id: help\ntype: messaging\nnodes: {}\n')),
    );
    const err = await readPack(zipOf(m), { allowUnsigned: true }).catch((e) => e as PackError);
    expect(err).toMatchObject({ code: 'GT_PACK_FLOW', entry: 'flows/help.ygtc' });
    expect(err.problems[0]).toMatchObject({
      code: 'GT_FLOW_EMPTY',
      location: { file: 'flows/help.ygtc', line: 3 },
    });
  });

  it('reports the SHA-256 of the archive', async () => {
    const { createHash } = await import('node:crypto');
    const pack = await readPack(packBytes, { allowUnsigned: true });
    expect(pack.archiveDigest).toBe(`sha256:${createHash('sha256').update(packBytes).digest('hex')}`);
  });
});

describe('tampering anywhere', () => {
  it('rejects every flipped byte except in the central directory fields that carry no meaning', async () => {
    const key = await generateKeyPair();
    const signed = (await signPack(packBytes, key.privateKeyPem)).bytes;
    const trust = [key.publicKeyPem];
    const original = await readPack(signed, { trust });
    const seen = (p: Awaited<ReturnType<typeof readPack>>) =>
      JSON.stringify([
        p.manifest,
        [...p.flowSources],
        [...p.components].map(([id, c]) => [id, Buffer.from(c.wasm).toString('hex'), c.manifest]),
        [...p.assets].map(([k, v]) => [k, Buffer.from(v).toString('hex')]),
        p.signature,
      ]);
    const want = seen(original);
    // Bytes a reader never interprets: "version made by", internal attributes, and the external attributes'
    // DOS bits and permission bits (the file type bits are checked).
    const view = Buffer.from(signed);
    const meaningless = new Set<number>();
    const cdOffset = view.readUInt32LE(view.length - 22 + 16);
    for (let o = cdOffset; view.readUInt32LE(o) === 0x02014b50; o += 46 + view.readUInt16LE(o + 28)) {
      for (const k of [4, 5, 36, 37, 38, 39, 40, 41]) meaningless.add(o + k);
    }
    const codes = new Set<string>();
    const accepted: number[] = [];
    for (let i = 0; i < signed.length; i++) {
      const bytes = new Uint8Array(signed);
      bytes[i] = bytes[i]! ^ 0x01;
      try {
        const p = await readPack(bytes, { trust });
        expect(seen(p)).toBe(want);
        accepted.push(i);
      } catch (err) {
        expect(err).toBeInstanceOf(PackError);
        codes.add((err as PackError).code);
      }
    }
    expect(accepted.filter((i) => !meaningless.has(i))).toEqual([]);
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(['GT_PACK_ARCHIVE', 'GT_PACK_HASH_MISMATCH', 'GT_PACK_PATH_ESCAPE']),
    );
  });

  it('writes archives the reader accepts byte for byte (round trip through writeDeterministicZip)', async () => {
    const again = await writeDeterministicZip(files);
    expect(Buffer.compare(again, packBytes)).toBe(0);
  });
});
