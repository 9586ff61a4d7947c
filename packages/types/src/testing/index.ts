/**
 * Helpers for the contract suites of scoped stores (`@greentic/session/testing`, `@greentic/state/testing`, …):
 * fresh tenants, a store per test, real-time expiry settings, and a check that a call fails with the expected
 * error. Framework-free: they throw plain errors, which every test runner reports.
 */
import { randomUUID } from 'node:crypto';
import { type TenantCtx, tenantCtx } from '../tenant.js';

/** Expiry settings of a contract suite whose backend cannot take a fake clock (Redis, say). */
export interface ExpiryTestOptions {
  /** The short TTL expiry tests use, in ms (default 150). Raise it for a backend with coarse expiry. */
  ttlMs?: number;
  /** How long past `ttlMs` expiry tests wait before expecting an entry to be gone (default 150 ms). */
  slackMs?: number;
}

/** `ttl`: the TTL to set; `pastTtl`: how long to sleep before the entry must be gone. */
export function expiryTimes(opts: ExpiryTestOptions = {}): { ttl: number; pastTtl: number } {
  const ttl = opts.ttlMs ?? 150;
  return { ttl, pastTtl: ttl + (opts.slackMs ?? 150) };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh tenant id, so tests never see each other's data even on a shared backend. */
export const uniqueTenant = (): string => `t-${randomUUID().slice(0, 13)}`;

/** A TenantCtx for tests: `env` defaults to `dev`. */
export function testCtx(init: { env?: string; tenant: string; team?: string; user?: string }): TenantCtx {
  return tenantCtx({ env: init.env ?? 'dev', tenant: init.tenant, team: init.team, user: init.user });
}

/** What a contract test gets: a fresh store, a fresh tenant and a user-level ctx of it. */
export type FreshStoreBody<S> = (store: S, t: { tenant: string; ctx: TenantCtx }) => Promise<void>;

/**
 * A runner of contract tests: each call runs its body with a fresh store from `make`, a fresh tenant and a
 * user-level ctx of it (team `support`, user `alice`), and closes the store afterwards, also when the body fails.
 */
export function freshStoreRunner<S extends { close(): Promise<void> }>(
  make: () => Promise<S>,
): (body: FreshStoreBody<S>) => Promise<void> {
  return async (body) => {
    const store = await make();
    const tenant = uniqueTenant();
    try {
      await body(store, { tenant, ctx: testCtx({ tenant, team: 'support', user: 'alice' }) });
    } finally {
      await store.close();
    }
  };
}

/**
 * Awaits `promise` and returns its rejection when `isExpected` accepts it and its message says something (more
 * than 20 characters: what is wrong and what to do). Throws otherwise, naming `expected` (`a StateError
 * GT_STATE_KEY`) and keeping the actual error as `cause`.
 */
export async function expectRejection<E extends Error>(
  promise: Promise<unknown>,
  isExpected: (error: unknown) => error is E,
  expected: string,
): Promise<E> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected ${expected}, but the call succeeded`);
  const { error } = outcome;
  if (!isExpected(error)) throw new Error(`expected ${expected}, got ${String(error)}`, { cause: error });
  if (error.message.length <= 20) {
    throw new Error(
      `expected ${expected} with a message that says what to do, got ${JSON.stringify(error.message)}`,
      {
        cause: error,
      },
    );
  }
  return error;
}

/**
 * {@link expectRejection} for a package's error catalog: `rejectsWithCode(isStateError, 'StateError')` gives
 * `(promise, code) => Promise<StateError>` that expects a StateError with that code.
 */
export function rejectsWithCode<E extends Error, C extends string>(
  isError: (error: unknown, code?: C) => error is E,
  name: string,
): (promise: Promise<unknown>, code: C) => Promise<E> {
  return (promise, code) => expectRejection(promise, (e): e is E => isError(e, code), `a ${name} ${code}`);
}
