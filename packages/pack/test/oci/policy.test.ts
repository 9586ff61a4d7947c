/**
 * Rules enforced before or around the network — pins, plain-HTTP policy, redirects, malformed manifests, limits,
 * CLI usage — with a scripted `fetch` instead of a registry.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GREENTIC_PACK_MEDIA_TYPE,
  OCI_EMPTY_DIGEST,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  pullPack,
  pushPack,
  resolveRef,
  runOciCommand,
} from '../../src/oci/index.js';
import { fixtureBytes, sha256 } from './helpers.js';

type Handler = (url: URL, init: RequestInit) => Response | Promise<Response>;

function scripted(handler: Handler): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  const f: typeof fetch = async (input, init = {}) => {
    const url = new URL(input instanceof URL ? input.href : String(input));
    calls.push(`${init.method ?? 'GET'} ${url.href}`);
    return handler(url, init);
  };
  return { fetch: f, calls };
}

const never = () => scripted(() => new Response('unexpected', { status: 500 }));
const PACK = fixtureBytes(1000, 'policy');
const noEnv = {};
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'greentic-oci-policy-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function manifestFor(layer: Buffer, layerMediaType = GREENTIC_PACK_MEDIA_TYPE): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: OCI_EMPTY_DIGEST, size: 2 },
      layers: [{ mediaType: layerMediaType, digest: sha256(layer), size: layer.length }],
    }),
  );
}

describe('pins and references, before any request', () => {
  it('refuses a tag without allowTags and names the pinned form', async () => {
    const { fetch, calls } = never();
    const err = await pullPack('oci://ghcr.io/acme/weather:1.0.0', { fetch, env: noEnv }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_TAG_NOT_ALLOWED');
    expect(err.message).toContain('oci://ghcr.io/acme/weather@sha256:<digest>');
    expect(calls).toEqual([]);
  });

  it('refuses a reference with neither tag nor digest', async () => {
    const { fetch, calls } = never();
    const err = await pullPack('oci://ghcr.io/acme/weather', { fetch, allowTags: true, env: noEnv }).catch(
      (e) => e,
    );
    expect(err.code).toBe('GT_PACK_OCI_REF');
    const err2 = await resolveRef('oci://ghcr.io/acme/weather', { fetch, env: noEnv }).catch((e) => e);
    expect(err2.code).toBe('GT_PACK_OCI_REF');
    expect(calls).toEqual([]);
  });

  it('refuses to push to a digest reference', async () => {
    const { fetch, calls } = never();
    const err = await pushPack(PACK, `oci://ghcr.io/acme/w@sha256:${'a'.repeat(64)}`, {
      fetch,
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_REF');
    expect(calls).toEqual([]);
  });

  it('refuses a pack over the limit and a missing file before any request', async () => {
    const { fetch, calls } = never();
    const big = await pushPack(PACK, 'oci://ghcr.io/a/b:1', { fetch, maxBytes: 10, env: noEnv }).catch(
      (e) => e,
    );
    expect(big.code).toBe('GT_PACK_OCI_TOO_LARGE');
    const missing = await pushPack(join(work, 'nope.gtpack'), 'oci://ghcr.io/a/b:1', {
      fetch,
      env: noEnv,
    }).catch((e) => e);
    expect(missing.code).toBe('GT_PACK_OCI_IO');
    expect(calls).toEqual([]);
  });
});

describe('plain HTTP policy', () => {
  it('uses HTTPS for a remote registry and plain HTTP for loopback', async () => {
    const { fetch, calls } = scripted(() => new Response(null, { status: 404 }));
    const digest = sha256(Buffer.from('x'));
    await pullPack(`oci://ghcr.io/a/b@${digest}`, { fetch, cacheDir: false, env: noEnv }).catch(
      () => undefined,
    );
    await pullPack(`oci://localhost:5000/a/b@${digest}`, { fetch, cacheDir: false, env: noEnv }).catch(
      () => undefined,
    );
    expect(calls).toEqual([
      `GET https://ghcr.io/v2/a/b/manifests/${digest}`,
      `GET http://localhost:5000/v2/a/b/manifests/${digest}`,
    ]);
  });

  it('refuses plain HTTP to a remote host unless insecure: true', async () => {
    const { fetch, calls } = scripted(() => new Response(null, { status: 404 }));
    const err = await pushPack(PACK, 'oci://registry.example.com/a:1', {
      fetch,
      protocol: 'http',
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_INSECURE');
    expect(err.message).toContain('insecure');
    expect(calls).toEqual([]);
    await pullPack(`oci://registry.example.com/a@${sha256(PACK)}`, {
      fetch,
      insecure: true,
      cacheDir: false,
      env: noEnv,
    }).catch(() => undefined);
    expect(calls[0]).toMatch(/^GET http:\/\/registry\.example\.com\//);
  });

  it('refuses a redirect to plain HTTP on a remote host, and drops credentials on cross-origin redirects', async () => {
    const manifest = manifestFor(PACK);
    const digest = sha256(manifest);
    const seenAuth: (string | null)[] = [];
    const { fetch } = scripted((url, init) => {
      seenAuth.push(new Headers(init.headers).get('authorization'));
      if (url.pathname.includes('/manifests/')) {
        return new Response(manifest, { status: 200, headers: { 'content-type': OCI_MANIFEST_MEDIA_TYPE } });
      }
      if (url.host === 'registry.example.com') {
        return new Response(null, { status: 307, headers: { location: 'http://cdn.example.net/blob' } });
      }
      return new Response(PACK, { status: 200 });
    });
    const err = await pullPack(`oci://registry.example.com/a@${digest}`, {
      fetch,
      token: 'tok',
      cacheDir: false,
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_INSECURE');

    // Same thing to HTTPS: followed, without the registry's Authorization header.
    seenAuth.length = 0;
    const { fetch: fetch2 } = scripted((url, init) => {
      seenAuth.push(new Headers(init.headers).get('authorization'));
      if (url.pathname.includes('/manifests/')) {
        return new Response(manifest, { status: 200, headers: { 'content-type': OCI_MANIFEST_MEDIA_TYPE } });
      }
      if (url.host === 'registry.example.com') {
        return new Response(null, { status: 307, headers: { location: 'https://cdn.example.net/blob' } });
      }
      return new Response(PACK, { status: 200 });
    });
    const ok = await pullPack(`oci://registry.example.com/a@${digest}`, {
      fetch: fetch2,
      token: 'tok',
      cacheDir: false,
      env: noEnv,
    });
    expect(Buffer.from(ok.bytes).equals(PACK)).toBe(true);
    expect(seenAuth).toEqual(['Bearer tok', 'Bearer tok', null]);
  });
});

describe('what the registry sends back', () => {
  const serve = (manifest: Buffer, blob: Buffer = PACK, contentType = OCI_MANIFEST_MEDIA_TYPE) =>
    scripted((url) =>
      url.pathname.includes('/manifests/')
        ? new Response(manifest, { status: 200, headers: { 'content-type': contentType } })
        : new Response(blob, { status: 200 }),
    ).fetch;

  it('rejects a manifest whose bytes do not hash to the pinned digest', async () => {
    const digest = sha256(manifestFor(PACK));
    const other = Buffer.from(`${manifestFor(PACK).toString()} `);
    const err = await pullPack(`oci://r.example.com/a@${digest}`, {
      fetch: serve(other),
      cacheDir: false,
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_DIGEST_MISMATCH');
  });

  it('rejects a blob longer than its descriptor', async () => {
    const manifest = manifestFor(PACK);
    const err = await pullPack(`oci://r.example.com/a@${sha256(manifest)}`, {
      fetch: serve(manifest, Buffer.concat([PACK, Buffer.from('extra')])),
      cacheDir: false,
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_DIGEST_MISMATCH');
  });

  it('rejects an image index and malformed manifests (GT_PACK_OCI_MANIFEST)', async () => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [],
      }),
    );
    const bad = [
      index,
      Buffer.from('not json'),
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST_MEDIA_TYPE, layers: [] })),
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: OCI_EMPTY_DIGEST, size: 2 },
          layers: [{ mediaType: GREENTIC_PACK_MEDIA_TYPE, digest: `sha512:${'a'.repeat(128)}`, size: 1 }],
        }),
      ),
    ];
    for (const manifest of bad) {
      const err = await pullPack(`oci://r.example.com/a@${sha256(manifest)}`, {
        fetch: serve(manifest),
        cacheDir: false,
        env: noEnv,
      }).catch((e) => e);
      expect(err.code).toBe('GT_PACK_OCI_MANIFEST');
    }
  });

  it('accepts a Docker v2 schema 2 manifest with a pack layer', async () => {
    const manifest = Buffer.from(
      manifestFor(PACK)
        .toString()
        .replace(OCI_MANIFEST_MEDIA_TYPE, 'application/vnd.docker.distribution.manifest.v2+json'),
    );
    const pulled = await pullPack(`oci://r.example.com/a@${sha256(manifest)}`, {
      fetch: serve(manifest),
      cacheDir: false,
      env: noEnv,
    });
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
  });

  it('reports an unreachable registry as GT_PACK_OCI_NETWORK', async () => {
    const err = await pullPack(`oci://127.0.0.1:1/a@${sha256(PACK)}`, { cacheDir: false, env: noEnv }).catch(
      (e) => e,
    );
    expect(err.code).toBe('GT_PACK_OCI_NETWORK');
    expect(err.message).toContain('127.0.0.1:1');
  });

  it('reports a registry error body in GT_PACK_OCI_REGISTRY', async () => {
    const { fetch } = scripted(
      () =>
        new Response(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'nope' }] }), {
          status: 500,
        }),
    );
    const err = await pullPack(`oci://r.example.com/a@${sha256(PACK)}`, {
      fetch,
      cacheDir: false,
      env: noEnv,
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_REGISTRY');
    expect(err.status).toBe(500);
    expect(err.message).toContain('UNSUPPORTED: nope');
  });
});

describe('runOciCommand usage', () => {
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      io: {
        stdout: { write: (s: string) => out.push(s) },
        stderr: { write: (s: string) => err.push(s) },
        env: noEnv,
      },
    };
  };

  it('prints help with an example', async () => {
    for (const command of ['push', 'pull', 'resolve']) {
      const c = capture();
      expect(await runOciCommand([command, '--help'], c.io)).toBe(0);
      expect(c.out.join('')).toContain('example: packc');
    }
  });

  it('exits 2 with GT_PACK_OCI_USAGE for wrong calls', async () => {
    for (const argv of [
      ['frobnicate'],
      ['push', 'only-one-arg'],
      ['pull'],
      ['pull', 'oci://r.example.com/a:1', '--bogus'],
      ['pull', `oci://r.example.com/a@sha256:${'a'.repeat(64)}`, '--no-cache'],
      ['pull', 'oci://r.example.com/a:1', '--max-bytes', 'lots'],
      ['push', 'x', 'y', '--annotation', 'novalue'],
    ]) {
      const c = capture();
      expect(await runOciCommand([...argv, '--json'], c.io)).toBe(2);
      expect(JSON.parse(c.out.join(''))).toMatchObject({ ok: false, error: { code: 'GT_PACK_OCI_USAGE' } });
    }
  });

  it('exits 1 with the error code of a failed pull', async () => {
    const c = capture();
    expect(await runOciCommand(['pull', 'oci://r.example.com/a:1'], c.io)).toBe(1);
    expect(c.err.join('')).toContain('GT_PACK_OCI_TAG_NOT_ALLOWED');
  });
});
