/**
 * Telemetry in the CLIs: `greentic-runner run-flow` starts the OpenTelemetry SDK only when an OTLP endpoint (or
 * OTEL_TRACES_EXPORTER) is set, passes its tracer to the engine and flushes before it returns. The spans arrive at
 * a local OTLP/HTTP receiver with upstream attribute keys and parent-child links, and personal data (an email in the
 * input) is redacted on the way out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRunnerCli } from '../src/cli.js';
import { startRunnerTelemetry, telemetryRequested } from '../src/platform/index.js';
import { OtlpJsonReceiver } from './platform-support.js';

const EMAIL = 'ada.lovelace@example.com';
const FLOW = `id: tele
type: messaging
nodes:
  greet:
    template: "hello"
    routing: [{ to: remember }]
  remember:
    # the scope is taken from the message, so the node fails with a message that quotes it (and the email in it)
    state.set: { key: contact, scope: "{{in.input.text}}", value: "x" }
    routing:
      - { status: error, to: sorry }
      - { to: sorry }
  sorry:
    template: "could not remember that"
    routing: out
`;

const receiver = new OtlpJsonReceiver();
let dir: string;
let flow: string;

async function cli(args: string[], env: Record<string, string>) {
  let out = '';
  let err = '';
  const code = await runRunnerCli(args, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    env,
  });
  return { code, out, err };
}

beforeAll(async () => {
  await receiver.start();
  dir = mkdtempSync(join(tmpdir(), 'gt-platform-telemetry-'));
  flow = join(dir, 'tele.ygtc');
  writeFileSync(flow, FLOW);
});

afterAll(async () => {
  await receiver.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const input = JSON.stringify({ text: `write to me at ${EMAIL}`, conversation: 'c-42' });

describe('run-flow with OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', () => {
  it('exports the turn and its nodes, linked, with upstream keys, and redacts the email', async () => {
    const r = await cli(
      [
        'run-flow',
        '--flow',
        flow,
        '--tenant',
        'acme',
        '--team',
        'support',
        '--user',
        'u-7',
        '--input',
        input,
      ],
      {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.tracesUrl,
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
      },
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('could not remember that\n');
    // shutdown() flushed before run-flow returned: the spans are already here
    const spans = receiver.spans();
    const turn = spans.find((s) => s.name === 'greentic.turn');
    const nodes = spans.filter((s) => s.name === 'greentic.node');
    expect(turn).toBeDefined();
    expect(turn!.resource).toMatchObject({
      'service.name': 'greentic-runner',
      'deployment.environment': 'test',
    });
    expect(turn!.attributes).toMatchObject({
      'greentic.tenant.id': 'acme',
      'greentic.team.id': 'support',
      'greentic.user.id': 'u-7',
      'greentic.env.id': 'dev',
      'greentic.flow.id': 'tele',
      'greentic.channel': 'cli',
      'greentic.run.status': 'done',
    });
    expect(nodes.map((n) => n.attributes['greentic.node.id'])).toEqual(['greet', 'remember', 'sorry']);
    for (const n of nodes) {
      expect(n.traceId).toBe(turn!.traceId);
      expect(n.parentSpanId).toBe(turn!.spanId);
      expect(n.attributes).toMatchObject({ 'greentic.flow.id': 'tele', 'greentic.tenant.id': 'acme' });
    }
    const failed = nodes[1]!;
    expect(failed.attributes).toMatchObject({
      'greentic.node.op': 'state.set',
      'greentic.run.status': 'error',
      'greentic.error.code': 'invalid_input',
    });
    // the node's error message quoted the input; what was exported has the email masked
    expect(failed.status.message).toContain('[REDACTED]');
    expect(failed.status.message).toContain('state scope "write to me at');
    expect(receiver.bodies.join('\n')).not.toContain(EMAIL);
  });

  it('exports nothing when no OTLP endpoint or exporter is set', async () => {
    const before = receiver.bodies.length;
    const r = await cli(['run-flow', '--flow', flow, '--tenant', 'acme', '--input', input], {});
    expect(r.code).toBe(0);
    expect(receiver.bodies.length).toBe(before);
    expect(telemetryRequested({})).toBe(false);
    expect(telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: ' ' })).toBe(false);
    expect(telemetryRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(telemetryRequested({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
  });

  it('refuses a bad telemetry setting before running anything', async () => {
    const r = await cli(['run-flow', '--flow', flow, '--tenant', 'acme', '--input', input], {
      OTEL_TRACES_EXPORTER: 'jaeger',
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error GT_RUNNER_CONFIG: telemetry: OTEL_TRACES_EXPORTER: "jaeger" is not supported/,
    );
    expect(r.out).toBe('');
  });
});

describe('startRunnerTelemetry', () => {
  it('gives a redacting logger and no-op spans without OTEL settings', async () => {
    const lines: string[] = [];
    const rt = await startRunnerTelemetry({ env: {}, logDestination: { write: (l) => void lines.push(l) } });
    try {
      expect(rt.enabled).toBe(false);
      expect(rt.telemetry).toBeUndefined();
      await rt.tracer.withTurn({}, (span) => expect(span.recording).toBe(false));
      rt.logger.info({ contact: EMAIL, token: 'abc' }, `user ${EMAIL} wrote`);
      const line = JSON.parse(lines[0]!);
      expect(line).toMatchObject({ name: 'greentic-runner', contact: '[REDACTED]', token: '[REDACTED]' });
      expect(line.msg).toBe('user [REDACTED] wrote');
    } finally {
      await rt.shutdown();
      await rt.shutdown(); // twice is fine
    }
  });
});
