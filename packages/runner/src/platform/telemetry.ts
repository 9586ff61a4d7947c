import {
  createLogger,
  type Env,
  GreenticTracer,
  initTelemetry,
  isTelemetryError,
  type Logger,
  type LoggerOptions,
  type Redactor,
  resolveRedactor,
  type Telemetry,
  type TelemetryOptions,
} from '@greentic/telemetry';
import { RunnerError } from '../errors.js';

/** The service name the runner's spans and logs carry (`OTEL_SERVICE_NAME` wins). */
export const RUNNER_SERVICE_NAME = 'greentic-runner';

/** The variables that turn trace export on (any of them set and not empty). */
export const TELEMETRY_TRIGGER_VARS: readonly string[] = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
];

/** True when the environment asks for traces: an OTLP (traces) endpoint or `OTEL_TRACES_EXPORTER` is set. */
export function telemetryRequested(env: Env = process.env): boolean {
  return TELEMETRY_TRIGGER_VARS.some((k) => (env[k] ?? '').trim() !== '');
}

export interface RunnerTelemetryOptions {
  /** Environment (`OTEL_*`, `PII_*`, `LOG_LEVEL`); default `process.env`. */
  env?: Env;
  /** Default `greentic-runner`. */
  serviceName?: string;
  serviceVersion?: string;
  /**
   * Start the OpenTelemetry SDK even when no `OTEL_EXPORTER_OTLP_*ENDPOINT`/`OTEL_TRACES_EXPORTER` is set (then it
   * exports to the OTLP default, http://localhost:4318). Default false: without them, spans stay no-ops.
   */
  force?: boolean;
  /** Where log lines go (default stdout). The CLIs send them to stderr. */
  logDestination?: { write(line: string): void };
  /** Log level when `LOG_LEVEL` is not set (default `info`). */
  defaultLogLevel?: string;
  /** Log level, whatever `LOG_LEVEL` says (`serve`: its `log.level`). */
  logLevel?: string;
  /** More pino options of the logger (the line format: `formatters`, `timestamp`, `base`…). */
  pino?: LoggerOptions['pino'];
  /** More `initTelemetry` options (an in-memory `exporter`, `processor: 'simple'` in tests…). */
  sdk?: Omit<TelemetryOptions, 'serviceName' | 'env'>;
}

/** What {@link startRunnerTelemetry} gives: a tracer for the FlowEngine, a redacting logger, and the flush. */
export interface RunnerTelemetry {
  /** True when the SDK runs and spans are exported. */
  readonly enabled: boolean;
  /** The SDK handle, when it runs. */
  readonly telemetry: Telemetry | undefined;
  /** Pass it to `new FlowEngine({tracer})` (no-op spans when not enabled). */
  readonly tracer: GreenticTracer;
  /** pino JSON lines with `trace_id`/`span_id`, PII redacted (`PII_REDACTION_MODE`, strict by default). */
  readonly logger: Logger;
  readonly redactor: Redactor;
  /** Exports what is queued. */
  flush(): Promise<void>;
  /** Flushes, then stops the SDK (safe to call twice). Call it before the process exits. */
  shutdown(): Promise<void>;
}

/**
 * Telemetry for a runner process (`run-flow`, `chat`, `serve`): starts the OpenTelemetry SDK
 * (`initTelemetry({serviceName: 'greentic-runner'})`, registered globally) only when an `OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_TRACES_EXPORTER` is set (or `force`), and always creates the
 * redacting logger. Throws `TelemetryError` (`GT_TELEMETRY_*`) for a bad `OTEL_*`/`PII_*`/`LOG_LEVEL` value.
 */
export async function startRunnerTelemetry(options: RunnerTelemetryOptions = {}): Promise<RunnerTelemetry> {
  const env = options.env ?? process.env;
  const serviceName = options.serviceName ?? RUNNER_SERVICE_NAME;
  const telemetry =
    options.force || telemetryRequested(env)
      ? await initTelemetry({
          ...options.sdk,
          serviceName,
          ...(options.serviceVersion !== undefined ? { serviceVersion: options.serviceVersion } : {}),
          env,
        })
      : undefined;
  const redactor = telemetry?.redactor ?? resolveRedactor(undefined, env);
  const hasLevel = (env.LOG_LEVEL ?? '').trim() !== '';
  let logger: Logger;
  try {
    logger = createLogger({
      name: serviceName,
      redaction: redactor,
      env,
      ...(options.logLevel !== undefined
        ? { level: options.logLevel }
        : !hasLevel && options.defaultLogLevel !== undefined
          ? { level: options.defaultLogLevel }
          : {}),
      ...(options.pino ? { pino: options.pino } : {}),
      ...(options.logDestination ? { destination: options.logDestination } : {}),
    });
  } catch (e) {
    await telemetry?.shutdown();
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    enabled: telemetry?.enabled ?? false,
    telemetry,
    tracer: new GreenticTracer(telemetry ? { tracerProvider: telemetry.tracerProvider } : {}),
    logger,
    redactor,
    flush: async () => {
      await telemetry?.forceFlush();
    },
    shutdown: () => {
      stopped ??= (async () => {
        logger.flush?.();
        await telemetry?.shutdown();
      })();
      return stopped;
    },
  };
}

/**
 * {@link startRunnerTelemetry} for the runner's commands: a bad `OTEL_*`/`PII_*`/`LOG_LEVEL` value becomes
 * `GT_RUNNER_CONFIG` (`telemetry: …`, the setting named), so it ends the command before anything runs (exit 1).
 */
export async function startRunnerTelemetryOrFail(
  options: RunnerTelemetryOptions = {},
): Promise<RunnerTelemetry> {
  try {
    return await startRunnerTelemetry(options);
  } catch (e) {
    if (isTelemetryError(e))
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `telemetry: ${e.message}`,
        { setting: e.setting },
        { cause: e },
      );
    throw e;
  }
}
