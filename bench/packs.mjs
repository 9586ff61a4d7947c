// bench/packs: how long it takes to build, verify and read a .gtpack (first call in the process, then
// repeated), and how verification time grows with the pack's size (1, 8 and just under 64 MiB, the limit),
// next to a baseline measured in the same run: BLAKE3 over the same bytes alone (what the SBOM check must do).
// Usage: node bench/packs.mjs [--repeat N]

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blake3Hex, buildPack, generateKeyPair, readPack, verifyPack } from '@greentic/pack';
import { fmt, summarize, writeResult } from './lib.mjs';

const args = process.argv.slice(2);
const repeat = Number(args[args.indexOf('--repeat') + 1]) || 50;
const MiB = 1024 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const hello = join(here, '..', 'packages', 'pack', 'test', 'fixtures', 'hello', 'pack.yaml');

async function time(fn) {
  const s = process.hrtime.bigint();
  const value = await fn();
  return { ns: Number(process.hrtime.bigint() - s), value };
}

async function series(fn, n) {
  await fn(); // warm-up (JIT)
  const samples = [];
  for (let i = 0; i < n; i++) samples.push((await time(fn)).ns);
  return summarize(samples);
}

const key = await generateKeyPair();
const trust = [key.publicKeyPem];

// 1. The small example pack (2 flows, 1 component, 1 asset, a lock): first call, then repeated.
const firstBuild = await time(() => buildPack(hello, { signingKey: key.privateKeyPem }));
const bytes = firstBuild.value.bytes;
const firstVerify = await time(() => verifyPack(bytes, { trust }));
const firstRead = await time(() => readPack(bytes, { trust }));
const build = await series(() => buildPack(hello, { signingKey: key.privateKeyPem }), repeat);
const verify = await series(() => verifyPack(bytes, { trust }), repeat * 4);
const read = await series(() => readPack(bytes, { trust }), repeat * 4);
const small = {
  pack_bytes: bytes.length,
  files: firstBuild.value.files.length,
  build_first_ms: firstBuild.ns / 1e6,
  verify_first_ms: firstVerify.ns / 1e6,
  read_first_ms: firstRead.ns / 1e6,
  build,
  verify,
  read,
};

console.log(
  `packs: hello example pack (${bytes.length} bytes, ${small.files} files, signed), ${repeat}+ runs`,
);
console.table({
  build: {
    'first ms': fmt(small.build_first_ms, 2),
    'p50 µs': fmt(build.p50_us),
    'p99 µs': fmt(build.p99_us),
  },
  verify: {
    'first ms': fmt(small.verify_first_ms, 2),
    'p50 µs': fmt(verify.p50_us),
    'p99 µs': fmt(verify.p99_us),
  },
  'read (verify + load flows)': {
    'first ms': fmt(small.read_first_ms, 2),
    'p50 µs': fmt(read.p50_us),
    'p99 µs': fmt(read.p99_us),
  },
});

// 2. Verification against pack size: assets of random bytes (incompressible, ≤ 16 MiB per file).
const work = mkdtempSync(join(tmpdir(), 'bench-packs-'));
const sizes = [
  { label: '1 MiB', bytes: 1 * MiB },
  { label: '8 MiB', bytes: 8 * MiB },
  { label: '64 MiB - 64 KiB', bytes: 64 * MiB - 64 * 1024 },
];
const scaling = [];
try {
  for (const s of sizes) {
    const dir = join(work, s.label.replace(/\W+/g, '_'));
    mkdirSync(join(dir, 'flows'), { recursive: true });
    mkdirSync(join(dir, 'data'));
    writeFileSync(
      join(dir, 'flows', 'main.ygtc'),
      'id: main\ntype: messaging\nnodes:\n  hi:\n    template: "hi"\n    routing: out\n',
    );
    const payload = s.bytes - 8 * 1024; // leave room for the manifest, SBOM, flow and ZIP headers
    const chunks = [];
    for (let left = payload; left > 0; left -= 16 * MiB) chunks.push(Math.min(16 * MiB, left));
    chunks.forEach((n, i) => {
      writeFileSync(join(dir, 'data', `blob${i}.bin`), randomBytes(n));
    });
    writeFileSync(
      join(dir, 'pack.yaml'),
      'pack_id: bench.big\nversion: 1.0.0\nkind: application\npublisher: bench\nflows:\n  - { id: main, file: flows/main.ygtc }\nassets:\n  - path: data\n',
    );
    const built = await buildPack(join(dir, 'pack.yaml'), { signingKey: key.privateKeyPem });
    const blobs = [...(await readPack(built.bytes, { trust })).assets.values()];
    // Alternate the two measurements so that noise from other work on the machine hits both alike.
    const runs = s.bytes > 16 * MiB ? 5 : 9;
    const vs = [];
    const bs = [];
    await verifyPack(built.bytes, { trust });
    for (let i = 0; i < runs; i++) {
      vs.push((await time(() => verifyPack(built.bytes, { trust }))).ns);
      bs.push(
        (
          await time(() => {
            for (const b of blobs) blake3Hex(b);
          })
        ).ns,
      );
    }
    const v = summarize(vs);
    const base = summarize(bs);
    const mib = built.bytes.length / MiB;
    scaling.push({
      size: s.label,
      archive_bytes: built.bytes.length,
      verify_ms_p50: v.p50_us / 1e3,
      verify_mib_per_s: mib / (v.p50_us / 1e6),
      baseline_blake3_ms_p50: base.p50_us / 1e3,
      ratio: v.p50_us / base.p50_us,
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log('verification time against pack size (signed packs, random-byte assets)');
console.table(
  Object.fromEntries(
    scaling.map((r) => [
      r.size,
      {
        'verify ms': fmt(r.verify_ms_p50),
        'MiB/s': fmt(r.verify_mib_per_s),
        'BLAKE3 alone ms': fmt(r.baseline_blake3_ms_p50),
        'verify / BLAKE3': r.ratio.toFixed(2),
      },
    ]),
  ),
);

const file = writeResult('packs', {
  small_pack: small,
  verify_scaling: scaling,
  baseline: { name: 'BLAKE3 (@noble/hashes) over the same file bytes, no archive work' },
  repeat,
});
console.log(`wrote ${file}`);
