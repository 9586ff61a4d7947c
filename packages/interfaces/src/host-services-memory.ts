import type {
  HostCall,
  HostHttpRequest,
  HostHttpResponse,
  HostHttpService,
  HostLogRecord,
  HostLogService,
  HostSecretsService,
  HostServices,
  HostStateService,
  ScopedSecretKey,
  ScopedStateKey,
} from './host-services.js';
import { HostServiceError } from './host-services.js';

/** State kept in a Map keyed by the qualified key (tests, embedding). */
export class MemoryHostState implements HostStateService {
  readonly entries = new Map<string, Uint8Array>();

  read(_call: HostCall, key: ScopedStateKey): Uint8Array | undefined {
    const v = this.entries.get(key.qualified);
    return v === undefined ? undefined : v.slice();
  }
  write(_call: HostCall, key: ScopedStateKey, value: Uint8Array): void {
    this.entries.set(key.qualified, value.slice());
  }
  delete(_call: HostCall, key: ScopedStateKey): boolean {
    return this.entries.delete(key.qualified);
  }
}

/** Secrets from a map of `secrets://…` URIs to values (strings are UTF-8 encoded). */
export class MemoryHostSecrets implements HostSecretsService {
  private readonly values = new Map<string, Uint8Array>();
  /** Every URI asked for, in order (for tests). */
  readonly requested: string[] = [];

  constructor(values: Record<string, string | Uint8Array> = {}) {
    for (const [uri, v] of Object.entries(values)) this.set(uri, v);
  }
  set(uri: string, value: string | Uint8Array): this {
    this.values.set(uri, typeof value === 'string' ? new TextEncoder().encode(value) : value.slice());
    return this;
  }
  get(_call: HostCall, key: ScopedSecretKey): Uint8Array | undefined {
    this.requested.push(key.uri);
    return this.values.get(key.uri)?.slice();
  }
}

/** Answers HTTP requests with a handler function and records them; never touches the network. */
export class StubHostHttp implements HostHttpService {
  readonly requests: HostHttpRequest[] = [];
  constructor(
    private readonly handler: (
      req: HostHttpRequest,
    ) => HostHttpResponse | Promise<HostHttpResponse> = () => ({
      status: 200,
      headers: [],
    }),
  ) {}
  send(_call: HostCall, request: HostHttpRequest) {
    this.requests.push(request);
    return this.handler(request);
  }
}

/** Refuses every request with `host-error{code: "unavailable"}`: the default when no HTTP service is wired. */
export class NoHostHttp implements HostHttpService {
  send(): never {
    throw new HostServiceError('unavailable', 'no HTTP client is configured on this host');
  }
}

/** Keeps log records in memory. */
export class MemoryHostLog implements HostLogService {
  readonly records: { component: string; tenant: string; record: HostLogRecord }[] = [];
  log(call: HostCall, record: HostLogRecord): void {
    this.records.push({ component: call.component, tenant: call.ctx.tenant_id, record });
  }
}

export interface MemoryHostServices extends HostServices {
  state: MemoryHostState;
  secrets: MemoryHostSecrets;
  log: MemoryHostLog;
}

/** In-memory host services for tests and embedding; HTTP refuses unless a handler is given. */
export function memoryHostServices(
  opts: { secrets?: Record<string, string | Uint8Array>; http?: HostHttpService } = {},
): MemoryHostServices {
  return {
    state: new MemoryHostState(),
    secrets: new MemoryHostSecrets(opts.secrets),
    http: opts.http ?? new NoHostHttp(),
    log: new MemoryHostLog(),
  };
}
