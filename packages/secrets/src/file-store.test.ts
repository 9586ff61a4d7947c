import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isSecretsError } from './errors.js';
import { EncryptedFileSecretsProvider, LOCK_FILE, STORE_FILE } from './file-store.js';
import { secretsProviderContract } from './testing/index.js';

const KEY = 'test-master-key-0123456789';
const FAST = { N: 1024 };
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gt-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const open = (
  dir: string,
  extra: Partial<ConstructorParameters<typeof EncryptedFileSecretsProvider>[0]> = {},
) => new EncryptedFileSecretsProvider({ dir, masterKey: KEY, kdf: FAST, ...extra });

const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};

type StoreJson = {
  kdf: { salt: string; N: number };
  secrets: Record<string, { versions: { version: string; iv: string; tag: string; ct: string }[] }>;
};
const readStore = (dir: string) => JSON.parse(readFileSync(join(dir, STORE_FILE), 'utf8')) as StoreJson;
const writeStore = (dir: string, data: StoreJson) =>
  writeFileSync(join(dir, STORE_FILE), JSON.stringify(data));

secretsProviderContract('encrypted file store', async () => ({ provider: open(join(tmp(), 'store')) }));

describe('EncryptedFileSecretsProvider: encryption', () => {
  it('stores no plaintext, with private file modes', async () => {
    const dir = join(tmp(), 'store');
    await open(dir).put('secrets://dev/acme/_/cfg/token', 'plain-CANARY-value');
    const text = readFileSync(join(dir, STORE_FILE), 'utf8');
    expect(text).not.toContain('plain-CANARY-value');
    expect(text).not.toContain(Buffer.from('plain-CANARY-value').toString('base64'));
    expect(statSync(join(dir, STORE_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('uses a fresh IV for every version, even of the same value', async () => {
    const dir = tmp();
    const s = open(dir);
    await s.put('secrets://dev/acme/_/cfg/a', 'same');
    await s.put('secrets://dev/acme/_/cfg/a', 'same');
    await s.put('secrets://dev/acme/_/cfg/b', 'same');
    const data = readStore(dir);
    const all = Object.values(data.secrets).flatMap((e) => e.versions);
    expect(new Set(all.map((v) => v.iv)).size).toBe(3);
    expect(new Set(all.map((v) => v.ct)).size).toBe(3);
  });

  it('refuses a ciphertext moved to another secret (the URI is authenticated)', async () => {
    const dir = tmp();
    const s = open(dir);
    await s.put('secrets://dev/acme/_/cfg/a', 'value-of-a');
    await s.put('secrets://dev/globex/_/cfg/a', 'value-of-globex');
    const data = readStore(dir);
    const a = data.secrets['secrets://dev/acme/_/cfg/a']!.versions[0]!;
    const g = data.secrets['secrets://dev/globex/_/cfg/a']!.versions[0]!;
    Object.assign(g, { iv: a.iv, tag: a.tag, ct: a.ct });
    writeStore(dir, data);
    const e = await rejection(open(dir).get('secrets://dev/globex/_/cfg/a'));
    expect(isSecretsError(e, 'GT_SECRETS_CORRUPT')).toBe(true);
    expect(e.message).toContain('secrets://dev/globex/_/cfg/a@1');
    expect((await open(dir).get('secrets://dev/acme/_/cfg/a'))!.value.revealText()).toBe('value-of-a');
  });

  it('refuses a ciphertext moved to another version', async () => {
    const dir = tmp();
    const s = open(dir);
    await s.put('secrets://dev/acme/_/cfg/a', 'old');
    await s.put('secrets://dev/acme/_/cfg/a', 'new');
    const data = readStore(dir);
    const [v1, v2] = data.secrets['secrets://dev/acme/_/cfg/a']!.versions;
    Object.assign(v2!, { iv: v1!.iv, tag: v1!.tag, ct: v1!.ct });
    writeStore(dir, data);
    expect(
      isSecretsError(await rejection(open(dir).get('secrets://dev/acme/_/cfg/a')), 'GT_SECRETS_CORRUPT'),
    ).toBe(true);
  });

  it('detects a flipped ciphertext byte', async () => {
    const dir = tmp();
    await open(dir).put('secrets://dev/acme/_/cfg/a', 'abcdef');
    const data = readStore(dir);
    const v = data.secrets['secrets://dev/acme/_/cfg/a']!.versions[0]!;
    const ct = Buffer.from(v.ct, 'base64');
    ct[0]! ^= 1;
    v.ct = ct.toString('base64');
    writeStore(dir, data);
    expect(
      isSecretsError(await rejection(open(dir).get('secrets://dev/acme/_/cfg/a')), 'GT_SECRETS_CORRUPT'),
    ).toBe(true);
  });

  it('tells a wrong master key apart from damage', async () => {
    const dir = tmp();
    await open(dir).put('secrets://dev/acme/_/cfg/a', 'x');
    const wrong = open(dir, { masterKey: 'another-master-key-000000' });
    const e = await rejection(wrong.get('secrets://dev/acme/_/cfg/a'));
    expect(isSecretsError(e, 'GT_SECRETS_KEY')).toBe(true);
    expect(e.message).toContain('does not open');
    expect(
      isSecretsError(await rejection(wrong.put('secrets://dev/acme/_/cfg/b', 'y')), 'GT_SECRETS_KEY'),
    ).toBe(true);
  });

  it('works without a master key for list and versions only', async () => {
    const dir = tmp();
    await open(dir).put('secrets://dev/acme/_/cfg/a', 'x');
    const keyless = new EncryptedFileSecretsProvider({ dir });
    expect((await keyless.list()).map((i) => i.uri)).toEqual(['secrets://dev/acme/_/cfg/a']);
    expect(await keyless.versions('secrets://dev/acme/_/cfg/a')).toHaveLength(1);
    for (const op of [
      () => keyless.get('secrets://dev/acme/_/cfg/a'),
      () => keyless.put('secrets://dev/acme/_/cfg/b', 'y'),
    ]) {
      const e = await rejection(op());
      expect(isSecretsError(e, 'GT_SECRETS_KEY')).toBe(true);
      expect(e.message).toContain('GREENTIC_SECRETS_MASTER_KEY');
    }
  });

  it('rejects a short master key', () => {
    expect(() => new EncryptedFileSecretsProvider({ dir: tmp(), masterKey: 'short' })).toThrow(/too short/);
  });

  it('reports a damaged store file', async () => {
    const dir = tmp();
    writeFileSync(join(dir, STORE_FILE), '{"secrets": ');
    expect(isSecretsError(await rejection(open(dir).list()), 'GT_SECRETS_CORRUPT')).toBe(true);
    writeFileSync(join(dir, STORE_FILE), '{"format": "other"}');
    expect(await rejection(open(dir).get('secrets://dev/a/_/c/n'))).toSatisfy((e: Error) =>
      /header/.test(e.message),
    );
  });

  it('keeps the scrypt cost of an existing store', async () => {
    const dir = tmp();
    await open(dir).put('secrets://dev/acme/_/cfg/a', 'x');
    expect(readStore(dir).kdf.N).toBe(1024);
    const other = new EncryptedFileSecretsProvider({ dir, masterKey: KEY, kdf: { N: 2048 } });
    expect((await other.get('secrets://dev/acme/_/cfg/a'))!.value.revealText()).toBe('x');
  });

  it('keeps at most maxVersions versions', async () => {
    const s = open(tmp(), { maxVersions: 2 });
    for (const v of ['a', 'b', 'c']) await s.put('secrets://dev/acme/_/cfg/a', v);
    expect((await s.versions('secrets://dev/acme/_/cfg/a')).map((v) => v.version)).toEqual(['2', '3']);
    expect(await s.get('secrets://dev/acme/_/cfg/a@1')).toBeUndefined();
  });
});

describe('EncryptedFileSecretsProvider: concurrent writers', () => {
  it('loses no update when one process writes concurrently', async () => {
    const s = open(tmp());
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.put('secrets://dev/acme/_/cfg/n', `v${i}`)));
    const versions = await s.versions('secrets://dev/acme/_/cfg/n');
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
  });

  it('loses no update when two processes write at once', async () => {
    const dir = tmp();
    const count = 15;
    const child = (id: string) =>
      new Promise<void>((res, rej) => {
        const p = spawn(
          process.execPath,
          ['--import', 'tsx', join(here, '../test/concurrent-writer.ts'), dir, id, String(count)],
          {
            cwd: root,
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let err = '';
        p.stderr.on('data', (d) => {
          err += d;
        });
        p.on('exit', (code) => (code === 0 ? res() : rej(new Error(`writer ${id} exited ${code}: ${err}`))));
      });
    await Promise.all([child('alpha'), child('beta')]);
    const s = open(dir);
    const shared = await s.versions('secrets://dev/acme/_/shared/counter');
    expect(shared.map((v) => v.version)).toEqual(Array.from({ length: 2 * count }, (_, i) => String(i + 1)));
    const values = await Promise.all(
      shared.map(async (v) =>
        (await s.get(`secrets://dev/acme/_/shared/counter@${v.version}`))!.value.revealText(),
      ),
    );
    expect(new Set(values).size).toBe(2 * count);
    expect(await s.list({ category: 'alpha' })).toHaveLength(count);
    expect(await s.list({ category: 'beta' })).toHaveLength(count);
  }, 30_000);

  it('takes over a lock left by a process that died', async () => {
    const dir = tmp();
    const s = open(dir);
    await s.put('secrets://dev/acme/_/cfg/a', 'one');
    const dead = spawn(process.execPath, ['-e', '0']);
    const pid = await new Promise<number>((res) => dead.on('exit', () => res(dead.pid!)));
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({
        pid,
        host: (await import('node:os')).hostname(),
        token: 'x',
        time: new Date().toISOString(),
      }),
    );
    await s.put('secrets://dev/acme/_/cfg/a', 'two');
    expect((await s.get('secrets://dev/acme/_/cfg/a'))!.value.revealText()).toBe('two');
  });

  it('gives up with GT_SECRETS_LOCKED while a live writer holds the lock', async () => {
    const dir = tmp();
    const s = open(dir, { lockTimeoutMs: 150 });
    await s.put('secrets://dev/acme/_/cfg/a', 'one');
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({
        pid: process.pid,
        host: (await import('node:os')).hostname(),
        token: 'held',
        time: new Date().toISOString(),
      }),
    );
    const e = await rejection(s.put('secrets://dev/acme/_/cfg/a', 'two'));
    expect(isSecretsError(e, 'GT_SECRETS_LOCKED')).toBe(true);
    expect(e.message).toContain(`process ${process.pid}`);
    expect((await s.get('secrets://dev/acme/_/cfg/a'))!.value.revealText()).toBe('one');
  });
});
