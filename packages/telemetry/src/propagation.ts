import {
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';

export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The W3C Trace Context propagator (`traceparent` / `tracestate`), built on `@opentelemetry/api` alone. It works
 * whether or not an SDK is installed: without one, an extracted parent still flows through the no-op spans, so a
 * process that does not record traces forwards the caller's trace context unchanged.
 */
export class W3CTraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (!sc || !isSpanContextValid(sc)) return;
    setter.set(carrier, TRACEPARENT_HEADER, formatTraceparent(sc));
    const state = sc.traceState?.serialize();
    if (state) setter.set(carrier, TRACESTATE_HEADER, state);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const sc = parseTraceparent(
      getter.get(carrier, TRACEPARENT_HEADER),
      getter.get(carrier, TRACESTATE_HEADER),
    );
    return sc ? trace.setSpanContext(ctx, sc) : ctx;
  }

  fields(): string[] {
    return [TRACEPARENT_HEADER, TRACESTATE_HEADER];
  }
}

/** The propagator the helpers below use unless given another (e.g. the API's global `propagation`). */
export const w3cTraceContext: TextMapPropagator = new W3CTraceContextPropagator();

export interface PropagationOptions {
  /** The context to inject from / extract onto. Default: the active context. */
  context?: Context;
  /** Default: {@link w3cTraceContext}. Pass `propagation` from `@opentelemetry/api` to use the globally registered one (with baggage). */
  propagator?: TextMapPropagator;
}

/** Writes one header into a carrier of type `C`. */
export interface CarrierSetter<C> {
  set(carrier: C, key: string, value: string): void;
}

/** Reads one header from a carrier of type `C`; `keys` (optional) lists them, for case-insensitive lookups. */
export interface CarrierGetter<C> {
  get(carrier: C, key: string): string | string[] | null | undefined;
  keys?(carrier: C): Iterable<string>;
}

/** Injects the trace context of `options.context` (default: active) into any carrier through `setter`. Returns the carrier. */
export function injectContext<C>(carrier: C, setter: CarrierSetter<C>, options: PropagationOptions = {}): C {
  (options.propagator ?? w3cTraceContext).inject(
    options.context ?? context.active(),
    carrier,
    setter as TextMapSetter<C>,
  );
  return carrier;
}

/**
 * Extracts a remote parent from any carrier through `getter`: returns `options.context` (default: active) with the
 * remote span context set, or unchanged when the carrier has no valid `traceparent`.
 */
export function extractContext<C>(
  carrier: C,
  getter: CarrierGetter<C>,
  options: PropagationOptions = {},
): Context {
  const textMapGetter: TextMapGetter<C> = {
    get: (c, key) => {
      const value = present(getter.get(c, key));
      if (value !== undefined || !getter.keys) return value;
      for (const k of getter.keys(c)) {
        if (k !== key && k.toLowerCase() === key) return present(getter.get(c, k));
      }
      return undefined;
    },
    keys: (c) => (getter.keys ? [...getter.keys(c)] : []),
  };
  return (options.propagator ?? w3cTraceContext).extract(
    options.context ?? context.active(),
    carrier,
    textMapGetter,
  );
}

/** HTTP headers: a fetch `Headers`, or a plain object such as node's `IncomingHttpHeaders` / `OutgoingHttpHeaders`. */
export type HttpHeaders = Headers | Record<string, string | string[] | number | undefined>;

const httpSetter: CarrierSetter<HttpHeaders> = {
  set(headers, key, value) {
    if (isFetchHeaders(headers)) headers.set(key, value);
    else headers[key] = value;
  },
};

const httpGetter: CarrierGetter<HttpHeaders> = {
  get(headers, key) {
    if (isFetchHeaders(headers)) return headers.get(key);
    const v = headers[key];
    return typeof v === 'number' ? String(v) : v;
  },
  keys(headers) {
    return isFetchHeaders(headers) ? headers.keys() : Object.keys(headers);
  },
};

/** The headers {@link injectHttpHeaders} may add to a plain object. */
export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
}

/**
 * Adds `traceparent` (and `tracestate`) for the active span — or `options.context` — to outgoing HTTP headers.
 * Returns the same headers object (a new plain object when none is given).
 */
export function injectHttpHeaders(
  headers?: undefined,
  options?: PropagationOptions,
): Record<string, string> & TraceHeaders;
export function injectHttpHeaders(headers: Headers, options?: PropagationOptions): Headers;
export function injectHttpHeaders<H extends Record<string, string | string[] | number | undefined>>(
  headers: H,
  options?: PropagationOptions,
): H & TraceHeaders;
export function injectHttpHeaders(headers?: HttpHeaders, options?: PropagationOptions): HttpHeaders {
  return injectContext(headers ?? {}, httpSetter, options);
}

/** The context of an incoming HTTP request: its `traceparent` becomes the remote parent. Header names are case-insensitive. */
export function extractHttpHeaders(headers: HttpHeaders | undefined, options?: PropagationOptions): Context {
  if (!headers) return options?.context ?? context.active();
  return extractContext(headers, httpGetter, options);
}

/**
 * A header map with `get`/`set`, such as nats.js `MsgHdrs` (`headers()` from `nats`): `get` may return `''` for an
 * absent key, as `MsgHdrs` does. With `keys()`, lookups fall back to a case-insensitive match.
 */
export interface HeaderMap {
  get(key: string): string | null | undefined;
  set(key: string, value: string): void;
  keys?(): Iterable<string>;
}

const headerMapSetter: CarrierSetter<Pick<HeaderMap, 'set'>> = { set: (h, k, v) => h.set(k, v) };
const headerMapGetter: CarrierGetter<Pick<HeaderMap, 'get' | 'keys'>> = {
  get: (h, k) => h.get(k),
  keys: (h) => (typeof h.keys === 'function' ? h.keys() : []),
};

/** Adds `traceparent`/`tracestate` to a header map (nats.js `MsgHdrs`). Returns it. */
export function injectHeaderMap<H extends Pick<HeaderMap, 'set'>>(
  headers: H,
  options?: PropagationOptions,
): H {
  injectContext<Pick<HeaderMap, 'set'>>(headers, headerMapSetter, options);
  return headers;
}

/** The context carried by a header map (nats.js `msg.headers`, which is undefined for a message without headers). */
export function extractHeaderMap(
  headers: Pick<HeaderMap, 'get' | 'keys'> | undefined,
  options?: PropagationOptions,
): Context {
  if (!headers) return options?.context ?? context.active();
  return extractContext(headers, headerMapGetter, options);
}

/** The `traceparent` value of the active span (or of `ctx`), or undefined when there is none. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/** `ctx` (default: active) with the remote parent described by a `traceparent` value; unchanged when it is not valid. */
export function contextFromTraceparent(
  traceparent: string,
  tracestate?: string,
  ctx: Context = context.active(),
): Context {
  const sc = parseTraceparent(traceparent, tracestate);
  return sc ? trace.setSpanContext(ctx, sc) : ctx;
}

function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

function parseTraceparent(
  rawParent: string | string[] | null | undefined,
  rawState: string | string[] | null | undefined,
): SpanContext | undefined {
  const header = Array.isArray(rawParent) ? rawParent[0] : rawParent;
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT_RE.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  // version ff is forbidden; version 00 has exactly four fields; later versions may append fields
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  const sc: SpanContext = {
    traceId: traceId!,
    spanId: spanId!,
    traceFlags: Number.parseInt(flags!, 16),
    isRemote: true,
  };
  if (!isSpanContextValid(sc)) return undefined;
  const state = Array.isArray(rawState) ? rawState.join(',') : rawState;
  if (typeof state === 'string' && state.trim() !== '') sc.traceState = createTraceState(state);
  return sc;
}

/** undefined for the ways carriers say "absent": null, '' (nats.js MsgHdrs), an empty array. */
function present(value: string | string[] | null | undefined): string | string[] | undefined {
  if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) return undefined;
  return value;
}

function isFetchHeaders(h: unknown): h is Headers {
  return typeof Headers !== 'undefined' && h instanceof Headers;
}
