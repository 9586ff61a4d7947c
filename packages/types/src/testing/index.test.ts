import { describe, expect, it } from 'vitest';
import { isValidId } from '../ids.js';
import {
  expectRejection,
  expiryTimes,
  freshStoreRunner,
  rejectsWithCode,
  testCtx,
  uniqueTenant,
} from './index.js';

class CodedError extends Error {
  constructor(readonly code: string) {
    super(`${code}: something went wrong; do the other thing`);
  }
}
const isCoded =
  (code: string) =>
  (e: unknown): e is CodedError =>
    e instanceof CodedError && e.code === code;

describe('contract-suite helpers', () => {
  it('returns the expected rejection', async () => {
    const err = new CodedError('A');
    await expect(expectRejection(Promise.reject(err), isCoded('A'), 'a CodedError A')).resolves.toBe(err);
  });

  it('fails on success, on another error, and on a message too short to help', async () => {
    await expect(expectRejection(Promise.resolve(1), isCoded('A'), 'a CodedError A')).rejects.toThrow(
      'expected a CodedError A, but the call succeeded',
    );
    const other = new CodedError('B');
    const wrong = await expectRejection(Promise.reject(other), isCoded('A'), 'a CodedError A').catch(
      (e: unknown) => e as Error,
    );
    expect(wrong.message).toMatch(/^expected a CodedError A, got /);
    expect(wrong.cause).toBe(other);
    const terse = Object.assign(new CodedError('A'), { message: 'bad' });
    await expect(expectRejection(Promise.reject(terse), isCoded('A'), 'a CodedError A')).rejects.toThrow(
      /message that says what to do, got "bad"/,
    );
  });

  it('expects an error of a catalog with a given code', async () => {
    const isCodedError = (e: unknown, code?: string): e is CodedError =>
      e instanceof CodedError && e.code === code;
    const rejectsWith = rejectsWithCode(isCodedError, 'CodedError');
    const err = new CodedError('A');
    await expect(rejectsWith(Promise.reject(err), 'A')).resolves.toBe(err);
    await expect(rejectsWith(Promise.reject(err), 'B')).rejects.toThrow(/^expected a CodedError B, got /);
  });

  it('gives every call a fresh, valid tenant and a user-level ctx, and closes the store even on failure', async () => {
    const closed: string[] = [];
    const tenants: string[] = [];
    const make = async () => ({ close: async () => void closed.push('closed') });
    const withStore = freshStoreRunner(make);
    await withStore(async (_store, { tenant, ctx }) => {
      tenants.push(tenant);
      expect(ctx).toStrictEqual(testCtx({ tenant, team: 'support', user: 'alice' }));
    });
    const failing = withStore(async (_store, { tenant }) => {
      tenants.push(tenant);
      throw new Error('body failed');
    });
    await expect(failing).rejects.toThrow('body failed');
    expect(closed).toStrictEqual(['closed', 'closed']);
    expect(new Set(tenants).size).toBe(2);
    expect(tenants.every(isValidId)).toBe(true);
    expect(isValidId(uniqueTenant())).toBe(true);
  });

  it('builds test contexts in env dev unless told otherwise', () => {
    expect(testCtx({ tenant: 'acme' })).toMatchObject({ env: 'dev', tenant_id: 'acme' });
    expect(testCtx({ env: 'prod', tenant: 'acme', team: 't' })).toMatchObject({ env: 'prod', team_id: 't' });
  });

  it('defaults expiry tests to a 150 ms TTL and 150 ms of slack', () => {
    expect(expiryTimes()).toStrictEqual({ ttl: 150, pastTtl: 300 });
    expect(expiryTimes({ ttlMs: 1_000, slackMs: 500 })).toStrictEqual({ ttl: 1_000, pastTtl: 1_500 });
  });
});
