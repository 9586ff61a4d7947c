import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import type { SecretAccessRecord } from './audit.js';
import { isSecretsError, type SecretsError } from './errors.js';
import { MemorySecretsProvider } from './memory.js';
import { SecretsService } from './service.js';
import { unitSecretName } from './uri.js';

const CANARY = 'sk-live-CANARY-91f0';

function setup(records: SecretAccessRecord[] = []) {
  const provider = new MemorySecretsProvider({
    secrets: {
      'secrets://prod/acme/_/weather/api_key': CANARY,
      'secrets://prod/acme/support/weather/api_key': 'support-key',
      'secrets://prod/acme/_/openai/api_key': 'openai-acme',
      'secrets://prod/globex/_/weather/api_key': 'globex-key',
      'secrets://prod/acme/_/weather/undeclared': 'nope',
    },
  });
  const service = new SecretsService({
    providers: [provider],
    allowList: {
      tenants: { acme: { allow: ['weather/*', 'openai/api_key'] }, globex: { allow: ['weather/*'] } },
    },
    audit: (r) => records.push(r),
    now: () => Date.UTC(2030, 0, 1),
  });
  return { service, provider };
}

const acme = tenantCtx({
  env: 'prod',
  tenant: 'acme',
  user: 'u1',
  session_id: 's1',
  flow_id: 'f1',
  node_id: 'n1',
});
const acmeSupport = tenantCtx({ env: 'prod', tenant: 'acme', team: 'support' });
const globex = tenantCtx({ env: 'prod', tenant: 'globex' });

async function denied(p: Promise<unknown>): Promise<SecretsError> {
  try {
    await p;
  } catch (e) {
    if (isSecretsError(e, 'GT_SECRETS_DENIED')) return e;
    throw e;
  }
  throw new Error('expected GT_SECRETS_DENIED');
}

describe('SecretsService.scopedSecrets', () => {
  it('reads a declared, allowed secret in the caller scope', async () => {
    const { service } = setup();
    const s = service.scopedSecrets(acme, { packDeclares: ['API_KEY', 'openai/api_key'], packId: 'weather' });
    expect((await s.get('API_KEY')).revealText()).toBe(CANARY);
    expect((await s.get('openai/api_key')).revealText()).toBe('openai-acme');
    expect(s.declared()).toEqual(['openai/api_key', 'weather/api_key']);
  });

  it("falls back from the caller's team to the tenant-wide value", async () => {
    const { service } = setup();
    const support = service.scopedSecrets(acmeSupport, {
      packDeclares: ['api_key', 'openai/api_key'],
      packId: 'weather',
    });
    expect((await support.get('api_key')).revealText()).toBe('support-key');
    expect((await support.get('openai/api_key')).revealText()).toBe('openai-acme');
  });

  it('reads the unit-scoped value first', async () => {
    const { service, provider } = setup();
    await provider.put(`secrets://prod/acme/_/weather/${unitSecretName('api_key', 'rev-1')}`, 'unit-key');
    const s = service.scopedSecrets(acme, { packDeclares: ['api_key'], packId: 'weather', unit: 'rev-1' });
    expect((await s.get('api_key')).revealText()).toBe('unit-key');
  });

  it('never reads another tenant, even by full URI', async () => {
    const records: SecretAccessRecord[] = [];
    const { service } = setup(records);
    const s = service.scopedSecrets(acme, { packDeclares: ['api_key'], packId: 'weather' });
    const e = await denied(s.get('secrets://prod/globex/_/weather/api_key'));
    expect(e.message).toContain('secrets://prod/globex/_/weather/api_key');
    expect(e.message).toContain("outside the caller's scope");
    expect(records.at(-1)).toMatchObject({
      decision: 'deny',
      reason: 'out_of_scope',
      ctx: { tenant: 'acme' },
    });
    const g = service.scopedSecrets(globex, { packDeclares: ['api_key'], packId: 'weather' });
    expect((await g.get('api_key')).revealText()).toBe('globex-key');
  });

  it("accepts a full URI in the caller's own scope", async () => {
    const { service } = setup();
    const s = service.scopedSecrets(acmeSupport, { packDeclares: ['api_key'], packId: 'weather' });
    expect((await s.get('secrets://prod/acme/_/weather/api_key')).revealText()).toBe(CANARY);
    await denied(s.get('secrets://prod/acme/sales/weather/api_key'));
    await denied(s.get('secrets://prod/acme/_/weather/api_key@1'));
  });

  it('denies what the pack does not declare, and records it', async () => {
    const records: SecretAccessRecord[] = [];
    const { service } = setup(records);
    const s = service.scopedSecrets(acme, {
      packDeclares: ['api_key'],
      packId: 'weather',
      component: 'weather_api',
    });
    const e = await denied(s.get('undeclared'));
    expect(e.uri).toBe('secrets://prod/acme/_/weather/undeclared');
    expect(e.message).toContain('component weather_api does not declare "weather/undeclared"');
    expect(records).toEqual([
      {
        time: '2030-01-01T00:00:00.000Z',
        decision: 'deny',
        reason: 'not_declared',
        message: e.message,
        key: 'undeclared',
        uri: 'secrets://prod/acme/_/weather/undeclared',
        ctx: { env: 'prod', tenant: 'acme', user: 'u1', session_id: 's1', flow_id: 'f1', node_id: 'n1' },
        pack: 'weather',
        component: 'weather_api',
      },
    ]);
    expect(service.audit.denials()).toHaveLength(1);
  });

  it("denies what the tenant's allow-list does not grant, even when declared", async () => {
    const { service } = setup();
    const s = service.scopedSecrets(globex, { packDeclares: ['openai/api_key'], packId: 'weather' });
    const e = await denied(s.get('openai/api_key'));
    expect(e.message).toContain('tenants.globex.allow');
    expect(service.audit.records({ decision: 'deny' })[0]).toMatchObject({
      reason: 'not_allowed',
      uri: 'secrets://prod/globex/_/openai/api_key',
    });
  });

  it('denies everything without an allow-list', async () => {
    const service = new SecretsService({
      providers: [new MemorySecretsProvider({ secrets: { 'secrets://prod/acme/_/configs/k': 'v' } })],
    });
    await denied(service.scopedSecrets(acme, { packDeclares: ['k'] }).get('k'));
  });

  it('a per-scope allow-list overrides the service one', async () => {
    const { service } = setup();
    const s = service.scopedSecrets(globex, {
      packDeclares: ['openai/api_key'],
      allowList: { global: { allow: ['openai/*'] } },
    });
    expect(await s.tryGet('openai/api_key')).toBeUndefined();
  });

  it('records granted reads with the URI that answered, never the value', async () => {
    const records: SecretAccessRecord[] = [];
    const { service } = setup(records);
    await service.scopedSecrets(acmeSupport, { packDeclares: ['openai/api_key'] }).get('openai/api_key');
    expect(records[0]).toMatchObject({
      decision: 'allow',
      reason: 'granted',
      found: true,
      resolved_uri: 'secrets://prod/acme/_/openai/api_key@1',
      tried: ['secrets://prod/acme/support/openai/api_key', 'secrets://prod/acme/_/openai/api_key'],
      rule: 'tenants.acme: openai/api_key',
    });
    expect(JSON.stringify(records)).not.toContain('openai-acme');
  });

  it('reports a missing value with every URI tried', async () => {
    const { service } = setup();
    const s = service.scopedSecrets(acmeSupport, { packDeclares: ['weather/missing'] });
    await expect(s.get('weather/missing')).rejects.toSatisfy(
      (e) =>
        isSecretsError(e, 'GT_SECRETS_NOT_FOUND') &&
        (e as Error).message.includes('secrets://prod/acme/support/weather/missing'),
    );
    expect(await s.tryGet('weather/missing')).toBeUndefined();
  });

  it('denies malformed keys and records them', async () => {
    const { service } = setup();
    const s = service.scopedSecrets(acme, { packDeclares: ['api_key'], packId: 'weather' });
    for (const k of ['../x', 'a b', 'secrets://prod/acme/_/x'])
      expect((await denied(s.get(k))).code).toBe('GT_SECRETS_DENIED');
    expect(service.audit.records({ decision: 'deny' }).map((r) => r.reason)).toEqual([
      'invalid_key',
      'invalid_key',
      'invalid_key',
    ]);
  });

  it('rejects a bad caller context with GT_SECRETS_SCOPE', () => {
    const { service } = setup();
    expect(() => service.scopedSecrets({ env: 'prod' } as never, { packDeclares: [] })).toThrow(
      expect.objectContaining({ code: 'GT_SECRETS_SCOPE' }),
    );
  });

  it('fails the read when an audit sink throws', async () => {
    const service = new SecretsService({
      providers: [new MemorySecretsProvider({ secrets: { 'secrets://prod/acme/_/configs/k': 'v' } })],
      allowList: { global: { allow: ['*'] } },
      audit: () => {
        throw new Error('audit down');
      },
    });
    await expect(service.scopedSecrets(acme, { packDeclares: ['k'] }).get('k')).rejects.toThrow('audit down');
  });

  it('can leave allowed reads out of the audit', async () => {
    const service = new SecretsService({
      providers: [new MemorySecretsProvider()],
      allowList: { global: { allow: ['*'] } },
      recordAllowed: false,
    });
    await service.scopedSecrets(acme, { packDeclares: ['k'] }).tryGet('k');
    expect(service.audit.records()).toEqual([]);
  });
});

describe('SecretsService.hostSecrets (component host adapter)', () => {
  it("binds each call to the caller's ctx and the component's declarations", async () => {
    const { service } = setup();
    const host = service.hostSecrets((call) =>
      call.component === 'weather_api' ? { declares: ['API_KEY'], packId: 'weather' } : undefined,
    );
    const bytes = await host.get({ ctx: acme, component: 'weather_api' }, { key: 'api_key' });
    expect(Buffer.from(bytes!).toString()).toBe(CANARY);
    expect(
      Buffer.from(
        (await host.get({ ctx: globex, component: 'weather_api' }, { key: 'api_key' }))!,
      ).toString(),
    ).toBe('globex-key');
    await denied(host.get({ ctx: acme, component: 'other' }, { key: 'api_key' }));
    expect(await host.get({ ctx: acme, component: 'weather_api' }, { key: 'api_key' })).toBeDefined();
  });

  it('answers undefined when an allowed secret has no value', async () => {
    const { service } = setup();
    const host = service.hostSecrets(() => ({ declares: ['weather/absent'] }));
    expect(await host.get({ ctx: acme, component: 'c' }, { key: 'weather/absent' })).toBeUndefined();
  });
});
