/**
 * `greentic-deployer`: init, bootstrap, plan, apply, destroy, stop, generate. Results on stdout (text or one JSON
 * document with --json), progress on stderr, failures as `error GT_DEPLOY_X [step s, resource r]: … what to do: …`.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { CONNECTOR_KIND_NAMES } from './connectors.js';
import {
  createDescription,
  type LoadedDescription,
  loadDescription,
  locateDescription,
  resolveFrom,
  TARGET_KINDS,
  type TargetKind,
  writeDescription,
} from './description.js';
import { type ApplyResult, apply, destroy, type Plan, plan } from './engine.js';
import { DeployerError, EXIT, isDeployerError } from './errors.js';
import { type GreenticHome, greenticHome } from './home.js';
import { readPackInfo } from './packs.js';
import {
  collectSecretValues,
  openSecretsStore,
  readMasterKey,
  readSecretsFile,
  SecretPrompter,
} from './secrets.js';
import { stopRunner } from './targets/dev-desktop.js';
import { targetArtifacts } from './targets/index.js';

export interface DeployerCliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Where prompts read from; only a terminal (isTTY) is asked (default: none, so nothing is asked). */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Test hook: fetch for provider calls. */
  fetch?: typeof fetch;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function targetOption(flag = '--env <target>') {
  return new Option(flag, 'deployment target').choices([...TARGET_KINDS]);
}

const EXIT_CODES_HELP = `
Exit codes:
  0    done (plan: also when there are changes, unless --detailed-exitcode)
  1    a step failed: the message names the step, the resource and what to do; running again is safe
  2    bad usage or an invalid environment description (greentic.yaml)
  3    a secret has no value and none could be asked for (--non-interactive)
  4    plan --detailed-exitcode: there are changes to apply
  130  interrupted at a prompt`;

interface Globals {
  home?: string;
  config?: string;
}

/** Runs the CLI in-process; returns the exit code. */
export async function runDeployerCli(argv: string[], io: DeployerCliIO): Promise<number> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  let exitCode: number = EXIT.OK;
  let json = false;
  const log = (line: string) => io.stderr(`${line}\n`);
  const out = (s: string) => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  const home = (g: Globals): GreenticHome => greenticHome(g.home ? resolve(cwd, g.home) : undefined, env);
  const load = (g: Globals): LoadedDescription =>
    loadDescription(locateDescription(g.config, cwd, home(g).globalDescription));
  const emit = (doc: Record<string, unknown>, text: () => string) => {
    if (json) out(JSON.stringify({ ok: true, ...doc }, null, 2));
    else out(text());
  };

  const program = new Command('greentic-deployer')
    .description(
      'Deploy Greentic environments: describe them (init), bootstrap tenants, secrets, keys, webhooks and packs, then plan/apply/destroy on dev-desktop, serverless or Kubernetes.',
    )
    .option('--home <dir>', 'Greentic home (default $GREENTIC_HOME, else ~/.greentic)')
    .option(
      '--config <file>',
      'environment description (default ./greentic.yaml, else $GREENTIC_HOME/greentic.yaml)',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  greentic-deployer init --tenant acme --team support --connector messaging.telegram --public-url https://bot.example.com
  TELEGRAM_BOT_TOKEN=123:abc greentic-deployer bootstrap --env dev-desktop --non-interactive
  greentic-deployer plan
  greentic-deployer apply --json
  greentic-deployer destroy
${EXIT_CODES_HELP}

Docs: docs/deployer.md`,
    );

  program
    .command('init')
    .description('Write an environment description (greentic.yaml), validated against its schema')
    .requiredOption('--tenant <id>', 'tenant id (lower case: a-z, 0-9, _ and -)')
    .option(
      '--team <id>',
      'a team of the tenant (repeatable; the first one owns the connectors)',
      collect,
      [],
    )
    .option('--user <id>', 'a user of the tenant (repeatable)', collect, [])
    .addOption(
      new Option('--connector <kind>', 'a connector (repeatable)')
        .choices(CONNECTOR_KIND_NAMES)
        .argParser(collect)
        .default([]),
    )
    .option('--environment <id>', 'environment id (runner tenancy.env, secret URI env segment)', 'dev')
    .option('--name <name>', 'deployment name (default <tenant>-<environment>)')
    .addOption(targetOption('--target <target>').default('dev-desktop'))
    .option(
      '--public-url <url>',
      'public HTTPS base URL providers post webhooks to (default $GREENTIC_PUBLIC_URL)',
    )
    .option(
      '--telegram-api-base <url>',
      'Telegram Bot API base URL (default $GREENTIC_TELEGRAM_API_BASE, else https://api.telegram.org)',
    )
    .option('--teams-app-id <id>', 'messaging.teams: the Microsoft App ID')
    .option('--whatsapp-phone-number-id <id>', 'messaging.whatsapp: the business phone number id')
    .option('--pack <pack.yaml>', 'a pack to build, sign and deploy (repeatable)', collect, [])
    .option('--registry <oci://host/ns>', 'OCI registry to publish the packs to')
    .option('--port <port>', 'runner HTTP port')
    .option('--global', 'write $GREENTIC_HOME/greentic.yaml instead of ./greentic.yaml')
    .option('--out <file>', 'write this file instead')
    .option('--force', 'replace an existing file')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  greentic-deployer init --tenant acme --connector messaging.telegram --public-url https://abc.trycloudflare.com
  greentic-deployer init --tenant acme --team support --user ada --connector messaging.telegram --connector messaging.webchat
  greentic-deployer init --tenant acme --target k8s --pack packs/hello/pack.yaml --registry oci://ghcr.io/acme/packs`,
    )
    .action((o, cmd: Command) => {
      json = Boolean(o.json);
      const g = cmd.optsWithGlobals() as Globals;
      const h = home(g);
      const file = o.out ? resolve(cwd, o.out) : o.global ? h.globalDescription : join(cwd, 'greentic.yaml');
      const port = o.port === undefined ? undefined : Number(o.port);
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
        throw new DeployerError('GT_DEPLOY_USAGE', `--port ${o.port}: must be an integer from 1 to 65535`, {
          step: 'usage',
          hint: 'pass a port such as 8080',
        });
      const base = dirname(file);
      const packs = (o.pack as string[]).map((p) => {
        const abs = resolve(cwd, p);
        const rel = abs.startsWith(`${base}/`) ? abs.slice(base.length + 1) : abs;
        return rel;
      });
      const d = createDescription({
        tenant: o.tenant,
        teams: o.team,
        users: o.user,
        connectors: o.connector,
        environment: o.environment,
        ...(o.name ? { name: o.name } : {}),
        target: o.target as TargetKind,
        ...((o.publicUrl ?? env.GREENTIC_PUBLIC_URL)
          ? { publicUrl: String(o.publicUrl ?? env.GREENTIC_PUBLIC_URL) }
          : {}),
        ...((o.telegramApiBase ?? env.GREENTIC_TELEGRAM_API_BASE)
          ? { telegramApiBase: String(o.telegramApiBase ?? env.GREENTIC_TELEGRAM_API_BASE) }
          : {}),
        ...(o.teamsAppId ? { teamsAppId: o.teamsAppId } : {}),
        ...(o.whatsappPhoneNumberId ? { whatsappPhoneNumberId: o.whatsappPhoneNumberId } : {}),
        packs,
        ...(o.registry ? { registry: o.registry } : {}),
        ...(port !== undefined ? { port } : {}),
      });
      writeDescription(file, d, Boolean(o.force));
      log(
        `next: greentic-deployer${file === join(cwd, 'greentic.yaml') ? '' : ` --config ${file}`} bootstrap --env ${d.target.kind}`,
      );
      emit(
        { command: 'init', file, name: d.name, secrets: d.secrets.map((s) => s.uri) },
        () => `wrote ${file}`,
      );
    });

  const secretsOptions = (c: Command) =>
    c
      .option('--non-interactive', 'never prompt: secrets come from the environment or --secrets-file')
      .option(
        '--secrets-file <file>',
        'YAML/JSON: secret URI (or variable name) → value, or a greentic-secrets seed',
      )
      .option(
        '--telegram-api-base <url>',
        'override the Telegram Bot API base URL of every Telegram connector (default $GREENTIC_TELEGRAM_API_BASE)',
      );

  const runConverge = async (o: Record<string, unknown>, cmd: Command, command: 'bootstrap' | 'apply') => {
    json = Boolean(o.json);
    const g = cmd.optsWithGlobals() as Globals;
    const h = home(g);
    const loaded = load(g);
    const interactive = !o.nonInteractive && Boolean(io.stdin?.isTTY);
    const prompter = interactive && io.stdin ? new SecretPrompter(io.stdin, io.stderr) : undefined;
    let result: ApplyResult;
    try {
      const store = openSecretsStore(h, readMasterKey(h, env));
      const secretValues = await collectSecretValues(loaded.description, store, {
        interactive,
        env,
        ...(o.secretsFile ? { secretsFile: readSecretsFile(resolve(cwd, String(o.secretsFile))) } : {}),
        ...(prompter ? { prompter } : {}),
        log,
      });
      log(`${command} ${loaded.description.name}${o.env ? ` → ${String(o.env)}` : ''}`);
      result = await apply({
        home: h,
        loaded,
        ...(o.env ? { target: o.env as TargetKind } : {}),
        env,
        log,
        secretValues,
        ...((o.telegramApiBase ?? env.GREENTIC_TELEGRAM_API_BASE)
          ? { telegramApiBase: String(o.telegramApiBase ?? env.GREENTIC_TELEGRAM_API_BASE) }
          : {}),
        ...(io.fetch ? { fetch: io.fetch } : {}),
        // bootstrap keeps a running dev runner as it is (deploy-phase resources are left to apply)
        startRunner: command === 'bootstrap' || o.start !== false,
        phase: command === 'bootstrap' ? 'bootstrap' : 'all',
      });
    } finally {
      prompter?.close();
    }
    for (const n of result.notes) log(`note: ${n}`);
    emit(
      { command, ...result },
      () =>
        `${command} ${result.name} (${result.target}): ${result.changes} change${result.changes === 1 ? '' : 's'}; artifacts in ${result.outDir}`,
    );
  };

  secretsOptions(
    program
      .command('bootstrap')
      .description(
        'Create tenant/team/user records, store secrets (asking for missing ones), create the dev signing key, register connector webhooks, build/sign/publish packs and generate the target config',
      )
      .addOption(targetOption().makeOptionMandatory()),
  )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Secrets: asked for on the terminal (input hidden), or with --non-interactive read from the secret's env: variable,
the canonical GREENTIC_SECRET__<ENV>__<TENANT>__<TEAM>__<CATEGORY>__<NAME> variable, or --secrets-file.

Examples:
  greentic-deployer bootstrap --env dev-desktop
  TELEGRAM_BOT_TOKEN=123456:ABC greentic-deployer bootstrap --env dev-desktop --non-interactive
  greentic-deployer bootstrap --env k8s --non-interactive --secrets-file secrets.yaml
${EXIT_CODES_HELP}`,
    )
    .action((o, cmd) => runConverge(o, cmd, 'bootstrap'));

  program
    .command('plan')
    .description('Show what apply would change: create, update, delete or no-op for every resource')
    .addOption(targetOption())
    .option('--telegram-api-base <url>', 'as for apply')
    .option('--json', 'print one JSON document')
    .option('--detailed-exitcode', 'exit 4 when there are changes, 0 when there are none')
    .addHelpText(
      'after',
      '\nExamples:\n  greentic-deployer plan\n  greentic-deployer plan --env k8s --json | jq .entries',
    )
    .action(async (o, cmd: Command) => {
      json = Boolean(o.json);
      const g = cmd.optsWithGlobals() as Globals;
      const p = await plan({
        home: home(g),
        loaded: load(g),
        ...(o.env ? { target: o.env as TargetKind } : {}),
        env,
        ...((o.telegramApiBase ?? env.GREENTIC_TELEGRAM_API_BASE)
          ? { telegramApiBase: String(o.telegramApiBase ?? env.GREENTIC_TELEGRAM_API_BASE) }
          : {}),
      });
      for (const n of p.notes) log(`note: ${n}`);
      emit({ command: 'plan', ...p }, () => formatPlan(p));
      if (o.detailedExitcode && p.changes > 0) exitCode = EXIT.CHANGES;
    });

  secretsOptions(
    program
      .command('apply')
      .description(
        'Converge to the description: everything bootstrap does, then (dev-desktop) start the runner',
      )
      .addOption(targetOption()),
  )
    .option('--no-start', 'dev-desktop: do not start the runner')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Idempotent: a second apply changes nothing. An interrupted apply resumes where it stopped when run again.

Examples:
  greentic-deployer apply
  greentic-deployer apply --env serverless --non-interactive
${EXIT_CODES_HELP}`,
    )
    .action((o, cmd) => runConverge(o, cmd, 'apply'));

  program
    .command('destroy')
    .description(
      'Remove what apply created: stop the runner, delete webhooks, remove stored secrets, built packs and generated files',
    )
    .option('--keep-secrets', 'keep the secrets the deployer stored')
    .option('--purge', 'also remove the master key and the dev signing key when the deployer created them')
    .option('--force', 'go on when a provider cannot be reached')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      '\nExamples:\n  greentic-deployer destroy\n  greentic-deployer destroy --keep-secrets',
    )
    .action(async (o, cmd: Command) => {
      json = Boolean(o.json);
      const g = cmd.optsWithGlobals() as Globals;
      const r = await destroy({
        home: home(g),
        loaded: load(g),
        env,
        log,
        keepSecrets: Boolean(o.keepSecrets),
        purge: Boolean(o.purge),
        force: Boolean(o.force),
        ...(io.fetch ? { fetch: io.fetch } : {}),
      });
      emit(
        { command: 'destroy', ...r },
        () =>
          `destroyed ${r.name}: ${r.removed.length} removed${r.kept.length ? `; kept ${r.kept.join(', ')}` : ''}${r.left.length ? `; left (not created by the deployer) ${r.left.join(', ')}` : ''}`,
      );
    });

  program
    .command('stop')
    .description('Stop the dev-desktop runner the deployer started')
    .option('--json', 'print one JSON document')
    .addHelpText('after', '\nExamples:\n  greentic-deployer stop')
    .action(async (o, cmd: Command) => {
      json = Boolean(o.json);
      const g = cmd.optsWithGlobals() as Globals;
      const stopped = await stopRunner(home(g));
      emit({ command: 'stop', stopped }, () => (stopped ? 'runner stopped' : 'no runner was running'));
    });

  program
    .command('generate')
    .description(
      'Write a target\u2019s artifacts (runner config, env file, manifests, Helm chart) to a directory, without state',
    )
    .addOption(targetOption().makeOptionMandatory())
    .requiredOption('--out <dir>', 'output directory')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      '\nExamples:\n  greentic-deployer generate --env k8s --out deploy/k8s\n  greentic-deployer generate --env serverless --out deploy/serverless',
    )
    .action((o, cmd: Command) => {
      json = Boolean(o.json);
      const g = cmd.optsWithGlobals() as Globals;
      const loaded = load(g);
      const packs = loaded.description.packs.map((p) => readPackInfo(resolveFrom(loaded.dir, p.path)));
      const h = home(g);
      const files = targetArtifacts(o.env as TargetKind, {
        description: loaded.description,
        dir: loaded.dir,
        packs,
        packStore: h.packStore,
        trustDir: h.trustDir,
        secretsFile: env.GREENTIC_SECRETS_MASTER_KEY
          ? { dir: h.secretsDir }
          : { dir: h.secretsDir, masterKeyFile: env.GREENTIC_SECRETS_MASTER_KEY_FILE ?? h.masterKey },
      });
      const dir = resolve(cwd, o.out);
      for (const f of files) {
        const file = join(dir, f.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(`${file}.tmp`, f.content, { mode: f.mode ?? 0o644 });
        renameSync(`${file}.tmp`, file);
      }
      emit({ command: 'generate', dir, files: files.map((f) => f.path) }, () =>
        [`wrote ${files.length} files to ${dir}`, ...files.map((f) => `  ${f.path}`)].join('\n'),
      );
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.help' ||
        e.code === 'commander.version'
      )
        return EXIT.OK;
      return EXIT.USAGE;
    }
    const err = isDeployerError(e)
      ? e
      : new DeployerError('GT_DEPLOY_STATE', `unexpected failure: ${(e as Error)?.message ?? String(e)}`, {
          step: 'state',
          hint: 'run again; if it persists, report it with the output of the command',
          cause: e,
        });
    if (json) out(JSON.stringify({ ok: false, error: err.toJSON() }, null, 2));
    io.stderr(`${err.format()}\n`);
    return err.exitCode;
  }
}

export function formatPlan(p: Plan): string {
  const count = (a: string) => p.entries.filter((e) => e.action === a).length;
  const sign = { create: '+', update: '~', delete: '-', 'no-op': '=' } as const;
  const width = Math.max(...p.entries.map((e) => e.id.length), 10);
  return [
    `plan for ${p.name} (target ${p.target}): ${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('no-op')} unchanged`,
    ...p.entries.map(
      (e) =>
        `  ${sign[e.action]} ${e.id.padEnd(width)}  ${e.reason}${e.phase === 'deploy' ? ' (apply only)' : ''}`,
    ),
  ].join('\n');
}
