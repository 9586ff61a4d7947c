import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  createDescription,
  DeployerError,
  formatDescription,
  locateDescription,
  parseDescription,
} from '../src/index.js';
import { cleanupDirs, sandbox, tempDir } from './helpers.js';

afterEach(cleanupDirs);

const base = () =>
  createDescription({
    tenant: 'acme',
    teams: ['support'],
    users: ['ada'],
    connectors: ['messaging.telegram'],
    publicUrl: 'https://bot.example.com/',
  });

function expectConfigError(text: string, pattern: RegExp) {
  let err: unknown;
  try {
    parseDescription(text, 'greentic.yaml');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DeployerError);
  const e = err as DeployerError;
  expect(e.code).toBe('GT_DEPLOY_CONFIG');
  expect(e.step).toBe('load');
  expect(e.message).toMatch(pattern);
  expect(e.hint).toBeTruthy();
  return e;
}

describe('environment description (greentic.yaml)', () => {
  it('init describes tenants, teams, users, connectors with secret references, and the target', () => {
    const d = base();
    expect(d).toMatchObject({
      version: 1,
      name: 'acme-dev',
      environment: 'dev',
      tenants: [{ id: 'acme', teams: [{ id: 'support' }], users: [{ id: 'ada', team: 'support' }] }],
      connectors: [
        {
          id: 'telegram',
          kind: 'messaging.telegram',
          tenant: 'acme',
          team: 'support',
          api_base_url: 'https://api.telegram.org',
          secrets: {
            bot_token: 'secrets://dev/acme/support/telegram/bot_token',
            webhook_secret: 'secrets://dev/acme/support/telegram/webhook_secret',
          },
        },
      ],
      target: { kind: 'dev-desktop', public_url: 'https://bot.example.com' },
    });
    expect(d.secrets).toEqual([
      expect.objectContaining({
        uri: 'secrets://dev/acme/support/telegram/bot_token',
        env: 'TELEGRAM_BOT_TOKEN',
      }),
      expect.objectContaining({ uri: 'secrets://dev/acme/support/telegram/webhook_secret', generate: true }),
    ]);
  });

  it('writes documented YAML that loads back to the same description', () => {
    const d = base();
    const text = formatDescription(d);
    expect(text).toMatch(/^# greentic\.yaml: the environment greentic-deployer converges to/);
    expect(text).toContain('#   secrets ');
    expect(parseDescription(text, 'greentic.yaml')).toEqual(d);
  });

  it('names two connectors of one kind apart, without a shared env variable', () => {
    const d = createDescription({ tenant: 'acme', connectors: ['messaging.telegram', 'messaging.telegram'] });
    expect(d.connectors.map((c) => c.id)).toEqual(['telegram', 'telegram-2']);
    expect(d.secrets.filter((s) => s.env)).toEqual([]);
  });

  it('refuses an unknown connector kind at init', () => {
    expect(() => createDescription({ tenant: 'acme', connectors: ['messaging.fax'] })).toThrow(
      /unknown connector kind/,
    );
  });

  it('reports a schema violation with the file, the line and the field', () => {
    const text = formatDescription(base()).replace('- id: acme', '- id: Acme');
    const e = expectConfigError(text, /greentic\.yaml:\d+: tenants\[0\]\.id: "Acme" does not match/);
    const line = Number(/greentic\.yaml:(\d+)/.exec(e.message)![1]);
    expect(text.split('\n')[line - 1]).toContain('Acme');
  });

  it('reports an unknown field as a probable typo', () => {
    const text = formatDescription(base()).replace('target:\n', 'target:\n  kindd: k8s\n');
    expectConfigError(text, /target\.kindd: unknown field/);
  });

  it('refuses a secret URI of another environment, naming the fix', () => {
    const text = formatDescription(base()).replaceAll('secrets://dev/', 'secrets://prod/');
    const e = expectConfigError(text, /env segment "prod" is not the environment "dev"/);
    expect(e.hint).toMatch(/same env segment/);
  });

  it('refuses a connector secret that is not listed under secrets:', () => {
    const d = base();
    d.secrets = d.secrets.slice(1);
    expectConfigError(formatDescription(d), /bot_token.*is not listed under secrets:/);
  });

  it('refuses a connector missing a secret its kind needs', () => {
    const d = base();
    delete (d.connectors[0]!.secrets as Record<string, string>).webhook_secret;
    expectConfigError(formatDescription(d), /webhook_secret is required for messaging\.telegram/);
  });

  it('refuses an external Redis URL that carries a password', () => {
    const d = base();
    d.target = { kind: 'k8s', k8s: { redis: { mode: 'external', url: 'redis://u:hunter2@redis:6379' } } };
    const e = expectConfigError(formatDescription(d), /target\.k8s\.redis\.url: carries a password/);
    expect(e.hint).toMatch(/url_secret/);
  });

  it('refuses text that is not YAML, with the position', () => {
    expectConfigError('version: 1\nname: [unclosed\n', /greentic\.yaml:\d+: \(document\): not valid YAML/);
  });

  it('finds ./greentic.yaml before $GREENTIC_HOME/greentic.yaml, and says how to create one', () => {
    const cwd = tempDir();
    const home = tempDir();
    const global = join(home, 'greentic.yaml');
    expect(() => locateDescription(undefined, cwd, global)).toThrow(/no environment description/);
    try {
      locateDescription(undefined, cwd, global);
    } catch (e) {
      expect((e as DeployerError).hint).toMatch(/greentic-deployer init/);
    }
    writeFileSync(global, 'x');
    expect(locateDescription(undefined, cwd, global)).toBe(global);
    writeFileSync(join(cwd, 'greentic.yaml'), 'x');
    expect(locateDescription(undefined, cwd, global)).toBe(join(cwd, 'greentic.yaml'));
    expect(locateDescription('other.yaml', cwd, global)).toBe(join(cwd, 'other.yaml'));
  });
});

describe('connectors in the runner config', () => {
  it('maps every connector kind to the runner\u2019s connectors:/webchat: sections with secrets:// references', async () => {
    const { connectorsRunnerSection } = await import('../src/index.js');
    const d = createDescription({
      tenant: 'acme',
      connectors: [
        'messaging.telegram',
        'messaging.slack',
        'messaging.teams',
        'messaging.whatsapp',
        'messaging.webchat',
      ],
      teamsAppId: 'app-123',
      whatsappPhoneNumberId: '555',
    });
    const section = connectorsRunnerSection(d, {
      secretsFile: { dir: '/s', masterKeyFile: '/s.key' },
    }) as Record<string, unknown>;
    const { loadRunnerConfig } = await import('@greentic/runner');
    const dir = tempDir();
    writeFileSync(join(dir, 'runner.yaml'), JSON.stringify(section));
    const cfg = loadRunnerConfig(join(dir, 'runner.yaml'), { env: {} });
    expect(cfg.connectors.map((c) => `${c.provider}/${c.id}`)).toEqual([
      'telegram/telegram',
      'slack/slack',
      'teams/teams',
      'whatsapp/whatsapp',
    ]);
    expect(cfg.connectors[0]).toMatchObject({
      binding: { env: 'dev', tenant: 'acme' },
      botToken: 'secrets://dev/acme/_/telegram/bot_token',
      webhookSecrets: ['secrets://dev/acme/_/telegram/webhook_secret'],
    });
    expect(cfg.connectors[2]).toMatchObject({
      appId: 'app-123',
      appPassword: 'secrets://dev/acme/_/teams/app_password',
    });
    expect(cfg.webchat).toMatchObject({
      enabled: true,
      secrets: ['secrets://dev/acme/_/webchat/directline_secret'],
    });
    expect(cfg.secrets.file).toEqual({ dir: '/s', masterKeyFile: '/s.key' });
  });

  it('refuses the placeholder init writes for a setting it could not know', async () => {
    const { connectorsRunnerSection } = await import('../src/index.js');
    const d = createDescription({ tenant: 'acme', connectors: ['messaging.teams'] });
    expect(() => connectorsRunnerSection(d)).toThrow(/connector teams: app_id is not set/);
  });
});

describe('greentic-deployer init', () => {
  it('writes ./greentic.yaml, or $GREENTIC_HOME/greentic.yaml with --global, and refuses to overwrite', async () => {
    const s = sandbox();
    const r = await s.json(['init', '--tenant', 'acme', '--connector', 'messaging.telegram']);
    expect(r.code).toBe(0);
    expect(r.doc).toMatchObject({
      ok: true,
      command: 'init',
      file: join(s.cwd, 'greentic.yaml'),
      name: 'acme-dev',
    });
    expect(r.stderr).toMatch(/next: greentic-deployer bootstrap --env dev-desktop/);
    const again = await s.run(['init', '--tenant', 'acme']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/error GT_DEPLOY_EXISTS \[step init, resource file:.*greentic\.yaml\]/);
    expect(again.stderr).toMatch(/what to do: .*--force/);
    const g = await s.run(['init', '--tenant', 'acme', '--global']);
    expect(g.code).toBe(0);
    expect(existsSync(join(s.home, 'greentic.yaml'))).toBe(true);
    expect(parseYaml(readFileSync(join(s.home, 'greentic.yaml'), 'utf8'))).toMatchObject({
      name: 'acme-dev',
    });
  });

  it('rejects a bad option value with exit code 2', async () => {
    const s = sandbox();
    const r = await s.run(['init', '--tenant', 'acme', '--connector', 'messaging.fax']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/messaging\.fax/);
    const p = await s.run(['init', '--tenant', 'acme', '--port', 'eighty']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/GT_DEPLOY_USAGE.*--port eighty/);
  });

  it('prints help with examples and exit codes', async () => {
    const s = sandbox();
    const r = await s.run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/Exit codes:/);
    for (const c of ['init', 'bootstrap', 'plan', 'apply', 'destroy', 'stop', 'generate']) {
      const h = await s.run([c, '--help']);
      expect(h.code, c).toBe(0);
      expect(h.stdout, c).toMatch(/Examples:/);
    }
  });
});
