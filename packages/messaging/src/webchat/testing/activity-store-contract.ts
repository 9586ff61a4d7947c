/**
 * The behaviour every {@link ActivityStore} backend must have, as a vitest suite.
 *
 * ```ts
 * activityStoreContract('redis', async () => RedisActivityStore.connect(url, { namespace: uniq() }));
 * ```
 *
 * `make` is called once per test and the store is closed at the end of it. Every test uses fresh random
 * conversation ids, so stores may share one backend.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMessagingError } from '../../errors.js';
import type { NewActivity } from '../activity.js';
import type { ActivitySet, ActivityStore } from '../store.js';

function message(conversationId: string, text: string, from = 'user-1'): NewActivity {
  return {
    type: 'message',
    timestamp: new Date(0).toISOString(),
    channelId: 'webchat',
    conversation: { id: conversationId },
    from: { id: from, role: 'user' },
    text,
  };
}

export function activityStoreContract(
  name: string,
  make: () => Promise<ActivityStore> | ActivityStore,
): void {
  const withStore = (fn: (store: ActivityStore, conv: string) => Promise<void>) => async () => {
    const store = await make();
    try {
      await fn(store, `c-${randomUUID()}`);
    } finally {
      await store.close?.();
    }
  };

  describe(`ActivityStore contract: ${name}`, () => {
    it(
      'creates a conversation once and returns the same one again',
      withStore(async (store, conv) => {
        const a = await store.createConversation(conv, { userId: 'dl_u1' });
        const b = await store.createConversation(conv, { userId: 'someone-else' });
        expect(a).toMatchObject({ id: conv, userId: 'dl_u1' });
        expect(b).toEqual(a);
        expect(await store.getConversation(conv)).toEqual(a);
        expect(await store.getConversation(`${conv}-other`)).toBeUndefined();
      }),
    );

    it(
      'gives activities increasing watermarks and ids <conversation>|<7 digits>',
      withStore(async (store, conv) => {
        await store.createConversation(conv);
        const r1 = await store.append(conv, message(conv, 'one'));
        const r2 = await store.append(conv, message(conv, 'two'));
        expect(r1).toMatchObject({
          watermark: 1,
          duplicate: false,
          activity: { id: `${conv}|0000001`, text: 'one' },
        });
        expect(r2).toMatchObject({ watermark: 2, activity: { id: `${conv}|0000002` } });
      }),
    );

    it(
      'lists the activities after a watermark, oldest first, with the watermark to continue from',
      withStore(async (store, conv) => {
        await store.createConversation(conv);
        for (const t of ['a', 'b', 'c']) await store.append(conv, message(conv, t));
        const all = await store.list(conv);
        expect(all?.activities.map((a) => a.text)).toEqual(['a', 'b', 'c']);
        expect(all?.watermark).toBe(3);
        const after1 = await store.list(conv, 1);
        expect(after1?.activities.map((a) => a.text)).toEqual(['b', 'c']);
        const page = await store.list(conv, 0, 2);
        expect(page).toMatchObject({ watermark: 2 });
        expect(page?.activities.map((a) => a.text)).toEqual(['a', 'b']);
        const none = await store.list(conv, 3);
        expect(none).toEqual({ activities: [], watermark: 3 });
      }),
    );

    it(
      'answers undefined when listing an unknown conversation and refuses to append to it',
      withStore(async (store, conv) => {
        expect(await store.list(conv)).toBeUndefined();
        const err = await store.append(conv, message(conv, 'x')).catch((e: unknown) => e);
        expect(isMessagingError(err, 'GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND')).toBe(true);
      }),
    );

    it(
      'appends once per key: a repeated key returns the first activity as a duplicate',
      withStore(async (store, conv) => {
        await store.createConversation(conv);
        const first = await store.append(conv, message(conv, 'hello'), { key: 'reply:1' });
        const again = await store.append(conv, message(conv, 'hello again'), { key: 'reply:1' });
        expect(again).toEqual({ ...first, duplicate: true });
        expect((await store.list(conv))?.activities).toHaveLength(1);
      }),
    );

    it(
      'keeps conversations apart',
      withStore(async (store, conv) => {
        const other = `${conv}-b`;
        await store.createConversation(conv);
        await store.createConversation(other);
        await store.append(conv, message(conv, 'for A'));
        await store.append(other, message(other, 'for B'));
        expect((await store.list(conv))?.activities.map((a) => a.text)).toEqual(['for A']);
        expect((await store.list(other))?.activities.map((a) => a.text)).toEqual(['for B']);
        expect((await store.list(other))?.activities[0]?.id).toBe(`${other}|0000001`);
      }),
    );

    it(
      'tells subscribers of a conversation about each new activity until they unsubscribe',
      withStore(async (store, conv) => {
        await store.createConversation(conv);
        const other = `${conv}-b`;
        await store.createConversation(other);
        const seen: ActivitySet[] = [];
        const stop = store.subscribe(conv, (set) => seen.push(set));
        await store.append(conv, message(conv, 'one'));
        await store.append(other, message(other, 'elsewhere'));
        await store.append(conv, message(conv, 'two'), { key: 'k' });
        await store.append(conv, message(conv, 'two again'), { key: 'k' });
        await waitFor(() => seen.length >= 2);
        stop();
        await store.append(conv, message(conv, 'three'));
        await new Promise((r) => setTimeout(r, 20));
        expect(seen.map((s) => [s.watermark, s.activities.map((a) => a.text)])).toEqual([
          [1, ['one']],
          [2, ['two']],
        ]);
      }),
    );

    it(
      'returns copies: changing a returned activity does not change the stored one',
      withStore(async (store, conv) => {
        await store.createConversation(conv);
        const r = await store.append(conv, message(conv, 'original'));
        r.activity.text = 'changed';
        const listed = await store.list(conv);
        if (listed?.activities[0]) listed.activities[0].text = 'changed too';
        expect((await store.list(conv))?.activities[0]?.text).toBe('original');
      }),
    );
  });
}

async function waitFor(check: () => boolean, ms = 2000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the subscriber');
    await new Promise((r) => setTimeout(r, 5));
  }
}
