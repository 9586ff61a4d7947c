import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tenantCtx } from '@greentic/types';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  extractHeaderMap,
  extractHttpHeaders,
  GreenticTracer,
  initTelemetry,
  injectHeaderMap,
  injectHttpHeaders,
  type Telemetry,
} from '../src/index.js';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

/**
 * End to end: the real SDK and OTLP/HTTP exporter, configured through OTEL_* variables, export to a receiver on
 * loopback; a second local HTTP service continues the trace from the `traceparent` it receives.
 */
describe('export to a local OTLP/HTTP receiver', () => {
  const receiver = new OtlpReceiver();
  const tracer = new GreenticTracer();
  const logLines: Record<string, unknown>[] = [];
  const log = createLogger({
    env: {},
    base: null,
    destination: { write: (s: string) => void logLines.push(JSON.parse(s)) },
  });
  let telemetry: Telemetry;
  let downstream: Server;
  let downstreamUrl = '';
  let spans: ReceivedSpan[] = [];
  let ids: { turn: string; ask: string; call: string; trace: string } | undefined;

  beforeAll(async () => {
    await receiver.start();
    telemetry = await initTelemetry({
      serviceName: 'greentic-runner',
      serviceVersion: '0.1.0',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=collector-key',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
        OTEL_SERVICE_NAME: 'runner-e2e',
      },
    });

    // a downstream HTTP service that continues the caller's trace
    downstream = createServer((req, res) => {
      const parent = extractHttpHeaders(req.headers);
      void tracer.withSpan('downstream.handle', { parent, kind: SpanKind.SERVER }, (span) => {
        log.info({ path: req.url }, 'downstream got a call from erin@example.com');
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ spanId: span.spanId }));
      });
    });
    await new Promise<void>((resolve) => downstream.listen(0, '127.0.0.1', resolve));
    downstreamUrl = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}/forecast`;

    const ctx = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support', user: 'u-1', session_id: 'sess-9' });
    await tracer.withTurn(
      {
        tenant: ctx,
        flowId: 'weather',
        channel: 'webchat',
        attributes: {
          'user.email': 'alice@example.com',
          'http.request.header.authorization': 'Bearer sk-live-0123456789abcdefABCDEF',
          'greentic.input.text': 'reach me at bob@example.com, my token is Bearer abc123.def456',
        },
      },
      async (turn) => {
        log.info({ authorization: 'Bearer abc123.def456' }, 'turn for alice@example.com');
        await tracer.withNode({ flowId: 'weather', nodeId: 'ask', op: 'questions' }, async (ask) => {
          ids = { turn: turn.spanId, ask: ask.spanId, call: '', trace: turn.traceId };
        });
        await tracer.withNode(
          { flowId: 'weather', nodeId: 'call', op: 'component.exec', component: 'forecast' },
          async (call) => {
            ids!.call = call.spanId;
            const response = await fetch(downstreamUrl, {
              headers: injectHttpHeaders(new Headers({ accept: 'application/json' })),
            });
            expect(response.status).toBe(200);
            await response.json();
            // the same hop through a NATS-style header map
            const hdrs = injectHeaderMap(new Map<string, string>());
            await tracer.withSpan(
              'nats.consume',
              { parent: extractHeaderMap({ get: (k) => hdrs.get(k) }), kind: SpanKind.CONSUMER },
              () => {},
            );
          },
        );
        turn.setRunStatus('done');
      },
    );
    await telemetry.forceFlush();
    spans = receiver.spans();
  });

  afterAll(async () => {
    await telemetry?.shutdown();
    await new Promise<void>((resolve) => downstream?.close(() => resolve()));
    await receiver.stop();
  });

  const one = (name: string, nodeId?: string) => {
    const found = spans.filter(
      (s) => s.name === name && (nodeId === undefined || s.attributes['greentic.node.id'] === nodeId),
    );
    expect(found, `${name} ${nodeId ?? ''}`).toHaveLength(1);
    return found[0]!;
  };

  it('posts OTLP JSON with the configured headers to /v1/traces', () => {
    expect(receiver.requests.length).toBeGreaterThan(0);
    const { headers } = receiver.requests[0]!;
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(headers['x-api-key']).toBe('collector-key');
  });

  it('exports the turn and node spans with Greentic attributes and the resource', () => {
    const turn = one('greentic.turn');
    expect(turn.spanId).toBe(ids!.turn);
    expect(turn.scope).toBe('@greentic/telemetry');
    expect(turn.resource).toMatchObject({
      'service.name': 'runner-e2e',
      'service.version': '0.1.0',
      'deployment.environment.name': 'test',
    });
    expect(turn.attributes).toMatchObject({
      'greentic.tenant.id': 'acme',
      'greentic.team.id': 'support',
      'greentic.user.id': 'u-1',
      'greentic.session.id': 'sess-9',
      'greentic.flow.id': 'weather',
      'greentic.channel': 'webchat',
      'greentic.run.status': 'done',
    });
    expect(one('greentic.node', 'call').attributes).toMatchObject({
      'greentic.tenant.id': 'acme',
      'greentic.flow.id': 'weather',
      'greentic.node.id': 'call',
      'greentic.node.op': 'component.exec',
      'greentic.component.name': 'forecast',
      'greentic.run.status': 'ok',
    });
  });

  it('links node spans to the turn span in one trace', () => {
    const turn = one('greentic.turn');
    expect(turn.parentSpanId).toBeUndefined();
    expect(turn.traceId).toMatch(/^[0-9a-f]{32}$/);
    for (const nodeId of ['ask', 'call']) {
      const node = one('greentic.node', nodeId);
      expect(node.traceId).toBe(turn.traceId);
      expect(node.parentSpanId).toBe(turn.spanId);
    }
  });

  it('continues the trace across the HTTP hop and the header-map hop', () => {
    const call = one('greentic.node', 'call');
    const server = one('downstream.handle');
    expect(server.kind).toBe(SpanKind.SERVER + 1); // OTLP numbers kinds from 1 (INTERNAL) where the API starts at 0
    expect(server.traceId).toBe(call.traceId);
    expect(server.parentSpanId).toBe(call.spanId);
    const consumer = one('nats.consume');
    expect(consumer.traceId).toBe(call.traceId);
    expect(consumer.parentSpanId).toBe(call.spanId);
  });

  it('redacts PII and credentials in exported attributes', () => {
    const turn = one('greentic.turn');
    expect(turn.attributes['user.email']).toBe('[REDACTED]');
    expect(turn.attributes['http.request.header.authorization']).toBe('[REDACTED]');
    expect(turn.attributes['greentic.input.text']).toBe(
      'reach me at [REDACTED], my token is Bearer [REDACTED]',
    );
    const body = JSON.stringify(receiver.requests.map((r) => r.body));
    for (const secret of ['alice@example.com', 'bob@example.com', 'abc123.def456', 'sk-live-0123456789']) {
      expect(body).not.toContain(secret);
    }
  });

  it('writes log lines with the trace and span ids of the exported spans, redacted', () => {
    const turnLine = logLines.find((l) => String(l.msg).startsWith('turn for'));
    expect(turnLine).toMatchObject({
      msg: 'turn for [REDACTED]',
      authorization: '[REDACTED]',
      trace_id: ids!.trace,
      span_id: ids!.turn,
    });
    const downstreamLine = logLines.find((l) => String(l.msg).startsWith('downstream'));
    expect(downstreamLine).toMatchObject({
      msg: 'downstream got a call from [REDACTED]',
      trace_id: ids!.trace,
      span_id: one('downstream.handle').spanId,
    });
    expect(JSON.stringify(logLines)).not.toMatch(/alice@|erin@|abc123/);
  });

  it('exports spans still queued when shutdown() is called', async () => {
    const before = receiver.requests.length;
    await tracer.withTurn({ flowId: 'late' }, () => {});
    await telemetry.shutdown();
    expect(receiver.requests.length).toBeGreaterThan(before);
    expect(receiver.spans().some((s) => s.attributes['greentic.flow.id'] === 'late')).toBe(true);
  });
});
