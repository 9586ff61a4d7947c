import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRunnerCli } from '../src/cli.js';
import { DEFAULT_CONFIG, ENV_OVERRIDES, loadRunnerConfig, redactUrl } from '../src/config/config.js';
import { RunnerError } from '../src/errors.js';
import { QA3_FLOW, repoRoot, writeConfig } from './helpers.js';

const noEnv = { env: {} };

function configError(fn: () => unknown): RunnerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RunnerError);
    expect((e as RunnerError).code).toBe('GT_RUNNER_CONFIG');
    return e as RunnerError;
  }
  throw new Error('expected a GT_RUNNER_CONFIG error');
}

describe('runner daemon configuration', () => {
  it('needs nothing installed by default: memory stores, no NATS, loopback HTTP', () => {
    const cfg = loadRunnerConfig(undefined, noEnv);
    expect(cfg.stores.kind).toBe('memory');
    expect(cfg.nats.enabled).toBe(false);
    expect(cfg.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(cfg.admin.token).toBeUndefined();
    expect(cfg.nats.dlqSubject).toBe('greentic.messaging.dlq');
    expect(cfg.ordering.sequenceTtlMs).toBeGreaterThan(cfg.engine.conversationTtlMs);
  });

  it('reads YAML, fills the rest from defaults and resolves flow paths against the file', () => {
    const file = writeConfig(
      [
        'http: { port: 9090 }',
        'stores:',
        '  kind: redis',
        '  redis: { url: "redis://10.0.0.5:6380", namespace: "acme:prod" }',
        'nats:',
        '  enabled: true',
        '  maxDeliver: 7',
        '  subjectPrefix: acme.messaging',
        'flows:',
        '  paths: [flows, /abs/other.ygtc]',
        'engine: { maxStepsPerTurn: 50, strictTemplates: true }',
      ].join('\n'),
      'runner.yaml',
    );
    const cfg = loadRunnerConfig(file, noEnv);
    expect(cfg.http).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(cfg.stores.redis).toMatchObject({ url: 'redis://10.0.0.5:6380', namespace: 'acme:prod' });
    expect(cfg.nats).toMatchObject({ enabled: true, maxDeliver: 7, dlqSubject: 'acme.messaging.dlq' });
    expect(cfg.nats.ackWaitMs).toBe(DEFAULT_CONFIG.nats.ackWaitMs);
    expect(cfg.flows.paths).toEqual([join(dirname(file), 'flows'), '/abs/other.ygtc']);
    expect(cfg.engine).toMatchObject({ maxStepsPerTurn: 50, strictTemplates: true, outboxSize: 16 });
    expect(cfg.source).toBe(file);
  });

  it('reads JSON too', () => {
    const cfg = loadRunnerConfig(writeConfig({ http: { port: 0 }, flows: { paths: [QA3_FLOW] } }), noEnv);
    expect(cfg.http.port).toBe(0);
    expect(cfg.flows.paths).toEqual([QA3_FLOW]);
  });

  it('names the file, the line and the field of a value of the wrong type', () => {
    const file = writeConfig(
      ['http:', '  port: 8080', 'nats:', '  enabled: true', '  maxDeliver: zero'].join('\n'),
      'bad.yaml',
    );
    const e = configError(() => loadRunnerConfig(file, noEnv));
    expect(e.message).toContain(`${file}:5: nats.maxDeliver`);
    expect(e.message).toMatch(/must be integer/);
    expect(e.details.field).toBe('nats.maxDeliver');
  });

  it('rejects an unknown field and lists the known ones (typos do not pass silently)', () => {
    const file = writeConfig('nats:\n  enabeld: true\n', 'typo.yaml');
    const e = configError(() => loadRunnerConfig(file, noEnv));
    expect(e.message).toContain(`${file}:2: nats.enabeld: unknown field`);
    expect(e.message).toContain('enabled');
  });

  it('names the allowed values of an enum field', () => {
    const e = configError(() => loadRunnerConfig(writeConfig({ stores: { kind: 'postgres' } }), noEnv));
    expect(e.message).toMatch(/stores\.kind: must be one of "memory", "redis"/);
  });

  it('rejects a file that is not YAML or not a mapping, naming the file', () => {
    const broken = writeConfig('http: [1, 2\n', 'broken.yaml');
    expect(configError(() => loadRunnerConfig(broken, noEnv)).message).toContain(broken);
    const list = writeConfig('- a\n- b\n', 'list.yaml');
    expect(configError(() => loadRunnerConfig(list, noEnv)).message).toMatch(/must be a mapping/);
    expect(configError(() => loadRunnerConfig('/no/such/runner.yaml', noEnv)).message).toMatch(
      /\/no\/such\/runner\.yaml: cannot read it \(ENOENT\)/,
    );
  });

  it('applies GREENTIC_RUNNER_* overrides on top of the file', () => {
    const file = writeConfig({ http: { port: 1000 }, stores: { kind: 'memory' } });
    const cfg = loadRunnerConfig(file, {
      env: {
        GREENTIC_RUNNER_PORT: '9191',
        GREENTIC_RUNNER_STORES: 'redis',
        GREENTIC_RUNNER_REDIS_URL: 'redis://cache:6379/2',
        GREENTIC_RUNNER_NATS: 'on',
        GREENTIC_RUNNER_NATS_URL: 'nats://bus:4222',
        GREENTIC_RUNNER_ADMIN_TOKEN: 'a-long-enough-admin-token',
        GREENTIC_RUNNER_FLOWS: `${QA3_FLOW},/other/dir`,
        GREENTIC_RUNNER_ENV: 'prod',
      },
    });
    expect(cfg.http.port).toBe(9191);
    expect(cfg.stores.kind).toBe('redis');
    expect(cfg.stores.redis.url).toBe('redis://cache:6379/2');
    expect(cfg.nats).toMatchObject({ enabled: true, url: 'nats://bus:4222' });
    expect(cfg.admin.token).toBe('a-long-enough-admin-token');
    expect(cfg.flows.paths).toEqual([QA3_FLOW, '/other/dir']);
    expect(cfg.tenancy.env).toBe('prod');
  });

  it('names the environment variable when its value is invalid', () => {
    expect(
      configError(() => loadRunnerConfig(undefined, { env: { GREENTIC_RUNNER_PORT: 'eighty' } })).message,
    ).toMatch(/^GREENTIC_RUNNER_PORT \(http\.port\): must be integer/);
    expect(
      configError(() => loadRunnerConfig(undefined, { env: { GREENTIC_RUNNER_STORES: 'disk' } })).message,
    ).toMatch(/^GREENTIC_RUNNER_STORES \(stores\.kind\): must be one of/);
    expect(
      configError(() => loadRunnerConfig(undefined, { env: { GREENTIC_RUNNER_NATS: 'maybe' } })).message,
    ).toMatch(/^GREENTIC_RUNNER_NATS=maybe: must be true or false/);
    expect(
      configError(() => loadRunnerConfig(undefined, { env: { GREENTIC_RUNNER_REDIS_URL: 'http://x' } }))
        .message,
    ).toMatch(/^GREENTIC_RUNNER_REDIS_URL \(stores\.redis\.url\)/);
  });

  it('documents every environment variable it reads', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'config.md'), 'utf8');
    for (const o of ENV_OVERRIDES) expect(doc).toContain(o.name);
  });

  it('refuses a duplicate window shorter than the redelivery horizon (replies could be sent twice)', () => {
    const e = configError(() =>
      loadRunnerConfig(
        writeConfig({ nats: { enabled: true, ackWaitMs: 30_000, maxDeliver: 5, duplicateWindowMs: 60_000 } }),
        noEnv,
      ),
    );
    expect(e.message).toMatch(/nats\.duplicateWindowMs: must be at least/);
  });

  it('refuses a sequence counter that would expire before its conversation', () => {
    const e = configError(() =>
      loadRunnerConfig(
        writeConfig({ engine: { conversationTtlMs: 3_600_000 }, ordering: { sequenceTtlMs: 60_000 } }),
        noEnv,
      ),
    );
    expect(e.message).toMatch(/ordering\.sequenceTtlMs: must be longer than engine\.conversationTtlMs/);
  });

  it('refuses a short admin token', () => {
    expect(
      configError(() => loadRunnerConfig(writeConfig({ admin: { token: 'short' } }), noEnv)).message,
    ).toMatch(/admin\.token: must NOT have fewer than 16 characters/);
  });

  it('never shows a password in URLs it reports', () => {
    expect(redactUrl('redis://user:s3cret@cache:6379/1')).toBe('redis://user:***@cache:6379/1');
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });

  it('serve --print-config shows the effective configuration with secrets hidden', async () => {
    const dir = dirname(writeConfig({}));
    mkdirSync(join(dir, 'flows'), { recursive: true });
    const file = join(dir, 'runner.yaml');
    writeFileSync(
      file,
      'admin: { token: "0123456789abcdef-secret" }\nstores: { redis: { url: "redis://u:pw@h:1" } }\n',
    );
    let out = '';
    const code = await runRunnerCli(['serve', '--config', file, '--port', '7000', '--print-config'], {
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
    });
    expect(code).toBe(0);
    const shown = JSON.parse(out);
    expect(shown.http.port).toBe(7000);
    expect(shown.admin.token).toBe('***');
    expect(shown.stores.redis.url).toBe('redis://u:***@h:1');
    expect(out).not.toContain('0123456789abcdef-secret');
    expect(out).not.toContain(':pw@');
  });

  it('serve reports a bad config file on stderr and exits 1', async () => {
    let err = '';
    const code = await runRunnerCli(['serve', '--config', writeConfig({ http: { port: 'x' } })], {
      stdout: () => {},
      stderr: (s) => {
        err += s;
      },
    });
    expect(code).toBe(1);
    expect(err).toMatch(/error GT_RUNNER_CONFIG: .*runner\.json:\d+: http\.port: must be integer/);
  });
});

describe('docs/config.md', () => {
  it('has a runner daemon example that is a valid configuration', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'config.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Runner daemon'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    const cfg = loadRunnerConfig(writeConfig(yaml!, 'example.yaml'), noEnv);
    expect(cfg).toMatchObject({
      stores: { kind: 'redis' },
      nats: { enabled: true },
      tenancy: { env: 'prod' },
    });
  });
});
