import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliIO, type DoctorDirReport, type DoctorFileReport, runFlowCli } from './cli.js';

function capture(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

async function run(...argv: string[]) {
  const io = capture();
  const code = await runFlowCli(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

const dir = mkdtempSync(join(tmpdir(), 'gt-flow-cli-'));
function write(name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const GOOD = `id: good
type: messaging
nodes:
  ask:
    questions:
      welcome: "Hi"
    routing:
      - to: reply
  reply:
    emit.response:
      text: "thanks"
    routing: out
`;

// Line 8 routes to a node that does not exist.
const BAD = `id: bad
type: messaging
nodes:
  ask:
    questions:
      welcome: "Hi"
    routing:
      - to: nowhere
`;

// Loads fine; "orphan" (line 9) is unreachable: a lint warning.
const WARN = `id: warn
type: messaging
nodes:
  ask:
    questions:
      welcome: "Hi"
    routing: out
  orphan:
    emit.response:
      text: "never"
`;

const ADAPTER = `id: tg
type: messaging
nodes:
  send:
    messaging.telegram.sendPhoto:
      text: "hi"
`;

describe('greentic-flow doctor', () => {
  it('passes a good file with exit code 0 and a summary', async () => {
    const r = await run('doctor', write('good.ygtc', GOOD));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1 flow checked: 0 errors, 0 warnings (ok)\n');
  });

  it('fails a bad file with exit code 1 and prints file:line:col CODE message', async () => {
    const file = write('bad.ygtc', BAD);
    const r = await run('doctor', file);
    expect(r.code).toBe(1);
    const [line, summary] = r.stdout.trimEnd().split('\n');
    expect(line).toMatch(new RegExp(`^${escapeRe(file)}:8:\\d+ GT_FLOW_MISSING_NODE error: .*nowhere`));
    expect(summary).toBe('1 flow checked: 1 error, 0 warnings (1 flow failed)');
  });

  it('reports lint warnings without failing, and --strict promotes them', async () => {
    const file = write('warn.ygtc', WARN);
    const lax = await run('doctor', file);
    expect(lax.code).toBe(0);
    expect(lax.stdout).toContain(`${file}:8:3 unreachable_node warning: node "orphan"`);
    expect(lax.stdout).toContain('0 errors, 1 warning (ok)');

    const strict = await run('doctor', file, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(`${file}:8:3 unreachable_node error: node "orphan"`);
  });

  it('prints one JSON document for a file', async () => {
    const r = await run('doctor', write('good2.ygtc', GOOD), '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as DoctorFileReport;
    expect(doc).toMatchObject({
      ok: true,
      errors: [],
      warnings: [],
      bundle: {
        id: 'good',
        kind: 'messaging',
        entry: 'ask',
        start: 'ask',
        nodes: [
          {
            node_id: 'ask',
            op: 'questions',
            component: { name: 'questions', version_req: '*' },
            schema_id: null,
          },
          { node_id: 'reply', op: 'emit.response' },
        ],
      },
    });
  });

  it('puts load errors in the JSON errors with line, col, json_pointer and code', async () => {
    const r = await run('doctor', write('bad2.ygtc', BAD), '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as DoctorFileReport;
    expect(doc.ok).toBe(false);
    expect(doc.bundle).toBeUndefined();
    expect(doc.errors[0]).toMatchObject({ code: 'GT_FLOW_MISSING_NODE', severity: 'error', line: 8 });
    expect(doc.errors[0]!.json_pointer).toMatch(/^\/nodes\/ask\/routing\/0/);
    expect(doc.errors[0]!.message).not.toContain('bad2.ygtc:');
  });

  it('checks every .ygtc under a directory, recursively, in sorted order', async () => {
    const d = join(dir, 'tree');
    write('tree/b/ok.ygtc', GOOD);
    write('tree/a.ygtc', WARN);
    write('tree/notes.txt', 'not a flow');
    write('tree/node_modules/x.ygtc', BAD);
    const r = await run('doctor', d, '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as DoctorDirReport;
    expect(doc.ok).toBe(true);
    expect(doc.files.map((f) => f.file)).toEqual([join(d, 'a.ygtc'), join(d, 'b', 'ok.ygtc')]);
    expect(doc.files[0]!.warnings[0]).toMatchObject({
      code: 'GT_FLOW_LINT',
      rule: 'unreachable_node',
      line: 8,
    });
    expect(r.stderr).toContain('checking 2 flows');

    write('tree/c/bad.ygtc', BAD);
    const human = await run('doctor', d);
    expect(human.code).toBe(1);
    expect(human.stdout.trimEnd().split('\n').at(-1)).toBe(
      '3 flows checked: 1 error, 1 warning (1 flow failed)',
    );
  });

  it('checks adapters against --registry', async () => {
    const reg = write(
      'registry.json',
      JSON.stringify({ adapters: { 'messaging.telegram': ['sendMessage'] } }),
    );
    const file = write('tg.ygtc', ADAPTER);
    expect((await run('doctor', file)).code).toBe(0);
    const r = await run('doctor', file, '--registry', reg);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${file}:4:3 adapter_resolvable error:`);
  });

  it('exits 2 for a missing path, an empty directory or a bad registry', async () => {
    const missing = await run('doctor', join(dir, 'nope.ygtc'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file or directory');
    mkdirSync(join(dir, 'empty'), { recursive: true });
    expect((await run('doctor', join(dir, 'empty'))).code).toBe(2);
    const badReg = await run('doctor', write('g3.ygtc', GOOD), '--registry', write('reg.json', '{"x":1}'));
    expect(badReg.code).toBe(2);
    expect(badReg.stderr).toContain('GT_FLOW_CATALOG');
  });
});

describe('greentic-flow graph', () => {
  it('prints Mermaid by default and DOT on request', async () => {
    const file = write('graph.ygtc', GOOD);
    const m = await run('graph', file);
    expect(m.code).toBe(0);
    expect(m.stdout.split('\n')).toEqual([
      'flowchart TD',
      '  _start(("start"))',
      '  n0["ask<br/>questions"]',
      '  n1["reply<br/>emit.response"]',
      '  _end(("end"))',
      '  _start --> n0',
      '  n0 --> n1',
      '  n1 --> _end',
      '',
    ]);
    const d = await run('graph', file, '--format', 'dot', '--direction', 'LR');
    expect(d.code).toBe(0);
    expect(d.stdout).toContain('digraph "good" {\n  rankdir=LR;');
    expect(d.stdout).toContain('  "ask" -> "reply";');
  });

  it('prints load errors to stderr and exits 1 for a broken flow', async () => {
    const r = await run('graph', write('bad3.ygtc', BAD));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('GT_FLOW_MISSING_NODE');
  });

  it('rejects an unknown format with exit code 2', async () => {
    const r = await run('graph', write('g4.ygtc', GOOD), '--format', 'png');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('png');
  });
});

describe('greentic-flow --help', () => {
  it.each([[[]], [['doctor']], [['graph']]])('explains %j with an example', async (cmd) => {
    const r = await run(...cmd, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: greentic-flow');
    expect(r.stdout).toContain('Examples:');
  });

  it('exits 2 on an unknown command', async () => {
    const r = await run('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('frobnicate');
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
