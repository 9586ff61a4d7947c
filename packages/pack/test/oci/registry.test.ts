import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GREENTIC_PACK_MEDIA_TYPE,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  type OciProgressEvent,
  pullComponent,
  pullPack,
  pushComponent,
  pushPack,
  resolveRef,
  runOciCommand,
  WASM_COMPONENT_MEDIA_TYPE,
} from '../../src/oci/index.js';
import {
  countingFetch,
  fixtureBytes,
  sha256,
  startProxy,
  startTestRegistry,
  type TestProxy,
  type TestRegistry,
  uniqueRepo,
} from './helpers.js';

const PACK = fixtureBytes(200 * 1024, 'pack-a');
let registry: TestRegistry;
let work: string;
const proxies: TestProxy[] = [];
const noEnv = {};

beforeAll(async () => {
  registry = await startTestRegistry();
  work = await mkdtemp(join(tmpdir(), 'greentic-oci-test-'));
}, 600_000);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function proxy(options?: Parameters<typeof startProxy>[1]): Promise<TestProxy> {
  const p = await startProxy(registry.url, options);
  proxies.push(p);
  return p;
}

let cacheCounter = 0;
const freshCache = () => join(work, `cache-${cacheCounter++}`);

describe('push and pull against a real registry', () => {
  it('round-trips a pack by digest, byte for byte, with the Greentic media types and annotations', async () => {
    const repo = uniqueRepo('greentic/packs/weather');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:1.0.0`, {
      packId: 'weather',
      packVersion: '1.0.0',
      env: noEnv,
    });
    expect(pushed.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(pushed.layerDigest).toBe(sha256(PACK));
    expect(pushed.ref).toBe(`oci://${registry.host}/${repo}@${pushed.digest}`);
    expect(pushed.tag).toBe('1.0.0');

    const pulled = await pullPack(pushed.ref, { cacheDir: freshCache(), env: noEnv });
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
    expect(pulled.digest).toBe(pushed.digest);
    expect(pulled.fromCache).toBe(false);
    expect(pulled.mediaType).toBe(GREENTIC_PACK_MEDIA_TYPE);
    expect(pulled.annotations).toEqual({
      'org.opencontainers.image.title': 'weather-1.0.0.gtpack',
      'greentic.pack.id': 'weather',
      'greentic.pack.version': '1.0.0',
    });

    // What the registry stores is exactly the manifest we describe.
    const res = await fetch(`${registry.url}/v2/${repo}/manifests/1.0.0`, {
      headers: { accept: OCI_MANIFEST_MEDIA_TYPE },
    });
    expect(res.headers.get('content-type')).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(res.headers.get('docker-content-digest')).toBe(pushed.digest);
    const manifest = (await res.json()) as { layers: { annotations?: Record<string, string> }[] };
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: GREENTIC_PACK_MEDIA_TYPE, digest: sha256(PACK), size: PACK.length }],
    });
    expect(manifest.layers).toHaveLength(1);
  });

  it('pushes the same content to the same digest and skips blobs the registry already has', async () => {
    const repo = uniqueRepo('dedupe');
    const first = await pushPack(PACK, `oci://${registry.host}/${repo}:a`, {
      packId: 'p',
      packVersion: '1',
      env: noEnv,
    });
    const p = await proxy();
    const second = await pushPack(PACK, `oci://${p.host}/${repo}:a`, {
      packId: 'p',
      packVersion: '1',
      env: noEnv,
    });
    expect(second.digest).toBe(first.digest);
    expect(second.skippedBlobs).toBe(2);
    expect(
      p.requests.filter((r) => r.method === 'POST' || (r.method === 'PUT' && r.path.includes('/blobs/'))),
    ).toEqual([]);
  });

  it('pushes a file path, using its base name as the title', async () => {
    const file = join(work, 'hello.gtpack');
    await writeFile(file, PACK);
    const pushed = await pushPack(file, `oci://${registry.host}/${uniqueRepo('file')}:v1`, { env: noEnv });
    const pulled = await pullPack(pushed.ref, { cacheDir: false, env: noEnv });
    expect(pulled.annotations['org.opencontainers.image.title']).toBe('hello.gtpack');
    expect(pulled.path).toBeUndefined();
  });

  it('pushes without a tag by digest only', async () => {
    const repo = uniqueRepo('untagged');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}`, { env: noEnv });
    expect(pushed.tag).toBeUndefined();
    const pulled = await pullPack(pushed.ref, { cacheDir: false, env: noEnv });
    expect(pulled.layerDigest).toBe(sha256(PACK));
  });

  it('refuses a tag pull without allowTags, explaining how to pin, and accepts it with allowTags', async () => {
    const repo = uniqueRepo('tags');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:stable`, { env: noEnv });
    const { fetch: counted, calls } = countingFetch();
    const tagRef = `oci://${registry.host}/${repo}:stable`;
    const refused = await pullPack(tagRef, { cacheDir: freshCache(), fetch: counted, env: noEnv }).catch(
      (e) => e,
    );
    expect(refused.code).toBe('GT_PACK_OCI_TAG_NOT_ALLOWED');
    expect(refused.message).toContain(`oci://${registry.host}/${repo}@sha256:`);
    expect(refused.message).toContain('allowTags');
    expect(calls).toEqual([]);

    const pulled = await pullPack(tagRef, { allowTags: true, cacheDir: freshCache(), env: noEnv });
    expect(pulled.digest).toBe(pushed.digest);
    expect(pulled.ref).toBe(pushed.ref);
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
  });

  it('resolves a tag to the pinned reference', async () => {
    const repo = uniqueRepo('resolve');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:1.2.3`, { env: noEnv });
    const resolved = await resolveRef(`oci://${registry.host}/${repo}:1.2.3`, { env: noEnv });
    expect(resolved).toMatchObject({
      ref: pushed.ref,
      digest: pushed.digest,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
    });
  });

  it('detects a blob altered in transit (GT_PACK_OCI_DIGEST_MISMATCH) and caches nothing', async () => {
    const repo = uniqueRepo('tamper');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:t`, { env: noEnv });
    const evil = await proxy({ tamperBlobs: true });
    const cacheDir = freshCache();
    const pinned = `oci://${evil.host}/${repo}@${pushed.digest}`;
    const out = join(work, 'tampered.gtpack');
    const err = await pullPack(pinned, { cacheDir, output: out, env: noEnv }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_DIGEST_MISMATCH');
    expect(err.message).toContain(sha256(PACK));
    expect(evil.requests.some((r) => r.path.endsWith(`/blobs/${sha256(PACK)}`))).toBe(true);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });

    // The same cache, through an honest path: a real download, not a poisoned cache entry.
    evil.tamperBlobs = false;
    const ok = await pullPack(pinned, { cacheDir, env: noEnv });
    expect(ok.fromCache).toBe(false);
    expect(Buffer.from(ok.bytes).equals(PACK)).toBe(true);
  });

  it('answers a cached digest without any network request', async () => {
    const repo = uniqueRepo('cache');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:c`, { env: noEnv });
    const p = await proxy();
    const cacheDir = freshCache();
    const pinned = `oci://${p.host}/${repo}@${pushed.digest}`;
    const first = await pullPack(pinned, { cacheDir, env: noEnv });
    expect(first.fromCache).toBe(false);
    expect(first.path).toBe(join(cacheDir, 'sha256', pushed.digest.slice(7), 'pack.gtpack'));
    const metadata = JSON.parse(
      await readFile(join(cacheDir, 'sha256', pushed.digest.slice(7), 'metadata.json'), 'utf8'),
    );
    expect(metadata).toMatchObject({
      manifestDigest: pushed.digest,
      layers: { pack: { digest: sha256(PACK) } },
    });
    const seen = p.requests.length;
    expect(seen).toBeGreaterThan(0);

    const { fetch: counted, calls } = countingFetch();
    const events: OciProgressEvent[] = [];
    const second = await pullPack(pinned, {
      cacheDir,
      fetch: counted,
      env: noEnv,
      onProgress: (e) => events.push(e),
    });
    expect(second.fromCache).toBe(true);
    expect(Buffer.from(second.bytes).equals(PACK)).toBe(true);
    expect(calls).toEqual([]);
    expect(p.requests.length).toBe(seen);
    expect(events.map((e) => e.type)).toEqual(['cache-hit']);

    // The cache directory comes from GREENTIC_PACK_CACHE_DIR when no cacheDir is given.
    const third = await pullPack(pinned, { fetch: counted, env: { GREENTIC_PACK_CACHE_DIR: cacheDir } });
    expect(third.fromCache).toBe(true);
    expect(calls).toEqual([]);
  });

  it('treats a damaged cache entry as a miss and downloads again', async () => {
    const repo = uniqueRepo('cache-damage');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:d`, { env: noEnv });
    const cacheDir = freshCache();
    const first = await pullPack(pushed.ref, { cacheDir, env: noEnv });
    const damaged = Buffer.from(PACK);
    damaged[10] = damaged[10]! ^ 0xff;
    await writeFile(first.path!, damaged);
    const events: OciProgressEvent[] = [];
    const again = await pullPack(pushed.ref, { cacheDir, env: noEnv, onProgress: (e) => events.push(e) });
    expect(again.fromCache).toBe(false);
    expect(Buffer.from(again.bytes).equals(PACK)).toBe(true);
    expect(events.map((e) => e.type)).toContain('cache-invalid');
    expect((await readFile(first.path!)).equals(PACK)).toBe(true);
  });

  it('refuses a layer over the size limit before downloading it (GT_PACK_OCI_TOO_LARGE)', async () => {
    const repo = uniqueRepo('limit');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:l`, { env: noEnv });
    const p = await proxy();
    const err = await pullPack(`oci://${p.host}/${repo}@${pushed.digest}`, {
      cacheDir: false,
      maxBytes: 1024,
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_TOO_LARGE');
    expect(p.requests.some((r) => r.path.includes('/blobs/'))).toBe(false);
    const tooBig = await pushPack(PACK, `oci://${registry.host}/${repo}:big`, {
      maxBytes: 1024,
      env: noEnv,
    }).catch((e) => e);
    expect(tooBig.code).toBe('GT_PACK_OCI_TOO_LARGE');
  });

  it('reports a missing manifest as GT_PACK_OCI_NOT_FOUND', async () => {
    const err = await pullPack(
      `oci://${registry.host}/${uniqueRepo('missing')}@${sha256(Buffer.from('nothing'))}`,
      {
        cacheDir: false,
        env: noEnv,
      },
    ).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_NOT_FOUND');
  });

  it('round-trips a component, and pullPack refuses a component manifest (GT_PACK_OCI_NO_LAYER)', async () => {
    const wasm = Buffer.concat([
      Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]),
      fixtureBytes(4096),
    ]);
    const repo = uniqueRepo('components/echo');
    const pushed = await pushComponent(wasm, `oci://${registry.host}/${repo}:0.1.0`, {
      componentId: 'echo',
      componentVersion: '0.1.0',
      env: noEnv,
    });
    const pulled = await pullComponent(pushed.ref, { cacheDir: freshCache(), env: noEnv });
    expect(Buffer.from(pulled.bytes).equals(wasm)).toBe(true);
    expect(pulled.mediaType).toBe(WASM_COMPONENT_MEDIA_TYPE);
    expect(pulled.annotations['greentic.component.id']).toBe('echo');
    expect(pulled.path?.endsWith('component.wasm')).toBe(true);
    const err = await pullPack(pushed.ref, { cacheDir: false, env: noEnv }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_NO_LAYER');
    expect(err.message).toContain(WASM_COMPONENT_MEDIA_TYPE);
  });
});

describe('registry token flow (WWW-Authenticate: Bearer) and static bearer tokens', () => {
  it('gets a token from the realm with basic credentials, then pushes and pulls', async () => {
    const p = await proxy({ bearer: { username: 'robot', password: 's3cret-token-pw' } });
    const repo = uniqueRepo('bearer');
    const creds = { username: 'robot', password: 's3cret-token-pw', env: noEnv };
    const pushed = await pushPack(PACK, `oci://${p.host}/${repo}:b`, creds);
    const pulled = await pullPack(pushed.ref, { ...creds, cacheDir: false });
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
    expect(p.tokenRequests.length).toBeGreaterThan(0);
    const first = p.tokenRequests[0]!;
    expect(first.get('service')).toBe('greentic-proxy');
    expect(first.getAll('scope')).toContain(`repository:${repo}:pull,push`);
    // After the first challenge the token is reused rather than fetched for every request.
    expect(p.tokenRequests.length).toBeLessThanOrEqual(2);
  });

  it('takes the credentials from GREENTIC_OCI_USERNAME / GREENTIC_OCI_PASSWORD', async () => {
    const p = await proxy({ bearer: { username: 'envuser', password: 'envpw' } });
    const env = { GREENTIC_OCI_USERNAME: 'envuser', GREENTIC_OCI_PASSWORD: 'envpw' };
    const pushed = await pushPack(PACK, `oci://${p.host}/${uniqueRepo('bearer-env')}:e`, { env });
    expect(pushed.layerDigest).toBe(sha256(PACK));
  });

  it('sends a static token (GREENTIC_OCI_TOKEN) as Authorization: Bearer without a token request', async () => {
    const p = await proxy({ bearer: { username: 'nobody', password: 'x' } });
    const pushed = await pushPack(PACK, `oci://${p.host}/${uniqueRepo('static')}:s`, {
      env: { GREENTIC_OCI_TOKEN: p.token },
    });
    const pulled = await pullPack(pushed.ref, { token: p.token, cacheDir: false, env: noEnv });
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
    expect(p.tokenRequests).toEqual([]);
    expect(p.requests.every((r) => r.authorization === `Bearer ${p.token}`)).toBe(true);
  });

  it('fails with GT_PACK_OCI_AUTH on a wrong password, a bad token, or no credentials, never echoing them', async () => {
    const p = await proxy({ bearer: { username: 'robot', password: 'right' } });
    const ref = `oci://${p.host}/${uniqueRepo('bearer-bad')}:x`;
    const wrong = await pushPack(PACK, ref, {
      username: 'robot',
      password: 'wrong-pw-123',
      env: noEnv,
    }).catch((e) => e);
    expect(wrong.code).toBe('GT_PACK_OCI_AUTH');
    expect(wrong.message).not.toContain('wrong-pw-123');
    const badToken = await pushPack(PACK, ref, { token: 'not-the-token-456', env: noEnv }).catch((e) => e);
    expect(badToken.code).toBe('GT_PACK_OCI_AUTH');
    expect(badToken.message).not.toContain('not-the-token-456');
    const anonymous = await pushPack(PACK, ref, { env: noEnv }).catch((e) => e);
    expect(anonymous.code).toBe('GT_PACK_OCI_AUTH');
    expect(anonymous.message).toContain('GREENTIC_OCI_USERNAME');
  });
});

describe('runOciCommand (packc push / pull / resolve)', () => {
  it('pushes and pulls with --json output, progress on stderr, and -o', async () => {
    const file = join(work, 'cli.gtpack');
    await writeFile(file, PACK);
    const repo = uniqueRepo('cli');
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      env: { GREENTIC_PACK_CACHE_DIR: freshCache() },
      cwd: work,
      describePack: () => ({ id: 'cli-pack', version: '0.3.0' }),
    };
    expect(
      await runOciCommand(['push', 'cli.gtpack', `oci://${registry.host}/${repo}:0.3.0`, '--json'], io),
    ).toBe(0);
    const pushed = JSON.parse(out.join(''));
    expect(pushed).toMatchObject({ ok: true, command: 'push', tag: '0.3.0', layerDigest: sha256(PACK) });
    expect(err.join('')).toContain('uploaded');

    out.length = 0;
    expect(await runOciCommand(['pull', pushed.ref, '-o', 'back.gtpack', '--json'], io)).toBe(0);
    const pulled = JSON.parse(out.join(''));
    expect(pulled).toMatchObject({ ok: true, command: 'pull', digest: pushed.digest, fromCache: false });
    expect(pulled.path).toBe(join(work, 'back.gtpack'));
    expect(pulled.bytes).toBeUndefined();
    expect((await readFile(join(work, 'back.gtpack'))).equals(PACK)).toBe(true);

    out.length = 0;
    const tagged = `oci://${registry.host}/${repo}:0.3.0`;
    expect(await runOciCommand(['pull', tagged, '--json'], io)).toBe(1);
    expect(JSON.parse(out.join(''))).toMatchObject({
      ok: false,
      error: { code: 'GT_PACK_OCI_TAG_NOT_ALLOWED' },
    });

    out.length = 0;
    expect(await runOciCommand(['pull', tagged, '--allow-tags'], io)).toBe(0);
    expect(out.join('').trim()).toMatch(/sha256\/[a-f0-9]{64}\/pack\.gtpack$/);

    out.length = 0;
    expect(await runOciCommand(['resolve', tagged], io)).toBe(0);
    expect(out.join('').trim()).toBe(pushed.ref);

    const res = await fetch(`${registry.url}/v2/${repo}/manifests/0.3.0`, {
      headers: { accept: OCI_MANIFEST_MEDIA_TYPE },
    });
    const manifest = (await res.json()) as { layers: { annotations?: Record<string, string> }[] };
    expect(manifest.layers[0]?.annotations).toMatchObject({
      'greentic.pack.id': 'cli-pack',
      'greentic.pack.version': '0.3.0',
      'org.opencontainers.image.title': 'cli.gtpack',
    });
  });
});
