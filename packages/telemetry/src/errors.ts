/**
 * The one error catalog of `@greentic/telemetry`.
 *
 * Telemetry never throws on the hot path (starting spans, logging, propagating): a span or a log line that
 * cannot be recorded is dropped, never turned into a failed turn. Errors come from configuration only, when the
 * process starts — a typo in `PII_REDACTION_MODE` must not silently switch redaction off.
 */
export type TelemetryErrorCode =
  /** An option or an `OTEL_*` / `PII_*` environment variable has a value this package does not accept. */
  | 'GT_TELEMETRY_BAD_CONFIG'
  /** An OTLP endpoint is not an absolute http(s) URL. */
  | 'GT_TELEMETRY_BAD_ENDPOINT'
  /** A redaction pattern (`patterns` option or `PII_MASK_REGEXES`) is not a valid regular expression or matches the empty string. */
  | 'GT_TELEMETRY_BAD_PATTERN'
  /** `initTelemetry` was called while an earlier SDK is still running. */
  | 'GT_TELEMETRY_ALREADY_INITIALIZED'
  /** Flushing or shutting down the SDK failed (the exporter could not deliver the last spans). */
  | 'GT_TELEMETRY_SHUTDOWN';

export class TelemetryError extends Error {
  override readonly name = 'TelemetryError';

  constructor(
    /** Stable machine-readable code. */
    readonly code: TelemetryErrorCode,
    message: string,
    /** The option or environment variable at fault, when there is one (`OTEL_TRACES_SAMPLER`, `redaction.patterns[2]`). */
    readonly setting?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.setting !== undefined ? { setting: this.setting } : {}),
    };
  }
}

/** True when `err` is a {@link TelemetryError}, optionally with the given code. */
export function isTelemetryError(err: unknown, code?: TelemetryErrorCode): err is TelemetryError {
  return err instanceof TelemetryError && (code === undefined || err.code === code);
}
