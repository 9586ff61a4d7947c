import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalSessionKey, type ReplyScope, replyScopeCanonical, replyScopeHash } from './session.js';
import { validateReplyScope, validateSessionCursor, validateSessionData } from './validate.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('canonicalSessionKey', () => {
  it('joins tenant, provider, anchor and user with colons', () => {
    expect(canonicalSessionKey('tenant', 'webhook', 'room-1', 'user-5')).toBe('tenant:webhook:room-1:user-5');
  });
  it('defaults the anchor to "conversation" and the user to "user"', () => {
    expect(canonicalSessionKey('tenant', 'webhook')).toBe('tenant:webhook:conversation:user');
    expect(canonicalSessionKey('t', 'p', undefined, 'u')).toBe('t:p:conversation:u');
  });
});

describe('replyScopeHash', () => {
  it('matches upstream known answer for a full scope', () => {
    const scope = { conversation: 'chat-1', thread: 'topic-9', reply_to: 'msg-3', correlation: 'cid-7' };
    // value from upstream greentic-types session.rs test `reply_scope_hash_is_deterministic`
    expect(replyScopeHash(scope)).toBe('5251e2c9eb975466809eecbe51be7aa8dc7785ad05cb393a8f47a3a2f42cc544');
    expect(replyScopeHash(scope)).toBe(sha256('chat-1\ntopic-9\nmsg-3\ncid-7'));
  });

  it('hashes missing fields as empty strings, keeping all four positions', () => {
    const scope: ReplyScope = { conversation: 'chat-2', reply_to: 'msg-9' };
    expect(replyScopeCanonical(scope)).toBe('chat-2\n\nmsg-9\n');
    expect(replyScopeHash(scope)).toBe(sha256('chat-2\n\nmsg-9\n'));
    expect(replyScopeHash({ conversation: 'c' })).toBe(sha256('c\n\n\n'));
  });

  it('changes when any field changes and distinguishes field positions', () => {
    const base = { conversation: 'chat-1', thread: 'topic-9', reply_to: 'msg-3', correlation: 'cid-7' };
    expect(replyScopeHash({ ...base, reply_to: 'msg-4' })).not.toBe(replyScopeHash(base));
    expect(replyScopeHash({ conversation: 'c', thread: 'x' })).not.toBe(
      replyScopeHash({ conversation: 'c', reply_to: 'x' }),
    );
  });

  it('hashes UTF-8 text', () => {
    expect(replyScopeHash({ conversation: 'café' })).toBe(sha256('café\n\n\n'));
  });
});

describe('session JSON', () => {
  it('round-trips a ReplyScope without absent options', () => {
    const json = '{"conversation":"chat-2","reply_to":"msg-9"}';
    expect(JSON.stringify(validateReplyScope(JSON.parse(json)))).toBe(json);
  });

  it('round-trips SessionData with and without pack_id', () => {
    const withPack =
      '{"tenant_ctx":{"env":"env","tenant":"tenant","tenant_id":"tenant","attempt":0},"flow_id":"flow-1","pack_id":"greentic.demo.pack","cursor":{"node_pointer":"node-1","wait_reason":"await_reply"},"context_json":"{}"}';
    expect(JSON.stringify(validateSessionData(JSON.parse(withPack)))).toBe(withPack);
    const withoutPack = JSON.parse(withPack);
    delete withoutPack.pack_id;
    expect(validateSessionData(withoutPack)).not.toHaveProperty('pack_id');
  });

  it('rejects SessionData with a bad flow id, a missing cursor or an object context_json', () => {
    const base = {
      tenant_ctx: { env: 'dev', tenant: 't', tenant_id: 't', attempt: 0 },
      flow_id: 'f',
      cursor: { node_pointer: 'n' },
      context_json: '{}',
    };
    expect(() => validateSessionData({ ...base, flow_id: 'a b' })).toThrow(/^\/flow_id: must match/);
    const { cursor: _c, ...noCursor } = base;
    expect(() => validateSessionData(noCursor)).toThrow(/^\/cursor: is required/);
    expect(() => validateSessionData({ ...base, context_json: {} })).toThrow(
      /^\/context_json: must be string/,
    );
    expect(() => validateSessionData({ ...base, tenant_ctx: { ...base.tenant_ctx, env: '' } })).toThrow(
      /^\/tenant_ctx\/env: must not be empty/,
    );
    expect(() => validateSessionCursor({ wait_reason: 'x' })).toThrow(/^\/node_pointer: is required/);
  });
});
