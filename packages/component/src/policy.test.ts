import { type NetworkPolicy, tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import {
  defaultSecretCategory,
  egressDecision,
  isValidSecretKey,
  scopedSecretKey,
  scopedStateKey,
  stateKeyProblem,
} from './policy.js';

const allowed = (policy: NetworkPolicy | undefined, url: string) =>
  egressDecision(policy, new URL(url)).allowed;

describe('egress policy', () => {
  const policy: NetworkPolicy = {
    egress: { domains: ['example.com', '*.corp.test'], ports: [443], protocols: ['https'] },
    deny_on_miss: true,
  };

  it('allows listed domains and their subdomains on listed ports and protocols', () => {
    expect(allowed(policy, 'https://example.com/a')).toBe(true);
    expect(allowed(policy, 'https://api.example.com/a')).toBe(true);
    expect(allowed(policy, 'https://x.corp.test/')).toBe(true);
  });

  it('denies other hosts, look-alike suffixes, other ports and protocols', () => {
    expect(allowed(policy, 'https://corp.test/')).toBe(false);
    expect(allowed(policy, 'https://badexample.com/')).toBe(false);
    expect(allowed(policy, 'https://example.com:8443/')).toBe(false);
    expect(allowed(policy, 'http://example.com/')).toBe(false);
  });

  it('denies everything without a policy, and allows misses when deny_on_miss is false', () => {
    expect(allowed(undefined, 'https://example.com/')).toBe(false);
    expect(allowed({ egress: {}, deny_on_miss: false }, 'https://anything.test/')).toBe(true);
    expect(allowed({ egress: {}, deny_on_miss: true }, 'https://anything.test/')).toBe(false);
  });
});

describe('key scoping', () => {
  const ctx = tenantCtx({ env: 'prod', tenant: 'acme', team: 'ops', user: 'u1' });

  it('qualifies state keys with the tenant scope and the component namespace', () => {
    expect(scopedStateKey(ctx, 'weather', 'last/city')).toEqual({
      namespace: 'component/weather',
      key: 'last/city',
      qualified: 'prod.acme.ops.u1:component/weather:last/city',
    });
    expect(scopedStateKey(tenantCtx({ env: 'dev', tenant: 't', user: 'u' }), 'c', 'k').qualified).toBe(
      'dev.t._.u:component/c:k',
    );
  });

  it('passes the relative key through and builds 5-segment secret URIs (@greentic/secrets convention)', () => {
    // category/name keys name both; bare keys go under the default category (the pack or component id), as
    // @greentic/secrets' secretUriForKey(scope, key, packId) places them.
    expect(scopedSecretKey(ctx, 'OpenAI/API_KEY', 'weather')).toEqual({
      key: 'openai/api_key',
      uri: 'secrets://prod/acme/ops/openai/api_key',
    });
    expect(scopedSecretKey(ctx, 'kv_api_token', 'com.greentic.demo.echo')).toEqual({
      key: 'kv_api_token',
      uri: 'secrets://prod/acme/ops/com.greentic.demo.echo/kv_api_token',
    });
    expect(scopedSecretKey(tenantCtx({ env: 'dev', tenant: 'acme' }), 'TOKEN', 'pack.x')).toEqual({
      key: 'token',
      uri: 'secrets://dev/acme/_/pack.x/token',
    });
    expect(scopedSecretKey(tenantCtx({ env: 'dev', tenant: 'acme' }), 'k').uri).toBe(
      'secrets://dev/acme/_/configs/k',
    );
    for (const key of ['openai/api_key', 'kv_api_token', 'A.b-c_d']) {
      const uri = scopedSecretKey(ctx, key, 'weather').uri;
      expect(uri.slice('secrets://'.length).split('/')).toHaveLength(5);
      expect(uri).toMatch(/^secrets:\/\/[a-z0-9._-]+(\/[a-z0-9._-]+){4}$/);
    }
  });

  it('takes the component id as the category of bare keys only when it is a URI segment', () => {
    expect(defaultSecretCategory('weather')).toBe('weather');
    expect(defaultSecretCategory('com.greentic.demo.echo')).toBe('com.greentic.demo.echo');
    expect(defaultSecretCategory('com.example/echo')).toBe('configs');
    expect(defaultSecretCategory('Weather')).toBe('configs');
  });

  it('validates keys', () => {
    expect(isValidSecretKey('openai/api_key')).toBe(true);
    expect(isValidSecretKey('KV_API_TOKEN')).toBe(true);
    // upstream's SecretKey rule, and a key must name one secret URI: `name` or `category/name`
    for (const bad of ['', '/abs', 'a/../b', 'sp ace', 'a/b/c', 'a/', './x', 'x'.repeat(257)]) {
      expect(isValidSecretKey(bad)).toBe(false);
    }
    expect(stateKeyProblem('ok')).toBeUndefined();
    expect(stateKeyProblem('')).toMatch(/non-empty/);
    expect(stateKeyProblem('a\nb')).toMatch(/control/);
    expect(stateKeyProblem('x'.repeat(513))).toMatch(/at most 512/);
  });
});
