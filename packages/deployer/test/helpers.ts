import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DeployerCliIO, runDeployerCli } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, 'fixtures');
export const HELLO_PACK = join(FIXTURES, 'hello-pack', 'pack.yaml');
export const REPO_ROOT = join(here, '..', '..', '..');
/** `greentic-runner` from sources (no build needed). */
export const RUNNER_COMMAND = JSON.stringify([
  process.execPath,
  '--conditions=@greentic/source',
  '--import',
  'tsx',
  join(FIXTURES, 'runner-main.ts'),
]);
export const BOT_TOKEN = '123456:TEST-token';

const dirs: string[] = [];
export function tempDir(prefix = 'gt-deployer-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Sandbox {
  cwd: string;
  home: string;
  env: Record<string, string | undefined>;
  run(
    args: string[],
    extra?: Partial<DeployerCliIO>,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Runs with --json and parses stdout. */
  json(
    args: string[],
    extra?: Partial<DeployerCliIO>,
  ): Promise<{ code: number; doc: Record<string, unknown>; stderr: string }>;
}

/** A fresh project directory and Greentic home, with the environment a CLI run sees. */
export function sandbox(env: Record<string, string | undefined> = {}): Sandbox {
  const cwd = tempDir('gt-project-');
  const home = tempDir('gt-home-');
  const fullEnv: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    GREENTIC_HOME: home,
    GREENTIC_DEPLOYER_RUNNER_COMMAND: RUNNER_COMMAND,
    ...env,
  };
  const s: Sandbox = {
    cwd,
    home,
    env: fullEnv,
    async run(args, extra = {}) {
      let stdout = '';
      let stderr = '';
      const code = await runDeployerCli(args, {
        stdout: (x) => {
          stdout += x;
        },
        stderr: (x) => {
          stderr += x;
        },
        env: s.env,
        cwd,
        ...extra,
      });
      return { code, stdout, stderr };
    },
    async json(args, extra = {}) {
      const r = await s.run([...args, '--json'], extra);
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(r.stdout) as Record<string, unknown>;
      } catch {
        throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
      }
      return { code: r.code, doc, stderr: r.stderr };
    },
  };
  return s;
}
