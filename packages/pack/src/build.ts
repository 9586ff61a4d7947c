import { lstat, mkdir, readdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  FlowError,
  type FlowIR,
  type SourceLocation as FlowLocation,
  flowErrorDetails,
  formatLocation,
  lintFlow,
  loadFlowWithLocator,
} from '@greentic/flow';
import { encodeCanonical } from './cbor.js';
import {
  type ComponentManifestFormat,
  checkComponentManifest,
  componentSemanticProblems,
  declaredSecretKeys,
} from './component-manifest.js';
import { PackError, type PackProblem, throwIfErrors } from './errors.js';
import { blake3Hex, sha256Hex } from './hash.js';
import { loadSigningKey, type SigningKey } from './keys.js';
import { lockProblems } from './lint.js';
import { type ComponentConfig, type PackConfig, parsePackYaml, type SecretRequirement } from './manifest.js';
import type { PackComponentEntry, PackFlowEntry, PackManifest } from './pack-manifest.js';
import { packPathProblem } from './paths.js';
import { buildSbom, encodeSbom, MANIFEST_PATH, SBOM_PATH, type Sbom, SIGNATURE_PATH } from './sbom.js';
import { createSignatureEntry, digestString, encodeSignatureFile, packDigest } from './signature.js';
import { SourceDoc } from './source.js';
import { DEFAULT_LIMITS } from './zip-read.js';
import { writeDeterministicZip } from './zip-write.js';

/**
 * Building a pack: validate everything pack.yaml references (every flow loads with `@greentic/flow` and lints
 * without errors, every component manifest is valid and targets a supported WIT world, every referenced file,
 * flow, component and secret exists, no id twice), then write the deterministic `.gtpack`.
 */

export interface ValidateOptions {
  /** Progress lines (the CLI sends them to stderr). */
  onProgress?: (line: string) => void;
}

export interface BuildOptions extends ValidateOptions {
  /** Where to write the `.gtpack`; without it the bytes are only returned. */
  out?: string;
  /** Sign while building: a PKCS#8 PEM string, a PEM file path, or a loaded key. */
  signingKey?: string | SigningKey;
  /** Label stored with the signature (default: the key fingerprint). */
  keyId?: string;
  /** Signing time (default: now); fix it for reproducible signed builds. */
  signedAt?: Date;
}

export interface PackPlan {
  config: PackConfig;
  manifest: PackManifest;
  /** Archive path → bytes, for everything but sbom.cbor and the signature. */
  files: Map<string, Uint8Array>;
}

export interface ValidationResult {
  /** Present when there is no error. */
  plan?: PackPlan;
  /** Errors and warnings, in discovery order. */
  problems: PackProblem[];
}

export interface BuildResult {
  bytes: Uint8Array;
  /** The output path, when `out` was given. */
  out?: string;
  manifest: PackManifest;
  sbom: Sbom;
  /** `sha256:<hex>` of the archive bytes. */
  archiveDigest: string;
  /** The digest signatures sign (`sha256:<hex>`). */
  packDigest: string;
  signed: boolean;
  warnings: PackProblem[];
  files: { path: string; size: number }[];
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function within(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Runs every build check without writing anything (`packc lint <pack.yaml>`). */
export async function validatePack(
  packYamlPath: string,
  opts: ValidateOptions = {},
): Promise<ValidationResult> {
  const progress = opts.onProgress ?? (() => {});
  const problems: PackProblem[] = [];
  let text: string;
  try {
    text = await readFile(packYamlPath, 'utf8');
  } catch (err) {
    return {
      problems: [
        {
          code: 'GT_PACK_IO',
          severity: 'error',
          message: `cannot read ${packYamlPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        },
      ],
    };
  }
  const parsed = parsePackYaml(text, packYamlPath);
  problems.push(...parsed.problems);
  const { config, doc } = parsed;
  if (!config || !doc) return { problems };
  const shownRoot = dirname(packYamlPath);
  const root = await realpath(resolve(shownRoot));
  const files = new Map<string, Uint8Array>();
  const shown = (rel: string) => join(shownRoot, rel);

  /** Reads a file named in pack.yaml; reports a located problem and returns undefined when it cannot. */
  const readSource = async (rel: string, pointer: string, what: string): Promise<Uint8Array | undefined> => {
    if (typeof rel !== 'string' || packPathProblem(rel)) return undefined; // already reported
    const abs = join(root, rel);
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      problems.push(
        doc.problem(
          'GT_PACK_MISSING_REFERENCE',
          pointer,
          `${what} ${shown(rel)} does not exist; add the file or fix the path`,
        ),
      );
      return undefined;
    }
    if (!within(root, real)) {
      problems.push(
        doc.problem(
          'GT_PACK_PATH_ESCAPE',
          pointer,
          `${what} ${shown(rel)} is a link to ${real}, outside the pack root`,
        ),
      );
      return undefined;
    }
    const st = await stat(real);
    if (!st.isFile()) {
      problems.push(
        doc.problem('GT_PACK_MISSING_REFERENCE', pointer, `${what} ${shown(rel)} is not a regular file`),
      );
      return undefined;
    }
    if (st.size > DEFAULT_LIMITS.maxEntryBytes) {
      problems.push(
        doc.problem(
          'GT_PACK_ENTRY_TOO_LARGE',
          pointer,
          `${what} ${shown(rel)} is ${st.size} bytes, more than the 16 MiB one file of a pack may have`,
        ),
      );
      return undefined;
    }
    return new Uint8Array(await readFile(real));
  };

  // Components first: flows are linted against the component ids.
  const components: PackComponentEntry[] = [];
  const componentManifests = new Map<string, unknown>();
  for (const [i, c] of config.components.entries()) {
    if (typeof c.id !== 'string' || typeof c.wasm !== 'string') continue;
    progress(`component ${c.id}`);
    const base = `/components/${i}`;
    const wasm = await readSource(c.wasm, `${base}/wasm`, 'component Wasm file');
    let effective: Record<string, unknown>;
    let format: ComponentManifestFormat = 'greentic.pack.component.v1';
    if (c.manifest !== undefined) {
      const bytes = await readSource(c.manifest, `${base}/manifest`, 'component manifest');
      if (!bytes) continue;
      const mdoc = SourceDoc.parse(new TextDecoder().decode(bytes), shown(c.manifest), 'json');
      if (!(mdoc instanceof SourceDoc)) {
        problems.push(mdoc);
        continue;
      }
      const checked = checkComponentManifest(mdoc, { requireSupportedWorld: true });
      problems.push(...checked.problems);
      format = checked.format;
      effective = mdoc.data as Record<string, unknown>;
      if (checked.problems.some((p) => p.severity === 'error')) continue;
      for (const field of ['id', 'version', 'world'] as const) {
        const inline = c[field];
        if (inline !== undefined && inline !== effective[field]) {
          problems.push(
            doc.problem(
              'GT_PACK_INCONSISTENT',
              `${base}/${field}`,
              `pack.yaml says ${JSON.stringify(inline)} but ${shown(c.manifest)} says ${JSON.stringify(effective[field])}; make them agree (or drop the field from pack.yaml)`,
            ),
          );
        }
      }
      const want = (effective.hashes as { component_wasm?: string } | undefined)?.component_wasm;
      if (wasm && typeof want === 'string' && want.toLowerCase() !== `blake3:${blake3Hex(wasm)}`) {
        problems.push(
          mdoc.problem(
            'GT_PACK_HASH_MISMATCH',
            '/hashes/component_wasm',
            `${shown(c.wasm)} hashes to blake3:${blake3Hex(wasm)}, not ${want}; rebuild the component or update its manifest`,
          ),
        );
      }
    } else {
      problems.push(
        ...componentSemanticProblems(doc, base, 'pack.yaml', { requireSupportedWorld: true }, problems),
      );
      effective = descriptorOf(c);
    }
    if (!wasm) continue;
    if (!WASM_MAGIC.every((b, k) => wasm[k] === b)) {
      problems.push(
        doc.problem(
          'GT_PACK_COMPONENT_MANIFEST',
          `${base}/wasm`,
          `${shown(c.wasm)} does not start with the WebAssembly magic bytes (\\0asm); is it a component?`,
          'warning',
        ),
      );
    }
    const manifestBytes = encodeCanonical(effective);
    files.set(`components/${c.id}.wasm`, wasm);
    files.set(`components/${c.id}.manifest.cbor`, manifestBytes);
    componentManifests.set(c.id, effective);
    components.push(componentEntry(c, effective, format, blake3Hex(wasm)));
  }

  // Flows: load with the flow loader, then lint against what the pack provides.
  const componentIds = new Set<string>(config.components.map((c) => c.id));
  for (const d of config.dependencies) {
    if (typeof d.alias === 'string') componentIds.add(d.alias);
    for (const cap of d.required_capabilities ?? []) componentIds.add(cap.replace(/:/g, '.'));
  }
  const flows: PackFlowEntry[] = [];
  for (const [i, f] of config.flows.entries()) {
    if (typeof f.id !== 'string' || typeof f.file !== 'string') continue;
    progress(`flow ${f.id} (${shown(f.file)})`);
    const bytes = await readSource(f.file, `/flows/${i}/file`, 'flow file');
    if (!bytes) continue;
    const flowFile = shown(f.file);
    let ir: FlowIR;
    let locate: (pointer: string) => FlowLocation;
    try {
      const loaded = loadFlowWithLocator(new TextDecoder().decode(bytes), { file: flowFile });
      ir = loaded.flow;
      locate = loaded.locate;
    } catch (err) {
      if (!(err instanceof FlowError)) throw err;
      for (const e of flowErrorDetails(err)) problems.push(flowProblem(e));
      continue;
    }
    let lintErrors = 0;
    for (const finding of lintFlow(ir, { componentIds, locate })) {
      if (finding.severity === 'error') lintErrors++;
      problems.push({
        code: 'GT_FLOW_LINT',
        severity: finding.severity,
        rule: finding.rule,
        message: finding.message,
        location: finding.location,
      });
    }
    if (ir.id !== f.id) {
      problems.push(
        doc.problem(
          'GT_PACK_INCONSISTENT',
          `/flows/${i}/id`,
          `pack.yaml names this flow ${JSON.stringify(f.id)} but ${flowFile} declares id ${JSON.stringify(ir.id)}; use the same id in both`,
        ),
      );
      continue;
    }
    if (lintErrors > 0) continue;
    files.set(`flows/${f.id}.ygtc`, bytes);
    flows.push({
      id: f.id,
      kind: ir.kind,
      file: `flows/${f.id}.ygtc`,
      tags: f.tags ?? [],
      entrypoints:
        f.entrypoints && f.entrypoints.length > 0 ? f.entrypoints : Object.keys(ir.entrypoints ?? {}),
      start: ir.start,
    });
  }

  // Assets: files, or directories (every regular file below them, sorted).
  const assets: { path: string }[] = [];
  for (const [i, a] of config.assets.entries()) {
    if (typeof a.path !== 'string' || packPathProblem(a.path)) continue;
    const pointer = `/assets/${i}/path`;
    const abs = join(root, a.path);
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(abs);
    } catch {
      problems.push(
        doc.problem(
          'GT_PACK_MISSING_REFERENCE',
          pointer,
          `asset ${shown(a.path)} does not exist; add it or fix the path`,
        ),
      );
      continue;
    }
    const rels = st.isDirectory() ? await walk(root, a.path, problems, doc, pointer) : [a.path];
    for (const rel of rels) {
      const bytes = await readSource(rel, pointer, 'asset');
      if (!bytes) continue;
      const archivePath = `assets/${rel}`;
      const problem = packPathProblem(archivePath);
      if (problem) {
        problems.push(doc.problem('GT_PACK_PATH_ESCAPE', pointer, `asset path ${archivePath} ${problem}`));
        continue;
      }
      if (files.has(archivePath)) {
        problems.push(
          doc.problem(
            'GT_PACK_DUPLICATE_ID',
            pointer,
            `asset ${rel} is included twice (through overlapping asset entries)`,
          ),
        );
        continue;
      }
      files.set(archivePath, bytes);
      assets.push({ path: archivePath });
    }
  }

  // The lock, when there is one next to pack.yaml.
  let lock: string | undefined;
  const lockPath = join(root, 'pack.lock.json');
  if (await exists(lockPath)) {
    const ldoc = SourceDoc.parse(await readFile(lockPath, 'utf8'), shown('pack.lock.json'), 'json');
    if (!(ldoc instanceof SourceDoc)) problems.push(ldoc);
    else {
      const lp = lockProblems(ldoc);
      problems.push(...lp);
      if (!lp.some((p) => p.severity === 'error')) {
        files.set('pack.lock.cbor', encodeCanonical(ldoc.data));
        lock = 'pack.lock.cbor';
      }
    }
  }

  // Secret requirements: pack-level ones must be declared by a component; all are aggregated by key.
  const declared = new Set([...componentManifests.values()].flatMap((m) => declaredSecretKeys(m)));
  const secrets = new Map<string, SecretRequirement>();
  config.secret_requirements.forEach((s, i) => {
    if (typeof s.key !== 'string') return;
    if (!declared.has(s.key)) {
      problems.push(
        doc.problem(
          'GT_PACK_MISSING_REFERENCE',
          `/secret_requirements/${i}/key`,
          `secret ${JSON.stringify(s.key)} is required by the pack but no component declares it (declared: ${[...declared].join(', ') || 'none'}); declare it in the component that reads it, or remove it`,
        ),
      );
    }
    secrets.set(s.key, s);
  });
  for (const [id, m] of componentManifests) {
    const mm = m as {
      secret_requirements?: SecretRequirement[];
      capabilities?: { host?: { secrets?: { required?: SecretRequirement[] } } };
    };
    for (const r of [
      ...(mm.secret_requirements ?? []),
      ...(mm.capabilities?.host?.secrets?.required ?? []),
    ]) {
      const prev = secrets.get(r.key);
      if (prev && prev.format !== r.format) {
        problems.push({
          code: 'GT_PACK_INCONSISTENT',
          severity: 'error',
          message: `secret ${JSON.stringify(r.key)} is declared as ${prev.format} elsewhere but as ${r.format} by component ${id}; use one format`,
        });
      }
      if (!prev) secrets.set(r.key, r);
    }
  }

  if (problems.some((p) => p.severity === 'error')) return { problems };

  const manifest: PackManifest = {
    schema_version: 'pack-v1',
    pack_id: config.pack_id,
    ...(config.name !== undefined ? { name: config.name } : {}),
    version: config.version,
    kind: config.kind,
    publisher: config.publisher,
    components,
    flows,
    assets,
    dependencies: config.dependencies,
    capabilities: deriveCapabilities(components),
    secret_requirements: [...secrets.values()],
    ...(config.bootstrap ? { bootstrap: config.bootstrap } : {}),
    ...(config.extensions ? { extensions: config.extensions } : {}),
    ...(lock ? { lock } : {}),
  };
  files.set(MANIFEST_PATH, encodeCanonical(manifest));
  return { plan: { config, manifest, files }, problems };
}

function flowProblem(e: FlowError): PackProblem {
  const prefix = e.location ? `${formatLocation(e.location)} ` : '';
  const message = prefix && e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  return {
    code: e.code,
    severity: 'error',
    message,
    ...(e.location ? { location: { ...e.location } } : {}),
  };
}

/** The greentic-types ComponentManifest shape of an inline pack.yaml component (no `wasm`/`manifest`). */
function descriptorOf(c: ComponentConfig): Record<string, unknown> {
  const { wasm: _w, manifest: _m, ...rest } = c;
  return { ...rest, supports: normaliseSupports(c.supports ?? []), operations: c.operations ?? [] };
}

function normaliseSupports(list: readonly string[]): string[] {
  return list.map((s) => (s === 'componentconfig' || s === 'component-config' ? 'component_config' : s));
}

function componentEntry(
  c: ComponentConfig,
  m: Record<string, unknown>,
  format: ComponentManifestFormat,
  hash: string,
): PackComponentEntry {
  const pick = <T>(k: string): T | undefined =>
    (m[k] ?? (c as unknown as Record<string, unknown>)[k]) as T | undefined;
  const entry: PackComponentEntry = {
    id: c.id,
    version: String(pick('version')),
    world: String(pick('world')),
    supports: normaliseSupports(pick<string[]>('supports') ?? []),
    operations: pick<PackComponentEntry['operations']>('operations') ?? [],
    wasm: `components/${c.id}.wasm`,
    manifest: `components/${c.id}.manifest.cbor`,
    manifest_format: format,
    hash_blake3: hash,
  };
  const profiles = pick<PackComponentEntry['profiles']>('profiles');
  if (profiles) entry.profiles = profiles;
  const capabilities = pick<PackComponentEntry['capabilities']>('capabilities');
  if (capabilities) entry.capabilities = capabilities;
  for (const k of ['config_schema', 'resources', 'configurators'] as const) {
    const v = pick<never>(k);
    if (v !== undefined) entry[k] = v;
  }
  return entry;
}

/** Upstream `derive_pack_capabilities`, in component order. */
function deriveCapabilities(components: readonly PackComponentEntry[]): { name: string }[] {
  const names: string[] = [];
  const add = (n: string) => {
    if (!names.includes(n)) names.push(n);
  };
  for (const c of components) {
    const host = (c.capabilities?.host ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const wasi = (c.capabilities?.wasi ?? {}) as Record<string, unknown>;
    if (host.secrets) add('host:secrets');
    if (host.state?.read === true) add('host:state:read');
    if (host.state?.write === true) add('host:state:write');
    for (const k of ['messaging', 'events', 'http', 'telemetry', 'iac']) if (host[k]) add(`host:${k}`);
    const fs = wasi.filesystem as { mode?: string; mounts?: unknown[] } | undefined;
    if (fs?.mode) add(`wasi:fs:${fs.mode}`);
    if (fs?.mounts && fs.mounts.length > 0) add('wasi:fs:mounts');
    if (wasi.random === true) add('wasi:random');
    if (wasi.clocks === true) add('wasi:clocks');
  }
  return names.map((name) => ({ name }));
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Regular files below `dir` (relative to `root`), sorted; symlinks and specials are reported, not followed. */
async function walk(
  root: string,
  dir: string,
  problems: PackProblem[],
  doc: SourceDoc,
  pointer: string,
): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(join(root, dir))).sort();
  for (const name of entries) {
    const rel = `${dir}/${name}`;
    const st = await lstat(join(root, rel));
    if (st.isSymbolicLink()) {
      problems.push(
        doc.problem('GT_PACK_LINK', pointer, `${rel} is a symbolic link; packs hold regular files only`),
      );
    } else if (st.isDirectory()) {
      out.push(...(await walk(root, rel, problems, doc, pointer)));
    } else if (st.isFile()) {
      out.push(rel);
    } else {
      problems.push(doc.problem('GT_PACK_LINK', pointer, `${rel} is not a regular file`));
    }
  }
  return out;
}

/** Builds a `.gtpack` from a pack.yaml: validates everything, then writes the deterministic archive. */
export async function buildPack(packYamlPath: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const progress = opts.onProgress ?? (() => {});
  progress(`validating ${packYamlPath}`);
  const { plan, problems } = await validatePack(packYamlPath, opts);
  throwIfErrors(problems);
  if (!plan) throw new Error('internal: validation produced neither a plan nor an error');
  const files = new Map(plan.files);
  const sbom = buildSbom(files);
  const sbomBytes = encodeSbom(sbom);
  files.set(SBOM_PATH, sbomBytes);
  const digest = packDigest(files.get(MANIFEST_PATH)!, sbomBytes);
  let signed = false;
  if (opts.signingKey !== undefined) {
    const key = await loadSigningKey(opts.signingKey);
    const entry = await createSignatureEntry(key, digest, {
      ...(opts.keyId !== undefined ? { keyId: opts.keyId } : {}),
      ...(opts.signedAt !== undefined ? { signedAt: opts.signedAt } : {}),
    });
    files.set(SIGNATURE_PATH, encodeSignatureFile([entry]));
    signed = true;
    progress(`signed with key ${entry.key_id}`);
  }
  const bytes = await writeDeterministicZip(files);
  if (bytes.length > DEFAULT_LIMITS.maxArchiveBytes) {
    throw new PackError(
      'GT_PACK_TOO_LARGE',
      `the pack would be ${bytes.length} bytes, more than the 64 MiB a pack may have; move large assets out of it`,
    );
  }
  if (opts.out !== undefined) await writeAtomically(opts.out, bytes);
  progress(`${opts.out ?? 'pack'}: ${files.size} files, ${bytes.length} bytes`);
  return {
    bytes,
    ...(opts.out !== undefined ? { out: opts.out } : {}),
    manifest: plan.manifest,
    sbom,
    archiveDigest: `sha256:${sha256Hex(bytes)}`,
    packDigest: digestString(digest),
    signed,
    warnings: problems.filter((p) => p.severity === 'warning'),
    files: [...files.entries()]
      .map(([path, b]) => ({ path, size: b.length }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))),
  };
}

/** Writes via a temporary file and a rename, so a reader never sees half a pack. */
export async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    throw new PackError(
      'GT_PACK_IO',
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}
