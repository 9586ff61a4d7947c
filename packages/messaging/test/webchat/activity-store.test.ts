import { describe, expect, it } from 'vitest';
import { MemoryActivityStore } from '../../src/webchat/index.js';
import { activityStoreContract } from '../../src/webchat/testing/index.js';
import { manualClock } from './helpers.js';

activityStoreContract('memory', () => new MemoryActivityStore());

describe('MemoryActivityStore bounds', () => {
  const msg = (conv: string, text: string) => ({
    type: 'message',
    timestamp: '2030-01-01T00:00:00.000Z',
    channelId: 'webchat',
    conversation: { id: conv },
    from: { id: 'u', role: 'user' as const },
    text,
  });

  it('forgets the least recently active conversation beyond maxConversations', async () => {
    const store = new MemoryActivityStore({ maxConversations: 2 });
    await store.createConversation('a');
    await store.createConversation('b');
    await store.append('a', msg('a', 'keeps a active'));
    await store.createConversation('c');
    expect(await store.getConversation('b')).toBeUndefined();
    expect(await store.getConversation('a')).toBeDefined();
    expect(store.size).toBe(2);
  });

  it('forgets a conversation idle for longer than conversationTtlMs', async () => {
    const clock = manualClock();
    const store = new MemoryActivityStore({ conversationTtlMs: 60_000, now: clock.now });
    await store.createConversation('a');
    clock.advance(59);
    await store.append('a', msg('a', 'still here'));
    clock.advance(59);
    expect(await store.getConversation('a')).toBeDefined();
    clock.advance(2);
    expect(await store.getConversation('a')).toBeUndefined();
    expect(await store.list('a')).toBeUndefined();
  });

  it('keeps a bounded number of idempotency keys', async () => {
    const store = new MemoryActivityStore({ historyLimit: 2, keyLimit: 2 });
    await store.createConversation('a');
    for (const k of ['k1', 'k2', 'k3']) await store.append('a', msg('a', k), { key: k });
    expect((await store.append('a', msg('a', 'again'), { key: 'k3' })).duplicate).toBe(true);
    expect((await store.append('a', msg('a', 'again'), { key: 'k1' })).duplicate).toBe(false);
  });
});
