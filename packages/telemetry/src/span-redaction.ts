import type { Attributes, Context, Link, SpanStatus } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { Redactor } from './redaction.js';

/**
 * A span processor that hands `inner` (a batch or simple processor with its exporter) a redacted view of every
 * ended span: attribute values, event attributes (exception messages), link attributes and the status message go
 * through the {@link Redactor}. The view is lazy: the work happens when the exporter reads the span — for a
 * batch processor, off the request path. The recorded span itself is not modified.
 */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(
    private readonly inner: SpanProcessor,
    private readonly redactor: Redactor,
  ) {}

  onStart(span: Span, parentContext: Context): void {
    this.inner.onStart(span, parentContext);
  }

  onEnding(span: Span): void {
    this.inner.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    this.inner.onEnd(this.redactor.enabled ? redactSpan(span, this.redactor) : span);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** A read-only view of `span` whose attributes, events, links and status message are redacted on first access. */
export function redactSpan(span: ReadableSpan, redactor: Redactor): ReadableSpan {
  let attributes: Attributes | undefined;
  let events: TimedEvent[] | undefined;
  let links: Link[] | undefined;
  let status: SpanStatus | undefined;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    get attributes() {
      attributes ??= redactor.redactAttributes(span.attributes);
      return attributes;
    },
    get events() {
      events ??= mapIfChanged(span.events, (e) => {
        const a = e.attributes && redactor.redactAttributes(e.attributes);
        return a === e.attributes ? e : { ...e, attributes: a };
      });
      return events;
    },
    get links() {
      links ??= mapIfChanged(span.links, (l) => {
        const a = l.attributes && redactor.redactAttributes(l.attributes);
        return a === l.attributes ? l : { ...l, attributes: a };
      });
      return links;
    },
    get status() {
      if (status === undefined) {
        const s = span.status;
        const message = s.message === undefined ? undefined : redactor.redactString(s.message);
        status = message === s.message ? s : { ...s, message };
      }
      return status;
    },
  };
}

function mapIfChanged<T>(items: T[], fn: (item: T) => T): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const r = fn(item);
    if (r !== item) {
      out ??= items.slice();
      out[i] = r;
    }
  }
  return out ?? items;
}
