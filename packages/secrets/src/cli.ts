import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { EnvSecretsProvider } from './env.js';
import { isSecretsError, jsonErrorPosition, SecretsError } from './errors.js';
import { EncryptedFileSecretsProvider } from './file-store.js';
import { MountedSecretsProvider } from './mounted.js';
import type { SecretsProvider } from './provider.js';
import {
  type PackSecrets,
  packSecretRequirements,
  type SecretsDoctorReport,
  secretsDoctor,
} from './requirements.js';
import { applySeed, formatSeed, parseSeed, scaffoldSeed } from './seed.js';
import { formatSecretUri, parseSecretUri, type SecretUri } from './uri.js';
import { REDACTED, type SecretFormat, SecretValue } from './value.js';

export interface SecretsCliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Where `set --stdin` reads (default `process.stdin`). */
  stdin?: Readable;
  /** Environment variables (default `process.env`): `GREENTIC_SECRETS_DIR`, `GREENTIC_SECRETS_MASTER_KEY`, … */
  env?: Record<string, string | undefined>;
  /** Base of relative paths (default `process.cwd()`). */
  cwd?: string;
  /**
   * Reads a `.gtpack` and returns its manifest as plain JSON. Default: `@greentic/pack`, imported at run time when
   * it is installed (this package does not depend on it).
   */
  readGtpack?: (path: string) => Promise<unknown>;
  /** The module the default `.gtpack` reader imports (default `@greentic/pack`). */
  packModule?: string;
}

/** Exit codes: the command did what was asked; the answer is negative; the command could not run. */
export const EXIT_OK = 0;
export const EXIT_NEGATIVE = 1;
export const EXIT_ERROR = 2;

const collect = (v: string, prev: string[]) => [...prev, v];

/** Exported names `@greentic/pack` may use for its `.gtpack` reader, tried in order. */
const PACK_READERS = [
  'readPackManifest',
  'readGtpackManifest',
  'readGtpack',
  'openGtpack',
  'loadGtpack',
  'readPack',
] as const;

async function importPackModule(
  specifier: string,
  cwd: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch {
    // not resolvable from this package: try from the working directory (a project that installs both)
  }
  try {
    const path = createRequire(join(cwd, 'noop.js')).resolve(specifier);
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The pack manifest, with each component entry's full manifest under `manifest` when the reader returns them
 * (`@greentic/pack` `readPack` gives `{manifest, components: Map<id, {manifest}>}`).
 */
function manifestOf(result: unknown): unknown {
  if (!result || typeof result !== 'object' || !('manifest' in result)) return result;
  const { manifest, components } = result as { manifest: unknown; components?: unknown };
  if (!(components instanceof Map) || !manifest || typeof manifest !== 'object') return manifest;
  const m = manifest as { components?: unknown };
  const entries = Array.isArray(m.components) ? (m.components as { id?: string }[]) : [];
  return {
    ...m,
    components: entries.map((c) => {
      const loaded = components.get(c.id) as { manifest?: unknown } | undefined;
      return loaded?.manifest === undefined ? c : { ...c, manifest: loaded.manifest };
    }),
  };
}

/** The default `.gtpack` reader: `@greentic/pack` when installed, else a clear `GT_SECRETS_PACK`. */
async function defaultReadGtpack(path: string, specifier: string, cwd: string): Promise<unknown> {
  const mod = await importPackModule(specifier, cwd);
  const hint =
    'or pass the pack manifest as JSON/YAML instead (for example the output of `packc inspect --json` or the ' +
    "pack's pack.yaml / component.manifest.json)";
  if (!mod) {
    throw new SecretsError(
      'GT_SECRETS_PACK',
      `reading a .gtpack (${path}) needs ${specifier}, which is not installed; install it, ${hint}`,
    );
  }
  const name = PACK_READERS.find((n) => typeof mod[n] === 'function');
  if (!name) {
    throw new SecretsError(
      'GT_SECRETS_PACK',
      `${specifier} exports no .gtpack reader (${PACK_READERS.join(', ')}); ${hint}`,
    );
  }
  // Only the manifest is read and nothing in the pack runs, so a trusted signature is not required here.
  return (mod[name] as (p: string, o: { allowUnsigned: boolean }) => Promise<unknown>)(path, {
    allowUnsigned: true,
  });
}

async function loadPack(path: string, io: SecretsCliIO, cwd: string): Promise<PackSecrets> {
  const abs = resolve(cwd, path);
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch (e) {
    throw new SecretsError(
      'GT_SECRETS_PACK',
      `cannot read the pack ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  let manifest: unknown;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const read =
      io.readGtpack ?? ((p: string) => defaultReadGtpack(p, io.packModule ?? '@greentic/pack', cwd));
    try {
      manifest = manifestOf(await read(abs));
    } catch (e) {
      if (isSecretsError(e)) throw e;
      throw new SecretsError('GT_SECRETS_PACK', `cannot read the pack ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  } else {
    const text = bytes.toString('utf8');
    if (text.trimStart().startsWith('{')) {
      try {
        manifest = JSON.parse(text);
      } catch (e) {
        const at = jsonErrorPosition(e);
        throw new SecretsError(
          'GT_SECRETS_PACK',
          `the pack manifest ${path} is not valid JSON${at ? ` (${at})` : ''}`,
        );
      }
    } else {
      try {
        manifest = parseYaml(text);
      } catch {
        throw new SecretsError(
          'GT_SECRETS_PACK',
          `the pack manifest ${path} is neither a .gtpack (zip) nor JSON/YAML`,
        );
      }
    }
  }
  try {
    return packSecretRequirements(manifest);
  } catch (e) {
    if (isSecretsError(e)) throw new SecretsError(e.code, `${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

interface GlobalOpts {
  store?: string;
  keyFile?: string;
}

function storeDir(g: GlobalOpts, env: Record<string, string | undefined>, cwd: string): string {
  if (g.store) return resolve(cwd, g.store);
  if (env.GREENTIC_SECRETS_DIR) return resolve(cwd, env.GREENTIC_SECRETS_DIR);
  return join(homedir(), '.greentic', 'secrets');
}

async function masterKey(
  g: GlobalOpts,
  env: Record<string, string | undefined>,
  cwd: string,
): Promise<string | undefined> {
  const file =
    g.keyFile ?? (env.GREENTIC_SECRETS_MASTER_KEY ? undefined : env.GREENTIC_SECRETS_MASTER_KEY_FILE);
  if (file) {
    let text: string;
    try {
      text = await readFile(resolve(cwd, file), 'utf8');
    } catch (e) {
      throw new SecretsError(
        'GT_SECRETS_KEY',
        `cannot read the master key file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const key = text.trim();
    if (key === '') throw new SecretsError('GT_SECRETS_KEY', `the master key file ${file} is empty`);
    return key;
  }
  const key = env.GREENTIC_SECRETS_MASTER_KEY;
  return key === undefined || key === '' ? undefined : key;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream)
    chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function stripNewline(b: Buffer): Buffer {
  if (b.at(-1) !== 0x0a) return b;
  return b.subarray(0, b.at(-2) === 0x0d ? -2 : -1);
}

function unversioned(uriText: string, what: string): SecretUri {
  const u = parseSecretUri(uriText);
  if (u.version !== undefined) {
    throw new SecretsError(
      'GT_SECRETS_USAGE',
      `${what} takes a URI without @version (got ${formatSecretUri(u)}); versions are assigned on write`,
    );
  }
  return u;
}

function exitCodeOf(e: SecretsError): number {
  return e.code === 'GT_SECRETS_NOT_FOUND' || e.code === 'GT_SECRETS_DENIED' ? EXIT_NEGATIVE : EXIT_ERROR;
}

function revealString(v: SecretValue): string {
  return v.format === 'bytes' ? v.revealBase64() : v.revealText();
}

function printDoctor(io: SecretsCliIO, r: SecretsDoctorReport): void {
  const s = r.scope;
  io.stdout(
    `tenant ${s.tenant} (env ${s.env}${s.team ? `, team ${s.team}` : ''}): ${r.ok ? 'ok' : `${r.missing} missing`}\n`,
  );
  for (const q of r.requirements) {
    const mark = q.status === 'present' ? 'ok     ' : q.status === 'missing' ? 'MISSING' : 'absent ';
    const where =
      q.status === 'present' ? `${q.found_at} (${q.provider})` : `set ${q.checked[q.checked.length - 1]}`;
    io.stdout(
      `  ${mark} ${q.required ? 'required' : 'optional'} ${q.format.padEnd(5)} ${q.category}/${q.name}  ${where}\n`,
    );
  }
}

/**
 * The `greentic-secrets` command. Returns the exit code: 0 done, 1 negative answer (not found, missing secrets,
 * failed seed entries), 2 could not run (usage, bad URI, missing or wrong master key, unreadable file).
 */
export async function runSecretsCli(argv: string[], io: SecretsCliIO): Promise<number> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  let exitCode = EXIT_OK;

  const program = new Command('greentic-secrets')
    .description(
      'Manage Greentic secrets (secrets://<env>/<tenant>/<team|_>/<category>/<name>) in the encrypted file store.\n' +
        'Values are never printed unless you ask with get --reveal.',
    )
    .option('--store <dir>', 'store directory (default: $GREENTIC_SECRETS_DIR, else ~/.greentic/secrets)')
    .option(
      '--key-file <path>',
      'file holding the master key (default: $GREENTIC_SECRETS_MASTER_KEY, else $GREENTIC_SECRETS_MASTER_KEY_FILE)',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nEnvironment:\n  GREENTIC_SECRETS_DIR              store directory\n  GREENTIC_SECRETS_MASTER_KEY       master key (16+ bytes; generate: openssl rand -base64 32)\n  GREENTIC_SECRETS_MASTER_KEY_FILE  file holding the master key\n\n' +
        'Examples:\n  greentic-secrets scaffold --pack weather.gtpack --tenant acme --out seed.json\n' +
        '  greentic-secrets apply seed.json\n  printf %s "$TOKEN" | greentic-secrets set secrets://prod/acme/_/openai/api_key --stdin\n' +
        '  greentic-secrets get secrets://prod/acme/_/openai/api_key\n  greentic-secrets doctor --pack weather.gtpack --env prod --tenant acme --tenant globex\n\n' +
        'Exit codes: 0 done, 1 negative answer (not found, missing secrets, failed entries), 2 could not run.',
    );

  const globals = (cmd: Command): GlobalOpts => cmd.optsWithGlobals() as GlobalOpts;
  const openStore = async (cmd: Command) => {
    const g = globals(cmd);
    const dir = storeDir(g, env, cwd);
    return new EncryptedFileSecretsProvider({ dir, masterKey: await masterKey(g, env, cwd) });
  };

  program
    .command('set')
    .description('Store a new version of a secret. The value is never echoed.')
    .argument('<uri>', 'secrets://<env>/<tenant>/<team|_>/<category>/<name>')
    .option(
      '--value <value>',
      'the value (visible in shell history and the process list: prefer --stdin or --from-file)',
    )
    .option('--from-file <path>', 'read the value from a file')
    .option('--stdin', 'read the value from standard input')
    .addOption(
      new Option(
        '--format <format>',
        'text, json or bytes (bytes: --value/--stdin are base64, a file is raw)',
      )
        .choices(['text', 'json', 'bytes'])
        .default('text'),
    )
    .option(
      '--raw',
      'keep a trailing newline read from --stdin or --from-file (stripped by default for text and json)',
    )
    .option('--json', 'print {uri, version, format, size}')
    .addHelpText(
      'after',
      '\nExamples:\n  printf %s "$TOKEN" | greentic-secrets set secrets://dev/acme/_/telegram/bot_token --stdin\n' +
        '  greentic-secrets set secrets://dev/acme/support/zendesk/creds --from-file creds.json --format json\n' +
        '  greentic-secrets set secrets://dev/acme/_/signing/key --from-file key.bin --format bytes',
    )
    .action(async (uriText: string, o, cmd: Command) => {
      const u = unversioned(uriText, 'set');
      const sources = [o.value !== undefined, o.fromFile !== undefined, o.stdin === true].filter(
        Boolean,
      ).length;
      if (sources !== 1)
        throw new SecretsError(
          'GT_SECRETS_USAGE',
          'set needs exactly one of --value, --from-file or --stdin',
        );
      const format = o.format as SecretFormat;
      let value: SecretValue;
      if (o.value !== undefined) {
        io.stderr(
          'warning: --value leaves the secret in your shell history and the process list; prefer --stdin or --from-file\n',
        );
        value = SecretValue.parse(o.value as string, format, 'the value');
      } else {
        let raw: Buffer;
        if (o.fromFile !== undefined) {
          try {
            raw = await readFile(resolve(cwd, o.fromFile as string));
          } catch (e) {
            throw new SecretsError(
              'GT_SECRETS_USAGE',
              `cannot read ${o.fromFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
            );
          }
        } else {
          raw = await readAll(io.stdin ?? process.stdin);
        }
        if (format === 'bytes') {
          value =
            o.fromFile !== undefined
              ? SecretValue.bytes(raw)
              : SecretValue.parse(raw.toString('latin1'), 'bytes', 'the value');
        } else {
          value = SecretValue.fromBytes(o.raw ? raw : stripNewline(raw), format, 'the value');
        }
        raw.fill(0);
      }
      const store = await openStore(cmd);
      const r = await store.put(u, value);
      if (o.json)
        io.stdout(
          `${JSON.stringify({ uri: r.uri, version: r.version, format: value.format, size: value.size })}\n`,
        );
      else io.stdout(`stored ${r.uri} (${value.format}, ${value.size} bytes)\n`);
    });

  program
    .command('get')
    .description('Show a secret: its metadata, and the value only with --reveal.')
    .argument('<uri>', 'secrets://…/<name>[@version] (latest version by default)')
    .option('--reveal', 'print the value (text and json as is, bytes as base64)')
    .option('--json', 'print {uri, version, format, size, created_at, provider, value}')
    .addHelpText(
      'after',
      '\nExamples:\n  greentic-secrets get secrets://dev/acme/_/openai/api_key\n  greentic-secrets get secrets://dev/acme/_/openai/api_key@2 --reveal',
    )
    .action(async (uriText: string, o, cmd: Command) => {
      const u = parseSecretUri(uriText);
      const store = await openStore(cmd);
      const r = await store.get(u);
      if (!r) {
        io.stderr(`not found: ${formatSecretUri(u)} has no value in ${store.dir}\n`);
        exitCode = EXIT_NEGATIVE;
        return;
      }
      if (o.json) {
        const value = o.reveal
          ? r.format === 'json'
            ? r.value.revealJson()
            : revealString(r.value)
          : REDACTED;
        io.stdout(
          `${JSON.stringify({ uri: r.uri, version: r.version, format: r.format, size: r.value.size, created_at: r.created_at, provider: r.provider, value })}\n`,
        );
      } else if (o.reveal) {
        io.stdout(`${revealString(r.value)}\n`);
      } else {
        io.stdout(
          `${r.uri}\n  format ${r.format}, ${r.value.size} bytes, created ${r.created_at ?? 'unknown'}\n  value ******** (hidden; pass --reveal to print it)\n`,
        );
      }
    });

  program
    .command('list')
    .description('List secrets (URIs, formats and versions; never values).')
    .option('--env <env>', 'only this environment')
    .option('--tenant <tenant>', 'only this tenant')
    .option('--team <team>', 'only this team ("_" for tenant-wide secrets)')
    .option('--category <category>', 'only this category')
    .option('--json', 'print a JSON array')
    .addHelpText('after', '\nExample:\n  greentic-secrets list --env prod --tenant acme')
    .action(async (o, cmd: Command) => {
      const store = await openStore(cmd);
      const items = await store.list({ env: o.env, tenant: o.tenant, team: o.team, category: o.category });
      if (o.json) io.stdout(`${JSON.stringify(items, null, 2)}\n`);
      else if (items.length === 0) io.stderr(`no secrets in ${store.dir}\n`);
      else
        for (const i of items)
          io.stdout(
            `${i.uri}  ${i.format}  v${i.latest_version} (${i.versions} version${i.versions === 1 ? '' : 's'})\n`,
          );
    });

  program
    .command('versions')
    .description("List a secret's versions (never values).")
    .argument('<uri>', 'secrets://…/<name>')
    .option('--json', 'print a JSON array')
    .action(async (uriText: string, o, cmd: Command) => {
      const u = parseSecretUri(uriText);
      const store = await openStore(cmd);
      const versions = await store.versions(u);
      if (o.json) io.stdout(`${JSON.stringify(versions, null, 2)}\n`);
      else
        for (const v of versions)
          io.stdout(`${v.version}  ${v.format}  ${v.size ?? '?'} bytes  ${v.created_at ?? ''}\n`);
      if (versions.length === 0) {
        io.stderr(`not found: ${formatSecretUri(u)}\n`);
        exitCode = EXIT_NEGATIVE;
      }
    });

  program
    .command('delete')
    .description('Delete a secret and all its versions.')
    .argument('<uri>', 'secrets://…/<name>')
    .action(async (uriText: string, _o, cmd: Command) => {
      const u = unversioned(uriText, 'delete');
      const store = await openStore(cmd);
      if (await store.delete(u)) io.stdout(`deleted ${formatSecretUri(u)}\n`);
      else {
        io.stderr(`not found: ${formatSecretUri(u)}\n`);
        exitCode = EXIT_NEGATIVE;
      }
    });

  program
    .command('scaffold')
    .description(
      "List the secrets a pack needs and write a seed file to fill in (values empty, or the requirement's example).",
    )
    .requiredOption(
      '--pack <file>',
      '.gtpack (needs @greentic/pack), pack manifest JSON/YAML, or a component manifest',
    )
    .option('--env <env>', "environment of the seeded URIs (default: the requirements' scope, else dev)")
    .option('--tenant <tenant>', "tenant of the seeded URIs (default: the requirements' scope)")
    .option('--team <team>', 'team of the seeded URIs (default: _ = tenant-wide)')
    .option('--out <file>', 'seed file to write (.json, or .yaml/.yml for YAML)', 'secrets.seed.json')
    .option('--force', 'overwrite an existing seed file')
    .option('--json', 'print {pack_id, category, requirements, warnings, seed}')
    .addHelpText(
      'after',
      '\nExamples:\n  greentic-secrets scaffold --pack dist/weather.gtpack --env prod --tenant acme --out acme.seed.json\n  greentic-secrets scaffold --pack components/weather_api/component.manifest.json --tenant acme',
    )
    .action(async (o) => {
      const secrets = await loadPack(o.pack as string, io, cwd);
      const scopes = new Set(
        secrets.requirements.map((r) =>
          r.scope ? `${r.scope.env}/${r.scope.tenant}/${r.scope.team ?? '_'}` : '',
        ),
      );
      const only = scopes.size === 1 ? secrets.requirements[0]?.scope : undefined;
      const tenant = (o.tenant as string | undefined) ?? only?.tenant;
      if (tenant === undefined) {
        throw new SecretsError(
          'GT_SECRETS_USAGE',
          'scaffold needs --tenant (the requirements name no single tenant scope)',
        );
      }
      const scope = {
        env: (o.env as string | undefined) ?? only?.env ?? 'dev',
        tenant,
        team: (o.team as string | undefined) ?? (o.tenant ? undefined : only?.team),
      };
      const seed = scaffoldSeed(secrets, scope);
      const out = resolve(cwd, o.out as string);
      if (existsSync(out) && !o.force) {
        throw new SecretsError(
          'GT_SECRETS_USAGE',
          `${o.out} exists (it may hold values); pass --force to overwrite it, or choose --out`,
        );
      }
      const yaml = ['.yaml', '.yml'].includes(extname(out).toLowerCase());
      await writeFile(out, formatSeed(seed, yaml ? 'yaml' : 'json'), { mode: 0o600 });
      for (const w of secrets.warnings) io.stderr(`warning: ${w}\n`);
      if (o.json) {
        io.stdout(
          `${JSON.stringify({ pack_id: secrets.pack_id, category: secrets.category, requirements: secrets.requirements, warnings: secrets.warnings, seed: out }, null, 2)}\n`,
        );
        return;
      }
      const n = secrets.requirements.length;
      io.stdout(`pack ${secrets.pack_id ?? '(unnamed)'} needs ${n} secret${n === 1 ? '' : 's'}:\n`);
      for (const r of secrets.requirements) {
        io.stdout(
          `  ${r.required ? 'required' : 'optional'} ${r.format.padEnd(5)} ${r.category}/${r.name}  (${r.components.join(', ')})${r.description ? `  ${r.description}` : ''}\n`,
        );
      }
      io.stdout(
        `wrote ${o.out}: ${n} entr${n === 1 ? 'y' : 'ies'} for env ${scope.env}, tenant ${scope.tenant}, team ${scope.team ?? '_'}\n` +
          `fill in the values, then run: greentic-secrets apply ${o.out} (and delete the file afterwards)\n`,
      );
    });

  program
    .command('apply')
    .description(
      'Write every filled entry of a seed file (JSON or YAML) as a new version; empty placeholders are skipped.',
    )
    .argument('<seed>', 'seed file {"entries": [{uri, format, value: {type, …}}]}')
    .option('--pack <file>', "skip entries that are not the pack's requirements")
    .option('--store-empty', 'store empty placeholders too')
    .option('--json', 'print {applied, skipped, failed}')
    .addHelpText('after', '\nExample:\n  greentic-secrets apply acme.seed.json --pack dist/weather.gtpack')
    .action(async (seedPath: string, o, cmd: Command) => {
      let text: string;
      try {
        text = await readFile(resolve(cwd, seedPath), 'utf8');
      } catch (e) {
        throw new SecretsError(
          'GT_SECRETS_USAGE',
          `cannot read the seed ${seedPath}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
      const doc = parseSeed(text, `the seed ${seedPath}`);
      const requirements = o.pack ? await loadPack(o.pack as string, io, cwd) : undefined;
      const store = await openStore(cmd);
      const report = await applySeed(store, doc, {
        ...(requirements ? { requirements } : {}),
        storeEmpty: o.storeEmpty === true,
      });
      if (o.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      else {
        for (const a of report.applied) io.stdout(`stored  ${a.uri}\n`);
        for (const s of report.skipped) io.stdout(`skipped ${s.uri}: ${s.reason}\n`);
        for (const f of report.failed) io.stderr(`failed  ${f.uri}: ${f.code} ${f.error}\n`);
        io.stdout(
          `${report.applied.length} stored, ${report.skipped.length} skipped, ${report.failed.length} failed\n`,
        );
      }
      if (report.failed.length > 0) exitCode = EXIT_NEGATIVE;
    });

  program
    .command('doctor')
    .description("Check which of a pack's secrets each tenant is missing (no value is decrypted).")
    .requiredOption('--pack <file>', '.gtpack, pack manifest JSON/YAML, or a component manifest')
    .requiredOption('--tenant <tenant>', 'tenant to check (repeatable)', collect, [])
    .option('--env <env>', 'environment', 'dev')
    .option('--team <team>', "the caller's team (its values are found before the tenant-wide ones)")
    .option('--unit <unit>', 'deployed unit id (its unit-scoped values are found first)')
    .option('--mount <dir>', 'also look in mounted Kubernetes secret files under <dir> (tree layout)')
    .option('--no-env-vars', 'do not count GREENTIC_SECRET__… environment variables as present')
    .option('--json', 'print [{scope, ok, missing, requirements}]')
    .addHelpText(
      'after',
      '\nExample:\n  greentic-secrets doctor --pack dist/weather.gtpack --env prod --tenant acme --tenant globex\n\nExit code 1 when a required secret is missing for some tenant.',
    )
    .action(async (o, cmd: Command) => {
      const secrets = await loadPack(o.pack as string, io, cwd);
      const providers: SecretsProvider[] = [await openStore(cmd)];
      if (o.envVars !== false) providers.push(new EnvSecretsProvider({ env: { ...env } }));
      if (o.mount) providers.push(new MountedSecretsProvider({ root: resolve(cwd, o.mount as string) }));
      const reports: SecretsDoctorReport[] = [];
      for (const tenant of o.tenant as string[]) {
        reports.push(
          await secretsDoctor(providers, secrets, {
            env: o.env,
            tenant,
            team: o.team,
            ...(o.unit ? { unit: o.unit } : {}),
          }),
        );
      }
      for (const w of secrets.warnings) io.stderr(`warning: ${w}\n`);
      if (o.json) io.stdout(`${JSON.stringify(reports, null, 2)}\n`);
      else for (const r of reports) printDoctor(io, r);
      if (reports.some((r) => !r.ok)) exitCode = EXIT_NEGATIVE;
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
        ? EXIT_OK
        : EXIT_ERROR;
    }
    if (isSecretsError(e)) {
      io.stderr(`error ${e.code}: ${e.message}\n`);
      return exitCodeOf(e);
    }
    io.stderr(
      `error: unexpected ${(e as Error)?.name ?? 'failure'}: ${(e as Error)?.message ?? String(e)}\n`,
    );
    return EXIT_ERROR;
  }
}
