import { randomBytes } from 'node:crypto';
import {
  type Context,
  contextFromTraceparent,
  extractHeaderMap,
  injectHeaderMap,
  traceparentOf,
} from '@greentic/telemetry';
import type { MsgHdrs } from 'nats';

/**
 * W3C trace context on NATS headers (`traceparent`, `tracestate`), through @greentic/telemetry's propagator: the
 * gateway's context rides on the ingress message, and the runner puts it on every reply and dead letter.
 */
export type { Context as TraceContext } from '@greentic/telemetry';

/** A fresh sampled root `traceparent`, for a gateway that has no trace context itself. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/**
 * The context to publish an incoming message under: the given `traceparent` when valid, else the active span's
 * (a gateway instrumented with OpenTelemetry), else a new root.
 */
export function ingressTraceContext(traceparent?: string, tracestate?: string): Context {
  if (traceparent !== undefined) {
    const ctx = contextFromTraceparent(traceparent, tracestate);
    if (traceparentOf(ctx) !== undefined) return ctx;
  }
  return traceparentOf() !== undefined
    ? contextFromTraceparent(traceparentOf()!)
    : contextFromTraceparent(newTraceparent());
}

/** The trace context a NATS message carries (the active context unchanged when it carries none). */
export function extractTrace(headers: MsgHdrs | undefined): Context {
  return extractHeaderMap(headers);
}

/** Writes a trace context into NATS headers (nothing when it has no valid span context). */
export function injectTrace(headers: MsgHdrs, ctx: Context | undefined): MsgHdrs {
  if (ctx !== undefined) injectHeaderMap(headers, { context: ctx });
  return headers;
}
