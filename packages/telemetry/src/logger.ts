import { type Context, context, isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, type LoggerOptions as PinoOptions, pino } from 'pino';
import { TelemetryError } from './errors.js';
import { type RedactionOptions, type Redactor, resolveRedactor } from './redaction.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Default: `LOG_LEVEL`, else `info`. */
  level?: string;
  /** Added to every line as `name`. */
  name?: string;
  /**
   * A Redactor, options merged over the `PII_*` environment, or `false` for none. Default: the `PII_*`
   * environment (strict unless `PII_REDACTION_MODE` says otherwise). Applied to the message, its arguments,
   * the merged object and child-logger bindings.
   */
  redaction?: Redactor | RedactionOptions | false;
  /** Where JSON lines go. Default: stdout. */
  destination?: DestinationStream;
  /** Fields on every line; default pino's `{pid, hostname}`; `null` for none. */
  base?: Record<string, unknown> | null;
  /** Other pino options (serializers, timestamp, …). `mixin`, `hooks.logMethod` and `formatters.bindings` are combined with ours. */
  pino?: PinoOptions;
  /** Environment read for `LOG_LEVEL` and `PII_*`; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** `trace_id`, `span_id` and `trace_flags` of the active span (or of `ctx`); `{}` when there is none. */
export function traceLogFields(ctx: Context = context.active()): {
  trace_id?: string;
  span_id?: string;
  trace_flags?: string;
} {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return {};
  return {
    trace_id: sc.traceId,
    span_id: sc.spanId,
    trace_flags: (sc.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}

/**
 * A pino logger writing JSON lines that carry `trace_id`/`span_id` of the active span, with PII redacted.
 * Throws `GT_TELEMETRY_BAD_CONFIG` for an unknown level and the redaction errors of {@link resolveRedactor}.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const env = options.env ?? process.env;
  const redactor = resolveRedactor(options.redaction, env);
  const extra = options.pino ?? {};
  const level = options.level ?? env.LOG_LEVEL?.trim().toLowerCase() ?? extra.level ?? 'info';
  const userMixin = extra.mixin;
  const userLogMethod = extra.hooks?.logMethod;
  const userBindings = extra.formatters?.bindings;

  const pinoOptions: PinoOptions = {
    ...extra,
    level,
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.base !== undefined ? { base: options.base } : {}),
    mixin: userMixin
      ? (merge, lvl, logger) => Object.assign(traceLogFields(), userMixin.call(logger, merge, lvl, logger))
      : () => traceLogFields(),
  };
  if (redactor.enabled) {
    pinoOptions.hooks = {
      ...extra.hooks,
      // objects (the merged object, errors, %o/%j arguments): deny-listed fields and patterns
      logMethod(args, method, lvl) {
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (typeof a === 'object' && a !== null) args[i] = redactor.redactValue(a);
        }
        if (userLogMethod) return userLogMethod.call(this, args, method, lvl);
        return method.apply(this, args);
      },
    };
    pinoOptions.formatters = {
      ...extra.formatters,
      bindings: (bindings) => redactor.redactValue(userBindings ? userBindings(bindings) : bindings),
    };
  }
  let logger: Logger;
  try {
    logger = options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
  } catch (e) {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_CONFIG',
      `cannot create the logger: ${(e as Error).message} (levels: fatal, error, warn, info, debug, trace, silent)`,
      options.level !== undefined ? 'level' : 'LOG_LEVEL',
      { cause: e },
    );
  }
  if (redactor.enabled) installRedaction(logger, redactor);
  return logger;
}

/**
 * Two redaction steps pino has no option for; both are installed on this instance and inherited by its children
 * (pino creates a child with `Object.create(parent)`):
 * - the message, after pino has interpolated its arguments (`log.info('to %s', email)`), so a secret split
 *   between the template and an argument is still found — by wrapping pino's write step (`pino.symbols.writeSym`);
 * - child bindings (`log.child({ email })`), which pino does not pass through `formatters.bindings`.
 */
function installRedaction(logger: Logger, redactor: Redactor): void {
  const target = logger as unknown as Record<
    symbol,
    (this: Logger, obj: unknown, msg: unknown, num: number) => void
  >;
  const write = target[pino.symbols.writeSym];
  if (typeof write === 'function') {
    target[pino.symbols.writeSym] = function redactedWrite(obj, msg, num) {
      return write.call(this, obj, typeof msg === 'string' ? redactor.redactString(msg) : msg, num);
    };
  }
  const child = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, options) {
    return child.call(this, redactor.redactValue(bindings), options);
  } as Logger['child'];
}
