/** packc's dev key (keygen without --out, sign without --key), build hints, and the registry commands' dispatch. */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  devKeyPaths,
  OCI_ERROR_CODES,
  PACK_ERROR_CODES,
  PackError,
  readPack,
  runPackc,
} from '../src/index.js';
import { copyFixture, HELLO, tempDir } from './helpers.js';

async function packc(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runPackc(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

describe('packc keygen without --out (the dev key)', () => {
  it('writes $GREENTIC_HOME/keys/dev.key.pem and trusts its public half in $GREENTIC_HOME/trust/', async () => {
    const home = tempDir();
    const env = { GREENTIC_HOME: home };
    const r = await packc(['keygen', '--json'], env);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    const paths = devKeyPaths(env);
    expect(doc).toMatchObject({
      ok: true,
      dev: true,
      created: true,
      private_key: join(home, 'keys', 'dev.key.pem'),
      public_key: join(home, 'keys', 'dev.pub.pem'),
      trusted: join(home, 'trust', 'dev.pub.pem'),
    });
    expect(paths.privateKey).toBe(doc.private_key);
    expect(statSync(doc.private_key).mode & 0o777).toBe(0o600);
    expect(readFileSync(doc.trusted, 'utf8')).toBe(readFileSync(doc.public_key, 'utf8'));
    expect(r.stdout).not.toContain('PRIVATE KEY');

    // again: the key is kept, and trusted again if the trust copy went missing
    rmSync(doc.trusted);
    const again = JSON.parse((await packc(['keygen', '--json'], env)).stdout);
    expect(again).toMatchObject({ created: false, fingerprint: doc.fingerprint });
    expect(readFileSync(doc.trusted, 'utf8')).toBe(readFileSync(doc.public_key, 'utf8'));
    // --force makes a new one
    const forced = JSON.parse((await packc(['keygen', '--force', '--json'], env)).stdout);
    expect(forced.created).toBe(true);
    expect(forced.fingerprint).not.toBe(doc.fingerprint);
  });

  it('uses ~/.greentic when GREENTIC_HOME is not set', async () => {
    const home = tempDir();
    const r = await packc(['keygen'], { HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(join(home, '.greentic', 'keys', 'dev.key.pem'));
  });
});

describe('packc sign without --key', () => {
  it('signs with the dev key, which the dev trust store then trusts', async () => {
    const home = tempDir();
    const env = { GREENTIC_HOME: home };
    const out = join(tempDir(), 'hello.gtpack');
    expect((await packc(['build', '-p', join(HELLO, 'pack.yaml'), '-o', out], env)).code).toBe(0);
    const missing = await packc(['sign', '-p', out], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /no --key given and there is no dev key at .*dev\.key\.pem; create one with "packc keygen"/,
    );

    await packc(['keygen'], env);
    const signed = await packc(['sign', '-p', out], env);
    expect(signed.code).toBe(0);
    expect(signed.stderr).toContain('signing with the dev key');
    const pack = await readPack(out, { trust: [join(home, 'trust')] });
    expect(pack.signature.trusted).toBe(true);
  });
});

describe('packc build with a component that is not built', () => {
  it('says to build the component first', async () => {
    const dir = copyFixture();
    rmSync(join(dir, 'components/echo/component.wasm'));
    const r = await packc(['build', '-p', join(dir, 'pack.yaml'), '-o', join(dir, 'out.gtpack')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /packc: error GT_PACK_MISSING_REFERENCE: .*component Wasm file .*component\.wasm does not exist/,
    );
    expect(r.stderr).toMatch(
      /packc: hint: component .*components\/echo\/component\.wasm is not built yet: build it first \(greentic-component build .*components\/echo\), then run packc build again/,
    );
  });
});

describe('packc push, pull and resolve', () => {
  it('are listed in packc --help, with examples', async () => {
    const r = await packc(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['push', 'pull', 'resolve']) expect(r.stdout).toMatch(new RegExp(`\\n  ${c} `));
    expect(r.stdout).toContain('packc pull oci://');
  });

  it.each(['push', 'pull', 'resolve'])(
    'packc %s --help and packc help <command> print the command help',
    async (c) => {
      for (const args of [
        [c, '--help'],
        ['help', c],
      ]) {
        const r = await packc(args);
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^usage: packc ${c} `));
        expect(r.stdout).toContain('example: packc');
      }
    },
  );

  it('report usage errors with GT_PACK_OCI_USAGE and exit code 2, as JSON with --json', async () => {
    const r = await packc(['pull', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      command: 'pull',
      error: { code: 'GT_PACK_OCI_USAGE' },
    });
  });

  it('refuse a tag pull without --allow-tags before any network request', async () => {
    const r = await packc(['pull', 'oci://127.0.0.1:9/acme/weather:1.0.0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/packc: error GT_PACK_OCI_TAG_NOT_ALLOWED: /);
  });

  it('refuse to push a file that is not a valid pack (describePack reads it with the verifying reader)', async () => {
    const dir = tempDir();
    const bogus = join(dir, 'bogus.gtpack');
    writeFileSync(bogus, 'not a zip');
    const r = await packc(['push', bogus, 'oci://127.0.0.1:9/acme/weather:1.0.0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/packc: error GT_PACK_ARCHIVE: /);
  });
});

describe('the error catalog', () => {
  it('holds the OCI codes, and PackError carries reference and status', () => {
    for (const code of OCI_ERROR_CODES) expect(PACK_ERROR_CODES).toContain(code);
    expect(new Set(PACK_ERROR_CODES).size).toBe(PACK_ERROR_CODES.length);
    const err = new PackError('GT_PACK_OCI_AUTH', 'denied', { reference: 'oci://h/r:t', status: 403 });
    expect(err).toMatchObject({
      name: 'PackError',
      code: 'GT_PACK_OCI_AUTH',
      reference: 'oci://h/r:t',
      status: 403,
    });
    expect(err.toJSON()).toMatchObject({ code: 'GT_PACK_OCI_AUTH', reference: 'oci://h/r:t', status: 403 });
  });
});
