import {
  type HostCall,
  type HostHttpRequest,
  type HostHttpResponse,
  type HostHttpService,
  HostServiceError,
} from '@greentic/interfaces';

export interface FetchHostHttpOptions {
  /** Timeout when the component gives none (ms, default 30 000). */
  defaultTimeoutMs?: number;
  /** Upper bound on any timeout (ms, default 120 000). */
  maxTimeoutMs?: number;
  /** Largest response body accepted (bytes, default 10 MiB); larger answers fail with `unavailable`. */
  maxBodyBytes?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

/**
 * Outbound HTTP for components with the platform's `fetch`: the `http` service of `HostServices`. The host has
 * already checked the URL against the component's network policy. Failures come back to the component as
 * `host-error`: `timeout` (no answer in time), `cancelled` (the call was cancelled), `unavailable` (connection
 * refused, DNS, TLS, body too large).
 *
 * Redirects are never followed here, whatever the component asks: the policy was checked for the first URL only,
 * so the component gets the 3xx answer and may request the new location itself (which the host checks again).
 */
export class FetchHostHttp implements HostHttpService {
  private readonly fetchImpl: typeof fetch;
  constructor(private readonly options: FetchHostHttpOptions = {}) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  async send(call: HostCall, request: HostHttpRequest): Promise<HostHttpResponse> {
    const timeoutMs = Math.min(
      request.timeoutMs ?? this.options.defaultTimeoutMs ?? 30_000,
      this.options.maxTimeoutMs ?? 120_000,
    );
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
    const origin = new URL(request.url).origin;
    try {
      const res = await this.fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal,
      });
      const max = this.options.maxBodyBytes ?? 10 * 1024 * 1024;
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > max) {
        await res.body?.cancel();
        throw new HostServiceError(
          'unavailable',
          `${origin} answered ${declared} bytes, more than the ${max} allowed`,
        );
      }
      const body = new Uint8Array(await res.arrayBuffer());
      if (body.length > max) {
        throw new HostServiceError(
          'unavailable',
          `${origin} answered ${body.length} bytes, more than the ${max} allowed`,
        );
      }
      const headers: [string, string][] = [];
      res.headers.forEach((value, name) => {
        headers.push([name, value]);
      });
      return { status: res.status, headers, body };
    } catch (e) {
      if (e instanceof HostServiceError) throw e;
      if (timeout.aborted) {
        throw new HostServiceError(
          'timeout',
          `${request.method} ${origin} did not answer within ${timeoutMs} ms`,
          { cause: e },
        );
      }
      if (call.signal?.aborted)
        throw new HostServiceError('cancelled', `${request.method} ${origin} was cancelled`, { cause: e });
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (e as Error).message;
      throw new HostServiceError('unavailable', `${request.method} ${origin} failed: ${why}`, { cause: e });
    }
  }
}
