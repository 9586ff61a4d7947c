// Packs in the runner daemon (issue #4): the daemon installs the pack store's packs at startup; `POST /admin/reload`
// installs a new version atomically — new conversations start on it, a conversation in progress finishes on the
// version it started on; `GET /admin/packs` lists what is loaded; a tenant's own pack wins over flows.paths, which
// wins over the default pack; a production runner refuses packs that were loaded unsigned.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadRunnerConfig, type RunnerConfigInput } from '../src/config/config.js';
import { type PackRow, RunnerDaemon } from '../src/daemon/daemon.js';
import { loadPackIntoStore } from '../src/packs/load.js';
import { packSettingsOf } from '../src/packs/settings.js';
import { QA3_FLOW, textMessage } from './helpers.js';
import { type PackWorkspace, packWorkspace } from './pack-support.js';

let packs: PackWorkspace;
let trustDir: string;
const daemons: RunnerDaemon[] = [];

function packsConfig(store: string, more: RunnerConfigInput = {}) {
  return loadRunnerConfig(undefined, {
    env: {},
    overrides: {
      http: { host: '127.0.0.1', port: 0 },
      tenancy: { env: 'test' },
      packs: { store, trust: [trustDir] },
      ...more,
    },
  });
}

/** `greentic-runner load` into the daemon's store (its packs: settings). */
async function load(
  config: ReturnType<typeof packsConfig>,
  pack: string,
  tenant?: string,
  allowUnsigned = false,
) {
  const settings = packSettingsOf(config, { GREENTIC_HOME: packs.root });
  return loadPackIntoStore({ pack, settings, ...(tenant ? { tenant } : {}), allowUnsigned });
}

async function start(config: ReturnType<typeof packsConfig>, env: Record<string, string> = {}) {
  const daemon = new RunnerDaemon({ config, env: { GREENTIC_HOME: packs.root, ...env } });
  daemons.push(daemon);
  await daemon.start();
  return daemon;
}

const url = (d: RunnerDaemon, path: string) => `http://127.0.0.1:${d.address.port}${path}`;
const say = async (d: RunnerDaemon, id: string, conv: string, text: string, tenant = 'acme') =>
  d.handleMessage(textMessage(id, conv, text, { tenant }));
const texts = (r: { replies: { text?: string }[] }) => r.replies.map((x) => x.text);

beforeAll(async () => {
  packs = await packWorkspace('gt-daemon-packs-');
  trustDir = packs.trustDir;
});

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
});

afterAll(() => {
  packs?.dispose();
});

describe('packs in the runner daemon', () => {
  it('hot reload: a new conversation gets v2 while one in progress finishes on v1', async () => {
    const config = packsConfig(join(packs.root, 'store-reload'));
    const v1 = await load(config, await packs.greetingPack('1.0.0'));
    const d = await start(config);

    const listed = (await (await fetch(url(d, '/admin/packs'))).json()) as { packs: PackRow[] };
    expect(listed).toMatchObject({ enabled: true, others: 'default pack' });
    expect(listed.packs).toEqual([
      expect.objectContaining({
        tenant: null,
        pack_id: 'test.greeting',
        version: '1.0.0',
        digest: v1.ref.digest,
        signed: true,
        trusted: true,
      }),
    ]);
    const v1Key = listed.packs[0]!.current;

    // a conversation starts on v1 and waits at its question
    const a1 = await say(d, 'a1', 'conv-a', 'hi');
    expect(a1.status).toBe('pending');
    expect(texts(a1)).toEqual(['Hello from 1.0.0! Your name?']);

    // v2 goes into the store (greentic-runner load); the running daemon picks it up on reload
    const v2 = await load(config, await packs.greetingPack('2.0.0'));
    const reload = await fetch(url(d, '/admin/reload'), { method: 'POST' });
    expect(reload.status).toBe(200);
    const body = (await reload.json()) as { ok: boolean; packs: { installed: unknown[] } };
    expect(body.ok).toBe(true);
    expect(body.packs.installed).toEqual([
      expect.objectContaining({ tenant: null, version: '2.0.0', previous: v1Key }),
    ]);

    // a NEW conversation gets v2's first question …
    const b1 = await say(d, 'b1', 'conv-b', 'hi');
    expect(texts(b1)).toEqual(['Hello from 2.0.0! Your name?']);
    // … while the one in progress finishes on v1
    const a2 = await say(d, 'a2', 'conv-a', 'Ada');
    expect(a2.status).toBe('done');
    expect(texts(a2)).toEqual(['1.0.0 thanks Ada']);
    expect(texts(await say(d, 'b2', 'conv-b', 'Grace'))).toEqual(['2.0.0 thanks Grace']);

    const after = (await (await fetch(url(d, '/admin/packs'))).json()) as { packs: PackRow[] };
    expect(after.packs[0]).toMatchObject({ version: '2.0.0', digest: v2.ref.digest });
    expect(after.packs[0]!.loaded_versions).toEqual([after.packs[0]!.current, v1Key]);

    // a reload with nothing new reads nothing again
    const again = (await (await fetch(url(d, '/admin/reload'), { method: 'POST' })).json()) as {
      packs: { installed: unknown[]; unchanged: unknown[] };
    };
    expect(again.packs).toMatchObject({ installed: [], unchanged: [null] });
    expect(d.health()).toMatchObject({ status: 'ok', active_packs: 1, last_error: null });
  });

  it("a tenant's own pack wins; flows.paths runs for the other tenants; the default pack only without flows.paths", async () => {
    const config = packsConfig(join(packs.root, 'store-mixed'), { flows: { paths: [QA3_FLOW] } });
    await load(config, await packs.greetingPack('1.0.0'));
    await load(config, await packs.greetingPack('3.0.0', { packId: 'test.acme' }), 'acme');
    const d = await start(config);
    expect(texts(await say(d, 'm1', 'c1', 'hi', 'acme'))).toEqual(['Hello from 3.0.0! Your name?']);
    expect(texts(await say(d, 'm2', 'c2', 'hi', 'globex'))).toEqual(['Name?']);
    const view = (await (await fetch(url(d, '/admin/packs'))).json()) as { others: string; packs: PackRow[] };
    expect(view.others).toBe('flows.paths');
    expect(view.packs.map((p) => [p.tenant, p.pack_id])).toEqual([
      [null, 'test.greeting'],
      ['acme', 'test.acme'],
    ]);
    expect(((await (await fetch(url(d, '/admin/flows'))).json()) as { entry: string }).entry).toBe('qa3');
  });

  it('uses the pack store when no flows.paths is given, and says what to load when it is empty', async () => {
    const store = join(packs.root, 'store-empty');
    const config = loadRunnerConfig(undefined, {
      env: { GREENTIC_RUNNER_PACK_STORE: store },
      overrides: { http: { host: '127.0.0.1', port: 0 } },
    });
    expect(config.packs).toEqual({ store });
    const d = new RunnerDaemon({ config, env: { GREENTIC_HOME: packs.root } });
    await expect(d.start()).rejects.toThrow(
      /nothing to run: no flows\.paths, and the pack store .*store-empty has no pack\. Load one \(greentic-runner load/,
    );
  });

  it('a production runner refuses a pack that was loaded unsigned', async () => {
    const store = join(packs.root, 'store-prod');
    const dev = packsConfig(store);
    await load(dev, await packs.greetingPack('1.0.0', { sign: false }), undefined, true);
    const prod = packsConfig(store, { tenancy: { env: 'prod' } });
    const refused = new RunnerDaemon({ config: prod, env: { GREENTIC_HOME: packs.root } });
    await expect(refused.start()).rejects.toThrow(
      /GT_PACK_UNSIGNED: pack test\.greeting 1\.0\.0 .*--allow-unsigned/,
    );
    // with flows.paths it serves them, and reports the refused pack
    const d = await start(packsConfig(store, { tenancy: { env: 'prod' }, flows: { paths: [QA3_FLOW] } }));
    const view = (await (await fetch(url(d, '/admin/packs'))).json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      production: true,
      packs: [],
      failed: [{ tenant: null, code: 'GT_PACK_UNSIGNED' }],
    });
    expect(texts(await say(d, 'p1', 'c1', 'hi'))).toEqual(['Name?']);
  });
});
