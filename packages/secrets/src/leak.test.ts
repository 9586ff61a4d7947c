/**
 * A secret value must never show up in output, errors, audit records or object renderings. Every CLI command and
 * every error path we know of runs here with one distinctive value, and everything captured is searched for it
 * (and for its base64 and hex forms). Only `get --reveal` may print it, and it must.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { tenantCtx } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSecretsCli } from './cli.js';
import { EnvSecretsProvider } from './env.js';
import { EncryptedFileSecretsProvider, STORE_FILE } from './file-store.js';
import { MemorySecretsProvider } from './memory.js';
import { MountedSecretsProvider } from './mounted.js';
import { SecretsResolver } from './resolver.js';
import { applySeed, parseSeed } from './seed.js';
import { SecretsService } from './service.js';
import { envKeyForUri } from './uri.js';
import { SecretValue } from './value.js';

const CANARY = 'GT-LEAK-CANARY-5a7c9e13';
const FORMS = [
  CANARY,
  Buffer.from(CANARY).toString('base64'),
  Buffer.from(CANARY).toString('hex'),
  CANARY.slice(4, 18),
];
const KEY = 'leak-test-master-key-0123456789';

let dir: string;
const captured: { where: string; text: string }[] = [];
const keep = (where: string, text: unknown) =>
  captured.push({
    where,
    text: typeof text === 'string' ? text : inspect(text, { depth: 20, showHidden: true }),
  });

function keepError(where: string, e: unknown) {
  const err = e as Error & { cause?: unknown };
  keep(`${where} message`, String(err?.message));
  keep(`${where} inspect`, err);
  keep(`${where} json`, JSON.stringify(err));
  keep(`${where} stack`, String(err?.stack));
  if (err?.cause !== undefined) keep(`${where} cause`, err.cause);
}

async function expectError(where: string, f: () => unknown): Promise<void> {
  try {
    await f();
  } catch (e) {
    keepError(where, e);
    return;
  }
  throw new Error(`${where}: expected an error`);
}

async function cli(argv: string[], opts: { stdin?: string; env?: Record<string, string | undefined> } = {}) {
  let out = '';
  let err = '';
  const code = await runSecretsCli(argv, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    stdin: Readable.from(opts.stdin === undefined ? [] : [Buffer.from(opts.stdin)]),
    env: { GREENTIC_SECRETS_DIR: join(dir, 'store'), GREENTIC_SECRETS_MASTER_KEY: KEY, ...opts.env },
    cwd: dir,
  });
  return { code, out, err, argv };
}

async function cliKept(argv: string[], opts: Parameters<typeof cli>[1] = {}) {
  const r = await cli(argv, opts);
  keep(`cli ${argv.join(' ')} stdout`, r.out);
  keep(`cli ${argv.join(' ')} stderr`, r.err);
  return r;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gt-leak-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const URI = 'secrets://prod/acme/_/leak/token';

describe('no secret value leaks', () => {
  it('through any CLI command or CLI error', async () => {
    writeFileSync(join(dir, 'value.txt'), `${CANARY}\n`);
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        pack_id: 'leak',
        secret_requirements: [
          { key: 'token' },
          { key: 'json_creds', format: 'json' },
          { key: 'blob', format: 'bytes' },
        ],
      }),
    );

    await cliKept(['set', URI, '--value', CANARY]);
    await cliKept(['set', URI, '--stdin'], { stdin: CANARY });
    await cliKept(['set', URI, '--from-file', 'value.txt']);
    await cliKept([
      'set',
      'secrets://prod/acme/_/leak/json_creds',
      '--value',
      JSON.stringify({ token: CANARY }),
      '--format',
      'json',
    ]);
    await cliKept([
      'set',
      'secrets://prod/acme/_/leak/blob',
      '--value',
      Buffer.from(CANARY).toString('base64'),
      '--format',
      'bytes',
    ]);
    await cliKept([
      'set',
      'secrets://prod/acme/_/leak/bad_json',
      '--value',
      `{"token": ${CANARY}}`,
      '--format',
      'json',
    ]);
    await cliKept([
      'set',
      'secrets://prod/acme/_/leak/bad_bytes',
      '--value',
      `${CANARY}!!`,
      '--format',
      'bytes',
    ]);
    await cliKept(['set', 'secrets://prod/acme/_/leak/bad_stdin', '--stdin', '--format', 'json'], {
      stdin: `[${CANARY}`,
    });
    await cliKept(['set', `${URI}@9`, '--value', CANARY]);
    await cliKept(['set', 'secrets://prod/ACME/_/leak/token', '--value', CANARY]);
    await cliKept(['set', URI, '--value', CANARY, '--stdin'], { stdin: CANARY });
    await cliKept(['set', URI, '--value', CANARY], { env: { GREENTIC_SECRETS_MASTER_KEY: undefined } });

    await cliKept(['get', URI]);
    await cliKept(['get', URI, '--json']);
    await cliKept(['get', `${URI}@1`]);
    await cliKept(['get', 'secrets://prod/acme/_/leak/json_creds', '--json']);
    await cliKept(['get', 'secrets://prod/acme/_/leak/blob']);
    await cliKept(['get', URI], { env: { GREENTIC_SECRETS_MASTER_KEY: 'a-wrong-master-key-000000' } });
    await cliKept(['get', URI], { env: { GREENTIC_SECRETS_MASTER_KEY: undefined } });
    await cliKept(['versions', URI]);
    await cliKept(['versions', URI, '--json']);
    await cliKept(['list']);
    await cliKept(['list', '--json']);
    await cliKept(['--help']);

    await cliKept([
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
    const seed = JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8'));
    for (const e of seed.entries) {
      if (e.format === 'text') e.value.text = CANARY;
      if (e.format === 'json') e.value.json = { token: CANARY };
      if (e.format === 'bytes') e.value.bytes_b64 = `${CANARY}***`;
    }
    writeFileSync(join(dir, 'seed.json'), JSON.stringify(seed));
    await cliKept(['apply', 'seed.json']);
    await cliKept(['apply', 'seed.json', '--json', '--pack', 'manifest.json']);
    writeFileSync(join(dir, 'broken.json'), `{"entries": [{"uri": "${URI}", "value": {"text": ${CANARY}}}]}`);
    await cliKept(['apply', 'broken.json']);
    writeFileSync(
      join(dir, 'broken.yaml'),
      `entries:\n  - uri: ${URI}\n    value: {text: ${CANARY}\n   bad: [`,
    );
    await cliKept(['apply', 'broken.yaml']);
    writeFileSync(
      join(dir, 'shape.json'),
      JSON.stringify({ entries: [{ uri: URI, format: 'text', value: { type: 'json', json: CANARY } }] }),
    );
    await cliKept(['apply', 'shape.json']);
    await cliKept([
      'doctor',
      '--pack',
      'manifest.json',
      '--env',
      'prod',
      '--tenant',
      'acme',
      '--tenant',
      'globex',
    ]);
    await cliKept(['doctor', '--pack', 'manifest.json', '--env', 'prod', '--tenant', 'acme', '--json'], {
      env: { [envKeyForUri('secrets://prod/acme/_/leak/token')]: CANARY },
    });

    // The store file holds ciphertext only.
    const storeText = readFileSync(join(dir, 'store', STORE_FILE), 'utf8');
    keep('store file', storeText);

    // Tamper with a record: the corruption error names the URI only.
    const data = JSON.parse(storeText);
    const v = data.secrets[URI].versions[0];
    v.ct = Buffer.from('x').toString('base64');
    writeFileSync(join(dir, 'store', STORE_FILE), JSON.stringify(data));
    const corrupt = await cliKept(['get', `${URI}@1`]);
    expect(corrupt.err).toContain('GT_SECRETS_CORRUPT');

    await cliKept(['delete', 'secrets://prod/acme/_/leak/blob']);

    // The positive control: --reveal does print it.
    const revealed = await cli(['get', URI, '--reveal']);
    expect(revealed.out).toBe(`${CANARY}\n`);
    const revealedJson = await cli(['get', 'secrets://prod/acme/_/leak/json_creds', '--reveal', '--json']);
    expect(JSON.parse(revealedJson.out).value).toEqual({ token: CANARY });
  });

  it('through provider errors and renderings', async () => {
    const env = new EnvSecretsProvider({
      env: { GREENTIC_SECRET__PROD__ACME_____LEAK__J: `{${CANARY}` },
      format: 'json',
    });
    await expectError('env json', () => env.get('secrets://prod/acme/_/leak/j'));
    await expectError('env put', () => env.put('secrets://prod/acme/_/leak/j', CANARY));

    const root = join(dir, 'mount');
    mkdirSync(join(root, 'prod', 'acme', '_', 'leak'), { recursive: true });
    writeFileSync(join(root, 'prod', 'acme', '_', 'leak', 'j'), `[${CANARY}`);
    writeFileSync(
      join(root, 'prod', 'acme', '_', 'leak', 'bin'),
      Buffer.from([0xff, 0xfe, ...Buffer.from(CANARY)]),
    );
    await expectError('mounted json', () =>
      new MountedSecretsProvider({ root, format: 'json' }).get('secrets://prod/acme/_/leak/j'),
    );
    await expectError('mounted utf8', () =>
      new MountedSecretsProvider({ root }).get('secrets://prod/acme/_/leak/bin'),
    );

    const fileDir = join(dir, 'store2');
    const file = new EncryptedFileSecretsProvider({ dir: fileDir, masterKey: KEY, kdf: { N: 1024 } });
    await file.put(URI, CANARY);
    await expectError('file json', () =>
      file.put('secrets://prod/acme/_/leak/j', `not json ${CANARY}`, { format: 'json' }),
    );
    await expectError(
      'file short key',
      () => new EncryptedFileSecretsProvider({ dir: fileDir, masterKey: CANARY.slice(0, 8) }),
    );
    await expectError('file wrong key', () =>
      new EncryptedFileSecretsProvider({ dir: fileDir, masterKey: `${CANARY}-x`, kdf: { N: 1024 } }).get(URI),
    );
    keep('file provider', file);
    keep('file record', await file.get(URI));
    keep('file record json', JSON.stringify(await file.get(URI)));
    keep('file list', await file.list());

    const value = SecretValue.text(CANARY);
    await expectError('value json', () => value.revealJson());
    await expectError('value parse json', () => SecretValue.parse(CANARY, 'json'));
    await expectError('value parse bytes', () => SecretValue.parse(`${CANARY}#`, 'bytes'));
    keep('value', value);
    keep('value string', `${value} ${String(value)} ${JSON.stringify({ value })}`);

    const memory = new MemorySecretsProvider({ secrets: { [URI]: CANARY } });
    keep('memory provider', memory);
    keep('resolver', new SecretsResolver([memory]));
    keep('memory record', await memory.get(URI));

    await expectError('seed parse', () => parseSeed(`{"entries": [${CANARY}]}`));
    const report = await applySeed(memory, {
      entries: [{ uri: URI, format: 'bytes', value: { type: 'bytes_b64', bytes_b64: `${CANARY}%` } }],
    });
    keep('seed report', JSON.stringify(report));
  });

  it('through the scoped service, its denials and its audit', async () => {
    const records: unknown[] = [];
    const memory = new MemorySecretsProvider({
      secrets: { [URI]: CANARY, 'secrets://prod/globex/_/leak/token': CANARY },
    });
    const service = new SecretsService({
      providers: [memory],
      allowList: { tenants: { acme: { allow: ['leak/*'] } } },
      audit: (r) => records.push(r),
    });
    const ctx = tenantCtx({ env: 'prod', tenant: 'acme', user: 'u1' });
    const scoped = service.scopedSecrets(ctx, { packDeclares: ['token'], packId: 'leak', component: 'c1' });
    const got = await scoped.get('token');
    expect(got.revealText()).toBe(CANARY);
    keep('scoped value', got);
    keep('scoped record', await scoped.getRecord('token'));
    keep('scoped reader', scoped);
    keep('service', service);
    await expectError('denied undeclared', () => scoped.get('other'));
    await expectError('denied other tenant', () => scoped.get('secrets://prod/globex/_/leak/token'));
    await expectError('denied allow-list', () =>
      service
        .scopedSecrets(tenantCtx({ env: 'prod', tenant: 'globex' }), {
          packDeclares: ['token'],
          packId: 'leak',
        })
        .get('token'),
    );
    const host = service.hostSecrets(() => ({ declares: ['token'], packId: 'leak' }));
    await host.get({ ctx, component: 'c1' }, { key: 'token' });
    keep('audit sink', JSON.stringify(records));
    keep('audit log', JSON.stringify(service.audit.records()));
    keep('audit inspect', service.audit.records());
    expect(service.audit.denials()).toHaveLength(3);
  });

  it('anywhere captured', () => {
    expect(captured.length).toBeGreaterThan(60);
    const leaks = captured.filter((c) => FORMS.some((f) => c.text.includes(f))).map((c) => c.where);
    expect(leaks).toEqual([]);
  });
});
