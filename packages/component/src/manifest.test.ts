import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capabilitiesOf, manifestNetworkPolicy, NO_CAPABILITIES, parseManifest } from './manifest.js';

const packs = new URL('../../../../shared/conformance/packs/', import.meta.url);
const upstream = (name: string) =>
  readFileSync(new URL(`greenticai__greentic-component__crates__greentic-component__${name}`, packs), 'utf8');

describe('component manifests', () => {
  it('accepts the upstream valid fixture and reads its capabilities', () => {
    const m = parseManifest(upstream('tests__fixtures__manifests__valid.component.json'));
    expect(m.id).toBe('com.greentic.demo.echo');
    expect(capabilitiesOf(m)).toEqual({
      secrets: new Set(['kv_api_token']),
      state: { read: true, write: false, delete: false },
      http: true,
      wasi: { random: true, clocks: true },
    });
  });

  it('rejects the upstream invalid fixture, listing the problems', () => {
    expect(() => parseManifest(upstream('tests__fixtures__manifests__invalid.component.json'))).toThrow(
      expect.objectContaining({
        code: 'GT_COMPONENT_MANIFEST',
        message: expect.stringContaining('/name: must NOT have fewer than 1 characters'),
      }),
    );
  });

  it('rejects text that is not JSON, and ships the upstream schema verbatim', () => {
    expect(() => parseManifest('{nope')).toThrow(expect.objectContaining({ code: 'GT_COMPONENT_MANIFEST' }));
    const shipped = readFileSync(
      new URL('../schemas/component.manifest.schema.json', import.meta.url),
      'utf8',
    );
    expect(shipped).toBe(upstream('schemas__v1__component.manifest.schema.json'));
  });

  it('grants nothing without a manifest', () => {
    expect(capabilitiesOf(undefined)).toBe(NO_CAPABILITIES);
  });

  describe('the x-greentic extension', () => {
    const valid = () => JSON.parse(upstream('tests__fixtures__manifests__valid.component.json'));
    const policy = {
      egress: { domains: ['api.example.com'], protocols: ['https'] },
      deny_on_miss: true,
    };

    it('accepts x-greentic.network next to an upstream manifest and reads it as the network policy', () => {
      const m = parseManifest({ ...valid(), 'x-greentic': { network: policy } });
      expect(manifestNetworkPolicy(m)).toEqual(policy);
      expect(m['x-greentic']).toEqual({ network: policy });
      expect(manifestNetworkPolicy(parseManifest(valid()))).toBeUndefined();
      expect(manifestNetworkPolicy(parseManifest({ ...valid(), 'x-greentic': {} }))).toBeUndefined();
      expect(manifestNetworkPolicy(undefined)).toBeUndefined();
    });

    it('rejects a malformed policy or unknown extension keys, listed with the upstream problems', () => {
      const bad = (extra: object) => () => parseManifest({ ...valid(), ...extra }, 'm.json');
      expect(bad({ 'x-greentic': { network: { egress: {} } } })).toThrow(
        /m\.json is invalid: \/x-greentic\/network: is not a network policy: \/deny_on_miss: is required/,
      );
      expect(bad({ 'x-greentic': { netwrok: policy } })).toThrow(
        /\/x-greentic: must NOT have additional properties "netwrok"/,
      );
      expect(bad({ 'x-greentic': [] })).toThrow(/\/x-greentic: must be object/);
      expect(bad({ name: '', 'x-greentic': { network: { egress: {} } } })).toThrow(
        /\/name: must NOT have fewer than 1 characters; \/x-greentic\/network: is not a network policy/,
      );
      expect(bad({ 'x-other': {} })).toThrow(/\(root\): must NOT have additional properties "x-other"/);
    });

    it('still reads a top-level network (its old place), but not both at once', () => {
      expect(manifestNetworkPolicy(parseManifest({ ...valid(), network: policy }))).toEqual(policy);
      expect(() => parseManifest({ ...valid(), network: { egress: {} } })).toThrow(
        /\/network: is not a network policy/,
      );
      expect(() => parseManifest({ ...valid(), network: policy, 'x-greentic': { network: policy } })).toThrow(
        /the network policy is given twice: keep only "x-greentic"/,
      );
    });
  });
});
