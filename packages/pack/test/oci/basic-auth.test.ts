/** A real registry behind htpasswd basic auth (distribution's `auth.htpasswd`). */
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullPack, pushPack, resolveRef } from '../../src/oci/index.js';
import { fixtureBytes, startTestRegistry, type TestRegistry, uniqueRepo } from './helpers.js';

const USER = 'ci-robot';
const PASSWORD = 'correct horse battery staple';
const PACK = fixtureBytes(16 * 1024, 'basic-auth');
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startTestRegistry({ username: USER, password: PASSWORD });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
});

describe('basic auth (htpasswd registry)', () => {
  it('pushes and pulls with username/password options', async () => {
    const repo = uniqueRepo('private/pack');
    const opts = { username: USER, password: PASSWORD, env: {} };
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:1`, opts);
    const pulled = await pullPack(pushed.ref, { ...opts, cacheDir: false });
    expect(Buffer.from(pulled.bytes).equals(PACK)).toBe(true);
  });

  it('takes the credentials from GREENTIC_OCI_USERNAME / GREENTIC_OCI_PASSWORD', async () => {
    const env = { GREENTIC_OCI_USERNAME: USER, GREENTIC_OCI_PASSWORD: PASSWORD };
    const repo = uniqueRepo('private/env');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:1`, { env });
    expect((await resolveRef(`oci://${registry.host}/${repo}:1`, { env })).digest).toBe(pushed.digest);
  });

  it('fails with GT_PACK_OCI_AUTH on a wrong password, without echoing it', async () => {
    const ref = `oci://${registry.host}/${uniqueRepo('private/wrong')}:1`;
    const err = await pushPack(PACK, ref, { username: USER, password: 'not-the-password', env: {} }).catch(
      (e) => e,
    );
    expect(err.code).toBe('GT_PACK_OCI_AUTH');
    expect(err.status).toBe(401);
    expect(err.message).not.toContain('not-the-password');
    expect(JSON.stringify(err)).not.toContain('not-the-password');
    const pullErr = await pullPack(`oci://${registry.host}/x@sha256:${'0'.repeat(64)}`, {
      username: USER,
      password: 'not-the-password',
      cacheDir: false,
      env: {},
    }).catch((e) => e);
    expect(pullErr.code).toBe('GT_PACK_OCI_AUTH');
  });

  it('fails with GT_PACK_OCI_AUTH and says which variables to set when no credentials are given', async () => {
    const err = await pushPack(PACK, `oci://${registry.host}/${uniqueRepo('private/anon')}:1`, {
      env: {},
    }).catch((e) => e);
    expect(err.code).toBe('GT_PACK_OCI_AUTH');
    expect(err.message).toContain('GREENTIC_OCI_USERNAME');
  });

  it('is readable by skopeo with the same credentials', async () => {
    const repo = uniqueRepo('private/skopeo');
    const pushed = await pushPack(PACK, `oci://${registry.host}/${repo}:1`, {
      username: USER,
      password: PASSWORD,
      env: {},
    });
    const { stdout } = await promisify(execFile)(
      'skopeo',
      [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        `${USER}:${PASSWORD}`,
        `docker://${registry.host}/${repo}:1`,
      ],
      { env: { PATH: process.env.PATH, HOME: tmpdir() } },
    );
    expect(JSON.parse(stdout).layers[0].digest).toBe(pushed.layerDigest);
  });
});
