import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildPack,
  canonicalJson,
  generateKeyPair,
  keyFingerprint,
  loadTrustStore,
  PackError,
  type PackSignatureEntry,
  privateKeyFromPem,
  publicKeyFromPem,
  readPack,
  readZipEntries,
  signPack,
  statementBytes,
  verifyPack,
} from '../src/index.js';
import { HELLO, rawEntriesOf, rawZip, tempDir } from './helpers.js';

let unsigned: Uint8Array;
let alice: Awaited<ReturnType<typeof generateKeyPair>>;
let bob: Awaited<ReturnType<typeof generateKeyPair>>;
beforeAll(async () => {
  unsigned = (await buildPack(join(HELLO, 'pack.yaml'))).bytes;
  alice = await generateKeyPair();
  bob = await generateKeyPair();
});

function filesOf(bytes: Uint8Array): Map<string, Uint8Array> {
  return new Map(readZipEntries(bytes).map((e) => [e.path, e.data]));
}

function signaturesOf(bytes: Uint8Array): PackSignatureEntry[] {
  const doc = JSON.parse(new TextDecoder().decode(filesOf(bytes).get('signatures/pack.sig')!));
  return doc.signatures;
}

async function failure(p: Promise<unknown>): Promise<PackError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PackError) return err;
    throw err;
  }
  throw new Error('expected a PackError');
}

describe('keys', () => {
  it('generates PKCS#8 / SPKI PEM Ed25519 keys that read back with the same fingerprint', async () => {
    expect(alice.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(alice.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const sk = await privateKeyFromPem(alice.privateKeyPem);
    const pk = publicKeyFromPem(alice.publicKeyPem);
    expect(Buffer.from(sk.publicKey)).toEqual(Buffer.from(pk.publicKey));
    expect(sk.fingerprint).toBe(alice.fingerprint);
    expect(keyFingerprint(pk.publicKey)).toBe(
      createHash('sha256').update(pk.publicKey).digest('hex').slice(0, 32),
    );
  });

  it('accepts a key made by openssl genpkey -algorithm ed25519, and openssl accepts ours', async () => {
    const dir = tempDir();
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'k.pem')]);
    execFileSync('openssl', ['pkey', '-in', join(dir, 'k.pem'), '-pubout', '-out', join(dir, 'k.pub.pem')]);
    const signed = await buildPack(join(HELLO, 'pack.yaml'), { signingKey: join(dir, 'k.pem') });
    const report = await verifyPack(signed.bytes, { trust: [join(dir, 'k.pub.pem')] });
    expect(report.signature).toMatchObject({ signed: true, trusted: true });

    writeFileSync(join(dir, 'ours.pem'), alice.privateKeyPem);
    const pub = execFileSync('openssl', ['pkey', '-in', join(dir, 'ours.pem'), '-pubout'], {
      encoding: 'utf8',
    });
    expect(publicKeyFromPem(pub).fingerprint).toBe(alice.fingerprint);
  });

  it('refuses keys that are not Ed25519, public keys for signing and private keys for trust', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(privateKeyFromPem(ecPem)).rejects.toMatchObject({
      code: 'GT_PACK_KEY',
      message: expect.stringContaining('ec key'),
    });
    await expect(privateKeyFromPem(alice.publicKeyPem)).rejects.toMatchObject({ code: 'GT_PACK_KEY' });
    expect(() => publicKeyFromPem(alice.privateKeyPem)).toThrow(/trust store holds public keys only/);
    expect(() => loadTrustStore(['not a path or pem'])).toThrow(PackError);
  });

  it('loads a trust store directory of *.pem / *.pub files (skipping private keys), and refuses one without a public key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'alice.pub.pem'), alice.publicKeyPem);
    writeFileSync(join(dir, 'bob.pub'), bob.publicKeyPem);
    writeFileSync(join(dir, 'README.txt'), 'ignored');
    expect(loadTrustStore([dir]).keys.map((k) => k.fingerprint)).toEqual([
      alice.fingerprint,
      bob.fingerprint,
    ]);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => loadTrustStore([empty])).toThrow(/holds no \*\.pem/);
    // packc keygen --out dir/ writes both halves: the private one is skipped, never trusted.
    writeFileSync(join(dir, 'signing.key.pem'), alice.privateKeyPem);
    expect(loadTrustStore([dir]).keys).toHaveLength(2);
    const onlyPrivate = join(dir, 'private');
    mkdirSync(onlyPrivate);
    writeFileSync(join(onlyPrivate, 'k.pem'), alice.privateKeyPem);
    expect(() => loadTrustStore([onlyPrivate])).toThrow(/holds no public key/);
    expect(() => loadTrustStore([join(onlyPrivate, 'k.pem')])).toThrow(/private key/);
  });
});

describe('signing and verification', () => {
  it('stores the signature inside the pack, and a signed pack reports as signed and trusted', async () => {
    const r = await buildPack(join(HELLO, 'pack.yaml'), {
      signingKey: alice.privateKeyPem,
      keyId: 'release-2026',
    });
    expect(r.signed).toBe(true);
    expect(r.files.map((f) => f.path)).toContain('signatures/pack.sig');
    const report = await verifyPack(r.bytes, { trust: [alice.publicKeyPem] });
    expect(report.signature).toMatchObject({
      signed: true,
      trusted: true,
      signatures: [
        { key_id: 'release-2026', key_fingerprint: alice.fingerprint, alg: 'ed25519', trusted: true },
      ],
    });
    expect(report.sbom.files.map((f) => f.path)).not.toContain('signatures/pack.sig');
    const pack = await readPack(r.bytes, { trust: [alice.publicKeyPem] });
    expect(pack.signature.signed).toBe(true);
  });

  it('signs exactly the documented digest and statement (checked with openssl)', async () => {
    const signed = (
      await signPack(unsigned, alice.privateKeyPem, { signedAt: new Date('2026-03-04T05:06:07Z') })
    ).bytes;
    const files = filesOf(signed);
    const [entry] = signaturesOf(signed);
    const manifest = files.get('manifest.cbor')!;
    const sbom = files.get('sbom.cbor')!;
    const u64 = (n: number) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      return b;
    };
    const digest = createHash('sha256')
      .update(Buffer.from('greentic-pack-sig-v1\0'))
      .update(u64(manifest.length))
      .update(manifest)
      .update(u64(sbom.length))
      .update(sbom)
      .digest('hex');
    expect(entry).toMatchObject({
      alg: 'ed25519',
      digest: `sha256:${digest}`,
      format: 'greentic-pack-sig-v1',
      key_fingerprint: alice.fingerprint,
      key_id: alice.fingerprint,
      signed_at: '2026-03-04T05:06:07Z',
    });
    const { signature, ...statement } = entry!;
    expect(new TextDecoder().decode(statementBytes(entry!))).toBe(canonicalJson(statement));

    const dir = tempDir();
    writeFileSync(join(dir, 'statement.json'), statementBytes(entry!));
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(signature, 'base64url'));
    writeFileSync(join(dir, 'pub.pem'), alice.publicKeyPem);
    const out = execFileSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        join(dir, 'pub.pem'),
        '-rawin',
        '-in',
        join(dir, 'statement.json'),
        '-sigfile',
        join(dir, 'sig.bin'),
      ],
      { encoding: 'utf8' },
    );
    expect(out).toContain('Signature Verified Successfully');
  });

  it('requires a signature unless unsigned packs are allowed (GT_PACK_UNSIGNED)', async () => {
    expect((await failure(verifyPack(unsigned, { trust: [alice.publicKeyPem] }))).code).toBe(
      'GT_PACK_UNSIGNED',
    );
    expect((await failure(verifyPack(unsigned))).code).toBe('GT_PACK_UNSIGNED');
    const report = await verifyPack(unsigned, { allowUnsigned: true });
    expect(report.signature).toMatchObject({ signed: false, trusted: false });
    expect(report.warnings[0]).toContain('not signed');
  });

  it('requires the signer to be trusted (GT_PACK_UNTRUSTED_KEY), naming both sides', async () => {
    const signed = (await signPack(unsigned, alice.privateKeyPem)).bytes;
    const err = await failure(verifyPack(signed, { trust: [bob.publicKeyPem] }));
    expect(err.code).toBe('GT_PACK_UNTRUSTED_KEY');
    expect(err.message).toContain(alice.fingerprint);
    expect(err.message).toContain(bob.fingerprint);
    expect((await failure(verifyPack(signed))).code).toBe('GT_PACK_UNTRUSTED_KEY');
    // allowUnsigned accepts an untrusted (but valid) signature and says so.
    const report = await verifyPack(signed, { allowUnsigned: true, trust: [bob.publicKeyPem] });
    expect(report.signature).toMatchObject({ signed: true, trusted: false });
  });

  it('replaces the signature of the same key, keeps other keys (rotation), and drops all with replace', async () => {
    const once = (
      await signPack(unsigned, alice.privateKeyPem, { signedAt: new Date('2026-01-01T00:00:00Z') })
    ).bytes;
    const again = (await signPack(once, alice.privateKeyPem, { signedAt: new Date('2026-02-01T00:00:00Z') }))
      .bytes;
    expect(signaturesOf(again).map((s) => s.signed_at)).toEqual(['2026-02-01T00:00:00Z']);
    const rotated = (await signPack(again, bob.privateKeyPem)).bytes;
    expect(
      signaturesOf(rotated)
        .map((s) => s.key_fingerprint)
        .sort(),
    ).toEqual([alice.fingerprint, bob.fingerprint].sort());
    await expect(verifyPack(rotated, { trust: [alice.publicKeyPem] })).resolves.toMatchObject({
      signature: { trusted: true },
    });
    await expect(verifyPack(rotated, { trust: [bob.publicKeyPem] })).resolves.toMatchObject({
      signature: { trusted: true },
    });
    const only = (await signPack(rotated, bob.privateKeyPem, { replace: true })).bytes;
    expect(signaturesOf(only).map((s) => s.key_fingerprint)).toEqual([bob.fingerprint]);
    // The payload is untouched by signing: same SBOM digest throughout.
    const digests = [once, again, rotated, only].map((b) => signaturesOf(b)[0]!.digest);
    expect(new Set(digests).size).toBe(1);
  });

  it('signs a pack file in place, and into another file', async () => {
    const dir = tempDir();
    const path = join(dir, 'p.gtpack');
    writeFileSync(path, unsigned);
    await signPack(path, alice.privateKeyPem);
    await expect(verifyPack(path, { trust: [alice.publicKeyPem] })).resolves.toBeDefined();
    await signPack(path, bob.privateKeyPem, { out: join(dir, 'q.gtpack') });
    expect(signaturesOf(readFileSync(join(dir, 'q.gtpack')))).toHaveLength(2);
    expect(signaturesOf(readFileSync(path))).toHaveLength(1);
  });

  it('rejects any change to a signature or its statement (GT_PACK_SIGNATURE_INVALID)', async () => {
    const signed = (await signPack(unsigned, alice.privateKeyPem)).bytes;
    const files = filesOf(signed);
    const entry = signaturesOf(signed)[0]!;
    const withSig = (e: Record<string, unknown>) => {
      const m = new Map(files);
      m.set(
        'signatures/pack.sig',
        new TextEncoder().encode(canonicalJson({ format: 'greentic-pack-signatures-v1', signatures: [e] })),
      );
      return rawZip(rawEntriesOf(m));
    };
    const trust = { trust: [alice.publicKeyPem] };
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'a back-dated signing time',
        withSig({ ...entry, signed_at: '2020-01-01T00:00:00Z' }),
        /does not verify/,
      ],
      ['another key id', withSig({ ...entry, key_id: 'ceo' }), /does not verify/],
      [
        'a flipped signature bit',
        withSig({ ...entry, signature: flipB64(entry.signature) }),
        /does not verify/,
      ],
      [
        'a swapped public key',
        withSig({ ...entry, public_key: Buffer.from(readPub(bob)).toString('base64url') }),
        /fingerprint does not match/,
      ],
      ['another algorithm', withSig({ ...entry, alg: 'none' }), /only ed25519/],
      [
        'pretty-printed JSON',
        rawZipWith(
          files,
          JSON.stringify({ format: 'greentic-pack-signatures-v1', signatures: [entry] }, null, 1),
        ),
        /canonical/,
      ],
      ['not JSON', rawZipWith(files, 'garbage'), /not JSON/],
    ];
    for (const [what, bytes, message] of cases) {
      const err = await failure(verifyPack(bytes, trust));
      expect({ what, code: err.code }).toEqual({ what, code: 'GT_PACK_SIGNATURE_INVALID' });
      expect(err.message).toMatch(message);
    }
  });

  it('rejects a signed pack whose content was changed and re-inventoried (the digest no longer matches)', async () => {
    const { buildSbom, encodeCanonical } = await import('../src/index.js');
    const signed = (await signPack(unsigned, alice.privateKeyPem)).bytes;
    const m = filesOf(signed);
    m.set(
      'flows/help.ygtc',
      new TextEncoder().encode(
        'id: help\ntype: messaging\nnodes:\n  help:\n    template: "pwned"\n    routing: out\n',
      ),
    );
    m.set('sbom.cbor', encodeCanonical(buildSbom(m)));
    const err = await failure(verifyPack(rawZip(rawEntriesOf(m)), { trust: [alice.publicKeyPem] }));
    expect(err.code).toBe('GT_PACK_SIGNATURE_INVALID');
    expect(err.message).toContain('the pack changed after it was signed');
  });
});

function rawZipWith(files: Map<string, Uint8Array>, sig: string): Uint8Array {
  const m = new Map(files);
  m.set('signatures/pack.sig', new TextEncoder().encode(sig));
  return rawZip(rawEntriesOf(m));
}

function flipB64(s: string): string {
  const b = Buffer.from(s, 'base64url');
  b[10] = b[10]! ^ 1;
  return b.toString('base64url');
}

function readPub(k: { publicKeyPem: string }): Uint8Array {
  return publicKeyFromPem(k.publicKeyPem).publicKey;
}
