// Public API of @greentic/telemetry. Everything else is internal.

/** Re-exported so that callers need no direct dependency on `@opentelemetry/api` for these. */
export { type Attributes, type AttributeValue, type Context, SpanKind } from '@opentelemetry/api';

export {
  DEFAULT_OTLP_TRACES_ENDPOINT,
  ENV_VARS,
  type Env,
  type ExporterName,
  otlpHeaders,
  otlpTracesEndpoint,
  parseKeyValues,
  type SamplerName,
} from './config.js';
export { isTelemetryError, TelemetryError, type TelemetryErrorCode } from './errors.js';
export * from './keys.js';
export { createLogger, type Logger, type LoggerOptions, traceLogFields } from './logger.js';
export {
  type CarrierGetter,
  type CarrierSetter,
  contextFromTraceparent,
  extractContext,
  extractHeaderMap,
  extractHttpHeaders,
  type HeaderMap,
  type HttpHeaders,
  injectContext,
  injectHeaderMap,
  injectHttpHeaders,
  type PropagationOptions,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  type TraceHeaders,
  traceparentOf,
  W3CTraceContextPropagator,
  w3cTraceContext,
} from './propagation.js';
export {
  compilePattern,
  DEFAULT_DENY_FIELDS,
  REDACTED,
  REDACTION_MODES,
  type RedactionMode,
  type RedactionOptions,
  Redactor,
  redactionOptionsFromEnv,
  resolveRedactor,
  splitPatterns,
} from './redaction.js';
export { initTelemetry, type Telemetry, type TelemetryOptions } from './sdk.js';
export { RedactingSpanProcessor, redactSpan } from './span-redaction.js';
export {
  type AttributeInit,
  GreenticSpan,
  GreenticTracer,
  type GreenticTracerOptions,
  type NodeSpanInit,
  type RunStatus,
  type SpanInit,
  type TurnSpanInit,
  tenantAttributes,
} from './tracer.js';
