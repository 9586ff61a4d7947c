import { describe, expect, it } from 'vitest';
import { TypesError } from './errors.js';
import { type ChannelMessageEnvelope, channelMessage, EXT_KEYS } from './messaging.js';
import { tenantCtx } from './tenant.js';
import { checkChannelMessageEnvelope, validateChannelMessageEnvelope } from './validate.js';

/** Upstream-shaped envelope: metadata always present; unknown extension keys carried as typed JSON. */
const UPSTREAM_ENVELOPE = JSON.stringify({
  id: 'msg-1',
  tenant: {
    env: 'dev',
    tenant: 'acme',
    tenant_id: 'acme',
    team: 'support',
    team_id: 'support',
    user: 'u-42',
    user_id: 'u-42',
    session_id: 'sess-1',
    attempt: 0,
  },
  channel: 'webchat',
  session_id: 'conv-9',
  reply_scope: { conversation: 'conv-9', thread: 't-1' },
  from: { id: 'u-42', kind: 'user' },
  to: [{ id: 'team:chan', kind: 'channel' }, { id: 'bot' }],
  correlation_id: 'corr-1',
  text: 'hello',
  attachments: [
    { mime_type: 'image/png', url: 'https://example.com/a.png', name: 'a.png', size_bytes: 1234 },
  ],
  metadata: { locale: 'en' },
  extensions: {
    adaptive_card: { type: 'AdaptiveCard', version: '1.5', body: [] },
    channel_data: { clientActivityID: 'abc' },
    'x-vendor.future': { nested: [1, { deep: true }], n: null },
    speak: 'Hello',
  },
});

describe('ChannelMessageEnvelope', () => {
  it('round-trips upstream JSON byte for byte, keeping unknown extension keys', () => {
    const env = validateChannelMessageEnvelope(JSON.parse(UPSTREAM_ENVELOPE));
    expect(JSON.stringify(env)).toBe(UPSTREAM_ENVELOPE);
    expect(env.extensions?.['x-vendor.future']).toEqual({ nested: [1, { deep: true }], n: null });
    expect(env.extensions?.[EXT_KEYS.ADAPTIVE_CARD]).toMatchObject({ type: 'AdaptiveCard' });
  });

  it('accepts the minimal upstream form where empty to/attachments/extensions are omitted', () => {
    const json =
      '{"id":"m","tenant":{"env":"dev","tenant":"t","tenant_id":"t","attempt":0},"channel":"slack","session_id":"c","metadata":{}}';
    expect(JSON.stringify(validateChannelMessageEnvelope(JSON.parse(json)))).toBe(json);
    const noMetadata = JSON.parse(json);
    delete noMetadata.metadata;
    expect(validateChannelMessageEnvelope(noMetadata)).not.toHaveProperty('metadata');
  });

  it('builds the same shape as upstream serializes', () => {
    const env = channelMessage({
      id: 'm',
      tenant: tenantCtx({ env: 'dev', tenant: 't' }),
      channel: 'slack',
      session_id: 'c',
      to: [],
      attachments: [],
      extensions: {},
    });
    expect(JSON.stringify(env)).toBe(
      '{"id":"m","tenant":{"env":"dev","tenant":"t","tenant_id":"t","attempt":0},"channel":"slack","session_id":"c","metadata":{}}',
    );
    const full: ChannelMessageEnvelope = channelMessage({
      ...validateChannelMessageEnvelope(JSON.parse(UPSTREAM_ENVELOPE)),
    });
    expect(JSON.stringify(full)).toBe(UPSTREAM_ENVELOPE);
  });

  it('names the exact pointer of a bad tenant id', () => {
    const bad = JSON.parse(UPSTREAM_ENVELOPE);
    bad.tenant.tenant_id = 'a b';
    bad.tenant.tenant = 'a b';
    try {
      validateChannelMessageEnvelope(bad);
      expect.unreachable();
    } catch (err) {
      const e = err as TypesError;
      expect(e).toBeInstanceOf(TypesError);
      expect(e.code).toBe('GT_TYPES_INVALID');
      expect(e.issues.map((i) => i.pointer)).toEqual(['/tenant/tenant', '/tenant/tenant_id']);
      expect(e.issues[1]?.message).toBe('must match [A-Za-z0-9._-]+ (got "a b")');
      expect(e.field).toBe('/tenant/tenant');
    }
  });

  it('reports a missing env inside the tenant', () => {
    const bad = JSON.parse(UPSTREAM_ENVELOPE);
    delete bad.tenant.env;
    expect(() => validateChannelMessageEnvelope(bad)).toThrow(/^\/tenant\/env: is required/);
  });

  it('rejects a tenant whose legacy duplicate disagrees', () => {
    const bad = JSON.parse(UPSTREAM_ENVELOPE);
    bad.tenant.team = 'sales';
    expect(() => validateChannelMessageEnvelope(bad)).toThrow(
      '/tenant/team: must equal team_id "support": it is its legacy duplicate (got "sales")',
    );
  });

  it('rejects bad destinations, actors, attachments, metadata and extensions with their pointers', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the cases mutate parsed JSON freely
    const cases: [(env: Record<string, any>) => void, RegExp][] = [
      [(e) => (e.to = [{ kind: 'user' }]), /^\/to\/0\/id: is required/],
      [(e) => (e.to = { id: 'x' }), /^\/to: must be array/],
      [(e) => (e.from = { id: 7 }), /^\/from\/id: must be string \(got 7\)/],
      [(e) => (e.attachments = [{ url: 'u' }]), /^\/attachments\/0\/mime_type: is required/],
      [
        (e) => (e.attachments = [{ mime_type: 'text/plain' }]),
        /^\/attachments\/0: must have "url" or "content"/,
      ],
      [(e) => (e.attachments[0].size_bytes = -1), /^\/attachments\/0\/size_bytes: must be >= 0/],
      [(e) => (e.metadata = { n: 1 }), /^\/metadata\/n: must be string \(got 1\)/],
      [(e) => (e.extensions = []), /^\/extensions: must be object/],
      [(e) => (e.reply_scope = { thread: 't' }), /^\/reply_scope\/conversation: is required/],
      [(e) => (e.tenant.attempt = 'x'), /^\/tenant\/attempt: must be integer/],
      [(e) => delete e.session_id, /^\/session_id: is required/],
    ];
    for (const [mutate, expected] of cases) {
      const env = JSON.parse(UPSTREAM_ENVELOPE);
      mutate(env);
      expect(() => validateChannelMessageEnvelope(env)).toThrow(expected);
    }
  });

  it('accepts an inline-content attachment (Greentic-TS extension)', () => {
    const env = JSON.parse(UPSTREAM_ENVELOPE);
    env.attachments = [{ mime_type: 'text/plain', content: 'aGVsbG8=' }];
    expect(validateChannelMessageEnvelope(env).attachments?.[0]?.content).toBe('aGVsbG8=');
  });

  it('returns all issues from the non-throwing variant', () => {
    const result = checkChannelMessageEnvelope({ id: 1, channel: 'x' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.pointer).sort()).toEqual(['/id', '/session_id', '/tenant']);
    }
    const ok = checkChannelMessageEnvelope(JSON.parse(UPSTREAM_ENVELOPE));
    expect(ok.ok).toBe(true);
  });
});
