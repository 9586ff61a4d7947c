import { describe, expect, it } from 'vitest';
import { isTypesError, type TypesError } from './errors.js';
import { SCHEMAS } from './schemas.js';
import { check, checkTenantCtx, formatIssues, validate, validateTenantCtx } from './validate.js';

const ctx = { env: 'dev', tenant: 'acme', tenant_id: 'acme', attempt: 0 };

describe('validators', () => {
  it('returns the input itself, typed, and keeps unknown fields (upstream ignores them)', () => {
    const input = { ...ctx, future_field: { x: 1 } };
    expect(validateTenantCtx(input)).toBe(input);
  });

  it('rejects non-objects at the root', () => {
    for (const input of [null, 'x', 42, [], undefined]) {
      expect(() => validateTenantCtx(input)).toThrow(/^\(root\): must be object/);
    }
  });

  it('rejects each bad TenantCtx field with its pointer', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...ctx, env: 'a b' }, '/env: must match [A-Za-z0-9._-]+ (got "a b")'],
      [{ ...ctx, env: undefined }, '/env: is required'],
      [{ ...ctx, tenant_id: '' }, '/tenant_id: must not be empty'],
      [{ ...ctx, team_id: 'a/b', team: 'a/b' }, '/team: must match'],
      [{ ...ctx, user_id: 5 }, '/user_id: must be string (got 5)'],
      [{ ...ctx, attempt: 1.5 }, '/attempt: must be integer (got 1.5)'],
      [{ ...ctx, attempt: 2 ** 32 }, '/attempt: must be <= 4294967295'],
      [{ ...ctx, attributes: { a: 1 } }, '/attributes/a: must be string (got 1)'],
      [{ ...ctx, deadline: { unix_ms: 1 } }, '/deadline/unix_millis: is required'],
      [{ ...ctx, deadline: 5 }, '/deadline: must be object (got 5)'],
      [{ ...ctx, impersonation: { actor_id: 'a b' } }, '/impersonation/actor_id: must match'],
      [{ ...ctx, session_id: null }, '/session_id: must be string (got null)'],
      [{ ...ctx, tenant: 'other' }, '/tenant: must equal tenant_id "acme"'],
      [{ ...ctx, user: 'a', user_id: 'b' }, '/user: must equal user_id "b"'],
    ];
    for (const [input, expected] of cases) {
      let thrown: unknown;
      try {
        validateTenantCtx(input);
      } catch (err) {
        thrown = err;
      }
      expect(isTypesError(thrown, 'GT_TYPES_INVALID'), JSON.stringify(input)).toBe(true);
      expect((thrown as TypesError).message.startsWith(expected), (thrown as TypesError).message).toBe(true);
      expect((thrown as TypesError).field).toBe(expected.split(':')[0]);
    }
  });

  it('escapes pointer tokens of odd keys', () => {
    const result = checkTenantCtx({ ...ctx, attributes: { 'a/b': 1, 'm~n': 2 } });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors.map((e) => e.pointer)).toEqual(['/attributes/a~1b', '/attributes/m~0n']);
  });

  it('lists every problem and counts the extra ones in the message', () => {
    try {
      validateTenantCtx({ env: '', attempt: -1 });
      expect.unreachable();
    } catch (err) {
      const e = err as TypesError;
      expect(e.issues.length).toBe(4);
      expect(e.message).toMatch(/\(invalid TenantCtx; 3 more problems\)$/);
    }
  });

  it('validates by schema name and exposes the schemas', () => {
    expect(validate('ReplyScope', { conversation: 'c' })).toEqual({ conversation: 'c' });
    expect(check('Limits', { memory_mb: 1, wall_time_ms: 2 }).ok).toBe(true);
    expect(Object.keys(SCHEMAS)).toContain('ChannelMessageEnvelope');
    expect(SCHEMAS.TenantCtx.required).toEqual(['env', 'tenant', 'tenant_id', 'attempt']);
    expect(Object.isFrozen(SCHEMAS.TenantCtx)).toBe(true);
  });

  it('formats an empty issue list without crashing', () => {
    expect(formatIssues('X', [])).toBe('invalid X');
  });
});
