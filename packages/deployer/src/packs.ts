/**
 * Packs for the deployer: read pack.yaml (id, version, flows), hash the sources (to tell when a rebuild is due),
 * build and sign with @greentic/pack `buildPack`, publish with `pushPack`, and the dev signing key.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as pack from '@greentic/pack';
import {
  buildPack,
  formatProblem,
  generateKeyPair,
  isPackError,
  parsePackYaml,
  privateKeyFromPem,
  publicKeyToPem,
} from '@greentic/pack';
import { DeployerError } from './errors.js';
import type { GreenticHome } from './home.js';

export interface PackInfo {
  /** Absolute path of pack.yaml. */
  packYaml: string;
  dir: string;
  packId: string;
  version: string;
  /** Absolute paths of the pack's flow files. */
  flowFiles: string[];
}

export function readPackInfo(packYaml: string): PackInfo {
  const resource = `pack:${packYaml}`;
  let text: string;
  try {
    text = readFileSync(packYaml, 'utf8');
  } catch (e) {
    throw new DeployerError(
      'GT_DEPLOY_PACK',
      `cannot read ${packYaml} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { step: 'pack-build', resource, hint: 'fix packs[].path in greentic.yaml', cause: e },
    );
  }
  const parsed = parsePackYaml(text, packYaml);
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  if (!parsed.config || errors.length > 0)
    throw new DeployerError(
      'GT_DEPLOY_PACK',
      `${packYaml} is not a valid pack.yaml: ${errors.map(formatProblem).join('; ')}`,
      { step: 'pack-build', resource, hint: 'check it with: packc lint ' + packYaml },
    );
  const dir = dirname(resolve(packYaml));
  return {
    packYaml: resolve(packYaml),
    dir,
    packId: parsed.config.pack_id,
    version: parsed.config.version,
    flowFiles: parsed.config.flows.map((f) => resolve(dir, f.file)),
  };
}

const SKIP_DIRS = new Set(['dist', 'node_modules', '.git', 'target']);

/** sha256 over every source file of the pack (path and content), skipping build outputs. */
export function packSourceHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(name) && !name.startsWith('.')) walk(p);
      } else if (st.isFile() && !name.endsWith('.gtpack')) {
        h.update(relative(dir, p)).update('\0').update(readFileSync(p)).update('\0');
      }
    }
  };
  walk(dir);
  return `sha256:${h.digest('hex')}`;
}

export interface BuiltPack {
  out: string;
  archiveDigest: string;
  signed: boolean;
}

export async function buildAndSignPack(
  info: PackInfo,
  out: string,
  signingKeyPem: string,
  onProgress?: (line: string) => void,
): Promise<BuiltPack> {
  mkdirSync(dirname(out), { recursive: true });
  try {
    const r = await buildPack(info.packYaml, {
      out,
      signingKey: signingKeyPem,
      keyId: 'greentic-dev',
      ...(onProgress ? { onProgress } : {}),
    });
    return { out, archiveDigest: r.archiveDigest, signed: r.signed };
  } catch (e) {
    const detail = isPackError(e)
      ? `${e.message}${e.problems.length ? `: ${e.problems.map(formatProblem).join('; ')}` : ''}`
      : (e as Error).message;
    throw new DeployerError('GT_DEPLOY_PACK', `building ${info.packId} failed: ${detail}`, {
      step: 'pack-build',
      resource: `pack:${info.packId}`,
      hint: `fix the pack (packc build -p ${info.packYaml} shows the same problems), then run again`,
      cause: e,
    });
  }
}

type PushPack = (
  file: string | Uint8Array,
  ref: string,
  options?: { packId?: string; packVersion?: string },
) => Promise<{ ref: string; digest: string }>;

/** The publish function: `pushPack` of @greentic/pack's public API. */
export function pushPackFunction(): PushPack | undefined {
  const fn = (pack as unknown as Record<string, unknown>).pushPack;
  return typeof fn === 'function' ? (fn as PushPack) : undefined;
}

/** `oci://host/ns` + pack → `oci://host/ns/<pack id>:<version>` (lower-case, as OCI repositories must be). */
export function publishRef(registry: string, info: PackInfo): string {
  const repo = info.packId.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
  const tag = info.version.replace(/\+/g, '_');
  return `${registry.replace(/\/+$/, '')}/${repo}:${tag}`;
}

export async function publishPack(
  file: string,
  ref: string,
  info: PackInfo,
  push: PushPack | undefined = pushPackFunction(),
): Promise<{ ref: string; digest: string }> {
  const resource = `publish:${info.packId}`;
  if (!push)
    throw new DeployerError('GT_DEPLOY_PUBLISH', '@greentic/pack does not export pushPack', {
      step: 'pack-publish',
      resource,
      hint: 'update @greentic/pack, or remove publish: from the pack in greentic.yaml',
    });
  try {
    return await push(file, ref, { packId: info.packId, packVersion: info.version });
  } catch (e) {
    throw new DeployerError(
      'GT_DEPLOY_PUBLISH',
      `pushing ${info.packId} to ${ref} failed: ${(e as Error).message}`,
      {
        step: 'pack-publish',
        resource,
        hint: 'check the registry (target.registry) and its credentials (GREENTIC_OCI_USERNAME/GREENTIC_OCI_PASSWORD or GREENTIC_OCI_TOKEN), then run again',
        cause: e,
      },
    );
  }
}

export interface DevKey {
  privateKeyPem: string;
  created: boolean;
  fingerprint?: string;
  /** The key file signed with. */
  file: string;
}

/**
 * The dev signing key `$GREENTIC_HOME/dev-ed25519.pem` (Ed25519, PKCS#8, 0600) and its public half in the trust
 * store (`trust/dev-ed25519.pub.pem`, where `greentic-runner load` looks). When it does not exist but `packc keygen`'s
 * dev key (`keys/dev.key.pem`) does, that one is used (one dev key, not two); otherwise a new pair is created. A
 * missing public half in the trust store is restored.
 */
export async function ensureDevKey(home: GreenticHome): Promise<DevKey> {
  const resource = `file:${home.devSigningKey}`;
  try {
    const existing = [home.devSigningKey, home.packcDevKey].find((f) => existsSync(f));
    if (existing) {
      const privateKeyPem = readFileSync(existing, 'utf8');
      const key = await privateKeyFromPem(privateKeyPem, existing);
      const publicKeyPem = publicKeyToPem(key.publicKey);
      if (!trusted(home, publicKeyPem)) {
        mkdirSync(home.trustDir, { recursive: true, mode: 0o755 });
        writeFileSync(home.devPublicKey, publicKeyPem, { mode: 0o644 });
      }
      return { privateKeyPem, created: false, fingerprint: key.fingerprint, file: existing };
    }
    const kp = await generateKeyPair();
    mkdirSync(home.root, { recursive: true, mode: 0o700 });
    writeFileSync(home.devSigningKey, kp.privateKeyPem, { mode: 0o600, flag: 'wx' });
    mkdirSync(home.trustDir, { recursive: true, mode: 0o755 });
    writeFileSync(home.devPublicKey, kp.publicKeyPem, { mode: 0o644 });
    return {
      privateKeyPem: kp.privateKeyPem,
      created: true,
      fingerprint: kp.fingerprint,
      file: home.devSigningKey,
    };
  } catch (e) {
    throw new DeployerError('GT_DEPLOY_KEY', `dev signing key: ${(e as Error).message}`, {
      step: 'signing-key',
      resource,
      hint: 'the key must be an Ed25519 PKCS#8 PEM (packc keygen); check that $GREENTIC_HOME is writable',
      cause: e,
    });
  }
}

/** True when a file of the trust directory holds exactly this public key. */
function trusted(home: GreenticHome, publicKeyPem: string): boolean {
  try {
    return readdirSync(home.trustDir).some(
      (f) =>
        (f.endsWith('.pem') || f.endsWith('.pub')) &&
        readFileSync(join(home.trustDir, f), 'utf8').trim() === publicKeyPem.trim(),
    );
  } catch {
    return false;
  }
}
