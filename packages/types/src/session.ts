import { createHash } from 'node:crypto';
import type { FlowId, PackId } from './ids.js';
import type { TenantCtx } from './tenant.js';

/** Key of a persisted session. Upstream `SessionKey` is a transparent string with no validation. */
export type SessionKey = string;

export const DEFAULT_CANONICAL_ANCHOR = 'conversation';
export const DEFAULT_CANONICAL_USER = 'user';

/**
 * The canonical session key `{tenant}:{provider}:{anchor}:{user}` (upstream `canonical_session_key`).
 * `anchor` defaults to `conversation` and `user` to `user`. No escaping is applied, as upstream.
 */
export function canonicalSessionKey(
  tenant: string,
  provider: string,
  anchor?: string,
  user?: string,
): SessionKey {
  return `${tenant}:${provider}:${anchor ?? DEFAULT_CANONICAL_ANCHOR}:${user ?? DEFAULT_CANONICAL_USER}`;
}

/** Where a session stands in a flow graph (upstream `SessionCursor`). */
export interface SessionCursor {
  node_pointer: string;
  wait_reason?: string;
  outbox_marker?: string;
}

/** Persisted session payload describing how to resume a flow (upstream `SessionData`). */
export interface SessionData {
  tenant_ctx: TenantCtx;
  flow_id: FlowId;
  pack_id?: PackId;
  cursor: SessionCursor;
  /** Serialized execution context/state snapshot (a JSON string, not an object). */
  context_json: string;
}

/** Where a reply is anchored: conversation, thread, reply-to and correlation (upstream `ReplyScope`). */
export interface ReplyScope {
  conversation: string;
  thread?: string;
  reply_to?: string;
  correlation?: string;
}

/** The canonical text that {@link replyScopeHash} hashes: the four fields joined by `\n`, missing ones empty. */
export function replyScopeCanonical(scope: ReplyScope): string {
  return [scope.conversation, scope.thread ?? '', scope.reply_to ?? '', scope.correlation ?? ''].join('\n');
}

/**
 * Deterministic hash of a reply scope, equal to upstream `ReplyScope::scope_hash`: lowercase hex SHA-256 of
 * `conversation\nthread\nreply_to\ncorrelation` (UTF-8), missing fields as empty strings.
 */
export function replyScopeHash(scope: ReplyScope): string {
  return createHash('sha256').update(replyScopeCanonical(scope), 'utf8').digest('hex');
}
