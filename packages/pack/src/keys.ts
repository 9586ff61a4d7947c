import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ed from '@noble/ed25519';
import { PackError } from './errors.js';
import { sha256Hex } from './hash.js';

/**
 * Ed25519 keys for pack signing: private keys as PKCS#8 PEM, public keys as SPKI PEM (what
 * `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write). node:crypto only parses and
 * encodes the PEM/DER; all signing and verification is `@noble/ed25519`.
 */

export interface SigningKey {
  /** The 32-byte Ed25519 seed (RFC 8032 private key). */
  readonly seed: Uint8Array;
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** `keyFingerprint(publicKey)`. */
  readonly fingerprint: string;
}

export interface TrustedKey {
  readonly publicKey: Uint8Array;
  readonly fingerprint: string;
  /** Where the key came from (file path, `<pem>` or `<raw>`), for messages. */
  readonly source: string;
}

export interface TrustStore {
  readonly keys: readonly TrustedKey[];
}

/** Key pair as written by `packc keygen`. */
export interface GeneratedKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  fingerprint: string;
}

/**
 * The key id used in signatures and trust lookups: the first 32 hex digits (128 bits) of SHA-256 over the
 * raw 32-byte public key (upstream packc's `key_id` rule).
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  return sha256Hex(publicKey).slice(0, 32);
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const fromB64url = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

/** Generates a new Ed25519 key pair (random seed from the platform CSPRNG). */
export async function generateKeyPair(): Promise<GeneratedKeyPair> {
  const { secretKey, publicKey } = await ed.keygenAsync();
  return {
    privateKeyPem: privateKeyToPem(secretKey, publicKey),
    publicKeyPem: publicKeyToPem(publicKey),
    fingerprint: keyFingerprint(publicKey),
  };
}

/** PKCS#8 PEM of an Ed25519 seed. */
export function privateKeyToPem(seed: Uint8Array, publicKey: Uint8Array): string {
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(publicKey) },
    format: 'jwk',
  })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** SPKI PEM of a raw Ed25519 public key. */
export function publicKeyToPem(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new PackError('GT_PACK_KEY', 'an Ed25519 public key has 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

function keyError(source: string, why: string, cause?: unknown): PackError {
  return new PackError('GT_PACK_KEY', `${source}: ${why}`, cause !== undefined ? { cause } : {});
}

function jwkOf(key: KeyObject, source: string): { d?: string; x: string } {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw keyError(
      source,
      `is a ${key.asymmetricKeyType ?? 'unknown'} key; pack signing uses Ed25519 (make one with "packc keygen" or "openssl genpkey -algorithm ed25519")`,
    );
  }
  return key.export({ format: 'jwk' }) as { d?: string; x: string };
}

/** Parses a PKCS#8 PEM Ed25519 private key. */
export async function privateKeyFromPem(pem: string, source = '<pem>'): Promise<SigningKey> {
  if (!/-----BEGIN PRIVATE KEY-----/.test(pem)) {
    const hint = /ENCRYPTED PRIVATE KEY/.test(pem)
      ? 'is an encrypted key; decrypt it first (openssl pkey -in key.pem -out plain.pem)'
      : /PUBLIC KEY/.test(pem)
        ? 'is a public key; signing needs the private key (PKCS#8 "BEGIN PRIVATE KEY")'
        : 'is not a PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----")';
    throw keyError(source, hint);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw keyError(source, `cannot be read as a private key (${(err as Error).message})`, err);
  }
  const jwk = jwkOf(key, source);
  const seed = fromB64url(jwk.d ?? '');
  const publicKey = await ed.getPublicKeyAsync(seed);
  if (b64url(publicKey) !== jwk.x)
    throw keyError(source, 'its public part does not belong to its private part');
  return { seed, publicKey, fingerprint: keyFingerprint(publicKey) };
}

/** Parses an SPKI PEM Ed25519 public key. */
export function publicKeyFromPem(pem: string, source = '<pem>'): TrustedKey {
  if (/PRIVATE KEY-----/.test(pem)) {
    throw keyError(
      source,
      'is a private key; a trust store holds public keys only (export one: packc keygen, or openssl pkey -pubout)',
    );
  }
  if (!/-----BEGIN PUBLIC KEY-----/.test(pem))
    throw keyError(source, 'is not an SPKI PEM public key ("-----BEGIN PUBLIC KEY-----")');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw keyError(source, `cannot be read as a public key (${(err as Error).message})`, err);
  }
  const publicKey = fromB64url(jwkOf(key, source).x);
  return { publicKey, fingerprint: keyFingerprint(publicKey), source };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PackError(
      'GT_PACK_IO',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** A signing key from a PEM string or a PEM file path. */
export async function loadSigningKey(pathOrPem: string | SigningKey): Promise<SigningKey> {
  if (typeof pathOrPem !== 'string') return pathOrPem;
  if (pathOrPem.includes('-----BEGIN')) return privateKeyFromPem(pathOrPem);
  return privateKeyFromPem(readText(pathOrPem), pathOrPem);
}

/** What a trust store can be built from: PEM text, a PEM file, a directory of `*.pem`/`*.pub` files, raw keys. */
export type TrustInput = TrustStore | readonly (string | Uint8Array | TrustedKey)[];

/**
 * Builds a trust store. A string is PEM text when it contains `-----BEGIN`, otherwise a path: a file holding one
 * SPKI PEM public key, or a directory whose `*.pem` and `*.pub` files (not recursive) each hold one (private
 * keys there are skipped: `packc keygen --out dir/` writes both halves). A directory without a public key, or a
 * private key given as a file or as text, is a `GT_PACK_KEY` error.
 */
export function loadTrustStore(input: TrustInput): TrustStore {
  if (!Array.isArray(input)) return input as TrustStore;
  const keys: TrustedKey[] = [];
  for (const item of input as readonly (string | Uint8Array | TrustedKey)[]) {
    if (item instanceof Uint8Array) {
      if (item.length !== 32) throw new PackError('GT_PACK_KEY', 'a raw Ed25519 public key has 32 bytes');
      keys.push({ publicKey: item, fingerprint: keyFingerprint(item), source: '<raw>' });
    } else if (typeof item !== 'string') {
      keys.push(item);
    } else if (item.includes('-----BEGIN')) {
      keys.push(publicKeyFromPem(item));
    } else {
      let isDir: boolean;
      try {
        isDir = statSync(item).isDirectory();
      } catch (err) {
        throw new PackError('GT_PACK_IO', `trust store ${item} does not exist`, { cause: err });
      }
      if (!isDir) {
        keys.push(publicKeyFromPem(readText(item), item));
        continue;
      }
      const files = readdirSync(item)
        .filter((f) => f.endsWith('.pem') || f.endsWith('.pub'))
        .sort();
      if (files.length === 0) {
        throw new PackError(
          'GT_PACK_KEY',
          `trust store directory ${item} holds no *.pem or *.pub public key file`,
        );
      }
      let found = 0;
      for (const f of files) {
        const text = readText(join(item, f));
        // `packc keygen --out dir/` puts both halves in one directory: the private half is not a trusted key.
        if (/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) continue;
        keys.push(publicKeyFromPem(text, join(item, f)));
        found++;
      }
      if (found === 0) {
        throw new PackError(
          'GT_PACK_KEY',
          `trust store directory ${item} holds no public key (only private keys)`,
        );
      }
    }
  }
  return { keys };
}
