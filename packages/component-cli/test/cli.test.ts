/**
 * `greentic-component` end to end, in-process: build the weather demo's tool and a freshly scaffolded project (both
 * through the build cache, so only a first run pays for ComponentizeJS), then hash, inspect and test them through
 * the real sandboxed host.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The weather demo's local stand-in for Open-Meteo.
import { startForecastServer } from '../../../examples/weather-demo/forecast-server.mjs';
import { runComponentCli } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const weatherDir = join(repo, 'examples', 'weather-demo', 'components', 'weather');
const cacheDir = join(here, '..', 'node_modules', '.cache', 'greentic-component-build');

async function cli(argv: string[], cwd?: string) {
  let stdout = '';
  let stderr = '';
  const code = await runComponentCli(argv, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    cwd,
  });
  return { code, stdout, stderr };
}

let work: string;
let wasm: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'greentic-component-cli-'));
  // No --cache-dir: the weather tool shares the demo's default cache with the weather-demo tests.
  const r = await cli(['build', weatherDir, '--out-dir', join(work, 'weather'), '--json']);
  expect(r.code, r.stderr).toBe(0);
  wasm = JSON.parse(r.stdout).wasm;
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('greentic-component --help', () => {
  it('lists every command, and every command has examples', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const c of ['new', 'build', 'inspect', 'hash', 'test']) {
      expect(top.stdout).toContain(`${c} [options]`);
      const sub = await cli([c, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/Examples:\n {2}greentic-component /);
    }
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['hash', 'x', '--nope'])).code).toBe(2);
    expect((await cli(['test', wasm])).stderr).toMatch(/required option '--op <name>'/);
  });
});

describe('greentic-component build', () => {
  it('writes <id>.wasm and a completed manifest, and reports the digests', async () => {
    const r = await cli(['build', weatherDir, '--out-dir', join(work, 'again')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^built .*weather\.wasm \(\d+\.\d MB, \d+ bytes\) from the cache in \d+ ms\n {2}sha256 {3}sha256:[0-9a-f]{64}\n/,
    );
    expect(r.stderr).toMatch(/^bundling src\/index\.ts \(esbuild [\d.]+\)\ncache hit /);
    const manifest = JSON.parse(readFileSync(join(work, 'again', 'component.manifest.json'), 'utf8'));
    const bytes = readFileSync(join(work, 'again', 'weather.wasm'));
    expect(manifest).toMatchObject({ id: 'weather', artifacts: { component_wasm: 'weather.wasm' } });
    expect(manifest.hashes.component_wasm).toMatch(/^blake3:[0-9a-f]{64}$/);
    expect(manifest['x-greentic'].network.deny_on_miss).toBe(true);
    expect(bytes.equals(readFileSync(wasm))).toBe(true);
  });

  it('fails with GT_COMPONENT_CLI_PROJECT on a folder without a manifest', async () => {
    const r = await cli(['build', work]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error GT_COMPONENT_CLI_PROJECT: .* has no component\.manifest\.json/);
  });

  it('fails with GT_COMPONENT_CLI_BUNDLE and the position when the sources do not compile', async () => {
    const dir = join(work, 'broken');
    expect((await cli(['new', 'broken', '--dir', work])).code).toBe(0);
    writeFileSync(join(dir, 'src', 'index.ts'), 'export const node = {\n  describe() { return ; \n');
    const r = await cli(['build', dir, '--cache-dir', cacheDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error GT_COMPONENT_CLI_BUNDLE: esbuild could not bundle .*\n {2}.*index\.ts:3:1: /,
    );
  });
});

describe('greentic-component hash', () => {
  it('prints sha256:<hex> by default and blake3 on request', async () => {
    const sha = createHash('sha256').update(readFileSync(wasm)).digest('hex');
    const r = await cli(['hash', wasm]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`sha256:${sha}  ${relative(process.cwd(), wasm)}\n`);
    const b = await cli(['hash', 'weather.wasm', '--algorithm', 'blake3'], dirname(wasm));
    const manifest = JSON.parse(readFileSync(join(dirname(wasm), 'component.manifest.json'), 'utf8'));
    expect(b.stdout).toBe(`${manifest.hashes.component_wasm}  weather.wasm\n`);
    const j = JSON.parse((await cli(['hash', wasm, '--json'])).stdout);
    expect(j).toMatchObject({ sha256: `sha256:${sha}`, size: readFileSync(wasm).length });
  });

  it('exits 2 for a missing file', async () => {
    const r = await cli(['hash', join(work, 'nope.wasm')]);
    expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/cannot read .*nope\.wasm: ENOENT/) });
  });
});

describe('greentic-component inspect', () => {
  it('shows world, imports, exports, size and digests as JSON', async () => {
    const r = await cli(['inspect', wasm, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({
      world: 'greentic:component/tool@0.6.0',
      exports: ['greentic:component/node@0.6.0'],
      size: readFileSync(wasm).length,
      sha256: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      blake3: expect.stringMatching(/^blake3:[0-9a-f]{64}$/),
    });
    expect(info.imports).toEqual(
      expect.arrayContaining([
        'greentic:component/control@0.6.0',
        'greentic:http/http-client@1.1.0',
        'greentic:state/state-store@1.0.0',
        'greentic:secrets-store/secrets-store@1.0.0',
        'greentic:telemetry/logger-api@1.0.0',
      ]),
    );
    expect(info.producers.join(' ')).toMatch(/ComponentizeJS \d/);
    expect(info.wit).toContain('export greentic:component/node@0.6.0;');
  });

  it('prints a readable summary', async () => {
    const r = await cli(['inspect', wasm]);
    expect(r.stdout).toMatch(
      /^file {7}.*weather\.wasm\nsize {7}\d+\.\d MB \(\d+ bytes\)\nsha256 .*\nblake3 .*\nworld {6}greentic:component\/tool@0\.6\.0\nexports {4}greentic:component\/node@0\.6\.0\n/,
    );
  });

  it('refuses files that are not components', async () => {
    const text = join(work, 'not.wasm');
    writeFileSync(text, 'hello');
    expect(await cli(['inspect', text])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/GT_COMPONENT_CLI_NOT_A_COMPONENT: .* is not WebAssembly/),
    });
    const core = join(work, 'core.wasm');
    writeFileSync(core, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    expect((await cli(['inspect', core])).stderr).toMatch(/is a core WebAssembly module, not a component/);
  });
});

describe('greentic-component test', () => {
  let server: Awaited<ReturnType<typeof startForecastServer>>;
  beforeAll(async () => {
    server = await startForecastServer({ startDate: '2025-06-02' });
  });
  afterAll(() => server.close());

  it('invokes forecast through the sandboxed host with real HTTP to an allowed host', async () => {
    const input = JSON.stringify({ city: 'Tokyo', days: 1, base_url: server.url });
    const r = await cli(['test', wasm, '--op', 'forecast', '--input', input, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      component: 'weather',
      op: 'forecast',
      ok: true,
      output: {
        city: 'Tokyo',
        country: 'Japan',
        days: [{ date: '2025-06-02', min_c: 20, max_c: 28, summary: 'mainly clear' }],
      },
      logs: [{ event: 'forecast', city: 'Tokyo', days: '1' }],
    });
    expect(out.http.map((h: { status: number }) => h.status)).toEqual([200, 200]);
  });

  it('prints the typed error and exits 1 when the component fails', async () => {
    const input = JSON.stringify({ city: 'Atlantis', base_url: server.url });
    const r = await cli(['test', wasm, '--op', 'forecast', '--input', input]);
    expect(r).toMatchObject({ code: 1, stdout: 'error not_found: no place called "Atlantis" was found\n' });
  });

  it('enforces the manifest network policy, and --allow-host extends it', async () => {
    const input = JSON.stringify({ city: 'Paris', base_url: 'http://weather.example.net' });
    const denied = await cli(['test', wasm, '--op', 'forecast', '--input', input]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(
      /^error permission_denied: GT_COMPONENT_DENIED: .*"weather\.example\.net:80" is not allowed/,
    );
    // allowed now, so the host really tries to connect (the .example.net name does not resolve): unavailable
    const allowed = await cli([
      'test',
      wasm,
      '--op',
      'forecast',
      '--input',
      input,
      '--allow-host',
      'weather.example.net',
    ]);
    expect(allowed.stdout).toMatch(/^error unavailable: /);
  });

  it('rejects bad --input JSON and bad --secret/--state pairs with exit 2', async () => {
    expect(await cli(['test', wasm, '--op', 'forecast', '--input', '{city'])).toMatchObject({ code: 2 });
    expect((await cli(['test', wasm, '--op', 'x', '--secret', 'novalue'])).stderr).toMatch(
      /--secret novalue: write key=value/,
    );
  });
});

describe('greentic-component new + build + test', () => {
  it('scaffolds a project that builds and runs, with state seeded from --state', async () => {
    const made = await cli(['new', 'hello-world', '--dir', work]);
    expect(made.code, made.stderr).toBe(0);
    const dir = join(work, 'hello-world');
    for (const f of [
      'package.json',
      'component.manifest.json',
      'src/index.ts',
      'README.md',
      'tsconfig.json',
    ]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    expect(made.stdout).toContain('greentic-component build');

    const built = await cli(['build', dir, '--cache-dir', cacheDir, '--json']);
    expect(built.code, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({
      id: 'hello-world',
      world: 'greentic:component/tool@0.6.0',
    });

    const r = await cli(
      [
        'test',
        '.',
        '--op',
        'greet',
        '--input',
        '{"name":"Ada"}',
        '--state',
        'greetings=41',
        '--cache-dir',
        cacheDir,
        '--json',
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      output: { message: 'Hello, Ada!', greeted: 42 },
      state: { greetings: '42' },
    });
    const bad = await cli(['test', dir, '--op', 'greet', '--input', '{"name":7}', '--cache-dir', cacheDir]);
    expect(bad.stdout).toBe('error invalid_input: "name" must be a string\n');
  }, 180_000);

  it('builds for the canonical world greentic:component/component@0.6.0 with the guest library without host services', async () => {
    expect((await cli(['new', 'plain', '--dir', work])).code).toBe(0);
    const dir = join(work, 'plain');
    writeFileSync(
      join(dir, 'src', 'index.ts'),
      "import { defineComponent } from '@greentic/component-cli/guest/node';\n" +
        "export const node = defineComponent({ name: 'plain', version: '0.1.0', ops: { echo: { run: (input: unknown) => input } } });\n",
    );
    const manifestPath = join(dir, 'component.manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(
      manifestPath,
      JSON.stringify({
        ...manifest,
        world: 'greentic:component/component@0.6.0',
        capabilities: { wasi: {}, host: {} },
      }),
    );
    const built = await cli(['build', dir, '--cache-dir', cacheDir, '--json']);
    expect(built.code, built.stderr).toBe(0);
    const { wasm: plain } = JSON.parse(built.stdout);
    const info = JSON.parse((await cli(['inspect', plain, '--json'])).stdout);
    expect(info.world).toBe('greentic:component/component@0.6.0');
    expect(info.imports).not.toContain('greentic:http/http-client@1.1.0');
    const r = await cli(['test', plain, '--op', 'echo', '--input', '{"a":[1,2.5,"x"],"b":null}', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, output: { a: [1, 2.5, 'x'], b: null } });
  }, 180_000);

  it('refuses an invalid name and an existing folder', async () => {
    expect(await cli(['new', 'Bad Name', '--dir', work])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/not a valid component name/),
    });
    expect(await cli(['new', 'hello-world', '--dir', work])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/GT_COMPONENT_CLI_EXISTS/),
    });
  });
});
