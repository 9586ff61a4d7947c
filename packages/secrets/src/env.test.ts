import { describe, expect, it } from 'vitest';
import { EnvSecretsProvider } from './env.js';
import { isSecretsError } from './errors.js';
import { secretsProviderContract } from './testing/index.js';
import { envKeyForUri } from './uri.js';

secretsProviderContract('env', async () => {
  const env: Record<string, string> = {};
  return {
    provider: new EnvSecretsProvider({ env }),
    seed: (uri, value) => {
      env[envKeyForUri(uri)] = value;
    },
  };
});

describe('EnvSecretsProvider', () => {
  it('reads the upstream variable name', async () => {
    const p = new EnvSecretsProvider({ env: { GREENTIC_SECRET__DEV__DEMO_____OPENAI__API_KEY: 'sk-1' } });
    const r = await p.get('secrets://dev/demo/_/openai/api_key');
    expect(r!.value.revealText()).toBe('sk-1');
    expect(r!.uri).toBe('secrets://dev/demo/_/openai/api_key@1');
    expect(await p.get('secrets://dev/demo/_/openai/api_key@2')).toBeUndefined();
  });

  it('treats an empty variable as unset', async () => {
    const p = new EnvSecretsProvider({ env: { GREENTIC_SECRET__DEV__DEMO_____OPENAI__API_KEY: '' } });
    expect(await p.get('secrets://dev/demo/_/openai/api_key')).toBeUndefined();
    expect(await p.list()).toEqual([]);
  });

  it('reads process.env by default', async () => {
    process.env.GREENTIC_SECRET__TESTENV__ACME_____CFG__X = 'from-process';
    try {
      expect((await new EnvSecretsProvider().get('secrets://testenv/acme/_/cfg/x'))!.value.revealText()).toBe(
        'from-process',
      );
    } finally {
      delete process.env.GREENTIC_SECRET__TESTENV__ACME_____CFG__X;
    }
  });

  it('checks json values without quoting them', async () => {
    const p = new EnvSecretsProvider({
      env: { GREENTIC_SECRET__DEV__DEMO_____C__J: 'oops-CANARY' },
      format: 'json',
    });
    await expect(p.get('secrets://dev/demo/_/c/j')).rejects.toSatisfy(
      (e) =>
        isSecretsError(e, 'GT_SECRETS_INVALID') &&
        !(e as Error).message.includes('CANARY') &&
        (e as Error).message.includes('GREENTIC_SECRET__DEV__DEMO_____C__J'),
    );
  });
});
