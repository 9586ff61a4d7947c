import type { JsonValue, StateKey, TenantCtx } from '@greentic/types';

/** A JSON value, as stored and returned by a {@link StateStore} (the `JsonValue` of `@greentic/types`). */
export type { JsonValue };

export interface StateGetOptions {
  /**
   * RFC 6901 JSON pointer into the document (`/user/name`, `/items/0`, `~1` for `/`, `~0` for `~`). `""` and `"/"`
   * (upstream's spelling) both mean the whole document. Empty member names cannot be addressed.
   */
  path?: string;
}

export interface StateSetOptions {
  /**
   * Where to write inside the document (see {@link StateGetOptions.path}). Missing objects on the way are
   * created; writing through a string, number, boolean or null fails with `GT_STATE_PATH`. On an array a
   * segment is an index (`0`, `12`: replace) or `-` / the array's length (append).
   */
  path?: string;
  /** Omitted: keep the document's current TTL (none for a new one). `0`: never expire. `n`: expire `n` ms from now. */
  ttlMs?: number;
}

export interface StateDeleteOptions {
  /** Delete only this member/element (arrays close the gap); omitted, `""` or `"/"`: delete the whole document. */
  path?: string;
}

/**
 * Scoped JSON documents with JSON-pointer reads and writes (upstream `greentic-state`).
 *
 * **Scope.** Documents live under the ctx's `env`, `tenant_id`, `team_id` and `user_id` and then a `prefix`
 * (a namespace such as `pack/{pack}/flow/{flow}/run/{run}`) and a `key`. There are three levels:
 * - *tenant-level*: ctx without team (and without user);
 * - *team-level*: ctx with a team but no user;
 * - *user-level*: ctx with a user (and usually a team).
 *
 * A call sees only documents of exactly its own {env, tenant, team, user}: levels do not inherit (a user-level
 * ctx does not read team-level state; drop `user_id` from the ctx to do so), and environments never mix.
 * A ctx without `env` or `tenant_id`, or with an invalid identifier, fails with `GT_STATE_SCOPE`.
 *
 * **Names.** Prefixes and keys are 1–512 characters of `/`-separated segments made of
 * `[A-Za-z0-9._~@+=,-]` (keys may also use `:`); no empty, `.` or `..` segment (`GT_STATE_KEY`).
 *
 * **Values** are JSON; anything else fails with `GT_STATE_INVALID`. Object members whose value is `undefined`
 * are dropped, as `JSON.stringify` does. A document nests at most 128 objects/arrays deep, those on a write's
 * path included: a deeper value fails with `GT_STATE_INVALID`, a longer path with `GT_STATE_PATH`. Values are copied in and out: the caller may mutate what it passed or
 * got back.
 *
 * **Atomicity.** Every call is atomic; concurrent pointer writes to one document never lose each other's updates.
 *
 * **Expiry.** An expired document behaves exactly as if deleted.
 */
export interface StateStore {
  /** The document (or the value at `path` in it), or `undefined` when there is none. */
  get(ctx: TenantCtx, prefix: string, key: StateKey, opts?: StateGetOptions): Promise<JsonValue | undefined>;

  /** Writes the document (or the value at `path` in it, creating the document when missing). */
  set(ctx: TenantCtx, prefix: string, key: StateKey, value: unknown, opts?: StateSetOptions): Promise<void>;

  /** Deletes the document (or the value at `path`). True when something was deleted. Keeps the document's TTL. */
  delete(ctx: TenantCtx, prefix: string, key: StateKey, opts?: StateDeleteOptions): Promise<boolean>;

  /**
   * Deletes every document of `prefix` in the ctx's scope, and returns how many. Only that exact prefix:
   * `pack/a` does not touch `pack/a/run/1` or `pack/ab`, nor any other scope.
   */
  deletePrefix(ctx: TenantCtx, prefix: string): Promise<number>;

  /** The keys of `prefix` in the ctx's scope, sorted (UTF-16 code unit order). */
  list(ctx: TenantCtx, prefix: string): Promise<StateKey[]>;

  /** Releases resources (timers, connections). Idempotent; any later call fails with `GT_STATE_CLOSED`. */
  close(): Promise<void>;
}
