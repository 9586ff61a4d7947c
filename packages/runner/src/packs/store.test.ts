import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPackError } from '@greentic/pack';
import { describe, expect, it } from 'vitest';
import { PACK_STORE_INDEX_SCHEMA, PackStore, type StoredPackRef } from './store.js';

const temp = () => mkdtempSync(join(tmpdir(), 'gt-pack-store-'));

function ref(version: string, digest: string): StoredPackRef {
  return {
    pack_id: 'test.pack',
    version,
    digest,
    size: 3,
    loaded_at: '2026-01-01T00:00:00Z',
    signed: true,
    trusted: true,
    signers: [{ key_id: 'dev', key_fingerprint: 'ab'.repeat(16), trusted: true }],
    source: '/tmp/x.gtpack',
  };
}

describe('PackStore', () => {
  it("forgets a tenant's pack and deletes only archives no index names any more", async () => {
    const store = new PackStore(temp());
    const a = await store.put(new TextEncoder().encode('aaa'));
    const b = await store.put(new TextEncoder().encode('bbb'));
    await store.setCurrent('acme', ref('1.0.0', a.digest));
    await store.setCurrent(undefined, ref('1.0.0', b.digest));
    expect(await store.prune([a.digest, b.digest])).toEqual([]);
    expect(await store.removeIndex('acme')).toBe(true);
    expect(await store.removeIndex('acme')).toBe(false);
    expect((await store.resolve('acme'))?.ref.digest).toBe(b.digest);
    expect(await store.prune([a.digest, b.digest])).toEqual([a.digest]);
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(true);
  });

  it('stores archives under their sha256 and reads them back', async () => {
    const store = new PackStore(temp());
    const bytes = new TextEncoder().encode('abc');
    const put = await store.put(bytes);
    const hex = createHash('sha256').update(bytes).digest('hex');
    expect(put).toMatchObject({ digest: `sha256:${hex}`, existed: false });
    expect(put.path).toBe(join(store.dir, 'blobs', 'sha256', `${hex}.gtpack`));
    expect((await store.put(bytes)).existed).toBe(true);
    expect(Buffer.from(await store.read(put.digest)).toString()).toBe('abc');
  });

  it('refuses a stored archive that no longer hashes to its name', async () => {
    const store = new PackStore(temp());
    const put = await store.put(new TextEncoder().encode('abc'));
    writeFileSync(put.path, 'abd');
    const err = await store.read(put.digest).catch((e: unknown) => e);
    expect(isPackError(err, 'GT_PACK_HASH_MISMATCH')).toBe(true);
    expect((err as Error).message).toMatch(/altered after it was loaded/);
  });

  it('reports a missing archive and a malformed digest', async () => {
    const store = new PackStore(temp());
    const err = await store.read(`sha256:${'0'.repeat(64)}`).catch((e: unknown) => e);
    expect(isPackError(err, 'GT_PACK_IO')).toBe(true);
    expect(() => store.blobPath('sha256:../../etc/passwd')).toThrow(/not a sha256/);
  });

  it('keeps one index per tenant with the current pack and its history, newest first', async () => {
    const store = new PackStore(temp());
    const d1 = `sha256:${'1'.repeat(64)}`;
    const d2 = `sha256:${'2'.repeat(64)}`;
    await store.setCurrent('acme', ref('1.0.0', d1));
    const idx = await store.setCurrent('acme', ref('2.0.0', d2));
    expect(idx).toMatchObject({ schema: PACK_STORE_INDEX_SCHEMA, tenant: 'acme' });
    expect(idx.current?.version).toBe('2.0.0');
    expect(idx.history.map((h) => h.version)).toEqual(['1.0.0']);
    const onDisk = JSON.parse(readFileSync(join(store.dir, 'index', 'tenants', 'acme.json'), 'utf8'));
    expect(onDisk).toEqual(idx);
    expect(await store.tenants()).toEqual(['acme']);
    expect(existsSync(join(store.dir, '.lock'))).toBe(false);
  });

  it('resolves a tenant to its own pack, else the default pack', async () => {
    const store = new PackStore(temp());
    expect(await store.resolve('acme')).toBeUndefined();
    await store.setCurrent(undefined, ref('1.0.0', `sha256:${'1'.repeat(64)}`));
    expect(await store.resolve('acme')).toMatchObject({ tenant: undefined, ref: { version: '1.0.0' } });
    await store.setCurrent('acme', ref('9.0.0', `sha256:${'9'.repeat(64)}`));
    expect(await store.resolve('acme')).toMatchObject({ tenant: 'acme', ref: { version: '9.0.0' } });
    expect((await store.index(undefined))?.tenant).toBeNull();
  });

  it('refuses tenant ids that are not identifiers (no path tricks)', async () => {
    const store = new PackStore(temp());
    await expect(store.setCurrent('../evil', ref('1.0.0', `sha256:${'1'.repeat(64)}`))).rejects.toThrow(
      /not a tenant id/,
    );
    await expect(store.index('a/b')).rejects.toThrow(/not a tenant id/);
  });

  it('refuses an index that is not a pack store index', async () => {
    const dir = temp();
    mkdirSync(join(dir, 'index'), { recursive: true });
    writeFileSync(join(dir, 'index', 'default.json'), '{"hello":1}');
    const err = await new PackStore(dir).index().catch((e: unknown) => e);
    expect(isPackError(err, 'GT_PACK_IO')).toBe(true);
  });

  it('serialises concurrent index updates (nothing is lost from the history)', async () => {
    const store = new PackStore(temp());
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.setCurrent('acme', ref(`1.0.${i}`, `sha256:${String(i).repeat(64)}`)),
      ),
    );
    const idx = await store.index('acme');
    expect([idx!.current!.version, ...idx!.history.map((h) => h.version)].sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `1.0.${i}`),
    );
  });
});
