import { fileURLToPath } from 'node:url';
import { lintFlow, loadFlowFile } from '@greentic/flow';
import { FlowEngine } from '@greentic/runner';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { type ChannelMessageEnvelope, tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';

const flow = loadFlowFile(fileURLToPath(new URL('./flows/qa_demo.ygtc', import.meta.url)));

function conversation() {
  const engine = new FlowEngine({
    sessions: new MemorySessionStore(),
    state: new MemoryStateStore(),
  }).registerFlow(flow);
  const ctx = tenantCtx({ env: 'dev', tenant: 'demo', user: 'u' });
  let n = 0;
  const say = async (text: string) => {
    const msg: ChannelMessageEnvelope = {
      id: `m${++n}`,
      tenant: ctx,
      channel: 'test',
      session_id: 'demo',
      reply_scope: { conversation: 'demo' },
      text,
      metadata: {},
    };
    const r = await engine.handleMessage(msg);
    return { ...r, texts: r.replies.map((x) => x.text ?? '') };
  };
  return { say, engine, ctx };
}

describe('examples/qa-demo', () => {
  it('is a clean flow: no lint findings', () => {
    expect(lintFlow(flow)).toEqual([]);
  });

  it('takes the group branch for a large party and drafts the trip to the email given', async () => {
    const { say } = conversation();
    expect((await say('hi')).texts).toEqual([
      "Hi! I'm the Greentic Travel assistant. A few questions and I'll draft your trip.",
      "What's your name?",
    ]);
    await say('Grace');
    await say('beach');
    await say('7');
    const afterEmail = await say('grace@example.com');
    expect(afterEmail.texts).toEqual([
      "7 travellers — I'll ask our group desk for a discount too.",
      'Shall I draft a beach trip for 7, Grace? (yes/no)',
    ]);
    const done = await say('y');
    expect(done.status).toBe('done');
    expect(done.texts).toEqual([
      'Done, Grace! Your beach itinerary for 7 is on its way to grace@example.com.',
    ]);
    expect(done.trail).toEqual(['confirm', 'drafted', 'remember']);
  });

  it('re-asks on invalid answers and skips the group note for small parties', async () => {
    const { say, engine, ctx } = conversation();
    await say('hi');
    await say('Alan');
    expect((await say('desert')).texts[0]).toMatch(
      /^Please choose one of: Beach, City break, Mountains\.\nWhat kind of trip/,
    );
    await say('city break');
    expect((await say('0')).texts[0]).toMatch(/at least 1/);
    await say('2');
    expect((await say('not-an-email')).texts[0]).toMatch(/valid email/);
    const confirm = await say('skip');
    expect(confirm.texts).toEqual(['Shall I draft a city trip for 2, Alan? (yes/no)']);
    expect((await say('maybe')).texts[0]).toMatch(/yes or no/);
    const done = await say('yes');
    expect(done.texts[0]).toMatch(/^Done, Alan! Here is your city itinerary for 2/);
    const stored = await engine.conversationState(ctx, { conversation: 'demo' });
    expect(stored).toMatchObject({
      name: 'Alan',
      trip_type: 'city',
      party_size: 2,
      email: null,
      confirmed: true,
      last_trip: 'city',
    });
  });

  it('cancels when the user says no', async () => {
    const { say } = conversation();
    for (const t of ['hi', 'Kim', '1', '1', 'skip']) await say(t);
    const r = await say('no');
    expect(r.texts).toEqual(['No problem, Kim — nothing was booked. Say hi to start again.']);
  });
});
