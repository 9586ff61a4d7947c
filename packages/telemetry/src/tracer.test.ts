import { tenantCtx } from '@greentic/types';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryExporter as InMemorySpanExporter } from '../test/memory-exporter.js';
import { extractHttpHeaders, injectHttpHeaders } from './propagation.js';
import { initTelemetry, type Telemetry } from './sdk.js';
import { GreenticTracer, tenantAttributes } from './tracer.js';

const ctx = tenantCtx({
  env: 'prod',
  tenant: 'acme',
  team: 'support',
  user: 'u-42',
  session_id: 'sess-1',
  attributes: { 'gt.deployment_id': 'dep-7', unrelated: 'x' },
});

describe('GreenticTracer without an SDK', () => {
  it('runs the callback with no-op spans and returns its value', async () => {
    const tracer = new GreenticTracer();
    const out = await tracer.withTurn({ tenant: ctx, flowId: 'qa' }, async (turn) => {
      expect(turn.recording).toBe(false);
      return tracer.withNode({ flowId: 'qa', nodeId: 'ask' }, (node) => {
        node.setAttribute('k', 'v').setRunStatus('ok');
        return 42;
      });
    });
    expect(out).toBe(42);
  });

  it('still rethrows what the callback throws', async () => {
    await expect(new GreenticTracer().withTurn({}, () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
  });
});

describe('GreenticTracer with the SDK', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  const tracer = new GreenticTracer();

  beforeAll(async () => {
    telemetry = await initTelemetry({ serviceName: 'tracer-test', exporter, processor: 'simple', env: {} });
  });
  afterEach(() => exporter.reset());
  afterAll(() => telemetry.shutdown());

  const spans = () => exporter.getFinishedSpans();
  const byName = (name: string) => spans().filter((s) => s.name === name);
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  it('starts node spans as children of the turn span, with upstream attribute keys', async () => {
    await tracer.withTurn(
      { tenant: ctx, flowId: 'qa', packId: 'demo-pack', channel: 'webchat', messageId: 'm-1' },
      async (turn) => {
        await tracer.withNode({ flowId: 'qa', nodeId: 'ask', op: 'questions' }, async () => {});
        await tracer.withNode(
          { flowId: 'qa', nodeId: 'call', op: 'component.exec', component: 'weather', operation: 'forecast' },
          () => {},
        );
        turn.setRunStatus('pending');
      },
    );
    const [turn] = byName('greentic.turn');
    const nodes = byName('greentic.node');
    expect(nodes).toHaveLength(2);
    for (const node of nodes) {
      expect(node.spanContext().traceId).toBe(turn!.spanContext().traceId);
      expect(parentOf(node)).toBe(turn!.spanContext().spanId);
    }
    expect(parentOf(turn!)).toBeUndefined();
    expect(turn!.attributes).toEqual({
      'greentic.tenant.id': 'acme',
      'greentic.team.id': 'support',
      'greentic.user.id': 'u-42',
      'greentic.env.id': 'prod',
      'gt.deployment_id': 'dep-7',
      'greentic.session.id': 'sess-1',
      'greentic.pack.id': 'demo-pack',
      'greentic.flow.id': 'qa',
      'greentic.channel': 'webchat',
      'greentic.message.id': 'm-1',
      'greentic.run.status': 'pending',
    });
    expect(nodes[1]!.attributes).toMatchObject({
      'greentic.tenant.id': 'acme',
      'greentic.session.id': 'sess-1',
      'greentic.flow.id': 'qa',
      'greentic.node.id': 'call',
      'greentic.node.op': 'component.exec',
      'greentic.component.name': 'weather',
      'greentic.component.operation': 'forecast',
      'greentic.run.status': 'ok',
    });
    expect(nodes[1]!.attributes).not.toHaveProperty('greentic.channel');
  });

  it('records a thrown error on the node and the turn, and rethrows it', async () => {
    const err = Object.assign(new Error('component failed'), { code: 'GT_RUNNER_NODE_FAILED' });
    await expect(
      tracer.withTurn({ flowId: 'qa' }, () =>
        tracer.withNode({ flowId: 'qa', nodeId: 'n' }, () => {
          throw err;
        }),
      ),
    ).rejects.toBe(err);
    for (const s of spans()) {
      expect(s.status).toEqual({
        code: SpanStatusCode.ERROR,
        message: 'GT_RUNNER_NODE_FAILED: component failed',
      });
      expect(s.attributes['greentic.run.status']).toBe('error');
      expect(s.attributes['greentic.error.code']).toBe('GT_RUNNER_NODE_FAILED');
    }
    expect(byName('greentic.node')[0]!.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('records an error outcome set by the caller without an exception', async () => {
    await tracer.withTurn({}, (turn) => {
      turn.setRunStatus('error', { code: 'timeout', message: 'component call timed out' });
    });
    const [turn] = spans();
    expect(turn!.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'timeout: component call timed out',
    });
    expect(turn!.events).toEqual([]);
  });

  it('accepts an explicit parent and a new root', async () => {
    const turn = tracer.startTurn({ flowId: 'f', tenant: ctx });
    const node = tracer.startNode({ flowId: 'f', nodeId: 'n', parent: turn.context });
    const other = tracer.startSpan('detached', { parent: turn.context, root: true });
    node.end();
    other.end();
    turn.end();
    turn.end(); // idempotent
    expect(spans()).toHaveLength(3);
    expect(parentOf(byName('greentic.node')[0]!)).toBe(turn.spanId);
    expect(byName('greentic.node')[0]!.attributes['greentic.tenant.id']).toBe('acme');
    expect(byName('detached')[0]!.spanContext().traceId).not.toBe(turn.traceId);
  });

  it('keeps concurrent turns apart', async () => {
    const tick = () => new Promise((r) => setTimeout(r, 1));
    const run = (flowId: string) =>
      tracer.withTurn({ flowId }, async () => {
        for (const nodeId of ['a', 'b', 'c']) {
          await tick();
          await tracer.withNode({ flowId, nodeId }, tick);
        }
      });
    await Promise.all([run('one'), run('two')]);
    const turns = new Map(
      byName('greentic.turn').map((t) => [t.spanContext().spanId, t.attributes['greentic.flow.id']]),
    );
    const nodes = byName('greentic.node');
    expect(nodes).toHaveLength(6);
    for (const n of nodes) expect(turns.get(parentOf(n)!)).toBe(n.attributes['greentic.flow.id']);
  });

  it('continues a remote trace from incoming headers', async () => {
    const headers = await tracer.withTurn({ flowId: 'gateway' }, () => injectHttpHeaders());
    await tracer.withTurn({ flowId: 'runner', parent: extractHttpHeaders(headers) }, () => {});
    const [gateway, runner] = byName('greentic.turn');
    expect(runner!.spanContext().traceId).toBe(gateway!.spanContext().traceId);
    expect(parentOf(runner!)).toBe(gateway!.spanContext().spanId);
  });

  it('exports redacted attributes', async () => {
    await tracer.withTurn(
      {
        attributes: {
          'user.email': 'alice@example.com',
          note: 'token Bearer abc123def',
          n: 1,
          skip: undefined,
        },
      },
      () => {},
    );
    expect(spans()[0]!.attributes).toMatchObject({
      'user.email': '[REDACTED]',
      note: 'token Bearer [REDACTED]',
      n: 1,
    });
    expect(spans()[0]!.attributes).not.toHaveProperty('skip');
  });

  it('redacts exception events and the status message too', async () => {
    await expect(
      tracer.withTurn({}, () => {
        throw new Error('no account for frank@example.com');
      }),
    ).rejects.toThrow('frank@example.com');
    const [turn] = spans();
    expect(turn!.status.message).toBe('no account for [REDACTED]');
    expect(turn!.events[0]!.attributes?.['exception.message']).toBe('no account for [REDACTED]');
    expect(JSON.stringify(turn!.events)).not.toContain('frank@example.com');
  });

  it('refuses a second global initialisation but allows a private provider', async () => {
    await expect(initTelemetry({ serviceName: 'again', env: {} })).rejects.toMatchObject({
      code: 'GT_TELEMETRY_ALREADY_INITIALIZED',
    });
    const extra = new InMemorySpanExporter();
    const priv = await initTelemetry({
      serviceName: 'private',
      exporter: extra,
      processor: 'simple',
      registerGlobal: false,
      env: {},
    });
    const t = new GreenticTracer({ tracerProvider: priv.tracerProvider });
    await t.withTurn({}, () => {});
    expect(extra.getFinishedSpans()).toHaveLength(1);
    expect(spans()).toHaveLength(0);
    await priv.shutdown();
  });
});

describe('initTelemetry lifecycle', () => {
  it('turns into a no-op with OTEL_SDK_DISABLED', async () => {
    const t = await initTelemetry({ serviceName: 'off', env: { OTEL_SDK_DISABLED: 'true' } });
    expect(t.enabled).toBe(false);
    const span = new GreenticTracer().startTurn({});
    expect(span.recording).toBe(false);
    span.end();
    await t.shutdown();
  });

  it('follows OTEL_TRACES_SAMPLER', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await initTelemetry({
      serviceName: 's',
      exporter,
      processor: 'simple',
      env: { OTEL_TRACES_SAMPLER: 'always_off' },
    });
    await new GreenticTracer().withTurn({}, (span) => expect(span.recording).toBe(false));
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await t.shutdown();
  });

  it('re-resolves tracers after shutdown and a new init', async () => {
    const tracer = new GreenticTracer();
    const first = new InMemorySpanExporter();
    let t = await initTelemetry({ serviceName: 'a', exporter: first, processor: 'simple', env: {} });
    await tracer.withTurn({}, () => {});
    await t.shutdown();
    await t.shutdown(); // twice is fine
    expect(tracer.startTurn({}).recording).toBe(false);
    const second = new InMemorySpanExporter();
    t = await initTelemetry({ serviceName: 'b', exporter: second, processor: 'simple', env: {} });
    await tracer.withTurn({}, () => {});
    await t.shutdown();
    expect(first.getFinishedSpans()).toHaveLength(1);
    expect(second.getFinishedSpans()).toHaveLength(1);
    expect(second.getFinishedSpans()[0]!.resource.attributes['service.name']).toBe('b');
  });

  it('fails on bad configuration before starting anything, and can be retried', async () => {
    await expect(
      initTelemetry({ serviceName: 'x', env: { OTEL_TRACES_SAMPLER: 'sometimes' } }),
    ).rejects.toMatchObject({
      code: 'GT_TELEMETRY_BAD_CONFIG',
      setting: 'OTEL_TRACES_SAMPLER',
    });
    await expect(
      initTelemetry({ serviceName: 'x', env: { PII_REDACTION_MODE: 'loose' } }),
    ).rejects.toMatchObject({
      code: 'GT_TELEMETRY_BAD_CONFIG',
    });
    await expect(initTelemetry({ serviceName: ' ', env: {} })).rejects.toMatchObject({
      setting: 'serviceName',
    });
    expect(trace.getTracerProvider().getTracer('x').startSpan('s').isRecording()).toBe(false);
    const t = await initTelemetry({ serviceName: 'x', exporter: new InMemorySpanExporter(), env: {} });
    expect(t.enabled).toBe(true);
    await t.shutdown();
  });

  it('exports attributes unredacted with redaction: false', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await initTelemetry({
      serviceName: 'raw',
      exporter,
      processor: 'simple',
      redaction: false,
      env: {},
    });
    await new GreenticTracer().withTurn({ attributes: { 'user.email': 'a@b.co' } }, () => {});
    await t.shutdown();
    expect(exporter.getFinishedSpans()[0]!.attributes['user.email']).toBe('a@b.co');
  });

  it('maps a tenant context to attributes, preferring the *_id fields', () => {
    expect(tenantAttributes({ ...ctx, team: 'legacy' as never })).toMatchObject({
      'greentic.team.id': 'support',
    });
  });
});
