import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFlow } from '@greentic/flow';
import { FunctionComponentRegistry } from '@greentic/interfaces';
import { buildPack, type LoadedPack, readPack } from '@greentic/pack';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { FlowEngine } from '../engine/engine.js';
import { envelopeFromInput } from '../input.js';
import { packEntryFlow, packVersionKey, TenantPackRegistry } from './registry.js';

/** A flow that greets with its version, asks one question, and says goodbye with its version. */
function questionFlow(tag: string, askNode = 'ask'): string {
  return `id: main
type: messaging
start: ${askNode}
nodes:
  ${askNode}:
    questions:
      welcome: "Welcome to ${tag}"
      questions:
        - { id: name, prompt: "Your name?", answer_type: text }
    routing:
      - to: done
  done:
    template: "${tag} says bye {{state.name}}"
    routing: out
`;
}

/** Builds and reads a pack with one flow (`main`), and optionally a second, non-default one (`other`). */
async function makePack(version: string, flow: string, other?: string): Promise<LoadedPack> {
  const dir = mkdtempSync(join(tmpdir(), 'gt-registry-'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'main.ygtc'), flow);
  if (other) writeFileSync(join(dir, 'flows', 'other.ygtc'), other);
  writeFileSync(
    join(dir, 'pack.yaml'),
    `pack_id: test.hot-reload
version: ${version}
kind: application
publisher: Greentic tests
flows:
${other ? '  - { id: other, file: flows/other.ygtc }\n' : ''}  - { id: main, file: flows/main.ygtc, tags: [default] }
`,
  );
  const built = await buildPack(join(dir, 'pack.yaml'));
  return readPack(built.bytes, { allowUnsigned: true });
}

function engineOn(registry: TenantPackRegistry) {
  return new FlowEngine({
    flows: registry,
    sessions: new MemorySessionStore(),
    state: new MemoryStateStore(),
    components: registry.componentRegistry(),
  });
}

function say(engine: FlowEngine, tenant: string, conversation: string) {
  return async (text: string) => {
    const r = await engine.handleMessage(envelopeFromInput({ text, conversation }, { env: 'dev', tenant }));
    return { ...r, texts: r.replies.map((m) => m.text) };
  };
}

const ctx = (tenant: string) => tenantCtx({ env: 'dev', tenant });

describe('TenantPackRegistry', () => {
  it('names a version by pack id, version and archive digest, and picks the default-tagged flow as entry', async () => {
    const pack = await makePack(
      '1.0.0',
      questionFlow('v1'),
      'id: other\ntype: messaging\nnodes:\n  a:\n    template: x\n    routing: out\n',
    );
    expect(packVersionKey(pack)).toMatch(/^test\.hot-reload@1\.0\.0#[0-9a-f]{12}$/);
    expect(packVersionKey(pack)).toBe(`test.hot-reload@1.0.0#${pack.archiveDigest.slice(7, 19)}`);
    expect(pack.manifest.flows[0]!.id).toBe('other');
    expect(packEntryFlow(pack)).toBe('main');
  });

  it('hot reload: new conversations start on the new version, parked ones finish on theirs', async () => {
    const registry = new TenantPackRegistry();
    const engine = engineOn(registry);
    const v1 = await makePack('1.0.0', questionFlow('v1'));
    registry.install('acme', v1);
    const a = say(engine, 'acme', 'a');
    expect((await a('hi')).texts).toEqual(['Welcome to v1', 'Your name?']);

    const v2 = await makePack('2.0.0', questionFlow('v2'));
    const installed = registry.install('acme', v2);
    expect(installed).toMatchObject({
      version: packVersionKey(v2),
      previous: packVersionKey(v1),
      dropped: [],
    });
    expect(registry.versions('acme')).toEqual([packVersionKey(v2), packVersionKey(v1)]);

    const b = say(engine, 'acme', 'b');
    expect((await b('hi')).texts).toEqual(['Welcome to v2', 'Your name?']);
    const done = await a('Ada');
    expect(done.texts).toEqual(['v1 says bye Ada']);
    expect(done.warnings).toEqual([]);
    expect((await b('Bob')).texts).toEqual(['v2 says bye Bob']);
  });

  it('keeps the last N versions; a conversation on a dropped version moves to the current one at the same node', async () => {
    const dropped: string[] = [];
    const registry = new TenantPackRegistry({
      keepVersions: 2,
      inUseGraceMs: 0,
      onDrop: (_tenant, v) => dropped.push(v.key),
    });
    const engine = engineOn(registry);
    const v1 = await makePack('1.0.0', questionFlow('v1'));
    registry.install('acme', v1);
    const a = say(engine, 'acme', 'a');
    await a('hi');
    registry.install('acme', await makePack('2.0.0', questionFlow('v2')));
    const r3 = registry.install('acme', await makePack('3.0.0', questionFlow('v3')));
    expect(r3.dropped).toEqual([packVersionKey(v1)]);
    expect(dropped).toEqual([packVersionKey(v1)]);
    expect(registry.versions('acme')).toHaveLength(2);

    const done = await a('Ada');
    expect(done.texts).toEqual(['v3 says bye Ada']);
    expect(done.warnings.join('\n')).toMatch(
      /no longer loaded; the conversation continues on version test\.hot-reload@3\.0\.0/,
    );
  });

  it('restarts a conversation whose dropped version has nodes the current version does not', async () => {
    const registry = new TenantPackRegistry({ keepVersions: 1, inUseGraceMs: 0 });
    const engine = engineOn(registry);
    registry.install('acme', await makePack('1.0.0', questionFlow('v1')));
    const a = say(engine, 'acme', 'a');
    await a('hi');
    registry.install('acme', await makePack('2.0.0', questionFlow('v2', 'ask_name')));
    const r = await a('Ada');
    expect(r.warnings.join('\n')).toMatch(/starting afresh/);
    expect(r.texts).toEqual(['Welcome to v2', 'Your name?']);
  });

  it('keeps a version past the limit while a turn used it recently, and drops it on prune once idle', async () => {
    let now = 1_000_000;
    const registry = new TenantPackRegistry({ keepVersions: 1, inUseGraceMs: 60_000, now: () => now });
    const v1 = await makePack('1.0.0', questionFlow('v1'));
    registry.install('acme', v1);
    const v1Key = packVersionKey(v1);
    now += 1000;
    expect(registry.get(ctx('acme'), 'main', v1Key)?.version).toBe(v1Key);
    registry.install('acme', await makePack('2.0.0', questionFlow('v2')));
    expect(registry.versions('acme')).toContain(v1Key);
    now += 30_000;
    expect(registry.prune()).toEqual([]);
    now += 31_000;
    expect(registry.prune()).toEqual([v1Key]);
    expect(registry.get(ctx('acme'), 'main', v1Key)).toBeUndefined();
  });

  it('serves the default pack to tenants without their own, and each tenant its own', async () => {
    const registry = new TenantPackRegistry();
    const engine = engineOn(registry);
    registry.install(undefined, await makePack('1.0.0', questionFlow('default')));
    registry.install('acme', await makePack('1.0.0', questionFlow('acme')));
    expect((await say(engine, 'acme', 'x')('hi')).texts[0]).toBe('Welcome to acme');
    expect((await say(engine, 'globex', 'x')('hi')).texts[0]).toBe('Welcome to default');
    expect(registry.tenants()).toEqual(['acme']);
    expect(registry.list(ctx('globex'))).toEqual(['main']);
    registry.uninstall('acme');
    expect((await say(engine, 'acme', 'y')('hi')).texts[0]).toBe('Welcome to default');
  });

  it('a tenant with no pack and no default gets GT_RUNNER_FLOW_NOT_FOUND', async () => {
    const registry = new TenantPackRegistry();
    registry.install('acme', await makePack('1.0.0', questionFlow('acme')));
    const r = await say(engineOn(registry), 'globex', 'x')('hi');
    expect(r.status).toBe('error');
    expect(r.error?.code).toBe('GT_RUNNER_FLOW_NOT_FOUND');
  });

  it('installing a loaded archive again makes it current without loading it twice (rollback)', async () => {
    let built = 0;
    const registry = new TenantPackRegistry({
      components: () => {
        built++;
        return undefined;
      },
    });
    const v1 = await makePack('1.0.0', questionFlow('v1'));
    const v2 = await makePack('2.0.0', questionFlow('v2'));
    registry.install('acme', v1);
    registry.install('acme', v2);
    const back = registry.install('acme', v1);
    expect(back).toMatchObject({ version: packVersionKey(v1), previous: packVersionKey(v2) });
    expect(registry.versions('acme')).toEqual([packVersionKey(v1), packVersionKey(v2)]);
    expect(built).toBe(2);
  });

  it('has components per version: a run resolves those of its version, the engine adapter those of the current one', async () => {
    const componentFlow = `id: main
type: messaging
nodes:
  call:
    component.exec: { component: greeter, input: {} }
    operation: hello
    routing:
      - to: say
  say:
    template: "{{prev.text}}"
    routing: out
`;
    const registry = new TenantPackRegistry({
      components: (pack) =>
        new FunctionComponentRegistry().register('greeter', {
          hello: async () => ({ text: `hello from ${pack.manifest.version}` }),
        }),
    });
    const engine = engineOn(registry);
    // packc only builds flows whose components the pack ships; swap the flow in after the build
    const withComponentFlow = (p: LoadedPack): LoadedPack => ({
      ...p,
      flows: new Map([['main', loadFlow(componentFlow, { file: 'main.ygtc' })]]),
    });
    const v1 = withComponentFlow(await makePack('1.0.0', questionFlow('v1')));
    registry.install('acme', v1);
    expect((await say(engine, 'acme', 'a')('hi')).texts).toEqual(['hello from 1.0.0']);
    registry.install('acme', withComponentFlow(await makePack('2.0.0', questionFlow('v2'))));
    expect((await say(engine, 'acme', 'b')('hi')).texts).toEqual(['hello from 2.0.0']);
    const old = registry.components(ctx('acme'), packVersionKey(v1));
    const invoker = await old?.resolve(
      { kind: 'component', component: 'greeter', operation: 'hello' },
      ctx('acme'),
    );
    const out = await invoker!.invoke('hello', {
      ctx: ctx('acme'),
      flow_id: 'main',
      step_id: 'call',
      component_id: 'greeter',
      attempt: 1,
      payload: {},
    });
    expect(out).toEqual({ Done: { text: 'hello from 1.0.0' } });
  });

  it('refuses a pack without flows and a bad keepVersions', async () => {
    expect(() => new TenantPackRegistry({ keepVersions: 0 })).toThrow(/keepVersions/);
    const pack = await makePack('1.0.0', questionFlow('v1'));
    const empty = { ...pack, manifest: { ...pack.manifest, flows: [] } };
    expect(() => new TenantPackRegistry().install('acme', empty)).toThrow(/has no flow/);
  });
});
