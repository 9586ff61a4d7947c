import { TelemetryError } from './errors.js';

/** The environment, as read by this package (tests pass their own object instead of `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

export type ExporterName = 'otlp' | 'console' | 'none';
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

export const DEFAULT_OTLP_TRACES_ENDPOINT = 'http://localhost:4318/v1/traces';

/** The environment variables this package reads, with what they do (rendered in docs/telemetry.md). */
export const ENV_VARS = Object.freeze({
  OTEL_SDK_DISABLED: '`true` turns initTelemetry into a no-op (spans stay no-ops)',
  OTEL_SERVICE_NAME: 'service.name; wins over `serviceName` and OTEL_RESOURCE_ATTRIBUTES',
  OTEL_RESOURCE_ATTRIBUTES: 'extra resource attributes, `k=v,k2=v2` (values percent-decoded)',
  OTEL_TRACES_EXPORTER: '`otlp` (default), `console`, `none`, or a comma list',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'collector base URL; `/v1/traces` is appended (default http://localhost:4318)',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'full traces URL, used as is; wins over OTEL_EXPORTER_OTLP_ENDPOINT',
  OTEL_EXPORTER_OTLP_HEADERS: 'request headers, `k=v,k2=v2` (values percent-decoded)',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS:
    'request headers for traces; win over OTEL_EXPORTER_OTLP_HEADERS key by key',
  OTEL_EXPORTER_OTLP_TIMEOUT: 'export request timeout, ms (default 10000)',
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: 'same, for traces only',
  OTEL_EXPORTER_OTLP_PROTOCOL:
    '`http/json` (default) or `http/protobuf` (sent as JSON, which OTLP/HTTP collectors accept); `grpc` is refused',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'same, for traces only',
  OTEL_EXPORTER_OTLP_COMPRESSION: '`gzip` or `none` (default)',
  OTEL_TRACES_SAMPLER:
    'always_on, always_off, traceidratio, parentbased_always_on (default), parentbased_always_off, parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: 'ratio for the *traceidratio samplers, 0..1 (default 1)',
  OTEL_BSP_SCHEDULE_DELAY: 'batch span processor: delay between exports, ms (default 5000)',
  OTEL_BSP_EXPORT_TIMEOUT: 'batch span processor: export timeout, ms (default 30000)',
  OTEL_BSP_MAX_QUEUE_SIZE: 'batch span processor: spans queued before new ones are dropped (default 2048)',
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: 'batch span processor: spans per export request (default 512)',
  LOG_LEVEL: 'createLogger level (default info)',
  PII_REDACTION_MODE: '`off`, `strict` (default) or `allowlist`',
  PII_ALLOWLIST_FIELDS: 'allowlist mode: comma list of fields kept verbatim',
  PII_DENY_FIELDS: 'comma list of extra fields masked whole (Greentic-TS)',
  PII_MASK_REGEXES:
    'extra patterns: comma list (commas inside {} [] () do not split) or a JSON array of strings',
});

/** `OTEL_SDK_DISABLED=true` (case-insensitive). */
export function sdkDisabled(env: Env): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

/** The exporters named by `OTEL_TRACES_EXPORTER` (default `otlp`). */
export function exportersFromEnv(env: Env): ExporterName[] {
  const raw = env.OTEL_TRACES_EXPORTER?.trim();
  if (!raw) return ['otlp'];
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const n of names) {
    if (n !== 'otlp' && n !== 'console' && n !== 'none') {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `OTEL_TRACES_EXPORTER: "${n}" is not supported (use otlp, console or none; for Jaeger or Zipkin, point otlp at an OpenTelemetry Collector)`,
        'OTEL_TRACES_EXPORTER',
      );
    }
  }
  return names.includes('none') ? [] : [...new Set(names as ExporterName[])];
}

/** The OTLP/HTTP traces URL: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
export function otlpTracesEndpoint(env: Env, override?: string): string {
  if (override !== undefined) return checkUrl(override, 'tracesEndpoint');
  const signal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (signal) return checkUrl(signal, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) {
    checkUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    return base.endsWith('/') ? `${base}v1/traces` : `${base}/v1/traces`;
  }
  return DEFAULT_OTLP_TRACES_ENDPOINT;
}

/** Export headers: `OTEL_EXPORTER_OTLP_HEADERS`, then `OTEL_EXPORTER_OTLP_TRACES_HEADERS` over it. */
export function otlpHeaders(env: Env): Record<string, string> {
  return {
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS'),
    ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
  };
}

/** Export request timeout (ms), when set. */
export function otlpTimeout(env: Env): number | undefined {
  return (
    parseNonNegativeInt(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ??
    parseNonNegativeInt(env, 'OTEL_EXPORTER_OTLP_TIMEOUT')
  );
}

/** `gzip` or `none`, when set. */
export function otlpCompression(env: Env): 'gzip' | 'none' | undefined {
  const raw = (env.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION)
    ?.trim()
    .toLowerCase();
  if (!raw) return undefined;
  if (raw !== 'gzip' && raw !== 'none') {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_CONFIG',
      `OTEL_EXPORTER_OTLP_COMPRESSION must be gzip or none (got ${JSON.stringify(raw)})`,
      'OTEL_EXPORTER_OTLP_COMPRESSION',
    );
  }
  return raw;
}

/** Checks `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`: this package speaks OTLP over HTTP with JSON bodies. */
export function checkOtlpProtocol(env: Env): void {
  const setting = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const raw = env[setting]?.trim().toLowerCase();
  if (!raw || raw === 'http/json' || raw === 'http/protobuf') return;
  throw new TelemetryError(
    'GT_TELEMETRY_BAD_CONFIG',
    `${setting}=${raw} is not supported: Greentic exports OTLP over HTTP (JSON bodies). Set it to http/json and point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's HTTP port (usually 4318, not the gRPC port 4317)`,
    setting,
  );
}

/** The sampler named by `OTEL_TRACES_SAMPLER` (default `parentbased_always_on`) and its ratio. */
export function samplerFromEnv(env: Env): { name: SamplerName; ratio: number } {
  const name = (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(name)) {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_CONFIG',
      `OTEL_TRACES_SAMPLER: "${name}" is not supported (use ${SAMPLERS.join(', ')})`,
      'OTEL_TRACES_SAMPLER',
    );
  }
  let ratio = 1;
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (arg && name.endsWith('traceidratio')) {
    ratio = Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1 (got ${JSON.stringify(arg)})`,
        'OTEL_TRACES_SAMPLER_ARG',
      );
    }
  }
  return { name, ratio };
}

/** Batch span processor settings from `OTEL_BSP_*` (only those set). */
export function batchFromEnv(env: Env): {
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
} {
  const out: Record<string, number> = {};
  const set = (key: string, name: string) => {
    const v = parseNonNegativeInt(env, name);
    if (v !== undefined) out[key] = v;
  };
  set('scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY');
  set('exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT');
  set('maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE');
  set('maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  return out;
}

/** Resource attributes from `OTEL_RESOURCE_ATTRIBUTES`. */
export function resourceAttributesFromEnv(env: Env): Record<string, string> {
  return parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES, 'OTEL_RESOURCE_ATTRIBUTES');
}

/** `service.name`: `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else `fallback`. */
export function serviceNameFromEnv(env: Env, fallback: string): string {
  return env.OTEL_SERVICE_NAME?.trim() || resourceAttributesFromEnv(env)['service.name'] || fallback;
}

/**
 * Parses the `k=v,k2=v2` lists of `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` (values
 * percent-decoded). Error messages name the entry by position, never by value: headers carry credentials.
 */
export function parseKeyValues(value: string | undefined, setting: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value?.trim()) return out;
  const entries = value.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (key === '') {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `${setting}: entry ${i + 1} is not "key=value" (the list is comma-separated; percent-encode commas in values as %2C)`,
        setting,
      );
    }
    let v = entry.slice(eq + 1).trim();
    try {
      v = decodeURIComponent(v);
    } catch (e) {
      throw new TelemetryError(
        'GT_TELEMETRY_BAD_CONFIG',
        `${setting}: the value of "${key}" has a bad percent-encoding`,
        setting,
        { cause: e },
      );
    }
    out[key] = v;
  }
  return out;
}

function parseNonNegativeInt(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_CONFIG',
      `${name} must be a non-negative integer (got ${JSON.stringify(raw)})`,
      name,
    );
  }
  return n;
}

function checkUrl(value: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (e) {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_ENDPOINT',
      `${setting} must be an absolute http(s) URL such as http://collector:4318 (got ${JSON.stringify(value)})`,
      setting,
      { cause: e },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_ENDPOINT',
      `${setting} must use http or https (got ${url.protocol.replace(/:$/, '')}); Greentic exports OTLP over HTTP`,
      setting,
    );
  }
  if (url.username || url.password) {
    throw new TelemetryError(
      'GT_TELEMETRY_BAD_ENDPOINT',
      `${setting} must not carry credentials in the URL; pass them in OTEL_EXPORTER_OTLP_HEADERS`,
      setting,
    );
  }
  return value;
}
