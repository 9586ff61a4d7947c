import { type NetworkPolicy, tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import {
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

  it('builds secret URIs from the caller scope and a canonical key', () => {
    expect(scopedSecretKey(ctx, 'OpenAI/API_KEY')).toEqual({
      key: 'openai/api_key',
      uri: 'secrets://prod/acme/ops/openai/api_key',
    });
    expect(scopedSecretKey(tenantCtx({ env: 'dev', tenant: 'acme' }), 'k').uri).toBe(
      'secrets://dev/acme/_/k',
    );
  });

  it('validates keys', () => {
    expect(isValidSecretKey('openai/api_key')).toBe(true);
    for (const bad of ['', '/abs', 'a/../b', 'sp ace']) expect(isValidSecretKey(bad)).toBe(false);
    expect(stateKeyProblem('ok')).toBeUndefined();
    expect(stateKeyProblem('')).toMatch(/non-empty/);
    expect(stateKeyProblem('a\nb')).toMatch(/control/);
    expect(stateKeyProblem('x'.repeat(513))).toMatch(/at most 512/);
  });
});
