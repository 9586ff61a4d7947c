import yazl from 'yazl';
import { packPathProblem } from './paths.js';

/**
 * The deterministic ZIP writer behind every `.gtpack` (upstream's rules, `docs/pack-format.md`): entries
 * sorted by path (byte order), STORED (no compression), DOS timestamp 1980-01-01 00:00:00 and no extended
 * timestamp field, Unix mode 0644 regular file, UTF-8 names, no comments. The same entries give the same bytes.
 */

const MODE_0644 = 0o100644;

function compareBytes(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

/** Writes `files` (archive path → bytes) as a deterministic stored ZIP. Paths must be safe pack paths. */
export async function writeDeterministicZip(files: ReadonlyMap<string, Uint8Array>): Promise<Uint8Array> {
  // 1980-01-01 00:00:00 in local time: yazl encodes DOS times from local-time fields, so this is always
  // date 0x0021, time 0x0000, in any time zone.
  const dosEpoch = new Date(1980, 0, 1, 0, 0, 0);
  const zip = new yazl.ZipFile();
  const paths = [...files.keys()].sort(compareBytes);
  for (const path of paths) {
    const problem = packPathProblem(path);
    if (problem) throw new Error(`internal: archive path ${JSON.stringify(path)} ${problem}`);
    zip.addBuffer(Buffer.from(files.get(path)!), path, {
      mtime: dosEpoch,
      mode: MODE_0644,
      compress: false,
      forceDosTimestamp: true,
    });
  }
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve());
    zip.outputStream.on('error', reject);
  });
  zip.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}
