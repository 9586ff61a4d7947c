/**
 * The seed quickstart, end to end: its six commands run in order, as a person types them, in a fresh home
 * directory, with Telegram's Bot API replaced by a local server (GREENTIC_TELEGRAM_API_BASE) and the bot token in the
 * environment (bootstrap reads it when no terminal is attached); GREENTIC_PUBLIC_URL plays the public tunnel URL:
 *
 *   greentic-deployer init --tenant acme --connector messaging.telegram
 *   greentic-deployer bootstrap --env dev-desktop
 *   packc build -p examples/weather-demo/pack.yaml -o dist/weather.pack
 *   packc sign -p dist/weather.pack --key ~/.greentic/dev-ed25519.pem
 *   greentic-runner load --pack dist/weather.pack --allow-unsigned
 *   greentic-runner run-flow --tenant acme --input '{"update":{"message":{"text":"/weather"}}}'
 *
 * The commands are the built CLIs (the test command builds before it tests), on PATH through small shims.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without type declarations
import { buildWeatherTool } from '../../../examples/weather-demo/weather-bot.mjs';
import { type FakeTelegram, startFakeTelegram } from '../src/testing/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BOT_TOKEN = '424242:seed-quickstart-token';

const COMMANDS = [
  'greentic-deployer init --tenant acme --connector messaging.telegram',
  'greentic-deployer bootstrap --env dev-desktop',
  'packc build -p examples/weather-demo/pack.yaml -o dist/weather.pack',
  'packc sign -p dist/weather.pack --key ~/.greentic/dev-ed25519.pem',
  'greentic-runner load --pack dist/weather.pack --allow-unsigned',
  `greentic-runner run-flow --tenant acme --input '{"update":{"message":{"text":"/weather"}}}'`,
];

/** Runs one command line in bash (asynchronously: the fake Telegram API lives in this process). */
function sh(command: string, cwd: string, env: Record<string, string>) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let telegram: FakeTelegram;
let root: string;
let home: string;
let work: string;
let bin: string;

beforeAll(async () => {
  await buildWeatherTool(); // the pack's Wasm component (cached after the first build)
  telegram = await startFakeTelegram({ tokens: [BOT_TOKEN] });
  root = mkdtempSync(join(tmpdir(), 'gt-seed-quickstart-'));
  home = join(root, 'home');
  work = join(root, 'project');
  bin = join(root, 'bin');
  for (const d of [home, work, bin]) mkdirSync(d, { recursive: true });
  // the project folder has the examples the commands name
  symlinkSync(join(repoRoot, 'examples'), join(work, 'examples'));
  const shims: Record<string, string> = {
    'greentic-deployer': 'packages/deployer/bin/greentic-deployer.js',
    packc: 'packages/pack/bin/packc.js',
    'greentic-runner': 'packages/runner/bin/greentic-runner.js',
  };
  for (const [name, script] of Object.entries(shims)) {
    const shim = join(bin, name);
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(repoRoot, script)}" "$@"\n`);
    chmodSync(shim, 0o755);
  }
}, 240_000);

afterAll(async () => {
  await telegram?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the seed quickstart', () => {
  it('runs its six commands in a fresh home; the last one prints the flow’s first question', async () => {
    const env: Record<string, string> = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: home,
      TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      GREENTIC_TELEGRAM_API_BASE: telegram.url,
      // where providers post webhooks (a tunnel's URL on a laptop)
      GREENTIC_PUBLIC_URL: 'https://bot.example.test',
    };
    const outputs: string[] = [];
    for (const command of COMMANDS) {
      const r = await sh(command, work, env);
      outputs.push(r.stdout);
      expect(r.status, `${command}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(0);
    }
    // bootstrap registered the bot's webhook with a generated secret token
    const webhook = telegram.webhooks.get(BOT_TOKEN);
    expect(webhook?.secret_token).toMatch(/^[A-Za-z0-9_-]{16,256}$/);
    expect(webhook?.url).toMatch(/^https:\/\/bot\.example\.test\/webhooks\/telegram\//);
    // the Telegram-shaped update was normalised into a message and the flow answered with its first question
    expect(outputs.at(-1)).toContain('Which city would you like a forecast for?');
    // the bot token never appears in anything the commands printed
    expect(outputs.join('\n')).not.toContain(BOT_TOKEN);
  }, 300_000);
});
