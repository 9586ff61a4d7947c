import { loadFlow } from '@greentic/flow';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { GreenticTracer, initTelemetry } from '@greentic/telemetry';
import { tenantCtx } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { FlowEngine } from './engine.js';

interface Exported {
  name: string;
  attributes: Record<string, unknown>;
  spanContext(): { traceId: string; spanId: string };
  parentSpanContext?: { spanId: string };
  parentSpanId?: string;
}

/** A span exporter that keeps what it receives (the SDK calls export with finished, redacted spans). */
function collectingExporter() {
  const spans: Exported[] = [];
  return {
    spans,
    export(batch: Exported[], done: (r: { code: number }) => void) {
      spans.push(...batch);
      done({ code: 0 });
    },
    shutdown: async () => {},
    forceFlush: async () => {},
  };
}

describe('FlowEngine telemetry', () => {
  it('emits one span per turn and one per node, with upstream attribute keys and parent links', async () => {
    const exporter = collectingExporter();
    const telemetry = await initTelemetry({
      serviceName: 'engine-test',
      exporter: exporter as never,
      processor: 'simple',
      registerGlobal: false,
      env: {},
    });
    const engine = new FlowEngine({
      sessions: new MemorySessionStore(),
      state: new MemoryStateStore(),
      tracer: new GreenticTracer({ tracerProvider: telemetry.tracerProvider }),
    }).registerFlow(
      loadFlow(`
id: traced
type: messaging
nodes:
  ask:
    questions: { questions: [{ id: email, prompt: "Email?", answer_type: email }] }
    routing: [{ to: done }]
  done:
    template: "thanks {{state.email}}"
    routing: out
`),
    );
    const ctx = tenantCtx({ env: 'dev', tenant: 'acme', team: 'support', user: 'u1' });
    const msg = (id: string, text: string) => ({
      id,
      tenant: ctx,
      channel: 'test',
      session_id: 'c1',
      reply_scope: { conversation: 'c1' },
      text,
      metadata: {},
    });
    await engine.handleMessage(msg('m1', 'hi'));
    await engine.handleMessage(msg('m2', 'ada@example.com'));
    await telemetry.forceFlush();
    await telemetry.shutdown();

    const turns = exporter.spans.filter((s) => s.name === 'greentic.turn');
    const nodes = exporter.spans.filter((s) => s.name === 'greentic.node');
    expect(turns).toHaveLength(2);
    expect(nodes.map((n) => n.attributes['greentic.node.id'])).toEqual(['ask', 'ask', 'done']);
    const second = turns[1]!;
    expect(second.attributes).toMatchObject({
      'greentic.tenant.id': 'acme',
      'greentic.team.id': 'support',
      'greentic.flow.id': 'traced',
    });
    expect(second.attributes['greentic.session.id']).toBeTruthy();
    for (const n of nodes.slice(1)) {
      const parent = n.parentSpanContext?.spanId ?? n.parentSpanId;
      expect(parent).toBe(second.spanContext().spanId);
      expect(n.spanContext().traceId).toBe(second.spanContext().traceId);
      expect(n.attributes['greentic.flow.id']).toBe('traced');
    }
    // the answer (an email) is personal data: it never reaches an exported attribute
    expect(JSON.stringify(exporter.spans.map((s) => s.attributes))).not.toContain('ada@example.com');
  });
});
