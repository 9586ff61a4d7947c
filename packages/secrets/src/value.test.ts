import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSecretsError } from './errors.js';
import { REDACTED, SecretValue, toSecretValue } from './value.js';

const CANARY = 'hunter2-CANARY-4b1d';

describe('SecretValue', () => {
  it('redacts every rendering', () => {
    const v = SecretValue.text(CANARY);
    const renderings = [
      String(v),
      `${v}`,
      JSON.stringify(v),
      JSON.stringify({ nested: { v } }),
      inspect(v),
      inspect({ deep: [v] }, { depth: 10, showHidden: true }),
      format('%s %o %O %j', v, v, v, v),
      JSON.stringify(structuredClone(v)),
      Object.keys(v).join(','),
      JSON.stringify(Object.entries(v)),
    ];
    for (const r of renderings) expect(r).not.toContain(CANARY);
    expect(String(v)).toBe(REDACTED);
    expect(inspect(v)).toBe(`SecretValue(text, ${CANARY.length} bytes) [redacted]`);
  });

  it('reveals only on request', () => {
    expect(SecretValue.text(CANARY).revealText()).toBe(CANARY);
    expect(SecretValue.json({ a: 1 }).revealJson()).toEqual({ a: 1 });
    expect(SecretValue.bytes(new Uint8Array([1, 2])).revealBase64()).toBe('AQI=');
  });

  it('reveal() returns a copy', () => {
    const v = SecretValue.text('abc');
    v.reveal().fill(0);
    expect(v.revealText()).toBe('abc');
  });

  it('compares in constant time, format included', () => {
    expect(SecretValue.text('a').equals(SecretValue.text('a'))).toBe(true);
    expect(SecretValue.text('a').equals(SecretValue.text('b'))).toBe(false);
    expect(SecretValue.text('{}').equals(SecretValue.json({}))).toBe(false);
  });

  it('rejects a json value that does not parse, without quoting it', () => {
    try {
      SecretValue.parse(`{"token": ${CANARY}}`, 'json');
      expect.unreachable();
    } catch (e) {
      expect(isSecretsError(e, 'GT_SECRETS_INVALID')).toBe(true);
      expect((e as Error).message).not.toContain(CANARY);
      expect((e as Error).message).toContain('not valid JSON');
      expect((e as Error).cause).toBeUndefined();
    }
  });

  it('rejects bad base64 and non-UTF-8 text, without quoting them', () => {
    for (const f of [
      () => SecretValue.parse(`${CANARY}!!`, 'bytes'),
      () => SecretValue.fromBytes(new Uint8Array([0xff, 0xfe]), 'text'),
    ]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isSecretsError(e, 'GT_SECRETS_INVALID')).toBe(true);
        expect((e as Error).message).not.toContain(CANARY);
      }
    }
  });

  it('toSecretValue picks formats from the input type', () => {
    expect(toSecretValue('x').format).toBe('text');
    expect(toSecretValue(new Uint8Array([1])).format).toBe('bytes');
    expect(toSecretValue('{"a":1}', 'json').format).toBe('json');
    expect(toSecretValue(SecretValue.text('{}'), 'json').format).toBe('json');
  });
});
