import { createTraceState, ROOT_CONTEXT, type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  contextFromTraceparent,
  extractContext,
  extractHeaderMap,
  extractHttpHeaders,
  injectContext,
  injectHeaderMap,
  injectHttpHeaders,
  traceparentOf,
} from './propagation.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TP = `00-${TRACE_ID}-${SPAN_ID}-01`;

function ctxWith(sc: Partial<SpanContext> = {}) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
    ...sc,
  });
}

/** Behaves like nats.js MsgHdrs: exact-case keys, `get` returns '' for a missing key. */
class FakeMsgHdrs {
  private readonly map = new Map<string, string[]>();
  get(k: string): string {
    return this.map.get(k)?.[0] ?? '';
  }
  set(k: string, v: string): void {
    this.map.set(k, [v]);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
}

describe('W3C traceparent injection', () => {
  it('writes traceparent (and tracestate) for the given context', () => {
    const ctx = ctxWith({ traceState: createTraceState('vendor=abc,other=1') });
    expect(injectHttpHeaders({}, { context: ctx })).toEqual({
      traceparent: TP,
      tracestate: 'vendor=abc,other=1',
    });
  });

  it('writes the flags as two hex digits', () => {
    expect(injectHttpHeaders({}, { context: ctxWith({ traceFlags: TraceFlags.NONE }) }).traceparent).toBe(
      `00-${TRACE_ID}-${SPAN_ID}-00`,
    );
  });

  it('writes nothing when there is no valid span context', () => {
    expect(injectHttpHeaders({}, { context: ROOT_CONTEXT })).toEqual({});
    expect(injectHttpHeaders({}, { context: ctxWith({ traceId: '0'.repeat(32) }) })).toEqual({});
  });

  it('sets fetch Headers through their API and returns the same object', () => {
    const h = new Headers({ accept: 'application/json' });
    expect(injectHttpHeaders(h, { context: ctxWith() })).toBe(h);
    expect(h.get('traceparent')).toBe(TP);
  });
});

describe('W3C traceparent extraction', () => {
  it('reads a remote parent from plain headers', () => {
    const sc = trace.getSpanContext(
      extractHttpHeaders({ traceparent: TP, tracestate: 'a=1' }, { context: ROOT_CONTEXT }),
    );
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    expect(sc?.traceState?.get('a')).toBe('1');
  });

  it('finds the header case-insensitively and takes the first of repeated values', () => {
    const sc = trace.getSpanContext(
      extractHttpHeaders({ Traceparent: [TP, 'garbage'] }, { context: ROOT_CONTEXT }),
    );
    expect(sc?.spanId).toBe(SPAN_ID);
  });

  it('reads fetch Headers', () => {
    const sc = trace.getSpanContext(
      extractHttpHeaders(new Headers({ TraceParent: TP }), { context: ROOT_CONTEXT }),
    );
    expect(sc?.traceId).toBe(TRACE_ID);
  });

  it.each([
    ['garbage', 'hello'],
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['extra fields on version 00', `${TP}-extra`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['an empty value', ''],
  ])('ignores %s and returns the base context unchanged', (_name, value) => {
    const base = ROOT_CONTEXT.setValue(Symbol('marker'), 1);
    expect(extractHttpHeaders({ traceparent: value }, { context: base })).toBe(base);
  });

  it('accepts a future version with extra fields', () => {
    const sc = trace.getSpanContext(
      extractHttpHeaders({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-future` }, { context: ROOT_CONTEXT }),
    );
    expect(sc?.traceId).toBe(TRACE_ID);
  });

  it('returns the base context for missing headers', () => {
    expect(extractHttpHeaders(undefined, { context: ROOT_CONTEXT })).toBe(ROOT_CONTEXT);
    expect(extractHttpHeaders({}, { context: ROOT_CONTEXT })).toBe(ROOT_CONTEXT);
  });
});

describe('NATS-style header maps', () => {
  it('round-trips through a MsgHdrs-like map', () => {
    const hdrs = injectHeaderMap(new FakeMsgHdrs(), { context: ctxWith() });
    expect(hdrs.get('traceparent')).toBe(TP);
    const sc = trace.getSpanContext(extractHeaderMap(hdrs, { context: ROOT_CONTEXT }));
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, isRemote: true });
  });

  it("treats MsgHdrs' empty string as absent", () => {
    expect(extractHeaderMap(new FakeMsgHdrs(), { context: ROOT_CONTEXT })).toBe(ROOT_CONTEXT);
  });

  it('falls back to a case-insensitive key match through keys()', () => {
    const hdrs = new FakeMsgHdrs();
    hdrs.set('Traceparent', TP);
    expect(trace.getSpanContext(extractHeaderMap(hdrs, { context: ROOT_CONTEXT }))?.spanId).toBe(SPAN_ID);
  });

  it('accepts a message without headers', () => {
    expect(extractHeaderMap(undefined, { context: ROOT_CONTEXT })).toBe(ROOT_CONTEXT);
  });
});

describe('generic carriers and helpers', () => {
  it('injects into and extracts from any carrier with a getter/setter', () => {
    const carrier = new Map<string, string>();
    injectContext(carrier, { set: (c, k, v) => c.set(k, v) }, { context: ctxWith() });
    const ctx = extractContext(carrier, { get: (c, k) => c.get(k) }, { context: ROOT_CONTEXT });
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
  });

  it('uses another propagator when given one', () => {
    const seen: string[] = [];
    injectContext(
      {},
      { set: () => {} },
      { propagator: { inject: () => seen.push('inject'), extract: (c) => c, fields: () => [] } },
    );
    expect(seen).toEqual(['inject']);
  });

  it('formats and parses traceparent values', () => {
    expect(traceparentOf(ctxWith())).toBe(TP);
    expect(traceparentOf(ROOT_CONTEXT)).toBeUndefined();
    expect(trace.getSpanContext(contextFromTraceparent(TP, undefined, ROOT_CONTEXT))?.spanId).toBe(SPAN_ID);
    expect(contextFromTraceparent('nope', undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });

  it('forwards an incoming trace through no-op spans when no SDK is installed', () => {
    const incoming = extractHttpHeaders({ traceparent: TP }, { context: ROOT_CONTEXT });
    const span = trace.getTracer('t').startSpan('noop child', {}, incoming);
    expect(span.isRecording()).toBe(false);
    const outgoing = injectHttpHeaders({}, { context: trace.setSpan(incoming, span) });
    expect(outgoing.traceparent).toBe(TP);
  });
});
