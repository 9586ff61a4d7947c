// The reload broadcast (NATS): POST /admin/reload on one runner reloads the other runners of its env too — they
// share the pack store, so after `greentic-runner load` one reload is enough. A runner ignores its own broadcast;
// a malformed control message is logged and ignored.
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  parseReloadMessage,
  ReloadBroadcast,
  type ReloadControlMessage,
  reloadSubject,
} from '../src/bus/control.js';
import { loadRunnerConfig } from '../src/config/config.js';
import { type PackRow, RunnerDaemon } from '../src/daemon/daemon.js';
import { jsonLogger } from '../src/daemon/log.js';
import { loadPackIntoStore } from '../src/packs/load.js';
import { packSettingsOf } from '../src/packs/settings.js';
import { busConfig, cleanup, isolated, NATS_URL, textMessage, uniq, waitFor } from './helpers.js';
import { type PackWorkspace, packWorkspace } from './pack-support.js';

let packs: PackWorkspace;
let trustDir: string;
const daemons: RunnerDaemon[] = [];
const ids: string[] = [];
const conns: NatsConnection[] = [];

/** Two runners' config: Redis stores, NATS (isolated prefix, streams, consumer), one pack store, no flows.paths. */
function sharedConfig(id: string, store: string) {
  const base = busConfig(id, { stores: 'redis' });
  return loadRunnerConfig(undefined, {
    env: {},
    overrides: { ...base, flows: { paths: [] }, packs: { store, trust: [trustDir] } },
  });
}

function captured() {
  const lines: Record<string, unknown>[] = [];
  const log = jsonLogger((l) => lines.push(JSON.parse(l) as Record<string, unknown>), 'debug');
  return { log, lines, msgs: () => lines.map((l) => l.msg) };
}

const url = (d: RunnerDaemon, path: string) => `http://127.0.0.1:${d.address.port}${path}`;
const packsOf = async (d: RunnerDaemon) =>
  ((await (await fetch(url(d, '/admin/packs'))).json()) as { packs: PackRow[] }).packs;
const firstReply = async (d: RunnerDaemon, id: string, conv: string) =>
  (await d.handleMessage(textMessage(id, conv, 'hi', { tenant: 'acme' }))).replies.map((r) => r.text);

beforeAll(async () => {
  packs = await packWorkspace('gt-reload-broadcast-');
  trustDir = packs.trustDir;
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  await Promise.all(conns.splice(0).map((c) => c.close().catch(() => {})));
  await Promise.all(ids.splice(0).map((id) => cleanup(id)));
});

afterAll(() => {
  packs?.dispose();
});

describe('reload broadcast over NATS', () => {
  it('POST /admin/reload on runner A makes runner B start new conversations on the new pack version', async () => {
    const id = uniq('rlb');
    ids.push(id);
    const config = sharedConfig(id, join(packs.root, `store-${id}`));
    expect(config.nats.controlSubject).toBe(`${isolated(id).subjectPrefix}.control`);
    const settings = packSettingsOf(config, { GREENTIC_HOME: packs.root });
    await loadPackIntoStore({ pack: await packs.greetingPack('1.0.0'), settings });

    const logA = captured();
    const logB = captured();
    const a = new RunnerDaemon({ config, log: logA.log, env: { GREENTIC_HOME: packs.root } });
    const b = new RunnerDaemon({ config, log: logB.log, env: { GREENTIC_HOME: packs.root } });
    daemons.push(a, b);
    await Promise.all([a.start(), b.start()]);
    expect(a.instanceId).not.toBe(b.instanceId);

    // both serve v1
    expect(await firstReply(a, 'a1', 'conv-a1')).toEqual(['Hello from 1.0.0! Your name?']);
    expect(await firstReply(b, 'b1', 'conv-b1')).toEqual(['Hello from 1.0.0! Your name?']);

    // v2 goes into the shared store; only A is told
    await loadPackIntoStore({ pack: await packs.greetingPack('2.0.0'), settings });
    const res = await fetch(url(a, '/admin/reload'), { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; broadcast: string; packs: { installed: unknown[] } };
    expect(body).toMatchObject({ ok: true, broadcast: reloadSubject(config.nats.controlSubject, 'test') });
    expect(body.packs.installed).toEqual([expect.objectContaining({ version: '2.0.0' })]);

    // B reloads on the broadcast (bounded wait, no timing assertion)
    await waitFor(async () => (await packsOf(b))[0]?.version === '2.0.0', 'runner B to show v2', 15_000);
    expect(await firstReply(b, 'b2', 'conv-b2')).toEqual(['Hello from 2.0.0! Your name?']);
    // a conversation B started on v1 finishes on v1
    const finish = await b.handleMessage(textMessage('b1-2', 'conv-b1', 'Ada', { tenant: 'acme' }));
    expect(finish.replies.map((r) => r.text)).toEqual(['1.0.0 thanks Ada']);

    await waitFor(() => logB.msgs().includes('broadcast reload done'), 'runner B to log its reload');
    expect(logB.lines.find((l) => l.msg === 'reload requested by another runner')).toMatchObject({
      from: a.instanceId,
      reason: 'POST /admin/reload',
    });
    expect(logB.lines.find((l) => l.msg === 'broadcast reload done')).toMatchObject({
      from: a.instanceId,
      packs_installed: [expect.objectContaining({ version: '2.0.0' })],
    });
  });

  it('a runner ignores its own broadcast; a malformed control message is logged and ignored', async () => {
    const id = uniq('rlc');
    const nc = await connect({ servers: NATS_URL, timeout: 3000 });
    conns.push(nc);
    const controlSubject = `${isolated(id).subjectPrefix}.control`;
    const got: ReloadControlMessage[] = [];
    const malformed: string[] = [];
    const mk = (sender: string) =>
      new ReloadBroadcast({
        nc,
        controlSubject,
        env: 'test',
        sender,
        onReload: (m) => {
          if (sender === 'me') got.push(m);
        },
        onMalformed: (e) => {
          if (sender === 'me') malformed.push(e);
        },
      });
    const me = mk('me');
    const other = mk('other');
    me.start();
    me.publish('SIGHUP'); // its own: ignored
    nc.publish(me.subject, 'not json');
    nc.publish(me.subject, JSON.stringify({ type: 'explode', sender: 'x' }));
    nc.publish(me.subject, JSON.stringify({ type: 'reload', sender: 'x', env: 'test', sent_at: 'now' }));
    other.publish('POST /admin/reload');
    // one connection, one subject: in order, so when the last one is here the others were seen
    await waitFor(() => got.length > 0, 'the other runner’s broadcast');
    me.stop();
    expect(got).toEqual([
      expect.objectContaining({ type: 'reload', sender: 'other', reason: 'POST /admin/reload' }),
    ]);
    expect(malformed).toEqual([
      expect.stringMatching(/^not JSON/),
      'type must be "reload" (got "explode")',
      expect.stringMatching(/^reason must be a non-empty string/),
    ]);
    expect(parseReloadMessage(new TextEncoder().encode('[]'))).toEqual({
      ok: false,
      error: 'not a JSON object',
    });
  });

  it('a reload subject is one token per env, and the config refuses a control subject inside a stream', () => {
    expect(reloadSubject('greentic.messaging.control', 'pr.od')).toBe(
      'greentic.messaging.control.reload.pr-od',
    );
    const cfg = loadRunnerConfig(undefined, { env: {}, overrides: { nats: { subjectPrefix: 'acme.msg' } } });
    expect(cfg.nats.controlSubject).toBe('acme.msg.control');
    expect(() =>
      loadRunnerConfig(undefined, {
        env: {},
        overrides: { nats: { enabled: true, controlSubject: 'greentic.messaging.ingress.ctl' } },
      }),
    ).toThrow(/nats\.controlSubject: must not be within greentic\.messaging\.ingress/);
    expect(() =>
      loadRunnerConfig(undefined, { env: {}, overrides: { nats: { controlSubject: 'bad.>' } } }),
    ).toThrow(/nats\.controlSubject/);
  });
});
