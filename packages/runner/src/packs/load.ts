import { resolve } from 'node:path';
import { type LoadedPack, PackError, pullPack, readPack, readPackBytes } from '@greentic/pack';
import { RunnerError } from '../errors.js';
import { type InstallResult, packEntryFlow, type TenantPackRegistry } from './registry.js';
import type { PackSettings } from './settings.js';
import { PackStore, type StoredPackRef } from './store.js';

export interface LoadPackOptions {
  /** A `.gtpack` file, or an `oci://` reference (pinned by digest unless `allowTags`). */
  pack: string;
  /** The tenant to install it for; undefined: the default pack (every tenant without a pack of its own). */
  tenant?: string;
  /** Accept an unsigned pack, or one signed by no trusted key (development only; refused in production). */
  allowUnsigned?: boolean;
  settings: PackSettings;
  env?: Record<string, string | undefined>;
  /** OCI: accept a tag instead of a digest. */
  allowTags?: boolean;
  /** OCI: allow plain HTTP to a registry that is not on loopback. */
  insecure?: boolean;
  /** Progress and warnings (one line each, without a newline). */
  onProgress?: (line: string) => void;
  /** The `fetch` registry requests use (tests). */
  fetch?: typeof fetch;
}

export interface LoadPackResult {
  tenant: string | undefined;
  ref: StoredPackRef;
  /** Where the archive is in the store. */
  path: string;
  /** The tenant's pack before (undefined: none). */
  previous?: StoredPackRef;
  pack: LoadedPack;
  warnings: string[];
}

function refOf(pack: LoadedPack, size: number, source: string): StoredPackRef {
  return {
    pack_id: pack.manifest.pack_id,
    version: pack.manifest.version,
    digest: pack.archiveDigest,
    size,
    loaded_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    signed: pack.signature.signed,
    trusted: pack.signature.trusted,
    signers: pack.signature.signatures.map((s) => ({
      key_id: s.key_id,
      key_fingerprint: s.key_fingerprint,
      trusted: s.trusted,
    })),
    source,
  };
}

function refuseUnsignedInProduction(settings: PackSettings): void {
  if (settings.production)
    throw new RunnerError(
      'GT_RUNNER_USAGE',
      `--allow-unsigned is refused: this runner is in production (${settings.productionReason}). Sign the pack (packc sign -p <pack> --key <key.pem>) and trust the signer's public key (--trust, packs.trust in the config, or ${settings.home}/trust/)`,
    );
}

/**
 * `greentic-runner load`: gets the pack (a file, or a pull from an OCI registry), verifies it completely with
 * `readPack` against the trust store — before anything is written — and installs it in the pack store as the
 * tenant's current pack. Throws `PackError` (`GT_PACK_*`, e.g. `GT_PACK_HASH_MISMATCH` for a tampered pack,
 * `GT_PACK_UNSIGNED`, `GT_PACK_UNTRUSTED_KEY`) or `RunnerError`.
 */
export async function loadPackIntoStore(opts: LoadPackOptions): Promise<LoadPackResult> {
  const { settings } = opts;
  const progress = opts.onProgress ?? (() => {});
  if (opts.allowUnsigned) refuseUnsignedInProduction(settings);

  let bytes: Uint8Array;
  let source: string;
  if (opts.pack.startsWith('oci://')) {
    const pulled = await pullPack(opts.pack, {
      allowTags: opts.allowTags === true,
      insecure: opts.insecure === true,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      onProgress: (e) => {
        if (e.type === 'resolved') progress(`resolved ${e.reference} → ${e.digest}`);
        else if (e.type === 'download-done') progress(`downloaded ${e.digest} (sha256 verified)`);
        else if (e.type === 'cache-hit') progress(`cached ${e.digest}`);
      },
    });
    bytes = pulled.bytes;
    source = pulled.ref;
  } else {
    source = resolve(opts.pack);
    bytes = await readPackBytes(source);
  }

  progress(`verifying ${source}`);
  const pack = await readPack(bytes, {
    ...(settings.trust.length > 0 ? { trust: settings.trust } : {}),
    allowUnsigned: opts.allowUnsigned === true,
  }).catch((err: unknown) => {
    if (
      err instanceof PackError &&
      err.code === 'GT_PACK_UNTRUSTED_KEY' &&
      settings.trust.length === 0 &&
      settings.trustSource === 'default'
    ) {
      throw new PackError(
        'GT_PACK_UNTRUSTED_KEY',
        `${err.message} (the default trust store ${settings.home}/trust/ holds no key: "packc keygen" puts the dev key's public half there)`,
        { cause: err },
      );
    }
    throw err;
  });
  if (packEntryFlow(pack) === undefined)
    throw new RunnerError(
      'GT_RUNNER_FLOW_NOT_FOUND',
      `pack ${pack.manifest.pack_id} ${pack.manifest.version} has no flow; a tenant's pack needs one to start conversations`,
    );

  const warnings = [...pack.warnings];
  if (!pack.signature.trusted) {
    warnings.push(
      `pack ${pack.manifest.pack_id} ${pack.manifest.version} is ${pack.signature.signed ? 'signed by no trusted key' : 'UNSIGNED'} and was accepted only because of --allow-unsigned: nothing vouches for what it runs. Development only — a production runner (GREENTIC_ENV=production) refuses it.`,
    );
  }

  const store = new PackStore(settings.storeDir);
  const put = await store.put(bytes);
  const ref = refOf(pack, bytes.length, source);
  const previous = (await store.index(opts.tenant))?.current ?? undefined;
  await store.setCurrent(opts.tenant, ref);
  return {
    tenant: opts.tenant,
    ref,
    path: put.path,
    ...(previous ? { previous } : {}),
    pack,
    warnings,
  };
}

/** What {@link installStoredPacks} did: one entry per index (the default pack: `tenant` undefined). */
export interface InstallStoredResult {
  installed: (InstallResult & { ref: StoredPackRef })[];
  /** Indexes whose pack could not be installed (the tenant keeps what the registry had). */
  failed: { tenant: string | undefined; error: Error }[];
  /** With `onlyChanged`: indexes whose current pack is already the registry's current version (not read again). */
  unchanged: { tenant: string | undefined; ref: StoredPackRef }[];
}

export interface InstallStoredOptions {
  /**
   * Skip an index whose current pack is the registry's current version already (same archive digest): its archive
   * is not read and verified again. What a daemon's reload uses; the result lists them in `unchanged`.
   */
  onlyChanged?: boolean;
}

/**
 * Installs the current pack of every index of the store (the default pack and each tenant's) into a registry — what
 * a daemon does at start-up and on an admin reload. Versions the registry already has are made current without
 * being loaded again; a pack that cannot be read (altered, or loaded unsigned on a production runner) is reported
 * in `failed` and the others are installed anyway.
 */
export async function installStoredPacks(
  registry: TenantPackRegistry,
  settings: PackSettings,
  options: InstallStoredOptions = {},
): Promise<InstallStoredResult> {
  const store = new PackStore(settings.storeDir);
  const out: InstallStoredResult = { installed: [], failed: [], unchanged: [] };
  for (const tenant of [undefined, ...(await store.tenants())]) {
    try {
      const ref = (await store.index(tenant))?.current;
      if (!ref) continue;
      if (options.onlyChanged && registry.current(tenant)?.pack.archiveDigest === ref.digest) {
        out.unchanged.push({ tenant, ref });
        continue;
      }
      const pack = await readStored(store, ref, tenant, settings);
      out.installed.push({ ...registry.install(tenant, pack), ref });
    } catch (err) {
      out.failed.push({ tenant, error: err as Error });
    }
  }
  return out;
}

async function readStored(
  store: PackStore,
  ref: StoredPackRef,
  tenant: string | undefined,
  settings: PackSettings,
): Promise<LoadedPack> {
  if (settings.production && !ref.trusted)
    throw new PackError(
      ref.signed ? 'GT_PACK_UNTRUSTED_KEY' : 'GT_PACK_UNSIGNED',
      `pack ${ref.pack_id} ${ref.version} (${ref.digest}) of ${tenant === undefined ? 'the default' : `tenant "${tenant}"`} was loaded with --allow-unsigned, which this production runner (${settings.productionReason}) does not run; load a signed pack`,
    );
  const bytes = await store.read(ref.digest);
  return readPack(bytes, { allowUnsigned: true });
}

export interface OpenTenantPackResult {
  /** The index the pack came from: the tenant's, or undefined for the default pack. */
  from: string | undefined;
  ref: StoredPackRef;
  pack: LoadedPack;
}

/**
 * The pack a tenant runs, read back from the store: its own, else the default pack. The archive must still hash to
 * its name and pass `readPack` (integrity, and every signature must verify; trust was decided by `load`). A
 * production runner refuses a pack that was loaded with `--allow-unsigned`.
 */
export async function openTenantPack(tenant: string, settings: PackSettings): Promise<OpenTenantPackResult> {
  const store = new PackStore(settings.storeDir);
  const found = await store.resolve(tenant);
  if (!found)
    throw new RunnerError(
      'GT_RUNNER_FLOW_NOT_FOUND',
      `no pack is loaded for tenant "${tenant}" and there is no default pack (store ${settings.storeDir}): run "greentic-runner load --pack <file.gtpack> [--tenant ${tenant}]", or pass --flow <file.ygtc>`,
    );
  const pack = await readStored(store, found.ref, found.tenant, settings);
  return { from: found.tenant, ref: found.ref, pack };
}
