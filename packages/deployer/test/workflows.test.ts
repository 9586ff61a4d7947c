// .github/workflows: parsed and validated with GitHub's own workflow parser (@actions/workflow-parser, the
// workflow schema GitHub uses), then their structure is checked: jobs, services, Node 20, and every command a step
// runs is an npm script, a file or a packc subcommand of this repository.
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join } from 'node:path';
import { runPackc } from '@greentic/pack';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents are untyped
type Json = any;

// @actions/workflow-parser imports its schema JSON without `with { type: 'json' }`, which Node 20 refuses: a
// loader hook adds the attribute to such imports (this test process only).
register(
  `data:text/javascript,${encodeURIComponent(`export async function load(url, context, next) {
  if (url.endsWith('.json') && !context.importAttributes?.type)
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } });
  return next(url, context);
}`)}`,
);
const { NoOperationTraceWriter, parseWorkflow } = await import('@actions/workflow-parser');

const WORKFLOWS = join(REPO_ROOT, '.github', 'workflows');
const read = (name: string) => readFileSync(join(WORKFLOWS, name), 'utf8');
const rootScripts = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts as Record<
  string,
  string
>;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  'runs-on': string;
  services?: Record<string, { image: string; ports?: string[]; options?: string }>;
  steps: Step[];
  env?: Record<string, string>;
}

function schemaErrors(name: string): string[] {
  const result = parseWorkflow({ name, content: read(name) }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => e.message);
}

async function packcCommands(): Promise<Set<string>> {
  let out = '';
  await runPackc(['--help'], {
    stdout: {
      write: (s: string) => {
        out += s;
      },
    },
    stderr: { write: () => true },
  });
  const commands = new Set<string>();
  let inCommands = false;
  for (const line of out.split('\n')) {
    if (/^Commands:/.test(line)) inCommands = true;
    else if (inCommands && /^\s{2}(\w[\w-]*)/.test(line)) commands.add(/^\s{2}(\w[\w-]*)/.exec(line)![1]!);
    else if (inCommands && line.trim() === '') inCommands = false;
  }
  return commands;
}

/** Checks every command of a `run:` script that names something of this repository. */
async function checkRun(script: string, where: string) {
  const packc = await packcCommands();
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    const npm = /^npm (?:run(?:-script)? )?([\w:-]+)/.exec(line);
    if (npm && npm[1] !== 'ci' && npm[1] !== 'install') {
      const script = npm[1] === 'test' ? 'test' : npm[1]!;
      expect(rootScripts[script], `${where}: npm script "${script}"`).toBeDefined();
    }
    for (const m of line.matchAll(/(?:^|\s|sudo )node ((?:packages|scripts|examples)\/[\w./-]+)/g))
      expect(existsSync(join(REPO_ROOT, m[1]!)), `${where}: ${m[1]}`).toBe(true);
    for (const m of line.matchAll(/packc\.js (\w+)/g))
      expect(packc.has(m[1]!), `${where}: packc ${m[1]}`).toBe(true);
  }
}

describe('.github/workflows', () => {
  it('are valid GitHub Actions workflows (GitHub\u2019s workflow schema)', () => {
    for (const name of ['ci.yml', 'packs.yml']) expect(schemaErrors(name), name).toEqual([]);
  });

  it('the schema check really rejects a broken workflow', () => {
    const broken = read('ci.yml').replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04');
    const result = parseWorkflow({ name: 'broken.yml', content: broken }, new NoOperationTraceWriter());
    expect(result.context.errors.getErrors().length).toBeGreaterThan(0);
  });

  it('ci.yml runs the test suite on Node 20 with Redis and NATS JetStream', async () => {
    const wf = parseYaml(read('ci.yml')) as { on: Record<string, unknown>; jobs: Record<string, Job> };
    expect(Object.keys(wf.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    const job = wf.jobs.test!;
    expect(job.services?.redis?.image).toMatch(/^redis:7/);
    expect(job.services?.redis?.ports).toEqual(['6379:6379']);
    expect(job.services?.redis?.options).toMatch(/--health-cmd "redis-cli ping"/);
    const nats = job.steps.find((s) => s.run?.includes('nats:2'))!;
    expect(nats.run).toMatch(/docker run -d --name nats .*-p 4222:4222 .*nats:2 -js/);
    const setupNode = job.steps.find((s) => s.uses?.startsWith('actions/setup-node@'))!;
    expect(setupNode.with?.['node-version']).toBe(20);
    // the services come up before the tests run
    const order = (p: (s: Step) => boolean) => job.steps.findIndex(p);
    expect(order((s) => s.run === 'npm test')).toBeGreaterThan(
      order((s) => Boolean(s.run?.includes('nats:2'))),
    );
    // the URLs the tests read
    expect(job.env?.GREENTIC_TEST_REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(job.env?.GREENTIC_TEST_NATS_URL).toBe('nats://127.0.0.1:4222');
    for (const s of job.steps) if (s.run) await checkRun(s.run, `ci.yml "${s.name ?? s.run}"`);
    expect(job.steps.some((s) => s.uses?.startsWith('actions/checkout@'))).toBe(true);
  });

  it('packs.yml builds, signs (key from a secret, written under umask 077), verifies and pushes with packc', async () => {
    const wf = parseYaml(read('packs.yml')) as {
      jobs: Record<string, Job & { strategy: Json }>;
      permissions: Json;
    };
    const job = wf.jobs.packs!;
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    const order = ['packc.js build', 'packc.js sign', 'packc.js verify', 'packc.js push'].map((c) =>
      runs.indexOf(c),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const sign = job.steps.find((s) => s.run?.includes('packc.js sign'))!;
    expect(sign.env?.PACK_SIGNING_KEY).toBe(`$${'{{'} secrets.PACK_SIGNING_KEY }}`);
    const lines = sign.run!.split('\n').map((l) => l.trim());
    // the key file is created after umask 077, removed on exit, and the secret never echoed
    expect(lines.indexOf('umask 077')).toBeGreaterThanOrEqual(0);
    expect(lines.indexOf('umask 077')).toBeLessThan(lines.findIndex((l) => l.startsWith('key="$(mktemp)"')));
    expect(sign.run).toMatch(/trap 'rm -f "\$key"' EXIT/);
    expect(sign.run).not.toMatch(/echo "\$PACK_SIGNING_KEY"|set -x/);
    expect(wf.permissions).toMatchObject({ contents: 'read', packages: 'write' });
    for (const entry of job.strategy.matrix.include as { pack: string; component?: string }[]) {
      expect(existsSync(join(REPO_ROOT, entry.pack)), entry.pack).toBe(true);
      if (entry.component) expect(existsSync(join(REPO_ROOT, entry.component)), entry.component).toBe(true);
    }
    for (const s of job.steps) if (s.run) await checkRun(s.run, `packs.yml "${s.name}"`);
  });
});
