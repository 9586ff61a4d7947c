import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { PackError } from './errors.js';
import { keyFingerprint, type SigningKey, type TrustStore } from './keys.js';
import { SIGNATURE_PATH } from './sbom.js';

/**
 * Pack signatures (Greentic-TS scheme, stored inside the archive as `signatures/pack.sig`):
 *
 *   digest    = SHA-256( "greentic-pack-sig-v1" ‖ 0x00
 *                        ‖ u64be(len manifest.cbor) ‖ manifest.cbor
 *                        ‖ u64be(len sbom.cbor)     ‖ sbom.cbor )
 *   statement = canonical JSON (keys sorted, no white space, printable ASCII) of
 *               {alg:"ed25519", digest:"sha256:<hex>", format:"greentic-pack-sig-v1",
 *                key_fingerprint, key_id, public_key:<base64url raw 32 bytes>, signed_at:<RFC 3339 UTC>}
 *   signature = Ed25519(private key, statement)   (RFC 8032, pure), base64url without padding
 *
 * The SBOM hashes every other file with BLAKE3, so the digest covers the whole pack; the statement binds the
 * key id and signing time too. `signatures/pack.sig` is canonical JSON
 * `{"format":"greentic-pack-signatures-v1","signatures":[{…statement, signature}, …]}` sorted by fingerprint.
 */

export const SIGNATURE_FORMAT = 'greentic-pack-sig-v1';
export const SIGNATURES_FILE_FORMAT = 'greentic-pack-signatures-v1';
/** Most signatures one pack may carry (key rotation needs two or three). */
export const MAX_SIGNATURES = 16;
const MAX_SIG_FILE_BYTES = 64 * 1024;

export interface PackSignatureEntry {
  alg: 'ed25519';
  /** `sha256:<hex>` of the pack digest. */
  digest: string;
  format: typeof SIGNATURE_FORMAT;
  /** `keyFingerprint(public key)`: what trust lookups use. */
  key_fingerprint: string;
  /** A label chosen by the signer (defaults to the fingerprint); informative only. */
  key_id: string;
  /** base64url (no padding) of the raw 32-byte public key. */
  public_key: string;
  /** RFC 3339 UTC, seconds precision. */
  signed_at: string;
  /** base64url (no padding) of the 64-byte Ed25519 signature over the statement. */
  signature: string;
}

export interface SignatureInfo {
  key_id: string;
  key_fingerprint: string;
  signed_at: string;
  alg: string;
  /** The key is in the trust store that was given. */
  trusted: boolean;
}

export interface SignatureReport {
  /** The pack carries at least one signature (every one of them verified). */
  signed: boolean;
  /** At least one signature is by a key of the trust store. */
  trusted: boolean;
  signatures: SignatureInfo[];
  /** The digest the signatures sign: `sha256:<hex>`. */
  digest: string;
}

const DOMAIN = new TextEncoder().encode(`${SIGNATURE_FORMAT}\0`);

function u64be(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** The pack digest (see the module comment), 32 bytes. */
export function packDigest(manifestCbor: Uint8Array, sbomCbor: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256')
      .update(DOMAIN)
      .update(u64be(manifestCbor.length))
      .update(manifestCbor)
      .update(u64be(sbomCbor.length))
      .update(sbomCbor)
      .digest(),
  );
}

export function digestString(digest: Uint8Array): string {
  return `sha256:${Buffer.from(digest).toString('hex')}`;
}

/** Canonical JSON: object keys sorted, no white space. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value as Record<string, unknown>).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The exact bytes an entry's signature signs. */
export function statementBytes(
  entry: Omit<PackSignatureEntry, 'signature'> | PackSignatureEntry,
): Uint8Array {
  const { signature: _omit, ...statement } = entry as PackSignatureEntry;
  return new TextEncoder().encode(canonicalJson(statement));
}

const PRINTABLE = /^[\x20-\x7e]{1,128}$/;

/** RFC 3339 UTC with seconds precision. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function createSignatureEntry(
  key: SigningKey,
  digest: Uint8Array,
  opts: { keyId?: string; signedAt?: Date } = {},
): Promise<PackSignatureEntry> {
  const keyId = opts.keyId ?? key.fingerprint;
  if (!PRINTABLE.test(keyId)) {
    throw new PackError(
      'GT_PACK_USAGE',
      `key id ${JSON.stringify(keyId)} must be 1-128 printable ASCII characters`,
    );
  }
  const statement: Omit<PackSignatureEntry, 'signature'> = {
    alg: 'ed25519',
    digest: digestString(digest),
    format: SIGNATURE_FORMAT,
    key_fingerprint: key.fingerprint,
    key_id: keyId,
    public_key: Buffer.from(key.publicKey).toString('base64url'),
    signed_at: rfc3339(opts.signedAt ?? new Date()),
  };
  const sig = await ed.signAsync(statementBytes(statement), key.seed);
  return { ...statement, signature: Buffer.from(sig).toString('base64url') };
}

/** `signatures/pack.sig` bytes for `entries` (sorted by fingerprint). */
export function encodeSignatureFile(entries: readonly PackSignatureEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) =>
    a.key_fingerprint < b.key_fingerprint ? -1 : a.key_fingerprint > b.key_fingerprint ? 1 : 0,
  );
  return new TextEncoder().encode(canonicalJson({ format: SIGNATURES_FILE_FORMAT, signatures: sorted }));
}

function invalid(why: string, cause?: unknown): PackError {
  return new PackError('GT_PACK_SIGNATURE_INVALID', `${SIGNATURE_PATH} ${why}`, {
    entry: SIGNATURE_PATH,
    ...(cause !== undefined ? { cause } : {}),
  });
}

const ENTRY_KEYS = 'alg,digest,format,key_fingerprint,key_id,public_key,signature,signed_at';

/** Parses an untrusted `signatures/pack.sig`; throws `GT_PACK_SIGNATURE_INVALID` on anything unexpected. */
export function parseSignatureFile(bytes: Uint8Array): PackSignatureEntry[] {
  if (bytes.length > MAX_SIG_FILE_BYTES) throw invalid(`is larger than ${MAX_SIG_FILE_BYTES} bytes`);
  let text: string;
  let doc: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid('is not JSON', err);
  }
  if (canonicalJson(doc) !== text) throw invalid('is not in canonical JSON form (it was edited)');
  const d = doc as { format?: unknown; signatures?: unknown };
  if (
    d === null ||
    typeof d !== 'object' ||
    Array.isArray(d) ||
    Object.keys(d).sort().join(',') !== 'format,signatures'
  ) {
    throw invalid('must be {format, signatures}');
  }
  if (d.format !== SIGNATURES_FILE_FORMAT)
    throw invalid(`has format ${JSON.stringify(d.format)}, expected "${SIGNATURES_FILE_FORMAT}"`);
  if (!Array.isArray(d.signatures) || d.signatures.length === 0) throw invalid('holds no signature');
  if (d.signatures.length > MAX_SIGNATURES) throw invalid(`holds more than ${MAX_SIGNATURES} signatures`);
  const seen = new Set<string>();
  return d.signatures.map((raw: unknown, i: number) => {
    const e = raw as Record<string, unknown>;
    if (
      e === null ||
      typeof e !== 'object' ||
      Array.isArray(e) ||
      Object.keys(e).sort().join(',') !== ENTRY_KEYS
    ) {
      throw invalid(`signature #${i + 1} must have exactly the fields ${ENTRY_KEYS}`);
    }
    for (const k of Object.keys(e)) {
      if (typeof e[k] !== 'string' || !PRINTABLE.test(e[k] as string)) {
        throw invalid(`signature #${i + 1} field ${k} is not a short printable string`);
      }
    }
    if (e.alg !== 'ed25519')
      throw invalid(`signature #${i + 1} uses algorithm ${JSON.stringify(e.alg)}; only ed25519 is accepted`);
    if (e.format !== SIGNATURE_FORMAT)
      throw invalid(`signature #${i + 1} has format ${JSON.stringify(e.format)}`);
    if (seen.has(e.key_fingerprint as string))
      throw invalid(`holds two signatures by key ${e.key_fingerprint}`);
    seen.add(e.key_fingerprint as string);
    return e as unknown as PackSignatureEntry;
  });
}

/**
 * Verifies every signature against `digest` and decides trust. Any signature that does not verify rejects the
 * pack (`GT_PACK_SIGNATURE_INVALID`), whoever signed it. Then: no signature → `GT_PACK_UNSIGNED` unless
 * `allowUnsigned`; signatures but none by a trusted key → `GT_PACK_UNTRUSTED_KEY` unless `allowUnsigned`.
 */
export async function checkSignatures(
  entries: readonly PackSignatureEntry[] | undefined,
  digest: Uint8Array,
  opts: { trust?: TrustStore; allowUnsigned?: boolean },
): Promise<SignatureReport> {
  const expected = digestString(digest);
  const trusted = new Map((opts.trust?.keys ?? []).map((k) => [k.fingerprint, k]));
  const infos: SignatureInfo[] = [];
  for (const [i, e] of (entries ?? []).entries()) {
    const who = `signature #${i + 1} (key ${e.key_id}, fingerprint ${e.key_fingerprint})`;
    const publicKey = new Uint8Array(Buffer.from(e.public_key, 'base64url'));
    if (publicKey.length !== 32 || Buffer.from(publicKey).toString('base64url') !== e.public_key) {
      throw invalid(`${who} has a malformed public key`);
    }
    if (keyFingerprint(publicKey) !== e.key_fingerprint)
      throw invalid(`${who}: the fingerprint does not match its public key`);
    const sig = new Uint8Array(Buffer.from(e.signature, 'base64url'));
    if (sig.length !== 64 || Buffer.from(sig).toString('base64url') !== e.signature) {
      throw invalid(`${who} is not a 64-byte base64url Ed25519 signature`);
    }
    if (e.digest !== expected) {
      throw invalid(
        `${who} signs digest ${e.digest}, but the pack's manifest and SBOM give ${expected}: the pack changed after it was signed`,
      );
    }
    let ok = false;
    try {
      ok = await ed.verifyAsync(sig, statementBytes(e), publicKey);
    } catch {
      ok = false;
    }
    if (!ok) throw invalid(`${who} does not verify: the signature or its statement was altered`);
    const t = trusted.get(e.key_fingerprint);
    const isTrusted =
      t !== undefined && Buffer.compare(Buffer.from(t.publicKey), Buffer.from(publicKey)) === 0;
    infos.push({
      key_id: e.key_id,
      key_fingerprint: e.key_fingerprint,
      signed_at: e.signed_at,
      alg: e.alg,
      trusted: isTrusted,
    });
  }
  const report: SignatureReport = {
    signed: infos.length > 0,
    trusted: infos.some((s) => s.trusted),
    signatures: infos,
    digest: expected,
  };
  if (!report.signed && !opts.allowUnsigned) {
    throw new PackError(
      'GT_PACK_UNSIGNED',
      'the pack is not signed; sign it (packc sign -p <pack> --key <key.pem>) or accept unsigned packs explicitly (--allow-unsigned)',
      { entry: SIGNATURE_PATH },
    );
  }
  if (report.signed && !report.trusted && !opts.allowUnsigned) {
    const have = infos.map((s) => `${s.key_id} (${s.key_fingerprint})`).join(', ');
    const trust = opts.trust?.keys.length
      ? `the trust store holds ${opts.trust.keys.map((k) => k.fingerprint).join(', ')}`
      : 'no trusted key was given (--trust <dir|key.pub.pem>)';
    throw new PackError(
      'GT_PACK_UNTRUSTED_KEY',
      `the pack is signed by ${have}, but ${trust}; add the signer's public key to the trust store if you trust it`,
      { entry: SIGNATURE_PATH },
    );
  }
  return report;
}
