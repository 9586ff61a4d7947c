import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRunnerCli } from './cli.js';

const QA_DEMO = fileURLToPath(new URL('../../../examples/qa-demo/flows/qa_demo.ygtc', import.meta.url));

async function cli(args: string[], stdinLines?: string[], env?: Record<string, string>) {
  let out = '';
  let err = '';
  const code = await runRunnerCli(args, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    stdin: stdinLines ? Readable.from(stdinLines.map((l) => `${l}\n`)) : undefined,
    isTTY: false,
    ...(env ? { env } : {}),
  });
  return { code, out, err };
}

describe('greentic-runner run-flow', () => {
  it('runs one turn and prints the replies', async () => {
    const r = await cli(['run-flow', '--flow', QA_DEMO, '--tenant', 'acme', '--input', '{"text":"hi"}']);
    expect(r.code).toBe(0);
    expect(r.out).toContain("What's your name?");
    expect(r.err).toContain('(waiting: question name)');
  });

  it('prints one JSON document with --json', async () => {
    const r = await cli(['run-flow', '--flow', QA_DEMO, '--tenant', 'acme', '--input', '"hi"', '--json']);
    const doc = JSON.parse(r.out);
    expect(doc.status).toBe('pending');
    expect(doc.flow).toBe('qa_demo');
    expect(doc.replies.map((x: { text: string }) => x.text)).toContain("What's your name?");
  });

  it('normalises a Telegram-shaped update into a message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-runner-'));
    const flow = join(dir, 'echo.ygtc');
    writeFileSync(
      flow,
      'id: echo\ntype: messaging\nnodes:\n  say:\n    template: "got {{in.input.text}} on {{entry.channel}}"\n    routing: out\n',
    );
    const r = await cli([
      'run-flow',
      '--flow',
      flow,
      '--tenant',
      'acme',
      '--input',
      '{"update":{"message":{"text":"/weather","chat":{"id":7}}}}',
    ]);
    expect(r.out.trim()).toBe('got /weather on telegram');
  });

  it('reports a broken flow file with its location and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-runner-'));
    const flow = join(dir, 'bad.ygtc');
    writeFileSync(
      flow,
      'id: bad\ntype: messaging\nnodes:\n  a:\n    template: hi\n    routing:\n      - to: nowhere\n',
    );
    const r = await cli(['run-flow', '--flow', flow, '--input', '"x"']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/GT_FLOW_MISSING_NODE/);
    expect(r.err).toContain('bad.ygtc:7:');
  });

  it('exits 2 on bad usage', async () => {
    // no --flow and no pack loaded (an empty GREENTIC_HOME)
    const empty = { GREENTIC_HOME: mkdtempSync(join(tmpdir(), 'gt-runner-home-')) };
    const noFlow = await cli(['run-flow', '--input', '"x"'], undefined, empty);
    expect(noFlow.code).toBe(2);
    expect(noFlow.err).toMatch(
      /error GT_RUNNER_USAGE: no --flow given, and no pack is loaded for tenant "demo"/,
    );
    expect((await cli(['run-flow', '--flow', '/nonexistent.ygtc', '--input', '"x"'])).code).toBe(2);
    expect((await cli(['nope'])).code).toBe(2);
  });

  it('exits 1 when the flow fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-runner-'));
    const flow = join(dir, 'tool.ygtc');
    writeFileSync(flow, 'id: tool\ntype: messaging\nnodes:\n  a:\n    weather.api.forecast: { q: x }\n');
    const r = await cli(['run-flow', '--flow', flow, '--input', '"x"', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).error.code).toBe('GT_RUNNER_COMPONENT_NOT_FOUND');
  });
});

describe('greentic-runner chat', () => {
  it('holds a whole conversation, pausing and resuming across lines', async () => {
    const r = await cli(
      ['chat', '--flow', QA_DEMO, '--start', 'hi'],
      ['Ada', '3', '2', 'skip', 'yes', '/quit'],
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain("bot> What's your name?");
    expect(r.out).toContain('bot> How many people are travelling? (1-12)');
    expect(r.out).toContain('bot> Done, Ada! Here is your mountains itinerary for 2');
    expect(r.err).toContain('conversation finished');
  });
});
