// The `connectors:`, `webchat:` and `secrets:` sections: schema errors naming the field, secret references (env
// variables, secrets:// URIs through the environment and the encrypted file store), literals refused by default.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptedFileSecretsProvider } from '@greentic/secrets';
import { describe, expect, it } from 'vitest';
import { runRunnerCli } from '../src/cli.js';
import { loadRunnerConfig } from '../src/config/config.js';
import { RunnerDaemon } from '../src/daemon/daemon.js';
import { RunnerError } from '../src/errors.js';
import { resolveGatewaySecrets } from '../src/gateway/secrets.js';
import { QA3_FLOW, writeConfig } from './helpers.js';

const noEnv = { env: {} };
const telegram = (extra: Record<string, unknown> = {}) => ({
  provider: 'telegram',
  id: 'acme-bot',
  binding: { env: 'dev', tenant: 'acme' },
  botToken: 'env:TG_TOKEN',
  webhookSecrets: ['env:TG_SECRET'],
  ...extra,
});

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

const yaml = (lines: string[]) => writeConfig(lines.join('\n'), 'runner.yaml');

describe('connectors in the runner configuration', () => {
  it('reads connectors with secret references and WebChat settings', () => {
    const file = yaml([
      'connectors:',
      '  - provider: telegram',
      '    id: acme-bot',
      '    binding: { env: dev, tenant: acme }',
      '    botToken: env:TELEGRAM_BOT_TOKEN',
      '    webhookSecrets: [env:TELEGRAM_WEBHOOK_SECRET, "secrets://dev/acme/_/telegram/webhook_secret"]',
      '    rateLimit: { rps: 25, burst: 30 }',
      'webchat: { enabled: true, title: Weather }',
    ]);
    const cfg = loadRunnerConfig(file, noEnv);
    expect(cfg.connectors).toHaveLength(1);
    expect(cfg.connectors[0]).toMatchObject({ provider: 'telegram', rateLimit: { rps: 25, burst: 30 } });
    expect(cfg.webchat).toMatchObject({
      enabled: true,
      title: 'Weather',
      binding: { env: 'dev', tenant: 'demo' },
    });
    expect(cfg.egress.rateLimit).toEqual({ rps: 10, burst: 20 });
  });

  it('refuses a literal secret, naming the file, line and field but never the value', () => {
    const file = yaml([
      'connectors:',
      '  - provider: telegram',
      '    id: acme-bot',
      '    binding: { env: dev, tenant: acme }',
      '    botToken: "123456:SUPER-SECRET-TOKEN"',
      '    webhookSecrets: env:TG_SECRET',
    ]);
    const e = configError(() => loadRunnerConfig(file, noEnv));
    expect(e.message).toMatch(
      /runner\.yaml:5: connectors\.0\.botToken: a literal secret is refused here: give env:VARIABLE or a secrets:\/\/ URI/,
    );
    expect(e.message).not.toContain('SUPER-SECRET');
    // development: allowed when asked for
    const dev = loadRunnerConfig(file, { env: { GREENTIC_RUNNER_ALLOW_LITERAL_SECRETS: 'yes' } });
    expect(dev.connectors[0]!.botToken).toBe('123456:SUPER-SECRET-TOKEN');
  });

  it('names unknown and missing connector fields per provider', () => {
    const typo = configError(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: { connectors: [telegram({ botTokn: 'env:X' })] } as never,
      }),
    );
    expect(typo.message).toMatch(
      /^connectors\.0\.botTokn: unknown field \(known here: provider, id, binding, .*botToken, webhookSecrets/,
    );
    const missing = configError(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: {
          connectors: [
            { provider: 'slack', id: 's', binding: { env: 'dev', tenant: 'acme' }, botToken: 'env:X' },
          ],
        } as never,
      }),
    );
    expect(missing.message).toMatch(/^connectors\.0: must have required property 'signingSecrets'/);
    const provider = configError(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: { connectors: [telegram({ provider: 'fax' })] } as never,
      }),
    );
    expect(provider.message).toMatch(
      /connectors\.0\.provider: must be one of "telegram", "slack", "teams", "whatsapp"/,
    );
  });

  it('checks the references themselves, duplicates, and (with NATS) that this runner reads the binding', () => {
    const badEnv = configError(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: { connectors: [telegram({ botToken: 'env:1BAD' })] } as never,
      }),
    );
    expect(badEnv.message).toMatch(
      /connectors\.0\.botToken: not a secret reference: env:1BAD is not an environment variable name/,
    );
    const badUri = configError(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: { connectors: [telegram({ webhookSecrets: ['secrets://dev/Acme/_/x/y'] })] } as never,
      }),
    );
    expect(badUri.message).toMatch(/connectors\.0\.webhookSecrets\.0: not a secret reference: /);
    const twice = configError(() =>
      loadRunnerConfig(undefined, { env: {}, overrides: { connectors: [telegram(), telegram()] } as never }),
    );
    expect(twice.message).toMatch(/connectors\.1\.id: connector telegram\/acme-bot is configured twice/);
    const elsewhere = configError(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: { nats: { enabled: true }, tenancy: { env: 'prod' }, connectors: [telegram()] } as never,
      }),
    );
    expect(elsewhere.message).toMatch(/connectors\.0\.binding\.env: "dev" is not tenancy\.env \("prod"\)/);
  });

  it('resolves env: references and secrets:// URIs (environment provider, then the encrypted file store)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-runner-secrets-'));
    const masterKey = 'test-master-key-0123456789abcdef';
    const store = new EncryptedFileSecretsProvider({ dir, masterKey, kdf: { N: 1024 } });
    await store.put('secrets://dev/acme/_/telegram/webhook_secret', 'from-the-file-store');
    const cfg = loadRunnerConfig(undefined, {
      env: {},
      overrides: {
        secrets: { file: { dir } },
        connectors: [
          telegram({
            botToken: 'secrets://dev/acme/_/telegram/bot_token',
            webhookSecrets: ['env:TG_SECRET', 'secrets://dev/acme/_/telegram/webhook_secret'],
          }),
        ],
      } as never,
    });
    const resolved = await resolveGatewaySecrets(cfg, {
      env: {
        TG_SECRET: 'from-env',
        GREENTIC_SECRET__DEV__ACME_____TELEGRAM__BOT_TOKEN: '1:from-env-provider',
        GREENTIC_SECRETS_MASTER_KEY: masterKey,
      },
    });
    expect(resolved.connectors[0]).toMatchObject({
      botToken: '1:from-env-provider',
      webhookSecrets: ['from-env', 'from-the-file-store'],
    });
  });

  it('ends startup before listening when a referenced secret is missing, naming the field and the reference', async () => {
    const config = loadRunnerConfig(undefined, {
      env: {},
      overrides: {
        http: { host: '127.0.0.1', port: 0 },
        flows: { paths: [QA3_FLOW] },
        connectors: [telegram()],
      } as never,
    });
    const daemon = new RunnerDaemon({ config, env: { TG_TOKEN: '1:abc' } });
    await expect(daemon.start()).rejects.toThrow(
      /connectors\.webhookSecrets|connectors\.0\.webhookSecrets\.0: environment variable TG_SECRET is not set/,
    );
    expect(daemon.health().status).toBe('stopped');
    const missingUri = loadRunnerConfig(undefined, {
      env: {},
      overrides: {
        http: { host: '127.0.0.1', port: 0 },
        flows: { paths: [QA3_FLOW] },
        secrets: { file: { dir: mkdtempSync(join(tmpdir(), 'gt-runner-secrets-')) } },
        connectors: [telegram({ botToken: 'secrets://dev/acme/_/telegram/bot_token' })],
      } as never,
    });
    await expect(new RunnerDaemon({ config: missingUri, env: { TG_SECRET: 's' } }).start()).rejects.toThrow(
      /connectors\.0\.botToken: secrets:\/\/dev\/acme\/_\/telegram\/bot_token is not set in any secrets provider \(tried env, /,
    );
  });

  it('serve --print-config hides literal secrets and shows references', async () => {
    const file = writeConfig({
      secrets: { allowLiterals: true },
      connectors: [telegram({ botToken: '1:literal-token' })],
    });
    let out = '';
    const code = await runRunnerCli(['serve', '--config', file, '--print-config'], {
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
    });
    expect(code).toBe(0);
    const shown = JSON.parse(out) as { connectors: Record<string, unknown>[] };
    expect(shown.connectors[0]).toMatchObject({ botToken: '***', webhookSecrets: ['env:TG_SECRET'] });
    expect(out).not.toContain('literal-token');
  });
});
