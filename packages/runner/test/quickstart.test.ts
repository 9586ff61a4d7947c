/**
 * The README quickstart, as written, with the real CLIs as child processes (from the sources, through tsx) in a
 * temporary HOME and working directory:
 *
 *   greentic-component build examples/weather-demo/components/weather        (prepare: cached after the first build)
 *   packc build -p examples/weather-demo/pack.yaml -o dist/weather.pack
 *   packc keygen
 *   packc sign -p dist/weather.pack --key ~/.greentic/keys/dev.key.pem
 *   greentic-runner load --pack dist/weather.pack
 *   greentic-runner run-flow --tenant acme --input '{"update":{"message":{"text":"/weather"}}}'
 *
 * Then, with the same CLI code in-process (no process start-up, so the file stays well under a minute on a busy
 * machine): a tampered pack is refused, an unsigned one needs --allow-unsigned and is refused in production, and a
 * second load switches new conversations to the new version while parked ones finish on theirs (through the
 * TenantPackRegistry, with the pack's weather component running in the component host).
 */
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ComponentHost, fetchHostHttp } from '@greentic/component';
import { buildPack } from '@greentic/pack';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { startForecastServer } from '../../../examples/weather-demo/forecast-server.mjs';
import { runRunnerCli } from '../src/cli.js';
import { FlowEngine } from '../src/engine/engine.js';
import { runnerHostServices } from '../src/host-services.js';
import { envelopeFromInput } from '../src/input.js';
import { PackComponentRegistry } from '../src/packs/components.js';
import { openTenantPack } from '../src/packs/load.js';
import { packVersionKey, TenantPackRegistry } from '../src/packs/registry.js';
import { resolvePackSettings } from '../src/packs/settings.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEMO = join(repoRoot, 'examples', 'weather-demo');
const TSX = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const src = (p: string) => pathToFileURL(join(repoRoot, 'packages', p)).href;

/** The bin shims import `dist/`; these run the same entry points from the sources. */
const MAINS = {
  'greentic-component': `const { runComponentCli } = await import(${JSON.stringify(src('component-cli/src/cli.ts'))});
process.exitCode = await runComponentCli(process.argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });`,
  packc: `const { runPackc } = await import(${JSON.stringify(src('pack/src/cli.ts'))});
process.exitCode = await runPackc(process.argv.slice(1), { stdout: process.stdout, stderr: process.stderr });`,
  'greentic-runner': `const { runRunnerCli } = await import(${JSON.stringify(src('runner/src/cli.ts'))});
process.exitCode = await runRunnerCli(process.argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });`,
} as const;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let home: string;
let work: string;

function cli(
  name: keyof typeof MAINS,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, NODE_OPTIONS: '', HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('GREENTIC_')) delete env[k];
  Object.assign(env, opts.env);
  const child = spawn(
    process.execPath,
    [
      '--conditions=@greentic/source',
      '--import',
      TSX,
      '--input-type=module',
      '-e',
      MAINS[name],
      '--',
      ...args,
    ],
    { cwd: opts.cwd ?? work, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** `greentic-runner` in-process, with the temporary HOME (absolute paths: the working directory is not `work`). */
async function runner(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runRunnerCli(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: { HOME: home, ...env },
  });
  return { code, stdout, stderr };
}

/** Asserts the exit code, showing the output when it is not the expected one. */
function expectExit(r: Run, code: number): Run {
  if (r.code !== code)
    throw new Error(`exit ${r.code}, expected ${code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

const WEATHER_INPUT = '{"update":{"message":{"text":"/weather"}}}';
const FIRST_QUESTION = "Hi! I'm the Greentic weather bot.\nWhich city would you like a forecast for?\n";

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'gt-quickstart-home-'));
  work = mkdtempSync(join(tmpdir(), 'gt-quickstart-'));
  // the quickstart's relative paths (examples/…, dist/…) work in the temporary working directory
  symlinkSync(join(repoRoot, 'examples'), join(work, 'examples'));
  // prepare: packc packs built components, so the weather tool is built first (a cache hit after the first time)
  expectExit(
    await cli('greentic-component', ['build', 'examples/weather-demo/components/weather'], { cwd: repoRoot }),
    0,
  );
}, 600_000);

afterAll(() => {
  for (const dir of [home, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the README quickstart', () => {
  it('build → keygen → sign → load → run-flow answers a Telegram /weather with its first question', async () => {
    const built = expectExit(
      await cli('packc', ['build', '-p', 'examples/weather-demo/pack.yaml', '-o', 'dist/weather.pack']),
      0,
    );
    expect(built.stdout).toMatch(/^built dist\/weather\.pack \(5 files, \d+ bytes, unsigned\) sha256:/);
    cpSync(join(work, 'dist/weather.pack'), join(work, 'dist/unsigned.pack'));
    const keygen = expectExit(await cli('packc', ['keygen']), 0);
    expect(keygen.stdout).toContain(join(home, '.greentic', 'trust', 'dev.pub.pem'));
    expect(keygen.stdout).not.toContain('PRIVATE KEY');
    const devKey = join(home, '.greentic/keys/dev.key.pem');
    expectExit(await cli('packc', ['sign', '-p', 'dist/weather.pack', '--key', devKey]), 0);

    const load = expectExit(await cli('greentic-runner', ['load', '--pack', 'dist/weather.pack']), 0);
    expect(load.stdout).toMatch(
      /^loaded greentic\.weather-demo 0\.1\.0 for the default pack \(every tenant without its own\): signed by trusted key [0-9a-f]{32}; sha256:[0-9a-f]{64}\n$/,
    );
    const index = JSON.parse(readFileSync(join(home, '.greentic/packs/index/default.json'), 'utf8'));
    expect(index.current).toMatchObject({ pack_id: 'greentic.weather-demo', signed: true, trusted: true });
    const blob = join(home, '.greentic/packs/blobs/sha256', `${index.current.digest.slice(7)}.gtpack`);
    // (Buffer.equals: a deep toEqual over 12 MB takes a minute)
    expect(readFileSync(blob).equals(readFileSync(join(work, 'dist/weather.pack')))).toBe(true);

    const text = expectExit(
      await cli('greentic-runner', ['run-flow', '--tenant', 'acme', '--input', WEATHER_INPUT]),
      0,
    );
    expect(text.stdout).toBe(FIRST_QUESTION);
    expect(text.stderr).toContain('(waiting: question city)');

    const json = expectExit(
      await runner(['run-flow', '--tenant', 'acme', '--input', WEATHER_INPUT, '--json']),
      0,
    );
    const turn = JSON.parse(json.stdout);
    expect(turn).toMatchObject({
      status: 'pending',
      flow: 'weather',
      wait_reason: 'question city',
      pack: { id: 'greentic.weather-demo', version: '0.1.0', digest: index.current.digest, tenant: null },
    });
    expect(turn.replies.map((r: { text: string }) => r.text)).toEqual(FIRST_QUESTION.trim().split('\n'));
  });

  it('refuses a tampered pack with the pack error code, and leaves the store as it was', async () => {
    const before = readFileSync(join(home, '.greentic/packs/index/default.json'), 'utf8');
    const bytes = readFileSync(join(work, 'dist/weather.pack'));
    const at = bytes.indexOf("Hi! I'm the Greentic weather bot.");
    expect(at).toBeGreaterThan(0);
    bytes[at] = 'J'.charCodeAt(0);
    writeFileSync(join(work, 'dist/tampered.pack'), bytes);
    const r = expectExit(await runner(['load', '--pack', join(work, 'dist/tampered.pack')]), 1);
    expect(r.stderr).toMatch(/error GT_PACK_HASH_MISMATCH: .*flows\/weather\.ygtc/);
    expect(readFileSync(join(home, '.greentic/packs/index/default.json'), 'utf8')).toBe(before);
  });

  it('needs --allow-unsigned for an unsigned pack, and refuses that in production', async () => {
    const unsigned = join(work, 'dist/unsigned.pack');
    const plain = expectExit(await runner(['load', '--pack', unsigned, '--tenant', 'dev1']), 1);
    expect(plain.stderr).toMatch(/error GT_PACK_UNSIGNED: /);

    const allowed = expectExit(
      await runner(['load', '--pack', unsigned, '--tenant', 'dev2', '--allow-unsigned']),
      0,
    );
    expect(allowed.stdout).toMatch(/for tenant dev2: UNSIGNED;/);
    expect(allowed.stderr).toMatch(/warning: pack greentic\.weather-demo 0\.1\.0 is UNSIGNED/);

    const prodEnv = expectExit(
      await runner(['load', '--pack', unsigned, '--tenant', 'dev3', '--allow-unsigned'], {
        GREENTIC_ENV: 'production',
      }),
      2,
    );
    expect(prodEnv.stderr).toMatch(
      /error GT_RUNNER_USAGE: --allow-unsigned is refused: this runner is in production \(GREENTIC_ENV=production\)/,
    );
    const config = join(work, 'runner.yaml');
    writeFileSync(config, 'tenancy: { env: production }\n');
    const prodConfig = expectExit(
      await runner(['load', '--pack', unsigned, '--tenant', 'dev4', '--allow-unsigned', '--config', config]),
      2,
    );
    expect(prodConfig.stderr).toMatch(
      /refused: this runner is in production \(.*runner\.yaml: tenancy\.env=production\)/,
    );
    for (const t of ['dev1', 'dev3', 'dev4'])
      expect(existsSync(join(home, `.greentic/packs/index/tenants/${t}.json`))).toBe(false);

    // a pack loaded unsigned in development does not run on a production runner
    const dev = expectExit(await runner(['run-flow', '--tenant', 'dev2', '--input', WEATHER_INPUT]), 0);
    expect(dev.stdout).toBe(FIRST_QUESTION);
    const prod = expectExit(
      await runner(['run-flow', '--tenant', 'dev2', '--input', WEATHER_INPUT], {
        GREENTIC_ENV: 'production',
      }),
      1,
    );
    expect(prod.stderr).toMatch(/error GT_PACK_UNSIGNED: .*loaded with --allow-unsigned/);
  });

  it('a second load switches new conversations to the new version; parked ones finish on theirs', async () => {
    // version 0.2.0 of the pack: another greeting and another days question
    const v2 = join(work, 'weather-v2');
    mkdirSync(join(v2, 'components/weather'), { recursive: true });
    cpSync(join(DEMO, 'flows'), join(v2, 'flows'), { recursive: true });
    cpSync(join(DEMO, 'components/weather/dist'), join(v2, 'components/weather/dist'), { recursive: true });
    writeFileSync(
      join(v2, 'pack.yaml'),
      readFileSync(join(DEMO, 'pack.yaml'), 'utf8').replace('version: 0.1.0', 'version: 0.2.0'),
    );
    const flow = join(v2, 'flows/weather.ygtc');
    writeFileSync(
      flow,
      readFileSync(flow, 'utf8')
        .replace("Hi! I'm the Greentic weather bot.", "Hi! I'm the Greentic weather bot, version 2.")
        .replace('For how many days?', 'How many days (v2)?'),
    );
    await buildPack(join(v2, 'pack.yaml'), {
      out: join(work, 'dist/weather-v2.pack'),
      signingKey: join(home, '.greentic/keys/dev.key.pem'),
    });
    const load = expectExit(
      await runner(['load', '--pack', join(work, 'dist/weather-v2.pack'), '--tenant', 'acme']),
      0,
    );
    expect(load.stdout).toMatch(
      /^loaded greentic\.weather-demo 0\.2\.0 for tenant acme: signed by trusted key/,
    );

    // run-flow: acme runs 0.2.0 now, every other tenant still the default 0.1.0
    const acme = expectExit(await runner(['run-flow', '--tenant', 'acme', '--input', WEATHER_INPUT]), 0);
    expect(acme.stdout).toBe(
      "Hi! I'm the Greentic weather bot, version 2.\nWhich city would you like a forecast for?\n",
    );
    const globex = expectExit(await runner(['run-flow', '--tenant', 'globex', '--input', WEATHER_INPUT]), 0);
    expect(globex.stdout).toBe(FIRST_QUESTION);

    // hot reload through the registry, the packs read back from the store
    const settings = resolvePackSettings({ env: { HOME: home } });
    const first = (await openTenantPack('globex', settings)).pack; // the default: 0.1.0
    const second = (await openTenantPack('acme', settings)).pack; // 0.2.0
    const server = await startForecastServer({ startDate: '2025-06-02' });
    for (const p of [first, second]) p.flows.get('weather')!.parameters.weather_base_url = server.url;
    const state = new MemoryStateStore();
    const host = new ComponentHost({ services: runnerHostServices({ state, http: fetchHostHttp() }) });
    try {
      const registry = new TenantPackRegistry({ components: (p) => new PackComponentRegistry(host, p) });
      const engine = new FlowEngine({
        flows: registry,
        sessions: new MemorySessionStore(),
        state,
        components: registry.componentRegistry(),
      });
      const say = (conversation: string) => async (text: string) =>
        (
          await engine.handleMessage(
            envelopeFromInput({ text, conversation }, { env: 'dev', tenant: 'acme' }),
          )
        ).replies.map((r) => r.text);

      registry.install('acme', first);
      const a = say('a');
      expect(await a('/weather')).toEqual(FIRST_QUESTION.trim().split('\n'));
      expect(registry.install('acme', second)).toMatchObject({
        version: packVersionKey(second),
        previous: packVersionKey(first),
      });
      const b = say('b');
      expect((await b('/weather'))[0]).toBe("Hi! I'm the Greentic weather bot, version 2.");
      // conversation a started on 0.1.0 and finishes there, calling the pack's weather component …
      expect(await a('Paris')).toEqual(["For how many days? (1-7, or 'skip' for 3)"]);
      const forecast = await a('2');
      expect(forecast.join('\n')).toMatch(/^Weather for Paris, France — next 2 day\(s\):/);
      // … while b runs 0.2.0
      expect(await b('Tokyo')).toEqual(["How many days (v2)? (1-7, or 'skip' for 3)"]);
      expect(server.requests.map((r: { path: string }) => r.path.split('?')[0])).toEqual([
        '/v1/search',
        '/v1/forecast',
      ]);
    } finally {
      await host.close();
      await server.close();
    }
  });
});
