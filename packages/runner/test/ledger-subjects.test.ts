import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngressLedger, MemoryIngressLedger, RedisIngressLedger } from '../src/bus/ledger.js';
import {
  conversationKey,
  dlqSubject,
  egressSubject,
  ingressFilter,
  ingressSubject,
  sanitizeToken,
  subjectParts,
} from '../src/bus/subjects.js';
import { cleanup, isolated, REDIS_URL, sleep, textMessage, uniq } from './helpers.js';

describe('NATS subjects', () => {
  it('sanitises tokens as upstream: space, *, >, / and . become -', () => {
    expect(sanitizeToken('acme corp')).toBe('acme-corp');
    expect(sanitizeToken('a*b>c/d.e')).toBe('a-b-c-d-e');
    expect(sanitizeToken('tab\there')).toBe('tab-here');
    expect(sanitizeToken(undefined)).toBe('_');
    expect(sanitizeToken('')).toBe('_');
    expect(sanitizeToken('team-1_ok')).toBe('team-1_ok');
  });

  it('builds ingress, egress and dead-letter subjects; an absent team is _', () => {
    const parts = { env: 'prod', tenant: 'acme', channel: 'slack' };
    expect(ingressSubject('greentic.messaging', parts)).toBe('greentic.messaging.ingress.prod.acme._.slack');
    expect(egressSubject('greentic.messaging', { ...parts, team: 'ops team' })).toBe(
      'greentic.messaging.egress.prod.acme.ops-team.slack',
    );
    expect(dlqSubject('greentic.messaging.dlq', 'prod', 'ac.me')).toBe('greentic.messaging.dlq.prod.ac-me');
    expect(ingressFilter('greentic.messaging', 'prod')).toBe('greentic.messaging.ingress.prod.>');
    expect(ingressFilter('greentic.messaging', 'prod', 'acme')).toBe(
      'greentic.messaging.ingress.prod.acme.>',
    );
  });

  it('takes the parts from an envelope and keys conversations as the engine scopes them', () => {
    const m = textMessage('m1', 'conv-1', 'hi', { tenant: 'acme', user: 'u9', channel: 'telegram' });
    expect(subjectParts(m)).toEqual({ env: 'test', tenant: 'acme', team: undefined, channel: 'telegram' });
    const other = textMessage('m2', 'conv-1', 'hi', { tenant: 'acme', user: 'u10', channel: 'telegram' });
    expect(conversationKey(m)).not.toBe(conversationKey(other));
    expect(conversationKey(m)).toBe(conversationKey(textMessage('m3', 'conv-1', 'yo', { user: 'u9' })));
  });
});

function ledgerContract(name: string, make: () => Promise<{ ledger: IngressLedger; keys: string }>) {
  describe(`IngressLedger: ${name}`, () => {
    const opts = { dedupeTtlMs: 60_000, seqTtlMs: 60_000 };

    it('numbers each conversation from 1, independently', async () => {
      const { ledger, keys } = await make();
      expect((await ledger.claim(undefined, `${keys}:seq:a`, opts)).seq).toBe(1);
      expect((await ledger.claim(undefined, `${keys}:seq:a`, opts)).seq).toBe(2);
      expect((await ledger.claim(undefined, `${keys}:seq:b`, opts)).seq).toBe(1);
    });

    it('gives a provider message id its first number back, not fresh', async () => {
      const { ledger, keys } = await make();
      const first = await ledger.claim(`${keys}:id:upd-7`, `${keys}:seq:c`, opts);
      expect(first).toMatchObject({ fresh: true, seq: 1 });
      const again = await ledger.claim(`${keys}:id:upd-7`, `${keys}:seq:c`, opts);
      expect(again).toMatchObject({ fresh: false, seq: 1, claimedAt: first.claimedAt });
      // the retry took no number
      expect((await ledger.claim(`${keys}:id:upd-8`, `${keys}:seq:c`, opts)).seq).toBe(2);
    });

    it('forgets a provider id after its TTL', async () => {
      const { ledger, keys } = await make();
      const short = { dedupeTtlMs: 50, seqTtlMs: 60_000 };
      await ledger.claim(`${keys}:id:x`, `${keys}:seq:d`, short);
      await sleep(120);
      expect((await ledger.claim(`${keys}:id:x`, `${keys}:seq:d`, short)).fresh).toBe(true);
    });

    it('hands out distinct numbers to concurrent claims', async () => {
      const { ledger, keys } = await make();
      const seqs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ledger.claim(`${keys}:id:p${i}`, `${keys}:seq:e`, opts)),
      );
      expect(new Set(seqs.map((s) => s.seq)).size).toBe(50);
      expect(Math.max(...seqs.map((s) => s.seq))).toBe(50);
    });
  });
}

ledgerContract('memory', async () => ({ ledger: new MemoryIngressLedger(), keys: uniq('k') }));

const id = uniq('ledger');
let redis: Redis;
beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
  await cleanup(id);
});
ledgerContract('redis', async () => ({
  ledger: new RedisIngressLedger(redis, false),
  keys: `${isolated(id).namespace}:${uniq('k')}`,
}));
