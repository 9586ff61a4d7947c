import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPack, generateKeyPair, isPackError, pushPack } from '@greentic/pack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { startRegistry } from '../../../../scripts/oci-registry.mjs';
import { RunnerError } from '../errors.js';
import { installStoredPacks, loadPackIntoStore, openTenantPack } from './load.js';
import { packVersionKey, TenantPackRegistry } from './registry.js';
import { resolvePackSettings } from './settings.js';
import { PackStore } from './store.js';

const temp = () => mkdtempSync(join(tmpdir(), 'gt-pack-load-'));

const FLOW = `id: main
type: messaging
nodes:
  hello:
    template: "hello"
    routing: out
`;

/** A tiny pack (one flow), unsigned or signed with `key`. */
async function tinyPack(version: string, key?: string): Promise<{ path: string; bytes: Uint8Array }> {
  const dir = temp();
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'main.ygtc'), FLOW);
  writeFileSync(
    join(dir, 'pack.yaml'),
    `pack_id: test.load\nversion: ${version}\nkind: application\npublisher: tests\nflows:\n  - { id: main, file: flows/main.ygtc }\n`,
  );
  const out = join(dir, 'p.gtpack');
  const built = await buildPack(join(dir, 'pack.yaml'), { out, ...(key ? { signingKey: key } : {}) });
  return { path: out, bytes: built.bytes };
}

/** A GREENTIC_HOME with a dev key whose public half is in trust/. */
async function devHome(): Promise<{ home: string; key: string }> {
  const home = temp();
  const pair = await generateKeyPair();
  mkdirSync(join(home, 'trust'));
  writeFileSync(join(home, 'trust', 'dev.pub.pem'), pair.publicKeyPem);
  return { home, key: pair.privateKeyPem };
}

describe('loadPackIntoStore', () => {
  it('verifies against the default trust store, then installs the pack and keeps the previous one in history', async () => {
    const { home, key } = await devHome();
    const settings = resolvePackSettings({ env: { GREENTIC_HOME: home } });
    const v1 = await tinyPack('1.0.0', key);
    const r1 = await loadPackIntoStore({ pack: v1.path, tenant: 'acme', settings });
    expect(r1.ref).toMatchObject({
      pack_id: 'test.load',
      version: '1.0.0',
      signed: true,
      trusted: true,
      source: v1.path,
    });
    expect(r1.warnings).toEqual([]);
    const v2 = await tinyPack('2.0.0', key);
    const r2 = await loadPackIntoStore({ pack: v2.path, tenant: 'acme', settings });
    expect(r2.previous?.version).toBe('1.0.0');
    const index = await new PackStore(settings.storeDir).index('acme');
    expect(index?.current?.version).toBe('2.0.0');
    expect(index?.history.map((h) => h.version)).toEqual(['1.0.0']);
    const opened = await openTenantPack('acme', settings);
    expect(opened).toMatchObject({ from: 'acme', ref: { version: '2.0.0' } });
    expect(opened.pack.flows.has('main')).toBe(true);
  });

  it('says where the default trust store is when a signed pack is not trusted', async () => {
    const home = temp();
    const other = await generateKeyPair();
    const pack = await tinyPack('1.0.0', other.privateKeyPem);
    const err = await loadPackIntoStore({
      pack: pack.path,
      settings: resolvePackSettings({ env: { GREENTIC_HOME: home } }),
    }).catch((e: unknown) => e);
    expect(isPackError(err, 'GT_PACK_UNTRUSTED_KEY')).toBe(true);
    expect((err as Error).message).toContain(`the default trust store ${home}/trust/ holds no key`);
  });

  it('accepts an unsigned pack only with allowUnsigned, with a warning, and never in production', async () => {
    const home = temp();
    const pack = await tinyPack('1.0.0');
    const settings = resolvePackSettings({ env: { GREENTIC_HOME: home } });
    const refused = await loadPackIntoStore({ pack: pack.path, settings }).catch((e: unknown) => e);
    expect(isPackError(refused, 'GT_PACK_UNSIGNED')).toBe(true);

    const r = await loadPackIntoStore({ pack: pack.path, settings, allowUnsigned: true });
    expect(r.ref).toMatchObject({ signed: false, trusted: false });
    expect(r.warnings.join('\n')).toMatch(/is UNSIGNED and was accepted only because of --allow-unsigned/);

    const prod = resolvePackSettings({ env: { GREENTIC_HOME: home, GREENTIC_ENV: 'production' } });
    const err = await loadPackIntoStore({ pack: pack.path, settings: prod, allowUnsigned: true }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as RunnerError).code).toBe('GT_RUNNER_USAGE');
    // and what was loaded unsigned does not run in production
    const run = await openTenantPack('acme', prod).catch((e: unknown) => e);
    expect(isPackError(run, 'GT_PACK_UNSIGNED')).toBe(true);
  });

  it('refuses a pack whose stored archive was altered after the load', async () => {
    const { home, key } = await devHome();
    const settings = resolvePackSettings({ env: { GREENTIC_HOME: home } });
    const r = await loadPackIntoStore({ pack: (await tinyPack('1.0.0', key)).path, settings });
    writeFileSync(r.path, 'changed');
    const err = await openTenantPack('acme', settings).catch((e: unknown) => e);
    expect(isPackError(err, 'GT_PACK_HASH_MISMATCH')).toBe(true);
  });

  it('reports a tenant without a pack (and no default) with what to run', async () => {
    const settings = resolvePackSettings({ env: { GREENTIC_HOME: temp() } });
    await expect(openTenantPack('acme', settings)).rejects.toThrow(
      /no pack is loaded for tenant "acme" and there is no default pack .*greentic-runner load --pack/,
    );
  });
});

describe('installStoredPacks', () => {
  it("installs the default pack and every tenant's pack into a registry, and reports the ones it cannot read", async () => {
    const { home, key } = await devHome();
    const settings = resolvePackSettings({ env: { GREENTIC_HOME: home } });
    await loadPackIntoStore({ pack: (await tinyPack('1.0.0', key)).path, settings });
    await loadPackIntoStore({ pack: (await tinyPack('2.0.0', key)).path, tenant: 'acme', settings });
    const broken = await loadPackIntoStore({
      pack: (await tinyPack('3.0.0', key)).path,
      tenant: 'globex',
      settings,
    });
    writeFileSync(broken.path, 'changed');

    const registry = new TenantPackRegistry();
    const r = await installStoredPacks(registry, settings);
    expect(r.installed.map((i) => [i.tenant, i.ref.version])).toEqual([
      [undefined, '1.0.0'],
      ['acme', '2.0.0'],
    ]);
    expect(r.failed.map((f) => [f.tenant, (f.error as { code?: string }).code])).toEqual([
      ['globex', 'GT_PACK_HASH_MISMATCH'],
    ]);
    expect(registry.current('acme')?.key).toBe(packVersionKey((await openTenantPack('acme', settings)).pack));
    expect(registry.tenants()).toEqual(['acme']);
    // again (an admin reload with nothing new): same versions, nothing loaded twice
    const again = await installStoredPacks(registry, settings);
    expect(again.installed.map((i) => i.previous)).toEqual([undefined, undefined]);
  });
});

describe('loadPackIntoStore from an OCI registry', () => {
  let registry: { host: string; stop(): Promise<void> };
  beforeAll(async () => {
    registry = await startRegistry();
  }, 600_000);
  afterAll(async () => {
    await registry?.stop();
  });

  it('pulls a digest-pinned pack, verifies it and records the pinned reference; a tag needs allowTags', async () => {
    const { home, key } = await devHome();
    const env = { GREENTIC_HOME: home, GREENTIC_PACK_CACHE_DIR: join(home, 'oci-cache') };
    const settings = resolvePackSettings({ env });
    const pack = await tinyPack('1.0.0', key);
    const tagRef = `oci://${registry.host}/tests/load-${Date.now().toString(36)}:1.0.0`;
    const pushed = await pushPack(pack.bytes, tagRef, { env });
    const lines: string[] = [];
    const r = await loadPackIntoStore({
      pack: pushed.ref,
      tenant: 'acme',
      settings,
      env,
      onProgress: (l) => lines.push(l),
    });
    expect(r.ref).toMatchObject({ source: pushed.ref, digest: pushed.layerDigest, trusted: true });
    expect(lines.join('\n')).toMatch(/downloaded sha256:/);

    const err = await loadPackIntoStore({ pack: tagRef, settings, env }).catch((e: unknown) => e);
    expect(isPackError(err, 'GT_PACK_OCI_TAG_NOT_ALLOWED')).toBe(true);
    const byTag = await loadPackIntoStore({ pack: tagRef, settings, env, allowTags: true });
    expect(byTag.ref.digest).toBe(pushed.layerDigest);
    expect(byTag.ref.source).toBe(pushed.ref);
  });
});
