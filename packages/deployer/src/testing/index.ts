/**
 * Test helpers of @greentic/deployer: a fake Telegram Bot API, and `quickstartEnvironment`, which runs `init` and
 * `bootstrap --env dev-desktop --non-interactive` in a fresh Greentic home — the first half of the quickstart
 * (deployer init → bootstrap → packc build/sign → runner load → run-flow).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runDeployerCli } from '../cli.js';
import { greenticHome } from '../home.js';

export { type FakeTelegram, type FakeTelegramCall, startFakeTelegram } from './fake-telegram.js';

export interface QuickstartOptions {
  /** Project directory: greentic.yaml is written here. */
  cwd: string;
  /** Greentic home (fresh in tests). */
  home: string;
  tenant?: string;
  team?: string;
  /** Base URL of the (fake) Telegram Bot API; without it no Telegram connector is configured. */
  telegramApiBase?: string;
  /** The bot token the fake accepts. */
  botToken?: string;
  publicUrl?: string;
  /** pack.yaml files to build and sign (relative to cwd or absolute). */
  packs?: string[];
  /** Extra environment (merged over a minimal one). */
  env?: Record<string, string | undefined>;
}

export interface QuickstartResult {
  /** Exit codes of init and bootstrap (0 and 0 when it worked). */
  init: number;
  bootstrap: number;
  stdout: string;
  stderr: string;
  /** Parsed `--json` output of bootstrap. */
  result?: Record<string, unknown>;
  /** Where things are. */
  paths: {
    description: string;
    home: string;
    signingKey: string;
    trustDir: string;
    publicKey: string;
    masterKey: string;
    secretsDir: string;
    runnerConfig: string;
    packsDir: string;
  };
}

/** `greentic-deployer init` + `bootstrap --env dev-desktop --non-interactive`, in-process. */
export async function quickstartEnvironment(o: QuickstartOptions): Promise<QuickstartResult> {
  mkdirSync(o.cwd, { recursive: true });
  const tenant = o.tenant ?? 'demo';
  const botToken = o.botToken ?? '123456:TEST-token';
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: o.home,
    GREENTIC_HOME: o.home,
    TELEGRAM_BOT_TOKEN: botToken,
    ...o.env,
  };
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (s: string) => {
      stdout += s;
    },
    stderr: (s: string) => {
      stderr += s;
    },
    env,
    cwd: o.cwd,
  };
  const initArgs = ['init', '--tenant', tenant, '--force'];
  if (o.team) initArgs.push('--team', o.team);
  if (o.telegramApiBase) {
    initArgs.push('--connector', 'messaging.telegram', '--telegram-api-base', o.telegramApiBase);
    initArgs.push('--public-url', o.publicUrl ?? 'https://greentic.example.test');
  } else if (o.publicUrl) initArgs.push('--public-url', o.publicUrl);
  for (const p of o.packs ?? []) initArgs.push('--pack', p);
  const init = await runDeployerCli(initArgs, io);
  let bootstrap = -1;
  let result: Record<string, unknown> | undefined;
  if (init === 0) {
    const before = stdout.length;
    bootstrap = await runDeployerCli(
      ['bootstrap', '--env', 'dev-desktop', '--non-interactive', '--json'],
      io,
    );
    try {
      result = JSON.parse(stdout.slice(before)) as Record<string, unknown>;
    } catch {
      result = undefined;
    }
  }
  const h = greenticHome(o.home, env);
  const name = `${tenant}-dev`;
  return {
    init,
    bootstrap,
    stdout,
    stderr,
    ...(result ? { result } : {}),
    paths: {
      description: join(o.cwd, 'greentic.yaml'),
      home: h.root,
      signingKey: h.devSigningKey,
      trustDir: h.trustDir,
      publicKey: h.devPublicKey,
      masterKey: h.masterKey,
      secretsDir: h.secretsDir,
      runnerConfig: join(h.deployDir, name, 'dev-desktop', 'runner.yaml'),
      packsDir: h.packsDir,
    },
  };
}
