import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPackc } from '../src/index.js';
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

describe('packc', () => {
  it('keygen → build --sign → verify --trust → inspect, with JSON on stdout and progress on stderr', async () => {
    const dir = tempDir();
    const keys = join(dir, 'keys');
    const kg = await packc(['keygen', '--out', `${keys}/`, '--json']);
    expect(kg.code).toBe(0);
    const k = JSON.parse(kg.stdout);
    expect(k).toMatchObject({
      ok: true,
      private_key: join(keys, 'signing.key.pem'),
      public_key: join(keys, 'signing.pub.pem'),
    });
    expect(kg.stdout).not.toContain('PRIVATE KEY');
    expect(statSync(k.private_key).mode & 0o777).toBe(0o600);

    const out = join(dir, 'hello.gtpack');
    const build = await packc([
      'build',
      '-p',
      join(HELLO, 'pack.yaml'),
      '-o',
      out,
      '--sign',
      k.private_key,
      '--json',
    ]);
    expect(build.code).toBe(0);
    expect(build.stderr).toContain('packc: validating');
    const b = JSON.parse(build.stdout);
    expect(b).toMatchObject({
      ok: true,
      out,
      signed: true,
      pack_id: 'dev.greentic.hello',
      flows: ['main', 'help'],
      components: ['echo'],
    });
    expect(b.archive_digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const verify = await packc(['verify', '-p', out, '--trust', k.public_key, '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      ok: true,
      signed: true,
      trusted: true,
      files: 7,
      archive_digest: b.archive_digest,
    });

    const human = await packc(['verify', '-p', out, '--trust', keys]); // the keygen directory works as a trust store
    expect(human.stdout).toMatch(
      /^ok .*hello\.gtpack: 7 files verified, signed by trusted key [0-9a-f]{32}; sha256:/,
    );

    const inspect = await packc(['inspect', out]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('dev.greentic.hello 0.1.0 (application, by Greentic) — Hello pack');
    expect(inspect.stdout).toMatch(/signature: signed \([0-9a-f]{32}, \d{4}-.*\) — no trusted key/);
    expect(inspect.stdout).toContain('main (messaging, 3 nodes, start ask)  flows/main.ygtc');
    expect(inspect.stdout).toContain('echo 0.1.0  greentic:component/component@0.6.0  8 bytes');
    const inspectJson = JSON.parse((await packc(['inspect', out, '--trust', k.public_key, '--json'])).stdout);
    expect(inspectJson.signature).toMatchObject({ signed: true, trusted: true });
    expect(inspectJson.files.map((f: { path: string }) => f.path)).toContain('components/echo.wasm');
  });

  it('fails verification with exit code 1 and the error code (untrusted, unsigned, tampered)', async () => {
    const dir = tempDir();
    const out = join(dir, 'p.gtpack');
    expect((await packc(['build', '-p', join(HELLO, 'pack.yaml'), '-o', out])).code).toBe(0);
    const unsigned = await packc(['verify', '-p', out]);
    expect(unsigned).toMatchObject({ code: 1 });
    expect(unsigned.stderr).toContain('packc: error GT_PACK_UNSIGNED');
    expect((await packc(['verify', '-p', out, '--allow-unsigned'])).code).toBe(0);
    const unsignedJson = await packc(['verify', '-p', out, '--json']);
    expect(JSON.parse(unsignedJson.stdout)).toMatchObject({ ok: false, error: { code: 'GT_PACK_UNSIGNED' } });

    const bytes = readFileSync(out);
    bytes[bytes.indexOf('Ask me anything')] ^= 1;
    writeFileSync(out, bytes);
    const tampered = await packc(['verify', '-p', out, '--allow-unsigned']);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('GT_PACK_HASH_MISMATCH');
    expect(tampered.stderr).toContain('flows/help.ygtc');
  });

  it('signs in place, keeping other keys, and --replace drops them', async () => {
    const dir = tempDir();
    const out = join(dir, 'p.gtpack');
    await packc(['build', '-p', join(HELLO, 'pack.yaml'), '-o', out]);
    await packc(['keygen', '--out', join(dir, 'a.key.pem')]);
    await packc(['keygen', '--out', join(dir, 'b.key.pem')]);
    expect(
      (await packc(['sign', '-p', out, '--key', join(dir, 'a.key.pem'), '--key-id', 'alice'])).code,
    ).toBe(0);
    const second = await packc(['sign', '-p', out, '--key', join(dir, 'b.key.pem'), '--key-id', 'bob']);
    expect(second.stdout).toMatch(/2 signature\(s\): (alice|bob) .*, (alice|bob) /);
    expect((await packc(['verify', '-p', out, '--trust', join(dir, 'a.pub.pem')])).code).toBe(0);
    await packc(['sign', '-p', out, '--key', join(dir, 'b.key.pem'), '--replace']);
    const v = await packc(['verify', '-p', out, '--trust', join(dir, 'a.pub.pem')]);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain('GT_PACK_UNTRUSTED_KEY');
  });

  it('uses SOURCE_DATE_EPOCH as the signing time', async () => {
    const dir = tempDir();
    await packc(['keygen', '--out', join(dir, 'k.pem')]);
    const a = join(dir, 'a.gtpack');
    const env = { SOURCE_DATE_EPOCH: '1767225600' };
    await packc(['build', '-p', join(HELLO, 'pack.yaml'), '-o', a, '--sign', join(dir, 'k.pem')], env);
    const inspect = JSON.parse((await packc(['inspect', a, '--json'])).stdout);
    expect(inspect.signature.signatures[0].signed_at).toBe('2026-01-01T00:00:00Z');
  });

  it('reports build problems one per line with file:line:col and code, and exits 1', async () => {
    const dir = copyFixture();
    writeFileSync(join(dir, 'flows/help.ygtc'), 'id: help\ntype: messaging\nnodes: {}\n');
    const one = await packc(['build', '-p', join(dir, 'pack.yaml'), '-o', join(dir, 'out.gtpack')]);
    expect(one.code).toBe(1);
    expect(one.stderr).toContain(
      `packc: error GT_PACK_FLOW: ${join(dir, 'flows/help.ygtc')}:3:1 GT_FLOW_EMPTY: flow "help"`,
    );
    writeFileSync(
      join(dir, 'flows/main.ygtc'),
      'id: main\ntype: messaging\nnodes:\n  a:\n    template: hi\n    routing: [{ to: b }]\n',
    );
    const r = await packc(['build', '-p', join(dir, 'pack.yaml'), '-o', join(dir, 'out.gtpack')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'flows/main.ygtc')}:6:21 GT_FLOW_MISSING_NODE error:`);
    expect(r.stderr).toContain(`${join(dir, 'flows/help.ygtc')}:3:1 GT_FLOW_EMPTY error:`);
    expect(r.stderr).toContain('packc: error GT_PACK_FLOW');
    const j = await packc(['build', '-p', join(dir, 'pack.yaml'), '-o', join(dir, 'out.gtpack'), '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      error: { code: 'GT_PACK_FLOW' },
      problems: [
        { code: 'GT_FLOW_MISSING_NODE', file: join(dir, 'flows/main.ygtc'), line: 6, col: 21 },
        { code: 'GT_FLOW_EMPTY', file: join(dir, 'flows/help.ygtc'), line: 3, col: 1 },
      ],
    });
  });

  it('lints a pack.yaml with its files, or the manifest alone', async () => {
    const dir = copyFixture();
    const ok = await packc(['lint', join(dir, 'pack.yaml')]);
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toContain('1 file(s) checked: 0 error(s), 0 warning(s) (ok)');
    writeFileSync(join(dir, 'flows/main.ygtc'), 'id: main\ntype: messaging\nnodes: {}\n');
    expect((await packc(['lint', join(dir, 'pack.yaml')])).code).toBe(1);
    expect((await packc(['lint', '--manifest-only', join(dir, 'pack.yaml')])).code).toBe(0);
    const comp = await packc(['lint', '--json', join(dir, 'components/echo/component.manifest.json')]);
    expect(JSON.parse(comp.stdout)).toMatchObject({ ok: true, files: [{ kind: 'component', ok: true }] });
  });

  it('refuses what it cannot run with exit code 2', async () => {
    const dir = tempDir();
    expect((await packc(['verify', '-p', join(dir, 'nope.gtpack')])).code).toBe(2);
    expect((await packc(['build'])).code).toBe(2);
    expect((await packc(['frobnicate'])).code).toBe(2);
    writeFileSync(join(dir, 'notes.json'), '{}');
    const unknown = await packc(['lint', join(dir, 'notes.json')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--kind');
    expect((await packc(['lint', '--kind', 'toolmap', join(dir, 'notes.json')])).code).toBe(1);
    await packc(['keygen', '--out', join(dir, 'k.pem')]);
    const again = await packc(['keygen', '--out', join(dir, 'k.pem')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
  });

  it('has --help with examples on every command', async () => {
    for (const cmd of ['build', 'sign', 'verify', 'keygen', 'inspect', 'lint']) {
      const r = await packc([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`$ packc ${cmd}`);
    }
    const top = await packc(['--help']);
    expect(top.stdout).toContain('Examples:');
  });
});
