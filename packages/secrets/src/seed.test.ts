import { describe, expect, it } from 'vitest';
import { isSecretsError } from './errors.js';
import { MemorySecretsProvider } from './memory.js';
import { packSecretRequirements } from './requirements.js';
import { applySeed, formatSeed, parseSeed, scaffoldSeed } from './seed.js';

const secrets = packSecretRequirements({
  pack_id: 'weather-demo',
  secret_requirements: [
    { key: 'api_key', description: 'Weather API key' },
    { key: 'geo/creds', format: 'json', required: false },
    { key: 'signing', format: 'bytes', examples: ['abc'] },
  ],
});

describe('scaffoldSeed', () => {
  it('writes one placeholder entry per requirement in the scope (upstream seed format)', () => {
    expect(scaffoldSeed(secrets, { env: 'prod', tenant: 'acme' })).toEqual({
      entries: [
        { uri: 'secrets://prod/acme/_/geo/creds', format: 'json', value: { type: 'json', json: {} } },
        {
          uri: 'secrets://prod/acme/_/weather-demo/api_key',
          format: 'text',
          description: 'Weather API key',
          value: { type: 'text', text: '' },
        },
        {
          uri: 'secrets://prod/acme/_/weather-demo/signing',
          format: 'bytes',
          value: { type: 'bytes_b64', bytes_b64: 'YWJj' },
        },
      ],
    });
  });

  it('round-trips through JSON and YAML', () => {
    const seed = scaffoldSeed(secrets, { env: 'prod', tenant: 'acme', team: 'support' });
    expect(parseSeed(formatSeed(seed))).toEqual(seed);
    expect(parseSeed(formatSeed(seed, 'yaml'))).toEqual(seed);
  });
});

describe('parseSeed', () => {
  it('reports syntax errors by position only', () => {
    for (const text of [
      '{"entries": [{"value": {"text": "s3cr3t-CANARY" ]}',
      'entries:\n  - uri: x\n    value: {text: s3cr3t-CANARY\n',
    ]) {
      try {
        parseSeed(text);
        expect.unreachable();
      } catch (e) {
        expect(isSecretsError(e, 'GT_SECRETS_INVALID')).toBe(true);
        expect((e as Error).message).not.toContain('CANARY');
      }
    }
  });

  it.each([
    [{}, '(root)'],
    [{ entries: [{ uri: 'nope', format: 'text', value: { type: 'text', text: 'x' } }] }, '/entries/0/uri'],
    [{ entries: [{ uri: 'secrets://d/t/_/c/n', format: 'yaml', value: {} }] }, '/entries/0/format'],
    [
      { entries: [{ uri: 'secrets://d/t/_/c/n', format: 'text', value: { type: 'json', json: 1 } }] },
      '/entries/0/value/type',
    ],
    [
      { entries: [{ uri: 'secrets://d/t/_/c/n', format: 'text', value: { type: 'text', text: 5 } }] },
      '/entries/0/value/text',
    ],
  ])('rejects %j naming %s', (doc, pointer) => {
    expect(() => parseSeed(JSON.stringify(doc))).toThrow(pointer);
  });
});

describe('applySeed', () => {
  it('stores filled entries, skips placeholders, and reports failures without values', async () => {
    const store = new MemorySecretsProvider();
    const report = await applySeed(store, {
      entries: [
        {
          uri: 'secrets://prod/acme/_/weather-demo/api_key',
          format: 'text',
          value: { type: 'text', text: 'k1' },
        },
        { uri: 'secrets://prod/acme/_/geo/creds', format: 'json', value: { type: 'json', json: {} } },
        {
          uri: 'secrets://prod/acme/_/weather-demo/signing',
          format: 'bytes',
          value: { type: 'bytes_b64', bytes_b64: '!!CANARY' },
        },
        {
          uri: 'secrets://prod/acme/_/weather-demo/extra',
          format: 'json',
          value: { type: 'json', json: { a: 1 } },
        },
      ],
    });
    expect(report.applied).toEqual([
      { uri: 'secrets://prod/acme/_/weather-demo/api_key@1', version: '1' },
      { uri: 'secrets://prod/acme/_/weather-demo/extra@1', version: '1' },
    ]);
    expect(report.skipped).toEqual([
      { uri: 'secrets://prod/acme/_/geo/creds', reason: 'no value (empty placeholder)' },
    ]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]).toMatchObject({
      uri: 'secrets://prod/acme/_/weather-demo/signing',
      code: 'GT_SECRETS_INVALID',
    });
    expect(JSON.stringify(report)).not.toContain('CANARY');
    expect((await store.get('secrets://prod/acme/_/weather-demo/extra'))!.value.revealJson()).toEqual({
      a: 1,
    });
  });

  it("skips entries that are not the pack's requirements when asked", async () => {
    const report = await applySeed(
      new MemorySecretsProvider(),
      {
        entries: [
          { uri: 'secrets://prod/acme/_/other/x', format: 'text', value: { type: 'text', text: 'v' } },
        ],
      },
      { requirements: secrets },
    );
    expect(report.skipped[0]!.reason).toContain('not a requirement');
  });

  it('stores empty placeholders with storeEmpty', async () => {
    const store = new MemorySecretsProvider();
    const report = await applySeed(store, scaffoldSeed(secrets, { env: 'dev', tenant: 'a' }), {
      storeEmpty: true,
    });
    expect(report.applied).toHaveLength(3);
    expect((await store.get('secrets://dev/a/_/geo/creds'))!.format).toBe('json');
  });
});
