/**
 * Interoperability with an OCI client we did not write: skopeo (containers/image) reads what we push, copies it,
 * and stores what we then pull — all against the same real registry.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GREENTIC_PACK_MEDIA_TYPE,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  pullPack,
  pushPack,
  resolveRef,
} from '../../src/oci/index.js';
import { fixtureBytes, sha256, startTestRegistry, type TestRegistry, uniqueRepo } from './helpers.js';

const run = promisify(execFile);
const PACK = fixtureBytes(64 * 1024, 'interop');
let registry: TestRegistry;
let work: string;
const noEnv = {};

/** skopeo with a throw-away HOME (no stored credentials) and no signature policy file needed. */
async function skopeo(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('skopeo', ['--insecure-policy', ...args], {
      env: { PATH: process.env.PATH, HOME: work, TMPDIR: work },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`skopeo ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

beforeAll(async () => {
  registry = await startTestRegistry();
  work = await mkdtemp(join(tmpdir(), 'greentic-oci-interop-'));
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('interop with skopeo', () => {
  it('skopeo inspect shows our manifest and the pack layer media type, byte for byte', async () => {
    const repo = uniqueRepo('interop/ours');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:1.0.0`, {
      packId: 'interop',
      packVersion: '1.0.0',
      env: noEnv,
    });
    // `--raw`: skopeo's parsed view refuses non-image artifacts ("unsupported image-specific operation").
    const raw = await skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/${repo}:1.0.0`,
    );
    expect(sha256(Buffer.from(raw, 'utf8'))).toBe(pushed.digest);
    const manifest = JSON.parse(raw);
    expect(manifest.mediaType).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(manifest.config).toMatchObject({ mediaType: OCI_EMPTY_MEDIA_TYPE, digest: OCI_EMPTY_DIGEST });
    expect(manifest.layers).toEqual([
      {
        mediaType: GREENTIC_PACK_MEDIA_TYPE,
        digest: sha256(PACK),
        size: PACK.length,
        annotations: {
          'greentic.pack.id': 'interop',
          'greentic.pack.version': '1.0.0',
          'org.opencontainers.image.title': 'interop-1.0.0.gtpack',
        },
      },
    ]);
    const tags = JSON.parse(
      await skopeo('list-tags', '--tls-verify=false', `docker://${registry.host}/${repo}`),
    );
    expect(tags.Tags).toEqual(['1.0.0']);
  });

  it('pulls what skopeo copied from our push to another repository', async () => {
    const from = uniqueRepo('interop/src');
    const to = uniqueRepo('interop/copy');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${from}:2.0.0`, { env: noEnv });
    await skopeo(
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${registry.host}/${from}:2.0.0`,
      `docker://${registry.host}/${to}:2.0.0`,
    );
    const resolved = await resolveRef(`oci://${registry.host}/${to}:2.0.0`, { env: noEnv });
    expect(resolved.digest).toBe(pushed.digest);
    const pulled = await pullPack(`oci://${registry.host}/${to}@${pushed.digest}`, {
      cacheDir: false,
      env: noEnv,
    });
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
  });

  it('pulls a pack that skopeo pushed from an OCI layout directory we built on disk', async () => {
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = async (bytes: Buffer) => {
      const digest = sha256(bytes);
      await writeFile(join(blobs, digest.slice(7)), bytes);
      return { digest, size: bytes.length };
    };
    const pack = fixtureBytes(32 * 1024, 'made-by-skopeo');
    const config = await put(Buffer.from('{}'));
    const layer = await put(pack);
    // Written by hand, pretty-printed: our pull must not depend on our own serialisation.
    const manifestBytes = Buffer.from(
      JSON.stringify(
        {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST_MEDIA_TYPE,
          config: { mediaType: OCI_EMPTY_MEDIA_TYPE, ...config },
          layers: [
            {
              mediaType: GREENTIC_PACK_MEDIA_TYPE,
              ...layer,
              annotations: {
                'org.opencontainers.image.title': 'made-by-skopeo.gtpack',
                'greentic.pack.id': 'sk',
              },
            },
          ],
        },
        null,
        2,
      ),
    );
    const manifest = await put(manifestBytes);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: OCI_MANIFEST_MEDIA_TYPE,
            ...manifest,
            annotations: { 'org.opencontainers.image.ref.name': 'v1' },
          },
        ],
      }),
    );
    const repo = uniqueRepo('interop/skopeo');
    await skopeo(
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:v1`,
      `docker://${registry.host}/${repo}:v1`,
    );
    const resolved = await resolveRef(`oci://${registry.host}/${repo}:v1`, { env: noEnv });
    expect(resolved.digest).toBe(manifest.digest);
    const pulled = await pullPack(resolved.ref, { cacheDir: join(work, 'cache'), env: noEnv });
    expect(Buffer.from(pulled.bytes).equals(pack)).toBe(true);
    expect(pulled.layerDigest).toBe(layer.digest);
    expect(pulled.annotations['greentic.pack.id']).toBe('sk');
  });
});
