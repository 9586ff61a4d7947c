import { describe, expect, it } from 'vitest';
import { EnvSecretsProvider } from './env.js';
import { isSecretsError } from './errors.js';
import { MemorySecretsProvider } from './memory.js';
import { candidateUris, SecretsResolver } from './resolver.js';
import { secretsProviderContract } from './testing/index.js';
import { formatSecretUri, unitSecretName } from './uri.js';

secretsProviderContract('chain (memory behind env)', async () => ({
  provider: new SecretsResolver([new EnvSecretsProvider({ env: {} }), new MemorySecretsProvider()]),
}));

describe('candidateUris', () => {
  it('tries unit, team, then tenant-wide', () => {
    const uris = candidateUris({
      env: 'dev',
      tenant: 'acme',
      team: 'blue',
      category: 'mcp',
      name: 'srv',
      unit: 'bundle-7',
    }).map(formatSecretUri);
    expect(uris).toEqual([
      `secrets://dev/acme/blue/mcp/${unitSecretName('srv', 'bundle-7')}`,
      'secrets://dev/acme/blue/mcp/srv',
      'secrets://dev/acme/_/mcp/srv',
    ]);
  });

  it('tries the tenant-wide URI once for "_" or no team', () => {
    for (const team of [undefined, '_', 'default']) {
      expect(
        candidateUris({ env: 'dev', tenant: 'acme', team, category: 'c', name: 'n' }).map(formatSecretUri),
      ).toEqual(['secrets://dev/acme/_/c/n']);
    }
  });
});

describe('SecretsResolver', () => {
  it('reads an exact URI from the first provider that has it', async () => {
    const env = new EnvSecretsProvider({ env: { GREENTIC_SECRET__DEV__ACME_____C__N: 'from-env' } });
    const mem = new MemorySecretsProvider({
      secrets: { 'secrets://dev/acme/_/c/n': 'from-memory', 'secrets://dev/acme/_/c/m': 'only-memory' },
    });
    const chain = new SecretsResolver([env, mem]);
    expect((await chain.get('secrets://dev/acme/_/c/n'))!.provider).toBe('env');
    expect((await chain.get('secrets://dev/acme/_/c/m'))!.value.revealText()).toBe('only-memory');
  });

  it('prefers a team value in any provider over a tenant-wide one', async () => {
    const env = new EnvSecretsProvider({ env: { GREENTIC_SECRET__DEV__ACME_____C__N: 'tenant-env' } });
    const mem = new MemorySecretsProvider({ secrets: { 'secrets://dev/acme/blue/c/n': 'team-memory' } });
    const chain = new SecretsResolver([env, mem]);
    const r = await chain.resolve({ env: 'dev', tenant: 'acme', team: 'blue', category: 'c', name: 'n' });
    expect(r.record!.value.revealText()).toBe('team-memory');
    expect(r.tried).toEqual(['secrets://dev/acme/blue/c/n']);
    const red = await chain.resolve({ env: 'dev', tenant: 'acme', team: 'red', category: 'c', name: 'n' });
    expect(red.record!.value.revealText()).toBe('tenant-env');
    expect(red.tried).toEqual(['secrets://dev/acme/red/c/n', 'secrets://dev/acme/_/c/n']);
  });

  it('finds a unit-scoped value first', async () => {
    const mem = new MemorySecretsProvider({
      secrets: {
        [`secrets://dev/acme/_/c/${unitSecretName('n', 'u1')}`]: 'unit',
        'secrets://dev/acme/_/c/n': 'tenant',
      },
    });
    const chain = new SecretsResolver([mem]);
    expect(
      (
        await chain.resolve({ env: 'dev', tenant: 'acme', category: 'c', name: 'n', unit: 'u1' })
      ).record!.value.revealText(),
    ).toBe('unit');
    expect(
      (
        await chain.resolve({ env: 'dev', tenant: 'acme', category: 'c', name: 'n', unit: 'u2' })
      ).record!.value.revealText(),
    ).toBe('tenant');
  });

  it('never falls back to another tenant', async () => {
    const chain = new SecretsResolver([
      new MemorySecretsProvider({ secrets: { 'secrets://dev/globex/_/c/n': 'x' } }),
    ]);
    const r = await chain.resolve({ env: 'dev', tenant: 'acme', category: 'c', name: 'n' });
    expect(r.record).toBeUndefined();
    expect(r.tried.every((u) => u.includes('/acme/'))).toBe(true);
  });

  it('writes to the first writable provider, or the one named', async () => {
    const a = new MemorySecretsProvider();
    const env = new EnvSecretsProvider({ env: {} });
    await new SecretsResolver([env, a]).put('secrets://dev/acme/_/c/n', 'v');
    expect(await a.get('secrets://dev/acme/_/c/n')).toBeDefined();
    const onlyEnv = new SecretsResolver([env]);
    expect(onlyEnv.writable).toBe(false);
    await expect(onlyEnv.put('secrets://dev/acme/_/c/n', 'v')).rejects.toSatisfy((e) =>
      isSecretsError(e, 'GT_SECRETS_READ_ONLY'),
    );
    expect(() => new SecretsResolver([a], { writeTo: 'vault' })).toThrow(/writeTo/);
    expect(() => new SecretsResolver([])).toThrow(/at least one provider/);
  });
});
