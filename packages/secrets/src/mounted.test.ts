import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSecretsError } from './errors.js';
import { MountedSecretsProvider } from './mounted.js';
import { secretsProviderContract } from './testing/index.js';
import { envKeyForUri, parseSecretUri } from './uri.js';

function tree(root: string, uri: string, value: string | Buffer) {
  const u = parseSecretUri(uri);
  const path = join(root, u.env, u.tenant, u.team ?? '_', u.category, u.name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, value);
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'gt-mounted-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

secretsProviderContract('k8s mounted files (tree)', async () => {
  const root = tmp();
  return { provider: new MountedSecretsProvider({ root }), seed: (uri, v) => tree(root, uri, v) };
});

secretsProviderContract('k8s mounted files (flat)', async () => {
  const root = tmp();
  return {
    provider: new MountedSecretsProvider({ root, layout: 'flat' }),
    seed: (uri, v) => writeFileSync(join(root, envKeyForUri(uri)), v),
  };
});

describe('MountedSecretsProvider', () => {
  it('strips one trailing newline from text, as kubectl --from-file keeps it', async () => {
    const root = tmp();
    tree(root, 'secrets://prod/acme/_/cfg/token', 'abc\n');
    const p = new MountedSecretsProvider({ root });
    expect((await p.get('secrets://prod/acme/_/cfg/token'))!.value.revealText()).toBe('abc');
    expect(
      (await new MountedSecretsProvider({ root, trimTrailingNewline: false }).get(
        'secrets://prod/acme/_/cfg/token',
      ))!.value.revealText(),
    ).toBe('abc\n');
  });

  it('follows the kubelet ..data links but never lists them', async () => {
    const root = tmp();
    const data = join(root, '..2024_01_01');
    mkdirSync(join(data, 'prod', 'acme', '_', 'cfg'), { recursive: true });
    writeFileSync(join(data, 'prod', 'acme', '_', 'cfg', 'token'), 'linked');
    symlinkSync('..2024_01_01', join(root, '..data'));
    symlinkSync(join('..data', 'prod'), join(root, 'prod'));
    const p = new MountedSecretsProvider({ root });
    expect((await p.get('secrets://prod/acme/_/cfg/token'))!.value.revealText()).toBe('linked');
    expect((await p.list()).map((i) => i.uri)).toEqual(['secrets://prod/acme/_/cfg/token']);
    expect(await p.get('secrets://..data/prod/acme/cfg/token')).toBeUndefined();
  });

  it('refuses a link that leads outside the mount', async () => {
    const root = tmp();
    const outside = tmp();
    writeFileSync(join(outside, 'host-secret'), 'nope');
    mkdirSync(join(root, 'prod', 'acme', '_', 'cfg'), { recursive: true });
    symlinkSync(join(outside, 'host-secret'), join(root, 'prod', 'acme', '_', 'cfg', 'token'));
    await expect(
      new MountedSecretsProvider({ root }).get('secrets://prod/acme/_/cfg/token'),
    ).rejects.toSatisfy((e) => isSecretsError(e, 'GT_SECRETS_BACKEND'));
  });

  it('refuses files over 1 MiB', async () => {
    const root = tmp();
    tree(root, 'secrets://prod/acme/_/cfg/big', Buffer.alloc(1024 * 1024 + 1));
    await expect(new MountedSecretsProvider({ root }).get('secrets://prod/acme/_/cfg/big')).rejects.toThrow(
      /1 MiB/,
    );
  });

  it('reads nothing when the mount does not exist', async () => {
    const p = new MountedSecretsProvider({ root: join(tmp(), 'absent') });
    expect(await p.get('secrets://prod/acme/_/cfg/x')).toBeUndefined();
    expect(await p.list()).toEqual([]);
  });
});
