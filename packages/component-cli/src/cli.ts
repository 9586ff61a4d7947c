import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { isComponentError } from '@greentic/component';
import { Command, CommanderError, Option } from 'commander';
import { type BuildResult, blake3Hex, buildComponent, sha256Hex } from './build.js';
import { ComponentCliError } from './errors.js';
import { formatSize, inspectComponentFile } from './inspect.js';
import { testComponent } from './run.js';
import { scaffoldComponent } from './scaffold.js';
import { cliVersion } from './toolchain.js';

/**
 * `greentic-component`: scaffold (`new`), build (`build`), look into (`inspect`, `hash`) and try (`test`) Greentic Wasm
 * components written in TypeScript. `runComponentCli` runs in-process (the tests call it); `bin/greentic-component.js`
 * wraps it. Results go to stdout, progress and diagnostics to stderr.
 *
 * Exit codes: 0 success; 1 the command ran and failed (build error, the component returned an error, not a
 * component); 2 bad usage (unknown option, missing file, bad JSON).
 */
export interface ComponentCliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Working directory for relative paths (default `process.cwd()`). */
  cwd?: string;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const collect = (v: string, prev: string[]) => [...prev, v];

function pairs(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new ComponentCliError('GT_COMPONENT_CLI_USAGE', `--${what} ${item}: write key=value`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function parseJsonArg(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_USAGE',
      `${what} is not JSON (${(e as Error).message}): quote it, e.g. '{"city":"Paris"}'`,
    );
  }
}

function intOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_USAGE',
      `${name} must be a positive whole number (got "${value}")`,
    );
  return n;
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

export async function runComponentCli(argv: string[], io: ComponentCliIO): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  const at = (p: string) => resolve(cwd, p);
  const shown = (p: string) => relative(cwd, p) || '.';
  const progress = (line: string) => io.stderr(`${line}\n`);
  let exitCode = EXIT_OK;

  const program = new Command('greentic-component')
    .description('Create, build, inspect, hash and test Greentic Wasm components written in TypeScript.')
    .version(cliVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  greentic-component new hello && cd hello && greentic-component build
  greentic-component inspect dist/hello.wasm --json
  greentic-component test . --op greet --input '{"name":"Ada"}'

Exit codes: 0 success, 1 the command failed (build error, component error), 2 bad usage.`,
    );

  program
    .command('new')
    .description(
      'Create a component project: src/index.ts, component.manifest.json, package.json, README.md.',
    )
    .argument('<name>', 'component id and folder name (lowercase letters, digits, "_", "-", ".")')
    .option('--dir <parent>', 'create the project inside this folder', '.')
    .option('--json', 'print {dir, files} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  greentic-component new weather_api
  greentic-component new hello --dir components

The project builds as is (greentic-component build) and has one operation, "greet", that uses the state import.`,
    )
    .action((name: string, o: { dir: string; json?: boolean }) => {
      const r = scaffoldComponent(name, at(o.dir));
      if (o.json) return io.stdout(json({ dir: r.dir, files: r.files }));
      io.stdout(`created ${shown(r.dir)}/\n${r.files.map((f) => `  ${f}\n`).join('')}`);
      io.stdout(
        `\nnext:\n  cd ${shown(r.dir)}\n  greentic-component build\n  greentic-component test . --op greet --input '{"name":"Ada"}'\n`,
      );
    });

  program
    .command('build')
    .description(
      'Bundle a component project with esbuild and turn it into a Wasm component with ComponentizeJS (WIT world greentic:component/tool@0.6.0).',
    )
    .argument('[dir]', 'the project folder (has component.manifest.json)', '.')
    .option(
      '--out-dir <dir>',
      'where <id>.wasm and the completed component.manifest.json go (default <dir>/dist)',
    )
    .option('--cache-dir <dir>', 'build cache folder (default node_modules/.cache/greentic-component-build)')
    .option('--no-cache', 'always run ComponentizeJS, ignoring and not filling the cache')
    .addOption(
      new Option('--world <world>', 'override the world taken from the manifest').choices([
        'tool',
        'component',
      ]),
    )
    .option('--json', 'print {id, world, wasm, manifest, size, sha256, blake3, cached, ms, tools} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  greentic-component build
  greentic-component build examples/weather-demo/components/weather --json
  greentic-component build . --out-dir out --no-cache

The component is cached under a hash of the bundled sources, the WIT, the world and the tool versions: an unchanged
project builds in milliseconds. Progress goes to stderr.`,
    )
    .action(
      async (
        dir: string,
        o: {
          outDir?: string;
          cacheDir?: string;
          cache: boolean;
          world?: 'tool' | 'component';
          json?: boolean;
        },
      ) => {
        const r: BuildResult = await buildComponent(at(dir), {
          outDir: o.outDir === undefined ? undefined : at(o.outDir),
          cacheDir: o.cache === false ? false : o.cacheDir === undefined ? undefined : at(o.cacheDir),
          world: o.world,
          onProgress: progress,
        });
        if (o.json) {
          return io.stdout(
            json({
              id: r.id,
              world: r.world,
              wasm: r.wasmPath,
              manifest: r.manifestPath,
              size: r.size,
              sha256: r.sha256,
              blake3: r.blake3,
              cached: r.cached,
              ms: r.ms,
              tools: r.tools,
            }),
          );
        }
        io.stdout(
          `built ${shown(r.wasmPath)} (${formatSize(r.size)}, ${r.size} bytes)${r.cached ? ' from the cache' : ''} in ${r.ms} ms\n` +
            `  sha256   ${r.sha256}\n  blake3   ${r.blake3}\n  world    ${r.world}\n  manifest ${shown(r.manifestPath)}\n`,
        );
      },
    );

  program
    .command('inspect')
    .description('Show a component: world, imports, exports, size, digests and the tools that built it.')
    .argument('<file.wasm>', 'a Wasm component')
    .option('--json', 'print {file, size, sha256, blake3, world, imports, exports, producers, wit} as JSON')
    .option('--wit', "also print the component's world as WIT")
    .addHelpText(
      'after',
      `
Examples:
  greentic-component inspect dist/weather.wasm
  greentic-component inspect dist/weather.wasm --json | jq .imports`,
    )
    .action(async (file: string, o: { json?: boolean; wit?: boolean }) => {
      const info = await inspectComponentFile(at(file));
      if (o.json) return io.stdout(json({ ...info, file: shown(at(file)) }));
      const list = (xs: string[]) => (xs.length === 0 ? '(none)' : xs.join('\n           '));
      io.stdout(
        `file       ${shown(at(file))}\n` +
          `size       ${formatSize(info.size)} (${info.size} bytes)\n` +
          `sha256     ${info.sha256}\n` +
          `blake3     ${info.blake3}\n` +
          `world      ${info.world}\n` +
          `exports    ${list(info.exports)}\n` +
          `imports    ${list(info.imports)}\n` +
          `built by   ${info.producers.join(', ') || 'unknown'}\n`,
      );
      if (o.wit) io.stdout(`\n${info.wit}`);
    });

  program
    .command('hash')
    .description(
      'Print the digest of a file: sha256:<hex> (what pack locks pin), or blake3:<hex> (component manifests).',
    )
    .argument('<file>', 'any file, usually a .wasm component')
    .addOption(
      new Option('--algorithm <name>', 'digest algorithm').choices(['sha256', 'blake3']).default('sha256'),
    )
    .option('--json', 'print {file, size, sha256, blake3} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  greentic-component hash dist/weather.wasm
  greentic-component hash dist/weather.wasm --algorithm blake3`,
    )
    .action((file: string, o: { algorithm: 'sha256' | 'blake3'; json?: boolean }) => {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(readFileSync(at(file)));
      } catch (cause) {
        throw new ComponentCliError(
          'GT_COMPONENT_CLI_USAGE',
          `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? cause}`,
        );
      }
      const sha = `sha256:${sha256Hex(bytes)}`;
      if (o.json)
        return io.stdout(
          json({
            file: shown(at(file)),
            size: bytes.length,
            sha256: sha,
            blake3: `blake3:${blake3Hex(bytes)}`,
          }),
        );
      io.stdout(`${o.algorithm === 'blake3' ? `blake3:${blake3Hex(bytes)}` : sha}  ${shown(at(file))}\n`);
    });

  program
    .command('test')
    .description(
      'Invoke one operation through the real sandboxed host (worker thread, manifest capabilities, network policy, limits) with in-memory secrets and state.',
    )
    .argument(
      '<target>',
      'a .wasm component, or a project folder (built first, from the cache when unchanged)',
    )
    .requiredOption('--op <name>', 'the operation to invoke')
    .option('--input <json>', "the operation's input as JSON", '{}')
    .option('--manifest <file>', 'component manifest (default: component.manifest.json next to the .wasm)')
    .option('--secret <key=value>', 'a secret the component may read (repeatable)', collect, [])
    .option(
      '--state <key=value>',
      'seed the component state with a UTF-8 value, e.g. count=41 (repeatable)',
      collect,
      [],
    )
    .option('--allow-host <host>', 'add a host to the network policy allow list (repeatable)', collect, [])
    .option('--tenant <tenant>', 'tenant of the call', 'local')
    .option('--env <env>', 'environment of the call', 'dev')
    .option('--team <team>', 'team of the call')
    .option('--user <user>', 'user of the call', 'tester')
    .option('--timeout <ms>', 'wall-time limit of the call (default: the manifest limits)')
    .option('--cache-dir <dir>', 'build cache folder, when <target> is a project folder')
    .option('--json', 'print {component, op, ok, output | error, ms, state, http, logs} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  greentic-component test . --op greet --input '{"name":"Ada"}' --state greetings=41
  greentic-component test dist/weather.wasm --op forecast --input '{"city":"Paris","base_url":"http://127.0.0.1:8080"}'
  greentic-component test dist/api.wasm --op call --secret api/token=abc --allow-host api.example.com --json

Exit code 0 when the component returns an output, 1 when it returns an error (printed as "error <code>: …").`,
    )
    .action(async (target: string, o: Record<string, string | string[] | boolean | undefined>) => {
      const input = parseJsonArg(String(o.input), '--input');
      const r = await testComponent(at(target), {
        op: String(o.op),
        input,
        manifest: o.manifest === undefined ? undefined : at(String(o.manifest)),
        secrets: pairs(o.secret as string[], 'secret'),
        state: pairs(o.state as string[], 'state'),
        allowHosts: o.allowHost as string[],
        tenant: String(o.tenant),
        env: String(o.env),
        team: o.team === undefined ? undefined : String(o.team),
        user: String(o.user),
        timeoutMs: o.timeout === undefined ? undefined : intOption(String(o.timeout), '--timeout'),
        build: o.cacheDir === undefined ? undefined : { cacheDir: at(String(o.cacheDir)) },
        onProgress: progress,
      });
      const outcome = r.outcome;
      if ('Error' in outcome) exitCode = EXIT_FAILED;
      if (o.json) {
        const result =
          'Done' in outcome
            ? { ok: true, output: outcome.Done }
            : 'Error' in outcome
              ? { ok: false, error: outcome.Error }
              : { ok: false, pending: outcome.Pending };
        return io.stdout(
          json({
            component: r.component,
            op: r.op,
            ...result,
            ms: r.ms,
            state: r.state,
            http: r.http,
            logs: r.logs,
          }),
        );
      }
      for (const h of r.http) io.stderr(`http ${h.method} ${h.url} → ${h.status ?? h.error}\n`);
      if ('Done' in outcome) io.stdout(`ok ${r.component}.${r.op} (${r.ms} ms)\n${json(outcome.Done)}`);
      else if ('Error' in outcome) io.stdout(`error ${outcome.Error.code}: ${outcome.Error.message}\n`);
      else io.stdout(`pending: ${JSON.stringify(outcome.Pending)}\n`);
      if (Object.keys(r.state).length > 0) io.stdout(`state ${JSON.stringify(r.state)}\n`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (e instanceof ComponentCliError) {
      io.stderr(`error ${e.code}: ${e.message}\n`);
      return e.code === 'GT_COMPONENT_CLI_USAGE' ? EXIT_USAGE : EXIT_FAILED;
    }
    if (isComponentError(e)) {
      io.stderr(`error ${e.code}: ${e.message}\n`);
      return EXIT_FAILED;
    }
    throw e;
  }
}
