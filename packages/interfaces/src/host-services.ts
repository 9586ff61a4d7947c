import type { TenantCtx } from '@greentic/types';

/**
 * The services a component host offers to the components it runs (the `greentic:component/host` world: state,
 * secrets, outbound HTTP, logs). The host (`@greentic/component`) has already checked the component's manifest and
 * scoped every key to the caller's tenant before any of these methods is called; implementations only store and
 * fetch. The runner wires real stores (Redis state, a secrets backend, `fetch`) into this shape.
 *
 * Every method may answer synchronously or with a promise. Components running in the worker sandbox wait for the
 * answer (the worker blocks on `Atomics.wait` while the main thread runs the service).
 */
export interface HostServices {
  state: HostStateService;
  secrets: HostSecretsService;
  http: HostHttpService;
  log: HostLogService;
}

/** Who a request is for: the caller's context and the component asking. */
export interface HostCall {
  ctx: TenantCtx;
  /** Registry id of the component making the request. */
  component: string;
  /** Aborted when the component call is cancelled or times out. */
  signal?: AbortSignal;
}

/**
 * A state key after scoping. The component only ever supplies `key`; the host chose `namespace` (the component's
 * own) and the tenant scope.
 */
export interface ScopedStateKey {
  /** The component's namespace, `component/<component id>`. */
  namespace: string;
  /** The relative key the component asked for. */
  key: string;
  /**
   * `{env}.{tenant}[.{team}[.{user}]]:{namespace}:{key}`: unique across tenants and components. Use it as the storage
   * key when the backend does not scope by `ctx` itself.
   */
  qualified: string;
}

/** A secret key after scoping and allow-list checks. */
export interface ScopedSecretKey {
  /** The relative key the component asked for, canonical (lowercase), e.g. `openai/api_key`. */
  key: string;
  /**
   * `secrets://{env}/{tenant}/{team or _}/{category}/{name}`: a `category/name` key is used as is, a bare key goes
   * under the component's secret category (the pack id), as `@greentic/secrets`' `secretUriForKey` does.
   */
  uri: string;
}

export type MaybePromise<T> = T | Promise<T>;

export interface HostStateService {
  /** The stored bytes, or `undefined` when the key has no value. */
  read(call: HostCall, key: ScopedStateKey): MaybePromise<Uint8Array | undefined>;
  write(call: HostCall, key: ScopedStateKey, value: Uint8Array): MaybePromise<void>;
  /** True when a value was removed. */
  delete(call: HostCall, key: ScopedStateKey): MaybePromise<boolean>;
}

export interface HostSecretsService {
  /** The secret's bytes, or `undefined` when no value is bound for this tenant. */
  get(call: HostCall, key: ScopedSecretKey): MaybePromise<Uint8Array | undefined>;
}

export interface HostHttpRequest {
  method: string;
  /** Absolute http(s) URL, already allowed by the component's network policy. */
  url: string;
  headers: [string, string][];
  body?: Uint8Array;
  timeoutMs?: number;
  followRedirects?: boolean;
}

export interface HostHttpResponse {
  status: number;
  headers: [string, string][];
  body?: Uint8Array;
}

export interface HostHttpService {
  send(call: HostCall, request: HostHttpRequest): MaybePromise<HostHttpResponse>;
}

/** One structured log line from a component (`greentic:telemetry/logger-api.log`). */
export interface HostLogRecord {
  /** Span fields the component supplied (tenant/flow/node are overwritten by the host from the call's ctx). */
  span: { flow_id?: string; node_id?: string; session_id?: string; provider?: string };
  fields: Record<string, string>;
}

export interface HostLogService {
  log(call: HostCall, record: HostLogRecord): void;
}

/** Thrown by a service to report a failure to the component as `host-error{code, message}` (not a denial). */
export class HostServiceError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HostServiceError';
    this.code = code;
  }
}
