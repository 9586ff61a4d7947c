/**
 * `packc push|pull|resolve` as one function the CLI calls with its arguments:
 *
 *   if (argv[0] === 'push' || argv[0] === 'pull' || argv[0] === 'resolve') process.exitCode = await runOciCommand(argv);
 *
 * Human text by default, one JSON document on stdout with `--json`, progress on stderr, exit code 0 (done),
 * 1 (failed) or 2 (called wrongly). Never prints a credential.
 */
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, resolve as resolvePath } from 'node:path';
import { PackError } from '../errors.js';
import { humanSize, type OciClientOptions, type OciProgressEvent } from './client.js';
import { type OciPullResult, pullComponent, pullPack, pushComponent, pushPack, resolveRef } from './pack.js';

export interface OciCommandIo {
  stdout?: { write(chunk: string): unknown };
  stderr?: { write(chunk: string): unknown };
  /** Read by `--password-stdin`. Default: `process.stdin`. */
  stdin?: AsyncIterable<Uint8Array | string>;
  env?: Record<string, string | undefined>;
  /** Base for relative paths. Default: `process.cwd()`. */
  cwd?: string;
  fetch?: typeof fetch;
  /**
   * Reads id and version from the pack being pushed (the package's verified reader), for the
   * `greentic.pack.id`/`greentic.pack.version` annotations when `--pack-id`/`--pack-version` are not given.
   * Throwing refuses the push.
   */
  describePack?: (
    bytes: Uint8Array,
    path: string,
  ) => Promise<{ id?: string; version?: string }> | { id?: string; version?: string };
}

const COMMON = `  --json                one JSON document on stdout
  --quiet               no progress on stderr
  --insecure            allow plain HTTP to a registry that is not on loopback
  --username USER       registry user (default GREENTIC_OCI_USERNAME)
  --password-stdin      read the password from stdin (default GREENTIC_OCI_PASSWORD; token: GREENTIC_OCI_TOKEN)
  --timeout-ms N        time limit per HTTP request (default 120000)`;

const HELP: Record<string, string> = {
  push: `usage: packc push <file> oci://host[:port]/repo[:tag] [options]
Pushes a .gtpack as one application/vnd.greentic.pack+zip layer; prints the pinned reference.
  --component           push a WebAssembly component (application/vnd.wasm.component.v1+wasm) instead
  --pack-id ID          greentic.pack.id annotation (default: read from the pack)
  --pack-version V      greentic.pack.version annotation (default: read from the pack)
  --title NAME          org.opencontainers.image.title (default: the file name)
  --annotation K=V      extra manifest annotation (repeatable)
${COMMON}
example: packc push dist/weather.gtpack oci://ghcr.io/acme/packs/weather:1.2.0`,
  pull: `usage: packc pull oci://host[:port]/repo@sha256:<digest> [-o FILE] [options]
Pulls a pack pinned by digest, verifies its sha256 and caches it; prints where it is.
  -o, --output FILE     write the pack to FILE (default: print the cache path)
  --allow-tags          accept a tag instead of a digest (tags can move)
  --component           pull a WebAssembly component instead of a pack
  --cache-dir DIR       cache directory (default GREENTIC_PACK_CACHE_DIR or ~/.cache/greentic/packs)
  --no-cache            neither read nor write the cache (needs -o)
  --max-bytes N         size limit of the layer (default 64 MiB for packs)
${COMMON}
example: packc pull oci://ghcr.io/acme/packs/weather@sha256:3f5c…e1 -o weather.gtpack`,
  resolve: `usage: packc resolve oci://host[:port]/repo:tag [options]
Resolves a tag to its digest-pinned reference (for pull).
${COMMON}
example: packc resolve oci://ghcr.io/acme/packs/weather:1.2.0`,
};

interface Parsed {
  command: string;
  positionals: string[];
  flags: Set<string>;
  values: Map<string, string>;
  annotations: Record<string, string>;
}

const BOOLEAN_FLAGS = new Set([
  '--json',
  '--quiet',
  '--insecure',
  '--password-stdin',
  '--allow-tags',
  '--component',
  '--no-cache',
  '--help',
]);
const VALUE_FLAGS = new Set([
  '--username',
  '--timeout-ms',
  '--pack-id',
  '--pack-version',
  '--title',
  '--annotation',
  '--output',
  '--cache-dir',
  '--max-bytes',
]);
const ALIASES: Record<string, string> = { '-o': '--output', '-h': '--help' };

function usage(message: string): PackError {
  return new PackError('GT_PACK_OCI_USAGE', message);
}

function parseArgs(argv: readonly string[]): Parsed {
  const [command = '', ...rest] = argv;
  const out: Parsed = { command, positionals: [], flags: new Set(), values: new Map(), annotations: {} };
  for (let i = 0; i < rest.length; i++) {
    let arg = rest[i]!;
    let inline: string | undefined;
    if (arg.startsWith('--') && arg.includes('=')) {
      inline = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    arg = ALIASES[arg] ?? arg;
    if (arg === '--') {
      out.positionals.push(...rest.slice(i + 1));
      break;
    }
    if (BOOLEAN_FLAGS.has(arg)) {
      if (inline !== undefined) throw usage(`${arg} takes no value`);
      out.flags.add(arg);
    } else if (VALUE_FLAGS.has(arg)) {
      const value = inline ?? rest[++i];
      if (value === undefined) throw usage(`${arg} needs a value`);
      if (arg === '--annotation') {
        const eq = value.indexOf('=');
        if (eq <= 0) throw usage(`--annotation takes KEY=VALUE, got ${JSON.stringify(value)}`);
        out.annotations[value.slice(0, eq)] = value.slice(eq + 1);
      } else out.values.set(arg, value);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw usage(`unknown option ${arg}`);
    } else out.positionals.push(arg);
  }
  return out;
}

function positiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) <= 0) throw usage(`${flag} takes a positive whole number`);
  return Number(text);
}

async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

function short(digest: string): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}

function progressLine(e: OciProgressEvent): string {
  switch (e.type) {
    case 'blob-exists':
      return `exists   ${short(e.digest)} (${humanSize(e.size)}, already in the registry)`;
    case 'blob-uploaded':
      return `uploaded ${short(e.digest)} (${humanSize(e.size)})`;
    case 'manifest-pushed':
      return `manifest ${short(e.digest)} → ${e.reference}`;
    case 'resolved':
      return `resolved ${e.reference} → ${e.digest}`;
    case 'download-start':
      return `fetching ${short(e.digest)} (${humanSize(e.size)})`;
    case 'download-done':
      return `verified ${short(e.digest)} (sha256 matches)`;
    case 'cache-hit':
      return `cached   ${short(e.digest)} (${e.path})`;
    case 'cache-invalid':
      return `cache entry ${e.path} is damaged (${e.reason}); fetching again`;
  }
}

/**
 * Runs `push`, `pull` or `resolve` with CLI arguments (`argv[0]` is the command). Returns the exit code.
 */
export async function runOciCommand(argv: readonly string[], io: OciCommandIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolvePath(cwd, p));
  let json = argv.includes('--json');
  const command = argv[0] ?? '';
  try {
    const args = parseArgs(argv);
    json = args.flags.has('--json');
    if (!(command in HELP))
      throw usage(`unknown command ${JSON.stringify(command)}; expected push, pull or resolve`);
    if (args.flags.has('--help')) {
      stdout.write(`${HELP[command]}\n`);
      return 0;
    }
    const quiet = args.flags.has('--quiet');
    const client: OciClientOptions = {
      env,
      insecure: args.flags.has('--insecure'),
      onProgress: quiet ? undefined : (e) => stderr.write(`packc: ${progressLine(e)}\n`),
    };
    if (io.fetch) client.fetch = io.fetch;
    const timeout = positiveInt(args.values.get('--timeout-ms'), '--timeout-ms');
    if (timeout !== undefined) client.timeoutMs = timeout;
    const username = args.values.get('--username');
    if (args.flags.has('--password-stdin')) {
      if (!username && !env.GREENTIC_OCI_USERNAME)
        throw usage('--password-stdin needs --username (or GREENTIC_OCI_USERNAME)');
      client.username = username ?? env.GREENTIC_OCI_USERNAME;
      client.password = await readAll(io.stdin ?? process.stdin);
    } else if (username) {
      client.username = username;
      client.password = env.GREENTIC_OCI_PASSWORD ?? '';
    }
    const component = args.flags.has('--component');

    if (command === 'push') {
      if (args.positionals.length !== 2) throw usage(`push takes <file> <oci-ref>\n${HELP.push}`);
      const [file, ref] = args.positionals as [string, string];
      const path = abs(file);
      const title = args.values.get('--title');
      const common = { ...client, annotations: args.annotations, ...(title ? { title } : {}) };
      let result: Awaited<ReturnType<typeof pushPack>>;
      if (component) {
        result = await pushComponent(path, ref, common);
      } else {
        let packId = args.values.get('--pack-id');
        let packVersion = args.values.get('--pack-version');
        let input: string | Uint8Array = path;
        if (io.describePack && (packId === undefined || packVersion === undefined)) {
          let bytes: Uint8Array;
          try {
            bytes = await readFile(path);
          } catch (err) {
            throw new PackError(
              'GT_PACK_OCI_IO',
              `cannot read the pack file ${path}: ${(err as Error).message}`,
              {
                cause: err,
              },
            );
          }
          const described = await io.describePack(bytes, path);
          packId ??= described.id;
          packVersion ??= described.version;
          input = bytes;
        }
        result = await pushPack(input, ref, {
          ...common,
          title: title ?? basename(path),
          ...(packId ? { packId } : {}),
          ...(packVersion ? { packVersion } : {}),
        });
      }
      if (!quiet) stderr.write(`packc: pushed ${ref} → ${result.digest}\n`);
      if (json) stdout.write(`${JSON.stringify({ ok: true, command, ...result })}\n`);
      else stdout.write(`${result.ref}\n`);
      return 0;
    }

    if (command === 'pull') {
      if (args.positionals.length !== 1) throw usage(`pull takes one <oci-ref>\n${HELP.pull}`);
      const ref = args.positionals[0]!;
      const output = args.values.get('--output');
      const noCache = args.flags.has('--no-cache');
      if (noCache && !output)
        throw usage('--no-cache needs -o FILE: without the cache the pack has nowhere else to go');
      const cacheDir = args.values.get('--cache-dir');
      const maxBytes = positiveInt(args.values.get('--max-bytes'), '--max-bytes');
      const options = {
        ...client,
        allowTags: args.flags.has('--allow-tags'),
        ...(noCache ? { cacheDir: false as const } : cacheDir ? { cacheDir: abs(cacheDir) } : {}),
        ...(output ? { output: abs(output) } : {}),
        ...(maxBytes ? { maxBytes } : {}),
      };
      const result: OciPullResult = component
        ? await pullComponent(ref, options)
        : await pullPack(ref, options);
      if (!quiet) {
        stderr.write(
          `packc: pulled ${result.ref} (${humanSize(result.size)}${result.fromCache ? ', from cache' : ''})\n`,
        );
      }
      const { bytes: _bytes, ...rest } = result;
      if (json) stdout.write(`${JSON.stringify({ ok: true, command, ...rest })}\n`);
      else stdout.write(`${result.path ?? result.ref}\n`);
      return 0;
    }

    // resolve
    if (args.positionals.length !== 1) throw usage(`resolve takes one <oci-ref>\n${HELP.resolve}`);
    const result = await resolveRef(args.positionals[0]!, client);
    if (json) stdout.write(`${JSON.stringify({ ok: true, command, ...result })}\n`);
    else stdout.write(`${result.ref}\n`);
    return 0;
  } catch (err) {
    const errCode = (err as { code?: unknown } | null)?.code;
    const code = typeof errCode === 'string' ? errCode : undefined;
    const message = err instanceof Error ? err.message : String(err);
    if (json) stdout.write(`${JSON.stringify({ ok: false, command, error: { code, message } })}\n`);
    stderr.write(`packc: error${code ? ` ${code}` : ''}: ${message}\n`);
    return code === 'GT_PACK_OCI_USAGE' ? 2 : 1;
  }
}
