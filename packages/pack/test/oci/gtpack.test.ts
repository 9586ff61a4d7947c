/** A real .gtpack (buildPack on the hello fixture) through packc push/pull and back into the verified reader. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPack, readPack } from '../../src/index.js';
import { runOciCommand } from '../../src/oci/index.js';
import { startTestRegistry, type TestRegistry, uniqueRepo } from './helpers.js';

const HELLO = fileURLToPath(new URL('../fixtures/hello/pack.yaml', import.meta.url));
let registry: TestRegistry;
let work: string;

beforeAll(async () => {
  registry = await startTestRegistry();
  work = await mkdtemp(join(tmpdir(), 'greentic-oci-gtpack-'));
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a built pack through the registry', () => {
  it('pushes a .gtpack with id/version read from it, pulls it pinned, and the reader verifies it', async () => {
    const built = await buildPack(HELLO, { out: join(work, 'hello.gtpack') });
    const out: string[] = [];
    const io = {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: () => true },
      env: { GREENTIC_PACK_CACHE_DIR: join(work, 'cache') },
      cwd: work,
      describePack: async (_bytes: Uint8Array, path: string) => {
        const pack = await readPack(path, { allowUnsigned: true });
        return { id: pack.manifest.pack_id, version: pack.manifest.version };
      },
    };
    const ref = `oci://${registry.host}/${uniqueRepo('packs/hello')}:${built.manifest.version}`;
    expect(await runOciCommand(['push', 'hello.gtpack', ref, '--json'], io)).toBe(0);
    const pushed = JSON.parse(out.join(''));
    // The layer digest is the archive's sha256, as the builder reports it.
    expect(pushed.layerDigest).toBe(built.archiveDigest);

    out.length = 0;
    expect(await runOciCommand(['pull', pushed.ref, '-o', 'pulled.gtpack', '--json'], io)).toBe(0);
    const pulled = JSON.parse(out.join(''));
    expect(pulled.annotations).toMatchObject({
      'greentic.pack.id': built.manifest.pack_id,
      'greentic.pack.version': built.manifest.version,
      'org.opencontainers.image.title': 'hello.gtpack',
    });
    const pack = await readPack(join(work, 'pulled.gtpack'), { allowUnsigned: true });
    expect(pack.manifest.pack_id).toBe(built.manifest.pack_id);
  });
});
