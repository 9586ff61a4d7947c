import { describe, expect, it } from 'vitest';
import {
  batchFromEnv,
  checkOtlpProtocol,
  DEFAULT_OTLP_TRACES_ENDPOINT,
  exportersFromEnv,
  otlpCompression,
  otlpHeaders,
  otlpTimeout,
  otlpTracesEndpoint,
  parseKeyValues,
  samplerFromEnv,
  sdkDisabled,
  serviceNameFromEnv,
} from './config.js';

const bad = (code: string, setting?: string) =>
  expect.objectContaining({ code, ...(setting ? { setting } : {}) });

describe('OTLP endpoint', () => {
  it('defaults to the local collector', () => {
    expect(otlpTracesEndpoint({})).toBe(DEFAULT_OTLP_TRACES_ENDPOINT);
  });

  it('appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT, with or without a trailing slash', () => {
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).toBe(
      'http://otel:4318/v1/traces',
    );
    expect(otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://x.io/otlp/' })).toBe(
      'https://x.io/otlp/v1/traces',
    );
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, and the option over both', () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/traces',
    };
    expect(otlpTracesEndpoint(env)).toBe('http://b:9999/traces');
    expect(otlpTracesEndpoint(env, 'http://c/v1/traces')).toBe('http://c/v1/traces');
  });

  it('refuses a relative URL, a non-http scheme and credentials in the URL', () => {
    expect(() => otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318' })).toThrowError(
      bad('GT_TELEMETRY_BAD_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'),
    );
    expect(() => otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://otel:4317' })).toThrowError(
      bad('GT_TELEMETRY_BAD_ENDPOINT'),
    );
    try {
      otlpTracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:hunter2@otel' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
    }
  });
});

describe('headers and key=value lists', () => {
  it('merges generic and traces headers, decoding values', () => {
    expect(
      otlpHeaders({
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%3D%3D, x-team = ops',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=traces',
      }),
    ).toEqual({ 'api-key': 'abc==', 'x-team': 'traces' });
  });

  it('refuses a malformed entry without echoing header values', () => {
    try {
      parseKeyValues('authorization=Bearer s3cr3t,=oops', 'OTEL_EXPORTER_OTLP_HEADERS');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'GT_TELEMETRY_BAD_CONFIG', setting: 'OTEL_EXPORTER_OTLP_HEADERS' });
      expect((e as Error).message).toContain('entry 2');
      expect((e as Error).message).not.toContain('s3cr3t');
    }
    expect(() => parseKeyValues('k=%E0%A4%A', 'X')).toThrowError(bad('GT_TELEMETRY_BAD_CONFIG'));
  });
});

describe('other settings', () => {
  it('reads OTEL_SDK_DISABLED case-insensitively', () => {
    expect(sdkDisabled({ OTEL_SDK_DISABLED: 'TRUE' })).toBe(true);
    expect(sdkDisabled({ OTEL_SDK_DISABLED: 'false' })).toBe(false);
    expect(sdkDisabled({})).toBe(false);
  });

  it('reads OTEL_TRACES_EXPORTER lists and refuses unknown exporters', () => {
    expect(exportersFromEnv({})).toEqual(['otlp']);
    expect(exportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp, console,otlp' })).toEqual(['otlp', 'console']);
    expect(exportersFromEnv({ OTEL_TRACES_EXPORTER: 'none' })).toEqual([]);
    expect(() => exportersFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrowError(
      bad('GT_TELEMETRY_BAD_CONFIG', 'OTEL_TRACES_EXPORTER'),
    );
  });

  it('reads the sampler and its ratio', () => {
    expect(samplerFromEnv({})).toEqual({ name: 'parentbased_always_on', ratio: 1 });
    expect(samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toEqual({
      name: 'traceidratio',
      ratio: 0.25,
    });
    expect(() => samplerFromEnv({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrowError(
      bad('GT_TELEMETRY_BAD_CONFIG', 'OTEL_TRACES_SAMPLER'),
    );
    expect(() =>
      samplerFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }),
    ).toThrowError(bad('GT_TELEMETRY_BAD_CONFIG', 'OTEL_TRACES_SAMPLER_ARG'));
  });

  it('accepts http/json and http/protobuf, and refuses grpc with a hint', () => {
    expect(() => checkOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).not.toThrow();
    expect(() => checkOtlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrowError(/4318/);
    expect(() =>
      checkOtlpProtocol({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }),
    ).not.toThrow();
  });

  it('reads timeouts, compression and batch settings', () => {
    expect(
      otlpTimeout({ OTEL_EXPORTER_OTLP_TIMEOUT: '5000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000' }),
    ).toBe(2000);
    expect(otlpCompression({ OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' })).toBe('gzip');
    expect(() => otlpCompression({ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).toThrowError(
      bad('GT_TELEMETRY_BAD_CONFIG'),
    );
    expect(batchFromEnv({ OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: '10' })).toEqual({
      scheduledDelayMillis: 100,
      maxQueueSize: 10,
    });
    expect(() => batchFromEnv({ OTEL_BSP_EXPORT_TIMEOUT: '-1' })).toThrowError(
      bad('GT_TELEMETRY_BAD_CONFIG', 'OTEL_BSP_EXPORT_TIMEOUT'),
    );
  });

  it('lets the environment name the service over the code default', () => {
    expect(serviceNameFromEnv({}, 'greentic-runner')).toBe('greentic-runner');
    expect(serviceNameFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }, 'x')).toBe(
      'from-attrs',
    );
    expect(
      serviceNameFromEnv({ OTEL_SERVICE_NAME: 'eu-runner', OTEL_RESOURCE_ATTRIBUTES: 'service.name=a' }, 'x'),
    ).toBe('eu-runner');
  });
});
