import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capabilitiesOf, NO_CAPABILITIES, parseManifest } from './manifest.js';

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
});
