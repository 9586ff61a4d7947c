import { describe, expect, it } from 'vitest';
import { parseAllowList, SecretsAllowList } from './allow-list.js';
import { isSecretsError } from './errors.js';

const list = parseAllowList({
  tenants: {
    acme: {
      allow: ['openai/*', 'telegram_*'],
      allow_env: ['SENTRY_TOKEN'],
      teams: { support: { allow: ['zendesk/api_?ey'] } },
    },
    globex: { allow: ['*'] },
  },
  global: { allow: ['status/ping'] },
});

describe('SecretsAllowList', () => {
  it('grants category globs, name globs and upstream allow_env names', () => {
    expect(list.grants({ tenant: 'acme' }, { category: 'openai', name: 'api_key' })).toEqual({
      source: 'tenants.acme',
      pattern: 'openai/*',
    });
    expect(
      list.grants({ tenant: 'acme' }, { category: 'weather', name: 'telegram_bot_token' })?.pattern,
    ).toBe('telegram_*');
    expect(list.grants({ tenant: 'acme' }, { category: 'configs', name: 'sentry_token' })?.pattern).toBe(
      'sentry_token',
    );
  });

  it('denies by default', () => {
    expect(list.grants({ tenant: 'acme' }, { category: 'stripe', name: 'key' })).toBeUndefined();
    expect(list.grants({ tenant: 'initech' }, { category: 'openai', name: 'api_key' })).toBeUndefined();
    expect(
      SecretsAllowList.denyAll().grants({ tenant: 'acme' }, { category: 'a', name: 'b' }),
    ).toBeUndefined();
  });

  it('applies team rules only to callers of that team', () => {
    expect(
      list.grants({ tenant: 'acme', team: 'support' }, { category: 'zendesk', name: 'api_key' })?.source,
    ).toBe('tenants.acme.teams.support');
    expect(
      list.grants({ tenant: 'acme', team: 'sales' }, { category: 'zendesk', name: 'api_key' }),
    ).toBeUndefined();
    expect(list.grants({ tenant: 'acme' }, { category: 'zendesk', name: 'api_key' })).toBeUndefined();
  });

  it('applies global rules to every tenant', () => {
    expect(list.grants({ tenant: 'initech' }, { category: 'status', name: 'ping' })?.source).toBe('global');
  });

  it('a "*" name glob does not cross categories when a category is given', () => {
    expect(list.grants({ tenant: 'acme' }, { category: 'openai-x', name: 'k' })).toBeUndefined();
    expect(list.grants({ tenant: 'globex' }, { category: 'anything', name: 'k' })?.pattern).toBe('*');
  });

  it.each([
    [[], '(root)'],
    [{ tenant: {} }, '/tenant'],
    [{ tenants: { acme: { allow: 'openai/*' } } }, '/tenants/acme/allow'],
    [{ tenants: { acme: { allow: ['a b'] } } }, '/tenants/acme/allow/0'],
    [{ tenants: { acme: { allow: ['a/b/c'] } } }, '/tenants/acme/allow/0'],
    [{ tenants: { acme: { deny: [] } } }, '/tenants/acme/deny'],
    [{ global: { allow_env: ['a/b'] } }, '/global/allow_env/0'],
    [{ tenants: { acme: { teams: { t: { teams: {} } } } } }, '/tenants/acme/teams/t/teams'],
  ])('rejects %j naming %s', (doc, pointer) => {
    try {
      parseAllowList(doc);
      expect.unreachable();
    } catch (e) {
      expect(isSecretsError(e, 'GT_SECRETS_INVALID')).toBe(true);
      expect((e as Error).message).toContain(pointer);
    }
  });

  it('round-trips its document', () => {
    expect(parseAllowList(list.toJSON()).toJSON()).toEqual(list.toJSON());
    expect(list.tenants).toEqual(['acme', 'globex']);
  });
});
