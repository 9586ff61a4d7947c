import { describe, expect, it } from 'vitest';
import { EnvSecretsProvider } from './env.js';
import { isSecretsError } from './errors.js';
import { MemorySecretsProvider } from './memory.js';
import { declaredKeys, packSecretRequirements, secretsDoctor } from './requirements.js';

/** A component manifest in upstream's shape (component.manifest.schema.json v1). */
const weatherApi = {
  id: 'weather_api',
  secret_requirements: [
    {
      key: 'WEATHER_API_KEY',
      required: true,
      description: 'API key',
      scope: { env: 'dev', tenant: 'demo' },
      format: 'text',
    },
  ],
  capabilities: {
    host: {
      secrets: {
        required: [
          { key: 'WEATHER_API_KEY', required: true, scope: { env: 'dev', tenant: 'demo' }, format: 'text' },
          {
            key: 'geo/credentials',
            required: false,
            scope: { env: 'dev', tenant: 'demo' },
            format: 'json',
            examples: ['{"user":"u"}'],
          },
        ],
      },
    },
  },
};

const pack = {
  pack_id: 'weather-demo',
  components: [
    { id: 'weather_api', manifest: weatherApi },
    {
      id: 'notifier',
      manifest: { id: 'notifier', capabilities: { host: { secrets: { required: ['telegram/bot_token'] } } } },
    },
  ],
};

describe('packSecretRequirements', () => {
  it('collects and merges the requirements of every component', () => {
    const s = packSecretRequirements(pack);
    expect(s.pack_id).toBe('weather-demo');
    expect(s.category).toBe('weather-demo');
    expect(
      s.requirements.map((r) => [`${r.category}/${r.name}`, r.required, r.format, r.components]),
    ).toEqual([
      ['geo/credentials', false, 'json', ['weather_api']],
      ['telegram/bot_token', true, 'text', ['notifier']],
      ['weather-demo/weather_api_key', true, 'text', ['weather_api']],
    ]);
    expect(s.requirements[2]!.description).toBe('API key');
    expect(s.warnings).toEqual([]);
    expect(declaredKeys(s)).toEqual([
      'geo/credentials',
      'telegram/bot_token',
      'weather-demo/weather_api_key',
    ]);
  });

  it('reads one component manifest, with bare keys under configs', () => {
    const s = packSecretRequirements(weatherApi);
    expect(s.pack_id).toBeUndefined();
    expect(s.requirements.map((r) => `${r.category}/${r.name}`)).toEqual([
      'configs/weather_api_key',
      'geo/credentials',
    ]);
    expect(packSecretRequirements(weatherApi, { category: 'wx' }).requirements[1]!.category).toBe('wx');
  });

  it("reads upstream's metadata {pack_id, secret_requirements} and pack-level capabilities", () => {
    const s = packSecretRequirements({
      pack_id: 'greentic.secrets.aws-sm',
      secret_requirements: [{ key: 'db_url' }],
      capabilities: { secrets: { required: [{ key: 'region', required: false }] } },
    });
    expect(s.requirements.map((r) => [r.name, r.category, r.required, r.components])).toEqual([
      ['db_url', 'greentic.secrets.aws-sm', true, ['(pack)']],
      ['region', 'greentic.secrets.aws-sm', false, ['(pack)']],
    ]);
  });

  it('reads components that carry capabilities directly (pack.yaml, PackManifest)', () => {
    const s = packSecretRequirements({
      id: 'p',
      components: [{ id: 'c', capabilities: { host: { secrets: { required: [{ key: 'K' }] } } } }],
    });
    expect(s.requirements[0]).toMatchObject({ category: 'p', name: 'k', components: ['c'] });
  });

  it('is required when any component requires it, and warns on a format conflict', () => {
    const s = packSecretRequirements({
      pack_id: 'p',
      components: [
        { id: 'a', manifest: { secret_requirements: [{ key: 'x', required: false, format: 'text' }] } },
        { id: 'b', manifest: { secret_requirements: [{ key: 'X', required: true, format: 'json' }] } },
      ],
    });
    expect(s.requirements).toHaveLength(1);
    expect(s.requirements[0]).toMatchObject({ required: true, format: 'text', components: ['a', 'b'] });
    expect(s.warnings[0]).toContain('p/x: b declares format json but a declared text');
  });

  it.each([
    [{ pack_id: 'p', components: 'x' }, '/components'],
    [
      { pack_id: 'p', components: [{ id: 'a', manifest: { secret_requirements: [{ key: '../x' }] } }] },
      '/components/0/manifest/secret_requirements/0/key',
    ],
    [{ pack_id: 'p', secret_requirements: [{ key: 'k', format: 'yaml' }] }, '/secret_requirements/0/format'],
    [
      { pack_id: 'p', secret_requirements: [{ key: 'k', required: 'yes' }] },
      '/secret_requirements/0/required',
    ],
    [{ pack_id: 'Bad Pack', secret_requirements: [] }, '/pack_id'],
    ['nope', '(root)'],
  ])('rejects %j naming %s', (doc, pointer) => {
    try {
      packSecretRequirements(doc);
      expect.unreachable();
    } catch (e) {
      expect(isSecretsError(e, 'GT_SECRETS_INVALID')).toBe(true);
      expect((e as Error).message).toContain(pointer);
    }
  });
});

describe('secretsDoctor', () => {
  it('reports per tenant what is present (with fallback) and what is missing', async () => {
    const s = packSecretRequirements(pack);
    const store = new MemorySecretsProvider({
      secrets: { 'secrets://prod/acme/_/weather-demo/weather_api_key': 'k' },
    });
    const env = new EnvSecretsProvider({
      env: { GREENTIC_SECRET__PROD__ACME__SUPPORT__TELEGRAM__BOT_TOKEN: 't' },
    });
    const acme = await secretsDoctor([store, env], s, { env: 'prod', tenant: 'acme', team: 'support' });
    expect(acme.ok).toBe(true);
    expect(acme.requirements.map((r) => [r.name, r.status, r.found_at, r.provider])).toEqual([
      ['credentials', 'optional', undefined, undefined],
      ['bot_token', 'present', 'secrets://prod/acme/support/telegram/bot_token', 'env'],
      ['weather_api_key', 'present', 'secrets://prod/acme/_/weather-demo/weather_api_key', 'memory'],
    ]);
    const globex = await secretsDoctor([store, env], s, { env: 'prod', tenant: 'globex' });
    expect(globex.ok).toBe(false);
    expect(globex.missing).toBe(2);
    expect(globex.requirements[1]!.checked).toEqual(['secrets://prod/globex/_/telegram/bot_token']);
  });
});
