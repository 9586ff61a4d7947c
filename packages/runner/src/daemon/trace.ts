import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, extractHttpHeaders, traceparentOf } from '@greentic/telemetry';
import type { FastifyInstance } from 'fastify';

/** The trace context of the HTTP request being handled (webhooks, WebChat posts), for the turns it queues. */
const requestTrace = new AsyncLocalStorage<Context>();

/**
 * W3C trace context of incoming HTTP requests: a request with a valid `traceparent` header is handled inside that
 * context, so what it queues — a webhook's messages, a WebChat post — runs its turn as a child of the caller's span
 * (memory mode: `handleMessage({parent})`; NATS mode: the `traceparent` header of the ingress message). Registered on
 * the root server before the routes, so every route inherits it.
 */
export function traceRequests(app: FastifyInstance): void {
  // preHandler runs after the body is parsed and calls the handler synchronously from `done`: the handler and
  // everything it awaits run inside the store
  app.addHook('preHandler', (req, _reply, done) => {
    if (req.headers.traceparent === undefined) return done();
    const ctx = extractHttpHeaders(req.headers);
    if (traceparentOf(ctx) === undefined) return done();
    requestTrace.run(ctx, done);
  });
}

/** The caller's trace context while a traced request is handled (undefined otherwise). */
export function requestTraceContext(): Context | undefined {
  return requestTrace.getStore();
}
