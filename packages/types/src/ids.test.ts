import { describe, expect, it } from 'vitest';
import { TypesError } from './errors.js';
import { ID_KINDS, isValidId, parseEnvId, parseFlowId, parseId, parseNodeId, parseTenantId } from './ids.js';

describe('identifiers', () => {
  it('accepts ASCII letters, digits, dot, underscore and dash', () => {
    for (const value of ['prod', 'tenant-42', 'greentic.demo.pack', 'A_b.C-9', '0', '...']) {
      expect(isValidId(value)).toBe(true);
      for (const kind of ID_KINDS) expect(parseId(kind, value)).toBe(value);
    }
  });

  it('rejects empty strings, spaces, slashes, colons and non-ASCII letters', () => {
    for (const value of ['', 'a b', 'a/b', 'a:b', 'tenant*', 'ünï', 'a\nb', ' ']) {
      expect(isValidId(value)).toBe(false);
      expect(() => parseTenantId(value)).toThrow(TypesError);
    }
  });

  it('rejects non-strings', () => {
    for (const value of [undefined, null, 42, {}, ['a']]) expect(isValidId(value)).toBe(false);
    expect(() => parseEnvId(42)).toThrow('env: must be a string (got 42)');
  });

  it('throws GT_TYPES_BAD_ID naming the default field and showing the value', () => {
    try {
      parseTenantId('a b');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TypesError);
      const e = err as TypesError;
      expect(e.code).toBe('GT_TYPES_BAD_ID');
      expect(e.field).toBe('tenant_id');
      expect(e.message).toBe('tenant_id: must match [A-Za-z0-9._-]+ (got "a b") (not a valid TenantId)');
    }
  });

  it('names the caller-given field and says when a value is empty', () => {
    expect(() => parseFlowId('', 'flows[2].id')).toThrow('flows[2].id: must not be empty');
    expect(() => parseNodeId('x y')).toThrow(/^node_id: /);
  });
});
