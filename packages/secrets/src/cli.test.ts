import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSecretsCli, type SecretsCliIO } from './cli.js';

const KEY = 'cli-test-master-key-0123456789';
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gt-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface RunOptions {
  stdin?: string | Buffer;
  env?: Record<string, string | undefined>;
  readGtpack?: SecretsCliIO['readGtpack'];
  packModule?: string;
}

async function run(argv: string[], o: RunOptions = {}) {
  let out = '';
  let err = '';
  const code = await runSecretsCli(argv, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    stdin: Readable.from(o.stdin === undefined ? [] : [Buffer.from(o.stdin)]),
    env: { GREENTIC_SECRETS_DIR: join(dir, 'store'), GREENTIC_SECRETS_MASTER_KEY: KEY, ...o.env },
    cwd: dir,
    ...(o.readGtpack ? { readGtpack: o.readGtpack } : {}),
    ...(o.packModule ? { packModule: o.packModule } : {}),
  });
  return { code, out, err };
}

const URI = 'secrets://prod/acme/_/openai/api_key';

const manifest = {
  pack_id: 'weather-demo',
  components: [
    {
      id: 'weather_api',
      manifest: {
        secret_requirements: [
          {
            key: 'API_KEY',
            required: true,
            format: 'text',
            description: 'Weather API key',
            scope: { env: 'dev', tenant: 'demo' },
          },
        ],
        capabilities: {
          host: {
            secrets: {
              required: [
                { key: 'geo/creds', required: false, format: 'json', scope: { env: 'dev', tenant: 'demo' } },
              ],
            },
          },
        },
      },
    },
  ],
};

describe('greentic-secrets CLI', () => {
  it('prints help with examples and exit codes', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const w of [
      'scaffold',
      'set',
      'get',
      'list',
      'apply',
      'doctor',
      'Examples:',
      'Exit codes',
      'GREENTIC_SECRETS_MASTER_KEY',
    ])
      expect(r.out).toContain(w);
    const set = await run(['set', '--help']);
    expect(set.out).toContain('--stdin');
    expect(set.out).toContain('Examples:');
  });

  it('sets from stdin, masks get, and reveals only on --reveal', async () => {
    const set = await run(['set', URI, '--stdin'], { stdin: 'sk-test-1\n' });
    expect(set).toMatchObject({ code: 0, out: `stored ${URI}@1 (text, 9 bytes)\n` });
    const masked = await run(['get', URI]);
    expect(masked.code).toBe(0);
    expect(masked.out).toContain(`${URI}@1`);
    expect(masked.out).toContain('hidden; pass --reveal');
    expect(masked.out).not.toContain('sk-test-1');
    expect((await run(['get', URI, '--reveal'])).out).toBe('sk-test-1\n');
    const json = JSON.parse((await run(['get', URI, '--json'])).out);
    expect(json).toMatchObject({
      uri: `${URI}@1`,
      version: '1',
      format: 'text',
      size: 9,
      provider: 'file',
      value: '[redacted]',
    });
    expect(JSON.parse((await run(['get', URI, '--json', '--reveal'])).out).value).toBe('sk-test-1');
  });

  it('keeps versions and reads an old one', async () => {
    await run(['set', URI, '--stdin'], { stdin: 'one' });
    await run(['set', URI, '--stdin'], { stdin: 'two' });
    expect((await run(['get', `${URI}@1`, '--reveal'])).out).toBe('one\n');
    expect((await run(['get', URI, '--reveal'])).out).toBe('two\n');
    const versions = JSON.parse((await run(['versions', URI, '--json'])).out);
    expect(versions.map((v: { version: string }) => v.version)).toEqual(['1', '2']);
  });

  it('sets json and bytes values from files and --value', async () => {
    writeFileSync(join(dir, 'creds.json'), '{"user":"u"}\n');
    writeFileSync(join(dir, 'key.bin'), Buffer.from([0, 1, 2, 255]));
    expect(
      (await run(['set', 'secrets://prod/acme/_/geo/creds', '--from-file', 'creds.json', '--format', 'json']))
        .code,
    ).toBe(0);
    expect(
      (await run(['set', 'secrets://prod/acme/_/sig/key', '--from-file', 'key.bin', '--format', 'bytes']))
        .code,
    ).toBe(0);
    expect((await run(['get', 'secrets://prod/acme/_/sig/key', '--reveal'])).out).toBe('AAEC/w==\n');
    expect(
      JSON.parse((await run(['get', 'secrets://prod/acme/_/geo/creds', '--json', '--reveal'])).out).value,
    ).toEqual({ user: 'u' });
    const v = await run(['set', 'secrets://prod/acme/_/sig/b64', '--value', 'AAEC/w==', '--format', 'bytes']);
    expect(v.code).toBe(0);
    expect(v.err).toContain('warning: --value');
  });

  it('rejects bad usage with exit 2', async () => {
    expect((await run(['set', URI])).err).toContain('exactly one of --value, --from-file or --stdin');
    expect((await run(['set', URI, '--value', 'a', '--stdin'])).code).toBe(2);
    expect((await run(['set', `${URI}@3`, '--value', 'a'])).err).toContain('without @version');
    const bad = await run(['get', 'secrets://prod/ACME/_/openai/api_key']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('GT_SECRETS_URI');
    expect(bad.err).toContain('tenant');
    expect((await run(['nonsense'])).code).toBe(2);
    expect((await run(['set', URI, '--stdin', '--format', 'yaml'])).code).toBe(2);
    expect(
      (await run(['set', 'secrets://prod/acme/_/c/j', '--value', 'nope', '--format', 'json'])).err,
    ).toContain('not valid JSON');
  });

  it('answers 1 for a secret that does not exist', async () => {
    const r = await run(['get', URI]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('not found');
    expect((await run(['delete', URI])).code).toBe(1);
    expect((await run(['versions', URI])).code).toBe(1);
  });

  it('needs the master key to read or write values, but not to list', async () => {
    await run(['set', URI, '--stdin'], { stdin: 'v' });
    const noKey = { env: { GREENTIC_SECRETS_MASTER_KEY: undefined } };
    const r = await run(['get', URI], noKey);
    expect(r.code).toBe(2);
    expect(r.err).toContain('GT_SECRETS_KEY');
    expect(r.err).toContain('GREENTIC_SECRETS_MASTER_KEY');
    expect((await run(['set', URI, '--stdin'], { ...noKey, stdin: 'x' })).code).toBe(2);
    expect((await run(['list'], noKey)).out).toContain(URI);
    const wrong = await run(['get', URI], {
      env: { GREENTIC_SECRETS_MASTER_KEY: 'a-different-key-0000000' },
    });
    expect(wrong.err).toContain('does not open');
  });

  it('takes the key from --key-file or GREENTIC_SECRETS_MASTER_KEY_FILE and the store from --store', async () => {
    writeFileSync(join(dir, 'master.key'), `${KEY}\n`);
    const env = { GREENTIC_SECRETS_MASTER_KEY: undefined, GREENTIC_SECRETS_DIR: undefined };
    expect(
      (
        await run(['--store', 'other', '--key-file', 'master.key', 'set', URI, '--stdin'], {
          env,
          stdin: 'v',
        })
      ).code,
    ).toBe(0);
    expect(existsSync(join(dir, 'other', 'secrets.store.json'))).toBe(true);
    const viaEnv = await run(['--store', 'other', 'get', URI, '--reveal'], {
      env: { ...env, GREENTIC_SECRETS_MASTER_KEY_FILE: 'master.key' },
    });
    expect(viaEnv.out).toBe('v\n');
    expect((await run(['--key-file', 'missing.key', 'get', URI])).err).toContain(
      'cannot read the master key file',
    );
  });

  it('lists by scope, as text or JSON', async () => {
    await run(['set', URI, '--stdin'], { stdin: 'a' });
    await run(['set', 'secrets://prod/acme/blue/x/y', '--stdin'], { stdin: 'b' });
    await run(['set', 'secrets://prod/globex/_/x/y', '--stdin'], { stdin: 'c' });
    const acme = await run(['list', '--tenant', 'acme']);
    expect(acme.out.trim().split('\n')).toEqual([
      `secrets://prod/acme/_/openai/api_key  text  v1 (1 version)`,
      'secrets://prod/acme/blue/x/y  text  v1 (1 version)',
    ]);
    expect(JSON.parse((await run(['list', '--team', '_', '--json'])).out)).toHaveLength(2);
    expect((await run(['list', '--tenant', 'nobody'])).err).toContain('no secrets');
  });

  it('deletes a secret', async () => {
    await run(['set', URI, '--stdin'], { stdin: 'a' });
    expect((await run(['delete', URI])).out).toBe(`deleted ${URI}\n`);
    expect((await run(['get', URI])).code).toBe(1);
  });

  describe('scaffold, apply, doctor', () => {
    beforeEach(() => writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest)));

    it('scaffolds a seed from a pack manifest and applies it', async () => {
      const s = await run([
        'scaffold',
        '--pack',
        'manifest.json',
        '--env',
        'prod',
        '--tenant',
        'acme',
        '--out',
        'seed.json',
      ]);
      expect(s.code).toBe(0);
      expect(s.out).toContain('pack weather-demo needs 2 secrets');
      expect(s.out).toContain('required text  weather-demo/api_key  (weather_api)  Weather API key');
      expect(s.out).toContain('optional json  geo/creds');
      expect(statSync(join(dir, 'seed.json')).mode & 0o777).toBe(0o600);
      const seed = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8'));
      expect(seed.entries.map((e: { uri: string }) => e.uri)).toEqual([
        'secrets://prod/acme/_/geo/creds',
        'secrets://prod/acme/_/weather-demo/api_key',
      ]);

      expect(
        (await run(['scaffold', '--pack', 'manifest.json', '--tenant', 'acme', '--out', 'seed.json'])).err,
      ).toContain('--force');

      seed.entries[1].value.text = 'wx-key';
      writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
      const a = await run(['apply', 'seed.json']);
      expect(a.code).toBe(0);
      expect(a.out).toContain('stored  secrets://prod/acme/_/weather-demo/api_key@1');
      expect(a.out).toContain('skipped secrets://prod/acme/_/geo/creds: no value (empty placeholder)');
      expect(a.out).toContain('1 stored, 1 skipped, 0 failed');
      expect((await run(['get', 'secrets://prod/acme/_/weather-demo/api_key', '--reveal'])).out).toBe(
        'wx-key\n',
      );
    });

    it('scaffolds into the requirements’ own scope without --tenant, and writes YAML', async () => {
      const s = await run(['scaffold', '--pack', 'manifest.json', '--out', 'seed.yaml', '--json']);
      expect(s.code).toBe(0);
      const out = JSON.parse(s.out);
      expect(out.pack_id).toBe('weather-demo');
      expect(out.requirements).toHaveLength(2);
      const yaml = readFileSync(join(dir, 'seed.yaml'), 'utf8');
      expect(yaml).toContain('uri: secrets://dev/demo/_/weather-demo/api_key');
    });

    it('needs --tenant when the requirements name no single scope', async () => {
      writeFileSync(
        join(dir, 'bare.json'),
        JSON.stringify({ pack_id: 'p', secret_requirements: [{ key: 'k' }] }),
      );
      const r = await run(['scaffold', '--pack', 'bare.json']);
      expect(r.code).toBe(2);
      expect(r.err).toContain('needs --tenant');
    });

    it('explains how to read a .gtpack when @greentic/pack is missing, and uses a reader when given', async () => {
      writeFileSync(join(dir, 'x.gtpack'), Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(20)]));
      const missing = await run(['scaffold', '--pack', 'x.gtpack', '--tenant', 'acme'], {
        packModule: '@greentic/not-installed',
      });
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('GT_SECRETS_PACK');
      expect(missing.err).toContain('needs @greentic/not-installed, which is not installed');
      expect(missing.err).toContain('pass the pack manifest as JSON/YAML');
      // The shape @greentic/pack readPack returns: the pack manifest plus each component's manifest.
      const loaded = {
        manifest: { pack_id: 'weather-demo', components: [{ id: 'weather_api', version: '1.0.0' }] },
        components: new Map([['weather_api', { manifest: manifest.components[0]!.manifest }]]),
      };
      const ok = await run(['scaffold', '--pack', 'x.gtpack', '--tenant', 'acme'], {
        readGtpack: async () => loaded,
      });
      expect(ok.code).toBe(0);
      expect(ok.out).toContain('needs 2 secrets');
      const failing = await run(['scaffold', '--pack', 'x.gtpack', '--tenant', 'acme'], {
        readGtpack: async () => {
          throw new Error('not a ZIP archive');
        },
      });
      expect(failing.err).toContain('GT_SECRETS_PACK: cannot read the pack x.gtpack: not a ZIP archive');
    });

    it('reports a missing or malformed pack file', async () => {
      expect((await run(['scaffold', '--pack', 'absent.json', '--tenant', 'a'])).err).toContain(
        'cannot read the pack absent.json',
      );
      writeFileSync(join(dir, 'broken.json'), '{"pack_id": ');
      expect((await run(['doctor', '--pack', 'broken.json', '--tenant', 'a'])).err).toContain(
        'not valid JSON',
      );
      writeFileSync(
        join(dir, 'bad.json'),
        JSON.stringify({ pack_id: 'p', secret_requirements: [{ key: '/abs' }] }),
      );
      expect((await run(['doctor', '--pack', 'bad.json', '--tenant', 'a'])).err).toContain(
        '/secret_requirements/0/key',
      );
    });

    it('apply reports failed entries and exits 1', async () => {
      writeFileSync(
        join(dir, 'seed.json'),
        JSON.stringify({
          entries: [
            {
              uri: 'secrets://prod/acme/_/c/n',
              format: 'bytes',
              value: { type: 'bytes_b64', bytes_b64: '***' },
            },
          ],
        }),
      );
      const r = await run(['apply', 'seed.json']);
      expect(r.code).toBe(1);
      expect(r.err).toContain('failed  secrets://prod/acme/_/c/n: GT_SECRETS_INVALID');
      expect((await run(['apply', 'absent.json'])).code).toBe(2);
    });

    it('doctor lists what each tenant is missing', async () => {
      await run(['set', 'secrets://prod/acme/_/weather-demo/api_key', '--stdin'], { stdin: 'k' });
      const r = await run(
        ['doctor', '--pack', 'manifest.json', '--env', 'prod', '--tenant', 'acme', '--tenant', 'globex'],
        {
          env: { GREENTIC_SECRETS_MASTER_KEY: undefined },
        },
      );
      expect(r.code).toBe(1);
      expect(r.out).toContain('tenant acme (env prod): ok');
      expect(r.out).toContain(
        'ok      required text  weather-demo/api_key  secrets://prod/acme/_/weather-demo/api_key (file)',
      );
      expect(r.out).toContain('tenant globex (env prod): 1 missing');
      expect(r.out).toContain(
        'MISSING required text  weather-demo/api_key  set secrets://prod/globex/_/weather-demo/api_key',
      );
      const viaEnv = await run(
        ['doctor', '--pack', 'manifest.json', '--env', 'prod', '--tenant', 'globex', '--json'],
        {
          env: { GREENTIC_SECRET__PROD__GLOBEX_____WEATHER_DEMO__API_KEY: 'from-env' },
        },
      );
      expect(viaEnv.code).toBe(0);
      expect(JSON.parse(viaEnv.out)[0].requirements[1]).toMatchObject({ status: 'present', provider: 'env' });
      const noEnv = await run(
        ['doctor', '--pack', 'manifest.json', '--env', 'prod', '--tenant', 'globex', '--no-env-vars'],
        {
          env: { GREENTIC_SECRET__PROD__GLOBEX_____WEATHER_DEMO__API_KEY: 'from-env' },
        },
      );
      expect(noEnv.code).toBe(1);
    });
  });
});
