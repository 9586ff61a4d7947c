/** `packc push|pull|resolve` (the packc CLI, not runOciCommand alone) against the real test registry. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPack, readPack, runPackc } from '../../src/index.js';
import { startTestRegistry, type TestRegistry, uniqueRepo } from './helpers.js';

const HELLO = fileURLToPath(new URL('../fixtures/hello/pack.yaml', import.meta.url));
let registry: TestRegistry;
let work: string;

beforeAll(async () => {
  registry = await startTestRegistry();
  work = await mkdtemp(join(tmpdir(), 'greentic-packc-oci-'));
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function packc(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runPackc(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { GREENTIC_PACK_CACHE_DIR: join(work, 'cache') },
    cwd: work,
  });
  return { code, stdout, stderr };
}

describe('packc push / resolve / pull', () => {
  it('pushes a built pack (annotated with its id and version), resolves the tag and pulls it back pinned', async () => {
    const built = await buildPack(HELLO, { out: join(work, 'hello.gtpack') });
    const tagRef = `oci://${registry.host}/${uniqueRepo('packs/hello')}:${built.manifest.version}`;

    const push = await packc(['push', 'hello.gtpack', tagRef]);
    expect(push.code).toBe(0);
    const pinned = push.stdout.trim();
    expect(pinned).toMatch(/^oci:\/\/.+@sha256:[0-9a-f]{64}$/);
    expect(push.stderr).toMatch(/packc: uploaded sha256:/);
    expect(push.stderr).toMatch(/packc: pushed /);

    const resolved = await packc(['resolve', tagRef, '--json']);
    expect(resolved.code).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ ok: true, command: 'resolve', ref: pinned });

    const pull = await packc(['pull', pinned, '-o', 'pulled.gtpack', '--json']);
    expect(pull.code).toBe(0);
    const doc = JSON.parse(pull.stdout);
    expect(doc).toMatchObject({
      ok: true,
      command: 'pull',
      ref: pinned,
      layerDigest: built.archiveDigest,
      annotations: {
        'greentic.pack.id': built.manifest.pack_id,
        'greentic.pack.version': built.manifest.version,
      },
    });
    expect(Buffer.compare(await readFile(join(work, 'pulled.gtpack')), built.bytes)).toBe(0);
    const pack = await readPack(join(work, 'pulled.gtpack'), { allowUnsigned: true });
    expect(pack.manifest.pack_id).toBe(built.manifest.pack_id);

    const tagPull = await packc(['pull', tagRef]);
    expect(tagPull.code).toBe(1);
    expect(tagPull.stderr).toMatch(/GT_PACK_OCI_TAG_NOT_ALLOWED/);
    const allowed = await packc(['pull', tagRef, '--allow-tags', '--quiet']);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toBe('');
    expect(allowed.stdout.trim()).toMatch(/pack\.gtpack$/);
  });
});
