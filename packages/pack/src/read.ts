import { open } from 'node:fs/promises';
import { FlowError, type FlowIR, flowErrorDetails, loadFlow } from '@greentic/flow';
import { writeAtomically } from './build.js';
import { decodeCanonical } from './cbor.js';
import type { ComponentManifestFormat } from './component-manifest.js';
import { PackError, type PackProblem } from './errors.js';
import { blake3Hex, sha256Hex } from './hash.js';
import { loadSigningKey, loadTrustStore, type SigningKey, type TrustInput } from './keys.js';
import type { PackManifest } from './pack-manifest.js';
import { MANIFEST_PATH, parseSbom, SBOM_PATH, type Sbom, SIGNATURE_PATH } from './sbom.js';
import { SCHEMA_IDS, validator } from './schemas.js';
import {
  checkSignatures,
  createSignatureEntry,
  encodeSignatureFile,
  packDigest,
  parseSignatureFile,
  type SignatureReport,
} from './signature.js';
import { DEFAULT_LIMITS, type ReaderLimits, readZipEntries } from './zip-read.js';
import { writeDeterministicZip } from './zip-write.js';

/**
 * Verifying and reading a `.gtpack`. Verification runs before anything in the pack is parsed as content:
 *
 * 1. size limits and ZIP structure (`readZipEntries`: names, types, duplicates, compression, CRCs);
 * 2. signatures, over the raw bytes of manifest.cbor and sbom.cbor, against the trust store;
 * 3. the SBOM: every listed file present with its size and BLAKE3, and no file outside it.
 *
 * Only then does `readPack` decode the manifest, the component manifests and the lock, and load the flows.
 */

export interface VerifyOptions {
  /** Trusted public keys: a trust store, or PEM strings / PEM files / directories / raw 32-byte keys. */
  trust?: TrustInput;
  /**
   * Accept a pack without a trusted signature: unsigned packs, and packs signed by keys outside the trust
   * store (their signatures must still verify). Off by default.
   */
  allowUnsigned?: boolean;
  /** Tighter (or, for tests, other) reader limits. */
  limits?: Partial<ReaderLimits>;
}

export interface VerifyReport {
  /** `sha256:<hex>` of the archive bytes. */
  archiveDigest: string;
  size: number;
  sbom: Sbom;
  signature: SignatureReport;
  /** Every entry with its size, in archive order. */
  entries: { path: string; size: number; compressed: number; method: 'stored' | 'deflate' }[];
  warnings: string[];
}

export interface LoadedComponent {
  id: string;
  version: string;
  world: string;
  wasm: Uint8Array;
  /** The component manifest, as decoded from `components/<id>.manifest.cbor`. */
  manifest: Record<string, unknown>;
  manifestFormat: ComponentManifestFormat;
  hashBlake3: string;
}

export interface LoadedPack {
  manifest: PackManifest;
  /** Flow id → flow IR, loaded from `flows/<id>.ygtc` with `@greentic/flow`. */
  flows: Map<string, FlowIR>;
  /** Flow id → the flow's source text. */
  flowSources: Map<string, string>;
  components: Map<string, LoadedComponent>;
  /** Archive path (`assets/…`) → bytes. */
  assets: Map<string, Uint8Array>;
  lock?: unknown;
  signature: SignatureReport;
  /** `sha256:<hex>` of the archive bytes. */
  archiveDigest: string;
  sbom: Sbom;
  warnings: string[];
}

/** Reads a pack file, refusing one over the size limit before reading it. */
export async function readPackBytes(path: string, limits: Partial<ReaderLimits> = {}): Promise<Uint8Array> {
  const max = limits.maxArchiveBytes ?? DEFAULT_LIMITS.maxArchiveBytes;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new PackError(
      'GT_PACK_IO',
      `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new PackError('GT_PACK_IO', `${path} is not a regular file`);
    if (st.size > max) {
      throw new PackError(
        'GT_PACK_TOO_LARGE',
        `${path} is ${st.size} bytes, more than the ${max / (1024 * 1024)} MiB a pack may have`,
      );
    }
    return new Uint8Array(await handle.readFile());
  } finally {
    await handle.close();
  }
}

interface Verified {
  files: Map<string, Uint8Array>;
  report: VerifyReport;
}

async function verifyInternal(input: Uint8Array | string, opts: VerifyOptions): Promise<Verified> {
  const limits: ReaderLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const bytes = typeof input === 'string' ? await readPackBytes(input, limits) : input;
  const entries = readZipEntries(bytes, limits);
  const files = new Map(entries.map((e) => [e.path, e.data]));

  const manifestBytes = files.get(MANIFEST_PATH);
  if (!manifestBytes) {
    throw new PackError('GT_PACK_MISSING_FILE', 'the archive has no manifest.cbor; it is not a pack', {
      entry: MANIFEST_PATH,
    });
  }
  const sbomBytes = files.get(SBOM_PATH);
  if (!sbomBytes)
    throw new PackError('GT_PACK_SBOM', 'the archive has no sbom.cbor, so nothing in it can be verified', {
      entry: SBOM_PATH,
    });

  // Signatures: over raw bytes, before the SBOM or anything else is decoded.
  const sigBytes = files.get(SIGNATURE_PATH);
  const signature = await checkSignatures(
    sigBytes ? parseSignatureFile(sigBytes) : undefined,
    packDigest(manifestBytes, sbomBytes),
    {
      ...(opts.trust !== undefined ? { trust: loadTrustStore(opts.trust) } : {}),
      allowUnsigned: opts.allowUnsigned === true,
    },
  );

  // The SBOM: every listed file present and intact, nothing unlisted.
  const sbom = parseSbom(sbomBytes);
  const listed = new Set<string>();
  for (const e of sbom.files) {
    listed.add(e.path);
    const data = files.get(e.path);
    if (!data) {
      throw new PackError('GT_PACK_MISSING_FILE', `sbom.cbor lists ${e.path}, which is not in the archive`, {
        entry: e.path,
      });
    }
    if (data.length !== e.size) {
      throw new PackError(
        'GT_PACK_HASH_MISMATCH',
        `${e.path} is ${data.length} bytes but the SBOM says ${e.size}: the file was altered`,
        { entry: e.path },
      );
    }
    const hash = blake3Hex(data);
    if (hash !== e.hash_blake3) {
      throw new PackError(
        'GT_PACK_HASH_MISMATCH',
        `${e.path} has BLAKE3 ${hash} but the SBOM says ${e.hash_blake3}: the file was altered`,
        { entry: e.path },
      );
    }
  }
  for (const path of files.keys()) {
    if (path === SBOM_PATH || path === SIGNATURE_PATH || listed.has(path)) continue;
    throw new PackError(
      'GT_PACK_UNLISTED_FILE',
      `${path} is in the archive but not in the SBOM; every file of a pack must be listed (only sbom.cbor and ${SIGNATURE_PATH} are exempt)`,
      { entry: path },
    );
  }

  const warnings: string[] = [];
  if (!signature.signed)
    warnings.push('the pack is not signed (accepted because unsigned packs were allowed)');
  else if (!signature.trusted) {
    warnings.push('the pack is signed, but by no trusted key (accepted because unsigned packs were allowed)');
  }
  return {
    files,
    report: {
      archiveDigest: `sha256:${sha256Hex(bytes)}`,
      size: bytes.length,
      sbom,
      signature,
      entries: entries.map((e) => ({
        path: e.path,
        size: e.data.length,
        compressed: e.compressedSize,
        method: e.method === 0 ? 'stored' : 'deflate',
      })),
      warnings,
    },
  };
}

/** Verifies a pack (archive rules, signatures, SBOM) without decoding its content; throws a `PackError`. */
export async function verifyPack(
  input: Uint8Array | string,
  opts: VerifyOptions = {},
): Promise<VerifyReport> {
  return (await verifyInternal(input, opts)).report;
}

function manifestError(message: string, entry = MANIFEST_PATH, cause?: unknown): PackError {
  return new PackError('GT_PACK_MANIFEST', message, { entry, ...(cause !== undefined ? { cause } : {}) });
}

function decodeEntry(files: Map<string, Uint8Array>, path: string): unknown {
  const bytes = files.get(path);
  if (!bytes)
    throw new PackError('GT_PACK_MISSING_FILE', `the manifest names ${path}, which is not in the archive`, {
      entry: path,
    });
  try {
    return decodeCanonical(bytes);
  } catch (err) {
    throw manifestError(`${path} is ${(err as Error).message}`, path, err);
  }
}

/**
 * Verifies a pack and loads it: the manifest, every flow (through the flow loader), every component (Wasm
 * bytes and manifest), the assets and the lock. Throws a `PackError` for the first problem.
 */
export async function readPack(input: Uint8Array | string, opts: VerifyOptions = {}): Promise<LoadedPack> {
  const { files, report } = await verifyInternal(input, opts);
  const manifest = decodeEntry(files, MANIFEST_PATH) as PackManifest;
  const validate = validator(SCHEMA_IDS.packManifest);
  if (!validate(manifest)) {
    const first = validate.errors?.[0];
    throw manifestError(
      `manifest.cbor is not a valid pack manifest: ${first?.instancePath || '(root)'} ${first?.message ?? ''}`,
    );
  }

  const flows = new Map<string, FlowIR>();
  const flowSources = new Map<string, string>();
  for (const f of manifest.flows) {
    if (flows.has(f.id)) throw manifestError(`manifest.cbor lists flow ${f.id} twice`);
    const bytes = files.get(f.file);
    if (!bytes)
      throw new PackError(
        'GT_PACK_MISSING_FILE',
        `the manifest names ${f.file}, which is not in the archive`,
        { entry: f.file },
      );
    const text = new TextDecoder().decode(bytes);
    let ir: FlowIR;
    try {
      ir = loadFlow(text, { file: f.file });
    } catch (err) {
      if (!(err instanceof FlowError)) throw err;
      const problems: PackProblem[] = flowErrorDetails(err).map((e) => ({
        code: e.code,
        severity: 'error',
        message: e.message,
        ...(e.location ? { location: { ...e.location } } : {}),
      }));
      throw new PackError('GT_PACK_FLOW', `flow ${f.id} in the pack does not load: ${err.message}`, {
        entry: f.file,
        problems,
        cause: err,
      });
    }
    if (ir.id !== f.id)
      throw manifestError(`the manifest calls ${f.file} flow ${f.id}, but the file declares ${ir.id}`);
    flows.set(f.id, ir);
    flowSources.set(f.id, text);
  }

  const components = new Map<string, LoadedComponent>();
  for (const c of manifest.components) {
    if (components.has(c.id)) throw manifestError(`manifest.cbor lists component ${c.id} twice`);
    const wasm = files.get(c.wasm);
    if (!wasm)
      throw new PackError(
        'GT_PACK_MISSING_FILE',
        `the manifest names ${c.wasm}, which is not in the archive`,
        { entry: c.wasm },
      );
    const hash = blake3Hex(wasm);
    if (hash !== c.hash_blake3) {
      throw new PackError(
        'GT_PACK_HASH_MISMATCH',
        `${c.wasm} has BLAKE3 ${hash} but the manifest says ${c.hash_blake3}`,
        { entry: c.wasm },
      );
    }
    const cm = decodeEntry(files, c.manifest);
    if (cm === null || typeof cm !== 'object' || Array.isArray(cm))
      throw manifestError(`${c.manifest} is not a map`, c.manifest);
    components.set(c.id, {
      id: c.id,
      version: c.version,
      world: c.world,
      wasm,
      manifest: cm as Record<string, unknown>,
      manifestFormat: c.manifest_format,
      hashBlake3: hash,
    });
  }

  const assets = new Map<string, Uint8Array>();
  for (const a of manifest.assets) {
    const bytes = files.get(a.path);
    if (!bytes)
      throw new PackError(
        'GT_PACK_MISSING_FILE',
        `the manifest names ${a.path}, which is not in the archive`,
        { entry: a.path },
      );
    assets.set(a.path, bytes);
  }
  const lock = manifest.lock !== undefined ? decodeEntry(files, manifest.lock) : undefined;

  return {
    manifest,
    flows,
    flowSources,
    components,
    assets,
    ...(lock !== undefined ? { lock } : {}),
    signature: report.signature,
    archiveDigest: report.archiveDigest,
    sbom: report.sbom,
    warnings: report.warnings,
  };
}

export interface SignOptions {
  /** Where to write the signed pack; defaults to the input path (when the input is a path). */
  out?: string;
  keyId?: string;
  signedAt?: Date;
  /** Drop every existing signature instead of keeping other keys' (key rotation keeps them). */
  replace?: boolean;
  /** Limits for reading the input. */
  limits?: Partial<ReaderLimits>;
}

export interface SignResult {
  bytes: Uint8Array;
  out?: string;
  signature: SignatureReport;
  archiveDigest: string;
}

/**
 * Signs a pack in place (or into `out`). The pack must verify first (signatures that are there must be
 * valid); a signature by the same key is replaced, other keys' signatures are kept unless `replace`.
 */
export async function signPack(
  input: Uint8Array | string,
  signingKey: string | SigningKey,
  opts: SignOptions = {},
): Promise<SignResult> {
  const key = await loadSigningKey(signingKey);
  const { files } = await verifyInternal(input, {
    allowUnsigned: true,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const existing = files.has(SIGNATURE_PATH) ? parseSignatureFile(files.get(SIGNATURE_PATH)!) : [];
  const digest = packDigest(files.get(MANIFEST_PATH)!, files.get(SBOM_PATH)!);
  const entry = await createSignatureEntry(key, digest, {
    ...(opts.keyId !== undefined ? { keyId: opts.keyId } : {}),
    ...(opts.signedAt !== undefined ? { signedAt: opts.signedAt } : {}),
  });
  const kept = opts.replace ? [] : existing.filter((e) => e.key_fingerprint !== key.fingerprint);
  const next = new Map(files);
  next.set(SIGNATURE_PATH, encodeSignatureFile([...kept, entry]));
  const bytes = await writeDeterministicZip(next);
  const out = opts.out ?? (typeof input === 'string' ? input : undefined);
  if (out !== undefined) await writeAtomically(out, bytes);
  const signature = await checkSignatures(parseSignatureFile(next.get(SIGNATURE_PATH)!), digest, {
    trust: { keys: [{ publicKey: key.publicKey, fingerprint: key.fingerprint, source: '<signing key>' }] },
  });
  return {
    bytes,
    ...(out !== undefined ? { out } : {}),
    signature,
    archiveDigest: `sha256:${sha256Hex(bytes)}`,
  };
}
