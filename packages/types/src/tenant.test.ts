import { describe, expect, it } from 'vitest';
import { isTypesError, TypesError } from './errors.js';
import {
  canonicalTenantCtx,
  isolationScopeId,
  isolationScopeOf,
  isolationScopeProblem,
  makeIdempotencyKey,
  sameScope,
  scopeOf,
  type TenantCtx,
  teamOf,
  tenantContextOf,
  tenantCtx,
  userOf,
} from './tenant.js';
import { validateTenantCtx } from './validate.js';

/** What upstream `TenantCtx::new(prod, tenant-123).with_team(team-456).with_user(user-789)...` serializes to. */
const UPSTREAM_CTX_JSON = `{"env":"prod","tenant":"tenant-123","tenant_id":"tenant-123","team":"team-456","team_id":"team-456","user":"user-789","user_id":"user-789","trace_id":"trace-abc","correlation_id":"corr-xyz","deadline":{"unix_millis":1700000000000},"attempt":2,"idempotency_key":"key-123"}`;

describe('TenantCtx', () => {
  it('round-trips upstream JSON with legacy duplicates byte for byte', () => {
    const ctx = validateTenantCtx(JSON.parse(UPSTREAM_CTX_JSON));
    expect(JSON.stringify(ctx)).toBe(UPSTREAM_CTX_JSON);
    expect(JSON.stringify(canonicalTenantCtx(ctx))).toBe(UPSTREAM_CTX_JSON);
  });

  it('builds the same JSON as upstream from tenantCtx()', () => {
    const ctx = tenantCtx({
      env: 'prod',
      tenant: 'tenant-123',
      team: 'team-456',
      user: 'user-789',
      attempt: 2,
      deadline: 1_700_000_000_000,
      trace_id: 'trace-abc',
      correlation_id: 'corr-xyz',
      idempotency_key: 'key-123',
    });
    expect(JSON.stringify(ctx)).toBe(UPSTREAM_CTX_JSON);
  });

  it('fills legacy duplicates consistently and omits absent fields', () => {
    const ctx = tenantCtx({ env: 'dev', tenant: 'acme' });
    expect(ctx).toEqual({ env: 'dev', tenant: 'acme', tenant_id: 'acme', attempt: 0 });
    expect(Object.keys(ctx)).toEqual(['env', 'tenant', 'tenant_id', 'attempt']);
    expect(tenantCtx({ env: 'dev', tenant: 'acme', attributes: {} })).not.toHaveProperty('attributes');
  });

  it('keeps attributes, impersonation and session fields', () => {
    const ctx = tenantCtx({
      env: 'dev',
      tenant: 'acme',
      user: 'bob',
      session_id: 's1',
      flow_id: 'main',
      node_id: 'ask',
      provider_id: 'webchat',
      i18n_id: 'en-GB',
      attributes: { region: 'eu' },
      impersonation: { actor_id: 'admin', reason: 'support' },
    });
    expect(ctx.attributes).toEqual({ region: 'eu' });
    expect(ctx.impersonation).toEqual({ actor_id: 'admin', reason: 'support' });
    expect(validateTenantCtx(JSON.parse(JSON.stringify(ctx)))).toEqual(ctx);
  });

  it('rejects bad ids, a negative attempt and a fractional deadline, naming the field', () => {
    expect(() => tenantCtx({ env: 'dev', tenant: 'a b' })).toThrow(/^tenant: must match/);
    expect(() => tenantCtx({ env: '', tenant: 'a' })).toThrow(/^env: must not be empty/);
    expect(() => tenantCtx({ env: 'dev', tenant: 'a', team: 'x/y' })).toThrow(/^team: /);
    expect(() => tenantCtx({ env: 'dev', tenant: 'a', attempt: -1 })).toThrow(TypesError);
    expect(() => tenantCtx({ env: 'dev', tenant: 'a', deadline: 1.5 })).toThrow(/^deadline: /);
    expect(() => tenantCtx({ env: 'dev', tenant: 'a', impersonation: { actor_id: '' } })).toThrow(
      /^impersonation\.actor_id: /,
    );
  });

  it('gives the isolation scope, preferring *_id over legacy fields', () => {
    expect(scopeOf(tenantCtx({ env: 'dev', tenant: 'acme', team: 'ops', user: 'bob' }))).toEqual({
      env: 'dev',
      tenant: 'acme',
      team: 'ops',
      user: 'bob',
    });
    expect(scopeOf(tenantCtx({ env: 'dev', tenant: 'acme' }))).toEqual({ env: 'dev', tenant: 'acme' });
    const legacyOnly = validateTenantCtx({
      env: 'dev',
      tenant: 'acme',
      tenant_id: 'acme',
      team: 'ops',
      attempt: 0,
    });
    expect(teamOf(legacyOnly)).toBe('ops');
    expect(userOf(legacyOnly)).toBeUndefined();
    expect(scopeOf(legacyOnly)).toEqual({ env: 'dev', tenant: 'acme', team: 'ops' });
  });

  it('treats scopes that differ in env, tenant, team or user as different', () => {
    const base = scopeOf(tenantCtx({ env: 'dev', tenant: 'acme', team: 'ops', user: 'bob' }));
    expect(sameScope(base, { ...base })).toBe(true);
    expect(sameScope(base, { ...base, env: 'prod' as TenantCtx['env'] })).toBe(false);
    expect(sameScope(base, { ...base, tenant: 'other' as TenantCtx['tenant'] })).toBe(false);
    const { team: _team, ...noTeam } = base;
    expect(sameScope(base, noTeam)).toBe(false);
    const { user: _user, ...noUser } = base;
    expect(sameScope(base, noUser)).toBe(false);
  });

  it('derives the lightweight TenantContext', () => {
    const ctx = tenantCtx({
      env: 'dev',
      tenant: 'acme',
      team: 'ops',
      session_id: 's',
      attributes: { a: 'b' },
    });
    expect(tenantContextOf(ctx)).toEqual({
      tenant_id: 'acme',
      team_id: 'ops',
      session_id: 's',
      attributes: { a: 'b' },
    });
  });

  it('makes stable 32-hex-digit idempotency keys that fall back to the context correlation id', () => {
    const ctx = validateTenantCtx(JSON.parse(UPSTREAM_CTX_JSON));
    const a = makeIdempotencyKey(ctx, 'flow-1', 'node-1', 'corr-override');
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(makeIdempotencyKey(ctx, 'flow-1', 'node-1', 'corr-override')).toBe(a);
    expect(makeIdempotencyKey(ctx, 'flow-1')).toBe(makeIdempotencyKey(ctx, 'flow-1', undefined, 'corr-xyz'));
    expect(makeIdempotencyKey(ctx, 'flow-2')).not.toBe(makeIdempotencyKey(ctx, 'flow-1'));
  });

  it('hashes "tenant|flow|node|correlation" with FNV-1a 128', () => {
    // Independent computation over the exact input string "a|f||" (no node, no correlation).
    const ctx = tenantCtx({ env: 'dev', tenant: 'a' });
    let h = 0x6c62272e07bb014262b821756295c58dn;
    for (const c of Buffer.from('a|f||')) {
      h ^= BigInt(c);
      h = (h * 0x0000000001000000000000000000013bn) % (1n << 128n);
    }
    expect(makeIdempotencyKey(ctx, 'f')).toBe(h.toString(16).padStart(32, '0'));
  });
});

describe('isolation scope of an untrusted ctx', () => {
  const full = tenantCtx({ env: 'dev', tenant: 'acme', team: 'ops', user: 'bob' });

  function scopeError(ctx: unknown): TypesError {
    try {
      isolationScopeOf(ctx);
    } catch (err) {
      if (isTypesError(err)) return err;
      throw err;
    }
    throw new Error('expected a TypesError, but isolationScopeOf succeeded');
  }

  it('gives the same scope as scopeOf for a valid ctx', () => {
    expect(isolationScopeProblem(full)).toBeUndefined();
    expect(isolationScopeOf(full)).toStrictEqual(scopeOf(full));
    const tenantOnly = tenantCtx({ env: 'dev', tenant: 'acme' });
    expect(isolationScopeOf(tenantOnly)).toStrictEqual({ env: 'dev', tenant: 'acme' });
  });

  it('falls back to the legacy fields when the *_id fields are absent', () => {
    const legacy = { env: 'dev', tenant: 'acme', team: 'ops', user: 'bob', attempt: 0 };
    expect(isolationScopeOf(legacy)).toStrictEqual({ env: 'dev', tenant: 'acme', team: 'ops', user: 'bob' });
    expect(scopeOf(legacy as unknown as TenantCtx)).toStrictEqual(isolationScopeOf(legacy));
  });

  it('rejects a ctx that cannot be a scope, naming the field', () => {
    const { env: _env, ...noEnv } = full;
    const { tenant: _t, tenant_id: _ti, ...noTenant } = full;
    const cases: [unknown, string, RegExp, string][] = [
      [null, '', /^ctx must be a TenantCtx object \(got null\)/, 'type'],
      ['dev', '', /^ctx must be a TenantCtx object \(got "dev"\)/, 'type'],
      [noEnv, '/env', /^ctx\.env is missing; .*tenantCtx\(\{env, tenant, team\?, user\?\}\)/, 'required'],
      [{ ...full, env: 'dev:x' }, '/env', /^ctx\.env "dev:x" is not a valid identifier/, 'pattern'],
      [{ ...full, env: 7 }, '/env', /^ctx\.env 7 is not a valid identifier/, 'pattern'],
      [noTenant, '/tenant_id', /^ctx\.tenant_id is missing; /, 'required'],
      [{ ...full, tenant: '', tenant_id: '' }, '/tenant_id', /^ctx\.tenant_id "" is not a valid/, 'pattern'],
      [{ ...full, tenant: 'a:b', tenant_id: 'a:b' }, '/tenant_id', /^ctx\.tenant_id "a:b" is not/, 'pattern'],
      [{ ...full, team: 'x y', team_id: 'x y' }, '/team_id', /^ctx\.team_id "x y" is not/, 'pattern'],
      [{ ...noTenant, tenant: 'a b' }, '/tenant', /^ctx\.tenant "a b" is not/, 'pattern'],
      [
        { ...full, user: 'eve' },
        '/user',
        /^ctx\.user "eve" differs from ctx\.user_id "bob"; the legacy field must duplicate user_id/,
        'consistency',
      ],
      [
        { ...full, tenant: 'other' },
        '/tenant',
        /^ctx\.tenant "other" differs from ctx\.tenant_id/,
        'consistency',
      ],
      [
        { ...full, team: 'sales' },
        '/team',
        /^ctx\.team "sales" differs from ctx\.team_id "ops"/,
        'consistency',
      ],
    ];
    for (const [ctx, pointer, message, keyword] of cases) {
      const problem = isolationScopeProblem(ctx);
      expect(problem).toMatchObject({ pointer, keyword });
      const err = scopeError(ctx);
      expect(err.code).toBe('GT_TYPES_INVALID');
      expect(err.field).toBe(pointer);
      expect(err.issues).toStrictEqual([problem]);
      expect(err.message).toMatch(message);
    }
  });

  it('builds ids that tell every distinct scope apart', () => {
    const id = (init: { team?: string; user?: string; env?: string }) =>
      isolationScopeId(isolationScopeOf(tenantCtx({ env: init.env ?? 'dev', tenant: 'acme', ...init })));
    expect(id({})).toBe('dev:acme::');
    expect(id({ team: 'ops', user: 'bob' })).toBe('dev:acme:ops:bob');
    const ids = [
      id({}),
      id({ team: '-' }),
      id({ user: '-' }),
      id({ team: 'a' }),
      id({ user: 'a' }),
      id({ team: 'a', user: 'a' }),
      id({ env: 'prod' }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});
