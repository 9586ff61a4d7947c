import { describe, expect, it } from 'vitest';
import { isSecretsError, type SecretsError } from './errors.js';
import {
  canonicalSecretName,
  envKeyForUri,
  formatSecretUri,
  isSecretUri,
  normalizeTeam,
  parseSecretUri,
  secretUri,
  secretUriForKey,
  splitSecretKey,
  unitSecretName,
  unitSegment,
  uriFromEnvKey,
} from './uri.js';

function uriError(f: () => unknown): SecretsError {
  try {
    f();
  } catch (e) {
    if (isSecretsError(e, 'GT_SECRETS_URI')) return e;
    throw e;
  }
  throw new Error('expected GT_SECRETS_URI');
}

describe('parseSecretUri / formatSecretUri', () => {
  it('parses the five segments and formats them back', () => {
    const u = parseSecretUri('secrets://prod/acme/support/messaging-slack/bot_token');
    expect(u).toEqual({
      env: 'prod',
      tenant: 'acme',
      team: 'support',
      category: 'messaging-slack',
      name: 'bot_token',
    });
    expect(formatSecretUri(u)).toBe('secrets://prod/acme/support/messaging-slack/bot_token');
  });

  it('reads team "_" as tenant-wide and writes it back as "_"', () => {
    const u = parseSecretUri('secrets://dev/demo/_/configs/db_url');
    expect(u.team).toBeUndefined();
    expect(formatSecretUri(u)).toBe('secrets://dev/demo/_/configs/db_url');
  });

  it('parses a version after a single "@"', () => {
    const u = parseSecretUri('secrets://dev/demo/_/configs/db_url@v2.1');
    expect(u.name).toBe('db_url');
    expect(u.version).toBe('v2.1');
    expect(formatSecretUri(u)).toBe('secrets://dev/demo/_/configs/db_url@v2.1');
  });

  it('trims surrounding whitespace like upstream', () => {
    expect(formatSecretUri(parseSecretUri('  secrets://dev/demo/_/c/n \n'))).toBe('secrets://dev/demo/_/c/n');
  });

  it('rejects another scheme, including the deploy-time secret:// refs', () => {
    const e = uriError(() => parseSecretUri('secret://dev/demo/_/c/n'));
    expect(e.message).toContain('must start with "secrets://"');
  });

  it('names the missing segment', () => {
    expect(uriError(() => parseSecretUri('secrets://dev/demo/_/configs')).segment).toBe('name');
    expect(uriError(() => parseSecretUri('secrets://dev/demo')).segment).toBe('team');
    expect(uriError(() => parseSecretUri('secrets://dev')).segment).toBe('tenant');
  });

  it('rejects extra segments', () => {
    expect(uriError(() => parseSecretUri('secrets://dev/demo/_/a/b/c')).message).toContain('6 segments');
  });

  it.each([
    ['env', 'secrets://Dev/demo/_/c/n', 'lowercase'],
    ['tenant', 'secrets://dev/ac me/_/c/n', '" "'],
    ['team', 'secrets://dev/demo/Blue/c/n', 'lowercase'],
    ['category', 'secrets://dev/demo/_//n', 'must not be empty'],
    ['name', 'secrets://dev/demo/_/c/n$', '"$"'],
    ['name', 'secrets://dev/demo/_/c/..', 'must not be ".."'],
    ['tenant', 'secrets://dev/./_/c/n', 'must not be "."'],
    ['version', 'secrets://dev/demo/_/c/n@', 'must not be empty'],
    ['version', 'secrets://dev/demo/_/c/n@V1', 'lowercase'],
    ['version', 'secrets://dev/demo/_/c/n@1@2', 'more than one "@"'],
  ])('names the bad %s segment in %s', (segment, input, words) => {
    const e = uriError(() => parseSecretUri(input));
    expect(e.segment).toBe(segment);
    expect(e.message).toContain(segment);
    expect(e.message).toContain(words);
  });

  it('isSecretUri answers without throwing', () => {
    expect(isSecretUri('secrets://dev/demo/_/c/n')).toBe(true);
    expect(isSecretUri('secrets://dev/demo/_/c')).toBe(false);
    expect(isSecretUri(42)).toBe(false);
  });

  it('secretUri treats "_", "" and absent team alike and validates each part', () => {
    expect(secretUri({ env: 'dev', tenant: 'a', team: '_', category: 'c', name: 'n' })).toEqual(
      secretUri({ env: 'dev', tenant: 'a', category: 'c', name: 'n' }),
    );
    expect(uriError(() => secretUri({ env: 'dev', tenant: 'a', category: 'C', name: 'n' })).segment).toBe(
      'category',
    );
  });
});

describe('envKeyForUri (upstream canonical_secret_store_key)', () => {
  it('matches upstream for a tenant-wide secret', () => {
    expect(envKeyForUri('secrets://dev/demo/_/openai/api_key')).toBe(
      'GREENTIC_SECRET__DEV__DEMO_____OPENAI__API_KEY',
    );
  });

  it('folds "-" and "." to "_" and ignores the version', () => {
    expect(envKeyForUri('secrets://dev/demo/legal/messaging-slack/bot.token@3')).toBe(
      'GREENTIC_SECRET__DEV__DEMO__LEGAL__MESSAGING_SLACK__BOT_TOKEN',
    );
  });

  it('uriFromEnvKey inverts simple keys, including the tenant-wide team', () => {
    expect(formatSecretUri(uriFromEnvKey('GREENTIC_SECRET__DEV__DEMO_____OPENAI__API_KEY')!)).toBe(
      'secrets://dev/demo/_/openai/api_key',
    );
    expect(formatSecretUri(uriFromEnvKey('GREENTIC_SECRET__DEV__DEMO__LEGAL__SLACK__TOKEN')!)).toBe(
      'secrets://dev/demo/legal/slack/token',
    );
    expect(uriFromEnvKey('GREENTIC_SECRET__DEV__DEMO')).toBeUndefined();
    expect(uriFromEnvKey('PATH')).toBeUndefined();
  });
});

describe('canonical helpers', () => {
  it('canonicalSecretName follows upstream', () => {
    expect(canonicalSecretName('TELEGRAM_BOT_TOKEN')).toBe('telegram_bot_token');
    expect(canonicalSecretName('a.b c/d')).toBe('a_b_c_d');
    expect(canonicalSecretName('double__underscore')).toBe('double_underscore');
    expect(canonicalSecretName('_leading')).toBe('leading');
    expect(canonicalSecretName('***')).toBe('secret');
  });

  it('normalizeTeam maps "_", "default", blank and absent to tenant-wide', () => {
    for (const t of [undefined, '', '  ', '_', 'default', 'DEFAULT'])
      expect(normalizeTeam(t)).toBeUndefined();
    expect(normalizeTeam(' legal ')).toBe('legal');
  });

  it('unitSegment is a slug plus 12 hex characters of SHA-256', () => {
    const a = unitSegment('Web Assistant')!;
    expect(a).toMatch(/^web-assistant-[0-9a-f]{12}$/);
    expect(unitSegment('  Web Assistant ')).toBe(a);
    expect(unitSegment('web-assistant')).not.toBe(a);
    expect(unitSegment('   ')).toBeUndefined();
    expect(unitSegment('x'.repeat(100))!.split('-')[0]).toHaveLength(40);
    expect(unitSecretName('api_key', 'bundle-1')).toMatch(/^api_key\.unit-bundle-1-[0-9a-f]{12}$/);
  });

  it('splitSecretKey lowercases and puts bare keys in the default category', () => {
    expect(splitSecretKey('KV_API_TOKEN')).toEqual({ category: 'configs', name: 'kv_api_token' });
    expect(splitSecretKey('KV_API_TOKEN', 'weather-demo')).toEqual({
      category: 'weather-demo',
      name: 'kv_api_token',
    });
    expect(splitSecretKey('OpenAI/API_KEY')).toEqual({ category: 'openai', name: 'api_key' });
  });

  it.each(['', '/abs', 'a/../b', 'a b', 'a/b/c'])('splitSecretKey rejects %j', (key) => {
    expect(() => splitSecretKey(key)).toThrow(/secret key|must not|non-empty/);
  });

  it('secretUriForKey places a key in a scope', () => {
    expect(formatSecretUri(secretUriForKey({ env: 'dev', tenant: 'acme' }, 'openai/api_key'))).toBe(
      'secrets://dev/acme/_/openai/api_key',
    );
    expect(
      formatSecretUri(secretUriForKey({ env: 'dev', tenant: 'acme', team: 'blue' }, 'TOKEN', 'pack.x')),
    ).toBe('secrets://dev/acme/blue/pack.x/token');
  });
});
