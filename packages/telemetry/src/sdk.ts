import { createRequire } from 'node:module';
import {
  type Attributes,
  context,
  DiagLogLevel,
  diag,
  propagation,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Sampler, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import {
  batchFromEnv,
  checkOtlpProtocol,
  type Env,
  exportersFromEnv,
  otlpCompression,
  otlpHeaders,
  otlpTimeout,
  otlpTracesEndpoint,
  resourceAttributesFromEnv,
  samplerFromEnv,
  sdkDisabled,
  serviceNameFromEnv,
} from './config.js';
import { TelemetryError } from './errors.js';
import { ATTR_SERVICE_NAME } from './keys.js';
import { type RedactionOptions, type Redactor, resolveRedactor } from './redaction.js';
import { RedactingSpanProcessor } from './span-redaction.js';
import { bumpProviderGeneration } from './state.js';

export interface TelemetryOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` (or `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) sets it. */
  serviceName: string;
  serviceVersion?: string;
  /** Resource attributes, over `OTEL_RESOURCE_ATTRIBUTES`. */
  resourceAttributes?: Attributes;
  /** Full OTLP/HTTP traces URL; wins over `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`. */
  tracesEndpoint?: string;
  /** Export request headers, over `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS`. */
  headers?: Record<string, string>;
  /** Replaces the exporters of `OTEL_TRACES_EXPORTER` (e.g. an `InMemorySpanExporter` in tests). */
  exporter?: SpanExporter;
  /** `batch` (default) or `simple` (export each span when it ends: tests, short-lived CLIs). */
  processor?: 'batch' | 'simple';
  /** More processors; they also receive redacted spans. */
  spanProcessors?: SpanProcessor[];
  /** Replaces the sampler of `OTEL_TRACES_SAMPLER`. */
  sampler?: Sampler;
  /**
   * Span redaction: a Redactor, options merged over the `PII_*` environment, or `false` for none.
   * Default: the `PII_*` environment (strict unless `PII_REDACTION_MODE` says otherwise).
   */
  redaction?: Redactor | RedactionOptions | false;
  /** Register as the global tracer provider, with the AsyncLocalStorage context manager and W3C propagators. Default true. */
  registerGlobal?: boolean;
  /** Where OpenTelemetry's own warnings and errors (failed exports) go. Default: nowhere. */
  logger?: Logger;
  /** Turns everything off, like `OTEL_SDK_DISABLED=true`. */
  disabled?: boolean;
  /** Environment to read; default `process.env`. */
  env?: Env;
}

/** A running (or disabled) telemetry SDK. */
export interface Telemetry {
  /** False when disabled (`OTEL_SDK_DISABLED`, `disabled: true`): spans are no-ops. */
  readonly enabled: boolean;
  readonly serviceName: string;
  /** The provider spans come from (the API's no-op proxy when disabled). */
  readonly tracerProvider: TracerProvider;
  /** The redactor applied to exported spans; reuse it for `createLogger({ redaction })`. */
  readonly redactor: Redactor;
  /** Where spans go, for a startup log line: `otlp http://…/v1/traces`, `console`, `custom`. Never header values. */
  readonly exporters: readonly string[];
  /** Exports every ended span now. */
  forceFlush(): Promise<void>;
  /** Flushes, stops the exporters and unregisters the global provider. Safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Loads an SDK package on first use. The OpenTelemetry SDK packages are CommonJS (their ESM builds are not
 * loadable by Node), so they are required, which also keeps them out of the module graph of code that only
 * starts spans.
 */
const requireSdk = createRequire(import.meta.url);
function load<T>(id: string): T {
  return requireSdk(id) as T;
}

let active: Telemetry | undefined;
/** Set while a globally registered SDK is being started (between the checks and the registration). */
let starting = false;

/**
 * Starts the OpenTelemetry Node SDK: a NodeTracerProvider with the OTLP/HTTP (JSON) exporter, configured by the
 * standard `OTEL_*` variables and `options`, whose exported spans are redacted. The SDK packages are loaded here,
 * on first call, so code that only starts spans never loads them. Throws `TelemetryError` for bad configuration
 * (`GT_TELEMETRY_BAD_CONFIG`, `GT_TELEMETRY_BAD_ENDPOINT`, `GT_TELEMETRY_BAD_PATTERN`) and
 * `GT_TELEMETRY_ALREADY_INITIALIZED` while a globally registered SDK is running.
 */
export async function initTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  if (typeof options.serviceName !== 'string' || options.serviceName.trim() === '') {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_CONFIG',
      'initTelemetry: serviceName must be a non-empty string',
      'serviceName',
    );
  }
  const serviceName = serviceNameFromEnv(env, options.serviceName);
  const redactor = resolveRedactor(options.redaction, env);
  if (options.disabled || sdkDisabled(env)) {
    return {
      enabled: false,
      serviceName,
      tracerProvider: trace.getTracerProvider(),
      redactor,
      exporters: [],
      forceFlush: async () => {},
      shutdown: async () => {},
    };
  }
  const registerGlobal = options.registerGlobal !== false;
  if (registerGlobal && (active || starting)) {
    throw new TelemetryError(
      'GT_TELEMETRY_ALREADY_INITIALIZED',
      `initTelemetry was already called${active ? ` (service "${active.serviceName}")` : ''}; call shutdown() on it first, or pass registerGlobal: false for a second, private provider`,
    );
  }
  if (registerGlobal) starting = true;
  try {
    return await start(options, env, serviceName, redactor, registerGlobal);
  } finally {
    if (registerGlobal) starting = false;
  }
}

async function start(
  options: TelemetryOptions,
  env: Env,
  serviceName: string,
  redactor: Redactor,
  registerGlobal: boolean,
): Promise<Telemetry> {
  // Read and check all configuration before loading or starting anything.
  const exporterNames = options.exporter ? [] : exportersFromEnv(env);
  let otlp:
    | { url: string; headers: Record<string, string>; timeoutMillis?: number; compression?: 'gzip' | 'none' }
    | undefined;
  if (exporterNames.includes('otlp')) {
    checkOtlpProtocol(env);
    otlp = {
      url: otlpTracesEndpoint(env, options.tracesEndpoint),
      headers: { ...otlpHeaders(env), ...options.headers },
      timeoutMillis: otlpTimeout(env),
      compression: otlpCompression(env),
    };
  }
  const samplerConfig = options.sampler ? undefined : samplerFromEnv(env);
  const batch = batchFromEnv(env);
  const resourceAttributes: Attributes = {
    ...resourceAttributesFromEnv(env),
    ...options.resourceAttributes,
    [ATTR_SERVICE_NAME]: serviceName,
    ...(options.serviceVersion !== undefined ? { 'service.version': options.serviceVersion } : {}),
  };

  const base = load<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base');
  const node = load<typeof import('@opentelemetry/sdk-trace-node')>('@opentelemetry/sdk-trace-node');
  const resources = load<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');

  const exporters: SpanExporter[] = [];
  const described: string[] = [];
  if (options.exporter) {
    exporters.push(options.exporter);
    described.push('custom');
  }
  if (otlp) {
    const { OTLPTraceExporter } = load<typeof import('@opentelemetry/exporter-trace-otlp-http')>(
      '@opentelemetry/exporter-trace-otlp-http',
    );
    exporters.push(
      new OTLPTraceExporter({
        url: otlp.url,
        headers: otlp.headers,
        ...(otlp.timeoutMillis !== undefined ? { timeoutMillis: otlp.timeoutMillis } : {}),
        ...(otlp.compression !== undefined ? { compression: otlp.compression as never } : {}),
      }),
    );
    described.push(`otlp ${otlp.url}`);
  }
  if (exporterNames.includes('console')) {
    exporters.push(new base.ConsoleSpanExporter());
    described.push('console');
  }

  let sampler: Sampler;
  if (options.sampler) sampler = options.sampler;
  else {
    const { name, ratio } = samplerConfig!;
    const root = name.endsWith('always_off')
      ? new base.AlwaysOffSampler()
      : name.endsWith('traceidratio')
        ? new base.TraceIdRatioBasedSampler(ratio)
        : new base.AlwaysOnSampler();
    sampler = name.startsWith('parentbased_') ? new base.ParentBasedSampler({ root }) : root;
  }

  const processors: SpanProcessor[] = [
    ...exporters.map((exporter) =>
      options.processor === 'simple'
        ? new base.SimpleSpanProcessor(exporter)
        : new base.BatchSpanProcessor(exporter, batch),
    ),
    ...(options.spanProcessors ?? []),
  ].map((p) => (redactor.enabled ? new RedactingSpanProcessor(p, redactor) : p));

  const provider = new node.NodeTracerProvider({
    resource: resources.defaultResource().merge(resources.resourceFromAttributes(resourceAttributes)),
    sampler,
    spanProcessors: processors,
  });

  if (options.logger) {
    const log = options.logger;
    diag.setLogger(
      {
        error: (message, ...args) => log.error({ otel: args }, message),
        warn: (message, ...args) => log.warn({ otel: args }, message),
        info: (message, ...args) => log.info({ otel: args }, message),
        debug: (message, ...args) => log.debug({ otel: args }, message),
        verbose: (message, ...args) => log.trace({ otel: args }, message),
      },
      { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
    );
  }
  if (registerGlobal) {
    provider.register();
    bumpProviderGeneration();
  }

  let stopped: Promise<void> | undefined;
  const handle: Telemetry = {
    enabled: true,
    serviceName,
    tracerProvider: provider,
    redactor,
    exporters: described,
    async forceFlush() {
      try {
        await provider.forceFlush();
      } catch (e) {
        throw new TelemetryError(
          'GT_TELEMETRY_SHUTDOWN',
          `flushing spans failed: ${(e as Error)?.message ?? e}`,
          undefined,
          { cause: e },
        );
      }
    },
    shutdown() {
      stopped ??= (async () => {
        try {
          await provider.shutdown();
        } catch (e) {
          throw new TelemetryError(
            'GT_TELEMETRY_SHUTDOWN',
            `shutting down telemetry failed: ${(e as Error)?.message ?? e}`,
            undefined,
            {
              cause: e,
            },
          );
        } finally {
          if (registerGlobal && active === handle) {
            trace.disable();
            context.disable();
            propagation.disable();
            active = undefined;
            bumpProviderGeneration();
          }
          if (options.logger) diag.disable();
        }
      })();
      return stopped;
    },
  };
  if (registerGlobal) active = handle;
  return handle;
}
