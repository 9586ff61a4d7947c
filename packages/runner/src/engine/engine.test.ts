import { loadFlow } from '@greentic/flow';
import { FunctionComponentRegistry } from '@greentic/interfaces';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { type ChannelMessageEnvelope, tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { type EngineOptions, FlowEngine } from './engine.js';

let seq = 0;
function message(
  text: string,
  o: { tenant?: string; conversation?: string; env?: string; action?: string; channel?: string } = {},
): ChannelMessageEnvelope {
  const conversation = o.conversation ?? 'c1';
  return {
    id: `m${++seq}`,
    tenant: tenantCtx({ env: o.env ?? 'dev', tenant: o.tenant ?? 'acme', user: 'u1' }),
    channel: o.channel ?? 'test',
    session_id: conversation,
    reply_scope: { conversation },
    to: [],
    text,
    attachments: [],
    metadata: o.action ? { action: o.action } : {},
    extensions: {},
  };
}

function engineWith(yamls: string[], extra: Partial<EngineOptions> = {}) {
  const sessions = new MemorySessionStore();
  const state = new MemoryStateStore();
  const engine = new FlowEngine({ sessions, state, ...extra });
  for (const y of yamls) engine.registerFlow(loadFlow(y));
  return { engine, sessions, state };
}

const texts = (r: { replies: { text?: string }[] }) => r.replies.map((x) => x.text);

const QA = `
id: signup
type: messaging
nodes:
  ask:
    questions:
      welcome: "Welcome!"
      questions:
        - { id: name, prompt: "Your name?", answer_type: text, max_words: 3 }
        - { id: age, prompt: "Your age?", answer_type: integer, min: 1, max: 130 }
    routing:
      - to: adult
        condition: state.age >= 18
      - to: minor
  adult:
    template: "Hello {{state.name}}, adult of {{prev.payload.age}}"
    routing: out
  minor:
    template: "Hi {{node.ask.name}}, you are {{state.age}}"
    routing: out
`;

describe('FlowEngine: questions', () => {
  it('sends the welcome and the first prompt, then waits for the answer', async () => {
    const { engine } = engineWith([QA]);
    const r = await engine.handleMessage(message('hi'));
    expect(r.status).toBe('pending');
    expect(texts(r)).toEqual(['Welcome!', 'Your name?']);
    expect(r.sessionKey).toBeTruthy();
  });

  it('resumes on the next message, stores answers in state and branches on them', async () => {
    const { engine } = engineWith([QA]);
    await engine.handleMessage(message('hi'));
    const r1 = await engine.handleMessage(message('Ada'));
    expect(texts(r1)).toEqual(['Your age?']);
    const r2 = await engine.handleMessage(message('36'));
    expect(r2.status).toBe('done');
    expect(texts(r2)).toEqual(['Hello Ada, adult of 36']);
    expect(r2.trail).toEqual(['ask', 'adult']);
  });

  it('re-asks a question when the answer is invalid, and keeps waiting', async () => {
    const { engine } = engineWith([QA]);
    await engine.handleMessage(message('hi'));
    await engine.handleMessage(message('Ada'));
    const bad = await engine.handleMessage(message('very old'));
    expect(bad.status).toBe('pending');
    expect(texts(bad)).toEqual(['Please answer with a number.\nYour age?']);
    const outOfRange = await engine.handleMessage(message('200'));
    expect(texts(outOfRange)[0]).toMatch(/at most 130/);
    const ok = await engine.handleMessage(message('12'));
    expect(texts(ok)).toEqual(['Hi Ada, you are 12']);
  });

  it('enforces max_words', async () => {
    const { engine } = engineWith([QA]);
    await engine.handleMessage(message('hi'));
    const r = await engine.handleMessage(message('one two three four'));
    expect(texts(r)[0]).toMatch(/at most 3 words/);
  });

  it('starts a new run after the flow ended', async () => {
    const { engine } = engineWith([QA]);
    for (const t of ['hi', 'Ada', '36']) await engine.handleMessage(message(t));
    const again = await engine.handleMessage(message('hello again'));
    expect(texts(again)).toEqual(['Welcome!', 'Your name?']);
  });

  it('validates answers against the flow slot_schema too', async () => {
    const { engine } = engineWith([
      `
id: slots
type: messaging
slot_schema:
  - { name: code, slot_type: string, pattern: "^[A-Z]{3}$" }
nodes:
  ask:
    questions:
      questions: [{ id: code, prompt: "Airport code?" }]
    routing:
      - reply: true
`,
    ]);
    await engine.handleMessage(message('hi'));
    const bad = await engine.handleMessage(message('paris'));
    expect(bad.status).toBe('pending');
    const ok = await engine.handleMessage(message('CDG'));
    expect(ok.status).toBe('done');
    expect(ok.replies[0]?.payload).toEqual({ code: 'CDG' });
  });
});

describe('FlowEngine: tenants and conversations', () => {
  it("never resumes another tenant's conversation, even with the same conversation id", async () => {
    const { engine } = engineWith([QA]);
    await engine.handleMessage(message('hi', { tenant: 'acme' }));
    await engine.handleMessage(message('Ada', { tenant: 'acme' }));
    const other = await engine.handleMessage(message('Mallory', { tenant: 'globex' }));
    expect(texts(other)).toEqual(['Welcome!', 'Your name?']);
    const back = await engine.handleMessage(message('40', { tenant: 'acme' }));
    expect(texts(back)).toEqual(['Hello Ada, adult of 40']);
  });

  it('keeps environments apart', async () => {
    const { engine } = engineWith([QA]);
    await engine.handleMessage(message('hi', { env: 'dev' }));
    const prod = await engine.handleMessage(message('Ada', { env: 'prod' }));
    expect(texts(prod)).toEqual(['Welcome!', 'Your name?']);
  });

  it('applies concurrent turns of one conversation one at a time, in arrival order', async () => {
    const { engine } = engineWith([QA]);
    const results = await Promise.all(['hi', 'Ada', '36'].map((t) => engine.handleMessage(message(t))));
    expect(results.map((r) => texts(r))).toEqual([
      ['Welcome!', 'Your name?'],
      ['Your age?'],
      ['Hello Ada, adult of 36'],
    ]);
  });
});

describe('FlowEngine: routing', () => {
  it('ends a turn that loops without waiting with GT_RUNNER_STEP_LIMIT instead of hanging', async () => {
    const { engine } = engineWith(
      [
        `
id: spin
type: messaging
nodes:
  a:
    state.set: { key: n, value: 1 }
    routing: [{ to: b }]
  b:
    state.get: { key: n }
    routing: [{ to: a }]
`,
      ],
      { maxStepsPerTurn: 20 },
    );
    const r = await engine.handleMessage(message('go'));
    expect(r.status).toBe('error');
    expect(r.error?.code).toBe('GT_RUNNER_STEP_LIMIT');
    expect(r.trail).toHaveLength(20);
  });

  it('takes the first matching route', async () => {
    const { engine } = engineWith([
      `
id: first
type: messaging
nodes:
  start:
    emit.response: { text: "x" }
    routing:
      - { to: one, condition: 'in.input.text == "go"' }
      - { to: two, condition: 'in.input.text == "go"' }
      - { to: two }
  one:
    emit.response: { text: "one" }
  two:
    emit.response: { text: "two" }
`,
    ]);
    expect(texts(await engine.handleMessage(message('GO')))).toEqual(['x', 'one']);
    expect(texts(await engine.handleMessage(message('stop', { conversation: 'c2' })))).toEqual(['x', 'two']);
  });

  it('routes card actions through response.action', async () => {
    const { engine } = engineWith([
      `
id: card
type: messaging
nodes:
  wait:
    session.wait: { prompt: "Pick one", reason: card }
    routing:
      - { to: yes, condition: 'response.action == "approve"' }
      - { to: typed, on_message: true, condition: 'response.action == null' }
  yes:
    emit.response: { text: approved }
  typed:
    emit.response: { text: "you typed {{in.input.text}}" }
`,
    ]);
    const first = await engine.handleMessage(message('hi'));
    expect(first.waitReason).toBe('card');
    expect(texts(await engine.handleMessage(message('', { action: 'approve' })))).toEqual(['approved']);
    await engine.handleMessage(message('hi', { conversation: 'c9' }));
    expect(texts(await engine.handleMessage(message('hello', { conversation: 'c9' })))).toEqual([
      'you typed hello',
    ]);
  });

  it('starts at the entrypoint named after the channel', async () => {
    const { engine } = engineWith([
      `
id: eps
type: messaging
entrypoints: { telegram: tg }
nodes:
  web:
    emit.response: { text: web }
  tg:
    emit.response: { text: telegram }
`,
    ]);
    expect(texts(await engine.handleMessage(message('x', { channel: 'telegram' })))).toEqual(['telegram']);
    expect(
      texts(await engine.handleMessage(message('x', { channel: 'webchat', conversation: 'w' }))),
    ).toEqual(['web']);
  });
});

describe('FlowEngine: state', () => {
  it('sets, reads and deletes conversation state, which outlives the run', async () => {
    const { engine } = engineWith([
      `
id: st
type: messaging
nodes:
  read:
    state.get: { key: profile.visits, default: 0 }
    routing: [{ to: bump }]
  bump:
    state.set: { key: profile.visits, value: "{{prev.value}}" }
    routing: [{ to: say }]
  say:
    template: "visits before: {{node.read.value}}"
    routing: out
`,
    ]);
    expect(texts(await engine.handleMessage(message('a')))).toEqual(['visits before: 0']);
    expect(texts(await engine.handleMessage(message('b')))).toEqual(['visits before: 0']);
  });

  it('refuses prototype keys in state paths', async () => {
    const { engine } = engineWith([
      `
id: proto
type: messaging
nodes:
  s:
    state.set: { key: __proto__.polluted, value: yes }
`,
    ]);
    const r = await engine.handleMessage(message('a'));
    expect(r.status).toBe('error');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('FlowEngine: components', () => {
  const FLOW = `
id: comp
type: messaging
nodes:
  call:
    component.exec:
      component: weather
      operation: forecast
      input: { city: "{{in.input.text}}", days: "{{parameters.days}}" }
    routing:
      - { to: ok, status: ok }
      - { to: failed, status: error }
  ok:
    template: "{{prev.city}}: {{prev.summary}}"
    routing: out
  failed:
    template: "sorry: {{prev.error.message}}"
    routing: out
parameters: { days: 3 }
`;

  it('calls a registered component with the rendered, typed input', async () => {
    const seen: unknown[] = [];
    const components = new FunctionComponentRegistry().register('weather', {
      forecast: (input) => {
        seen.push(input);
        return { city: (input as { city: string }).city, summary: 'sunny' };
      },
    });
    const { engine } = engineWith([FLOW], { components });
    const r = await engine.handleMessage(message('Paris'));
    expect(texts(r)).toEqual(['Paris: sunny']);
    expect(seen).toEqual([{ city: 'Paris', days: 3 }]);
  });

  it('follows the status: error route when the component reports an error', async () => {
    const components = new FunctionComponentRegistry().register('weather', {
      forecast: () => ({ Error: { code: 'unavailable', message: 'provider down' } }),
    });
    const { engine } = engineWith([FLOW], { components });
    expect(texts(await engine.handleMessage(message('Paris')))).toEqual(['sorry: provider down']);
  });

  it('fails the turn when an error has no status: error route', async () => {
    const components = new FunctionComponentRegistry().register('billing.api', {
      charge: () => ({ Error: { code: 'internal', message: 'card declined' } }),
    });
    const { engine } = engineWith(
      [
        `
id: pay
type: messaging
nodes:
  charge:
    billing.api.charge: { amount: 5 }
`,
      ],
      { components },
    );
    const r = await engine.handleMessage(message('pay'));
    expect(r.status).toBe('error');
    expect(r.error?.code).toBe('GT_RUNNER_NODE_FAILED');
    expect(r.error?.message).toMatch(/card declined/);
    expect(r.error?.node).toBe('charge');
  });

  it('names the missing component when nothing resolves it', async () => {
    const { engine } = engineWith([FLOW]);
    const r = await engine.handleMessage(message('Paris'));
    expect(r.error?.code).toBe('GT_RUNNER_COMPONENT_NOT_FOUND');
    expect(r.error?.message).toMatch(/weather.*forecast/);
  });

  it('resolves components per tenant', async () => {
    const components = new FunctionComponentRegistry()
      .register('weather', { forecast: () => ({ city: 'x', summary: 'global' }) })
      .register('weather', { forecast: () => ({ city: 'x', summary: 'acme-only' }) }, { tenant: 'acme' });
    const { engine } = engineWith([FLOW], { components });
    expect(texts(await engine.handleMessage(message('x', { tenant: 'acme' })))).toEqual(['x: acme-only']);
    expect(texts(await engine.handleMessage(message('x', { tenant: 'globex' })))).toEqual(['x: global']);
  });

  it('parks on a Pending outcome and calls the component again with the next message', async () => {
    let calls = 0;
    const components = new FunctionComponentRegistry().register('weather', {
      forecast: (_input, env) => {
        calls++;
        if (!env.metadata?.resumed) return { Pending: { reason: 'need confirmation' } };
        return { city: 'Oslo', summary: 'snow' };
      },
    });
    const { engine } = engineWith([FLOW], { components });
    const first = await engine.handleMessage(message('Oslo'));
    expect(first.status).toBe('pending');
    expect(first.waitReason).toBe('need confirmation');
    const second = await engine.handleMessage(message('yes'));
    expect(texts(second)).toEqual(['Oslo: snow']);
    expect(calls).toBe(2);
  });
});

describe('FlowEngine: sub-flows', () => {
  it('runs flow.call to completion, pausing inside the child and returning its output', async () => {
    const { engine } = engineWith([
      `
id: parent
type: messaging
nodes:
  call:
    flow.call: { flow_id: child, input: { greeting: "hello" } }
    routing: [{ to: done }]
  done:
    template: "child said {{prev.answer}}"
    routing: out
`,
      `
id: child
type: messaging
nodes:
  ask:
    questions:
      questions: [{ id: answer, prompt: "{{in.input.greeting}}, what is your answer?" }]
`,
    ]);
    const r1 = await engine.handleMessage(message('start'));
    expect(texts(r1)).toEqual(['hello, what is your answer?']);
    const r2 = await engine.handleMessage(message('42'));
    expect(texts(r2)).toEqual(['child said 42']);
    expect(r2.trail).toEqual(['child#ask', 'done']);
  });
});

describe('FlowEngine: templates', () => {
  it('reports missing template paths as warnings, and as errors in strict mode', async () => {
    const y = `
id: tpl
type: messaging
nodes:
  t:
    template: "hi {{state.nobody}}"
    routing: out
`;
    const lax = await engineWith([y]).engine.handleMessage(message('x'));
    expect(lax.status).toBe('done');
    expect(lax.warnings.join()).toMatch(/nobody/);
    const strict = await engineWith([y], { strictTemplates: true }).engine.handleMessage(message('x'));
    expect(strict.status).toBe('error');
    expect(strict.error?.code).toBe('GT_FLOW_TEMPLATE');
  });
});

describe('FlowEngine: exactly-once turns', () => {
  it('answers a redelivered message with the recorded replies instead of running it again', async () => {
    const { engine } = engineWith([QA]);
    await engine.handleMessage(message('hi'));
    const answer = message('Ada');
    const first = await engine.handleMessage(answer);
    const again = await engine.handleMessage(answer);
    expect(again.duplicate).toBe(true);
    expect(again.replies).toEqual(first.replies);
    const next = await engine.handleMessage(message('36'));
    expect(texts(next)).toEqual(['Hello Ada, adult of 36']);
  });

  it('applies numbered messages strictly in order: later ones are deferred, old ones are duplicates', async () => {
    const { engine } = engineWith([QA]);
    expect((await engine.handleMessage(message('hi'), { seq: 1 })).status).toBe('pending');
    const early = await engine.handleMessage(message('36'), { seq: 3 });
    expect(early.status).toBe('deferred');
    expect(early.expectedSeq).toBe(2);
    expect(texts(await engine.handleMessage(message('Ada'), { seq: 2 }))).toEqual(['Your age?']);
    expect((await engine.handleMessage(message('old'), { seq: 2 })).status).toBe('duplicate');
    expect(texts(await engine.handleMessage(message('36'), { seq: 3 }))).toEqual(['Hello Ada, adult of 36']);
  });

  it('lets two engines share one store: concurrent turns of a conversation are both applied, once each', async () => {
    const sessions = new MemorySessionStore();
    const state = new MemoryStateStore();
    const flow = loadFlow(`
id: count
type: messaging
nodes:
  read:
    state.get: { key: n, default: 0 }
    routing: [{ to: bump }]
  bump:
    state.set: { key: "seen_{{in.input.text}}", value: true }
    routing: out
`);
    const a = new FlowEngine({ sessions, state }).registerFlow(flow);
    const b = new FlowEngine({ sessions, state }).registerFlow(flow);
    await a.handleMessage(message('0'));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).handleMessage(message(String(i + 1)))),
    );
    expect(results.every((r) => r.status === 'done')).toBe(true);
    const st = await a.conversationState(tenantCtx({ env: 'dev', tenant: 'acme', user: 'u1' }), {
      conversation: 'c1',
    });
    for (let i = 0; i <= 10; i++) expect(st?.[`seen_${i}`]).toBe(true);
  });
});

describe('FlowEngine: scoped state', () => {
  it('shares user-scoped state across conversations of that user, and tenant-scoped state across users', async () => {
    const { engine } = engineWith([
      `
id: prefs
type: messaging
nodes:
  route:
    state.get: { key: lang, scope: user }
    routing:
      - { to: show, condition: 'prev.value != null' }
      - { to: save }
  save:
    state.set: { key: lang, value: "{{in.input.text}}", scope: user }
    routing: [{ to: org }]
  org:
    state.set: { key: org.name, value: Acme, scope: tenant }
    routing: out
  show:
    state.get: { key: org.name, scope: tenant }
    routing: [{ to: say }]
  say:
    template: "lang={{node.route.value}} org={{prev.value}}"
    routing: out
`,
    ]);
    await engine.handleMessage(message('fr', { conversation: 'one' }));
    expect(texts(await engine.handleMessage(message('x', { conversation: 'two' })))).toEqual([
      'lang=fr org=Acme',
    ]);
    expect(
      texts(await engine.handleMessage(message('x', { conversation: 'two', tenant: 'globex' }))),
    ).toEqual([]);
  });
});

describe('FlowEngine: versioned flow sources', () => {
  const v = (greeting: string, extraNode = '') =>
    loadFlow(`
id: greet
type: messaging
nodes:
  ask:
    questions: { questions: [{ id: name, prompt: "${greeting}, your name?" }] }
    routing: [{ to: say }]
  say:
    template: "${greeting} {{state.name}}"
    routing: out
${extraNode}`);

  function source(versions: Record<string, ReturnType<typeof v>>, current: { v: string }) {
    return {
      entry: () => ({ flow: versions[current.v]!, version: current.v }),
      get: (_ctx: unknown, _id: string, version?: string) => {
        const f = versions[version ?? current.v];
        return f ? { flow: f, version: version ?? current.v } : undefined;
      },
      list: () => ['greet'],
    };
  }

  it('finishes a parked conversation on the version it started on, while new ones use the new version', async () => {
    const versions = { '1.0.0': v('Hello'), '2.0.0': v('Howdy') };
    const current = { v: '1.0.0' };
    const engine = new FlowEngine({
      sessions: new MemorySessionStore(),
      state: new MemoryStateStore(),
      flows: source(versions, current),
    });
    expect(texts(await engine.handleMessage(message('hi', { conversation: 'old' })))).toEqual([
      'Hello, your name?',
    ]);
    current.v = '2.0.0';
    expect(texts(await engine.handleMessage(message('hi', { conversation: 'new' })))).toEqual([
      'Howdy, your name?',
    ]);
    expect(texts(await engine.handleMessage(message('Ada', { conversation: 'old' })))).toEqual(['Hello Ada']);
  });

  it('moves a parked conversation to the current version when its own was unloaded and its node still exists', async () => {
    const versions: Record<string, ReturnType<typeof v>> = { '1.0.0': v('Hello') };
    const current = { v: '1.0.0' };
    const engine = new FlowEngine({
      sessions: new MemorySessionStore(),
      state: new MemoryStateStore(),
      flows: source(versions, current),
    });
    await engine.handleMessage(message('hi'));
    versions['2.0.0'] = v('Howdy');
    delete versions['1.0.0'];
    current.v = '2.0.0';
    const r = await engine.handleMessage(message('Ada'));
    expect(texts(r)).toEqual(['Howdy Ada']);
    expect(r.warnings.join()).toMatch(/continues on version 2.0.0/);
  });
});

describe('FlowEngine: components that park the conversation', () => {
  it('sends the reply a Pending outcome carries and tells the component where the conversation is', async () => {
    const seen: unknown[] = [];
    const components = new FunctionComponentRegistry().register('oauth', {
      oauth: (_input, env) => {
        seen.push(env.metadata?.conversation);
        if (env.metadata?.resumed) return { handle: 'h1' };
        return {
          Pending: { reason: 'oauth consent', reply: { text: 'Sign in: https://idp.example/authorize' } },
        };
      },
    });
    const { engine } = engineWith(
      [
        `
id: login
type: messaging
nodes:
  auth:
    oauth: { provider: google }
    routing: [{ to: ok }]
  ok:
    template: "signed in with {{prev.handle}}"
    routing: out
`,
      ],
      { components },
    );
    const first = await engine.handleMessage(message('hi', { conversation: 'c-oauth' }));
    expect(first.status).toBe('pending');
    expect(texts(first)).toEqual(['Sign in: https://idp.example/authorize']);
    expect(seen[0]).toEqual({
      reply_scope: { conversation: 'c-oauth' },
      channel: 'test',
      session_id: 'c-oauth',
    });
    expect(
      texts(await engine.handleMessage(message('', { conversation: 'c-oauth', action: 'oauth.consent' }))),
    ).toEqual(['signed in with h1']);
  });
});
