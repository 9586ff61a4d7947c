import { describe, expect, it } from 'vitest';
import { normalizePolicyDecision, policyAllow, policyDeny } from './policy.js';
import {
  validateCapabilities,
  validateLimits,
  validateNetworkPolicy,
  validatePolicyDecision,
} from './validate.js';

describe('NetworkPolicy', () => {
  it('round-trips upstream JSON, including custom protocols and omitted empty lists', () => {
    for (const json of [
      '{"egress":{"domains":["api.example.com"],"ports":[443],"protocols":["https",{"custom":"amqp"}]},"deny_on_miss":true}',
      '{"egress":{},"deny_on_miss":false}',
    ]) {
      expect(JSON.stringify(validateNetworkPolicy(JSON.parse(json)))).toBe(json);
    }
  });

  it('rejects unknown protocols, out-of-range ports and a missing deny_on_miss', () => {
    expect(() => validateNetworkPolicy({ egress: { protocols: ['ftp'] }, deny_on_miss: true })).toThrow(
      '/egress/protocols/0: must be "http", "https", "tcp", "udp", "grpc" or {"custom": string} (got "ftp")',
    );
    expect(() => validateNetworkPolicy({ egress: { ports: [70000] }, deny_on_miss: true })).toThrow(
      /^\/egress\/ports\/0: must be <= 65535/,
    );
    expect(() => validateNetworkPolicy({ egress: {} })).toThrow(/^\/deny_on_miss: is required/);
  });
});

describe('PolicyDecision', () => {
  it('builds decisions with status and reasons', () => {
    expect(JSON.stringify(policyAllow())).toBe('{"status":"allow","reasons":[]}');
    expect(policyDeny('egress to evil.example denied')).toEqual({
      status: 'deny',
      reasons: ['egress to evil.example denied'],
    });
  });

  it('round-trips the current upstream form', () => {
    const json = '{"status":"deny","reasons":["blocked"]}';
    expect(JSON.stringify(validatePolicyDecision(JSON.parse(json)))).toBe(json);
  });

  it('reads legacy allow/reason JSON the way upstream does', () => {
    expect(validatePolicyDecision({ allow: false, reason: 'nope' })).toEqual({
      status: 'deny',
      reasons: ['nope'],
      allow: false,
      reason: 'nope',
    });
    expect(normalizePolicyDecision({})).toEqual({ status: 'allow', reasons: [] });
    expect(normalizePolicyDecision({ status: 'deny', allow: true })).toMatchObject({ status: 'deny' });
  });

  it('rejects an unknown status', () => {
    expect(() => validatePolicyDecision({ status: 'maybe' })).toThrow(
      /^\/status: must be one of "allow", "deny"/,
    );
  });
});

describe('Capabilities and Limits', () => {
  it('accepts upstream-shaped capabilities', () => {
    const json = {
      http: { allow_list: { domains: ['example.com'] }, max_body_bytes: 1024 },
      kv: { namespaces: ['default'] },
      fs: { paths: ['/data'], read_only: true },
      net: { policy: { egress: {}, deny_on_miss: true } },
      tools: { allowed: ['search'] },
    };
    expect(validateCapabilities(json)).toEqual(json);
  });

  it('rejects a bad nested policy inside capabilities', () => {
    expect(() => validateCapabilities({ net: { policy: { egress: {}, deny_on_miss: 'yes' } } })).toThrow(
      /^\/net\/policy\/deny_on_miss: must be boolean/,
    );
  });

  it('validates limits', () => {
    const json = '{"memory_mb":128,"wall_time_ms":8000,"fuel":50000000}';
    expect(JSON.stringify(validateLimits(JSON.parse(json)))).toBe(json);
    expect(() => validateLimits({ memory_mb: 1.5, wall_time_ms: 1 })).toThrow(
      /^\/memory_mb: must be integer/,
    );
    expect(() => validateLimits({ memory_mb: 1 })).toThrow(/^\/wall_time_ms: is required/);
  });
});
