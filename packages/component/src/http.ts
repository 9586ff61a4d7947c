import {
  type HostCall,
  type HostHttpRequest,
  type HostHttpResponse,
  type HostHttpService,
  HostServiceError,
} from '@greentic/interfaces';

export interface FetchHostHttpOptions {
  /** The `fetch` to use (default the global one; tests inject one). */
  fetch?: typeof fetch;
  /** Largest response body accepted, in bytes (default 10 MiB). Larger answers fail with `too_large`. */
  maxResponseBytes?: number;
  /** Time-out of a request whose component gives none, in ms (default 30 000). */
  defaultTimeoutMs?: number;
  /** Upper bound on any request's time-out, in ms (default 120 000). */
  maxTimeoutMs?: number;
}

export const DEFAULT_HTTP_LIMITS = Object.freeze({
  maxResponseBytes: 10 * 1024 * 1024,
  defaultTimeoutMs: 30_000,
  maxTimeoutMs: 120_000,
});

/**
 * Outbound HTTP for components with `fetch`: the `http` service of `HostServices`. The component host has already
 * checked the URL against the component's manifest and network policy before calling it.
 *
 * - **Time-out**: the component's `timeoutMs`, else `defaultTimeoutMs`, capped at `maxTimeoutMs`; it covers the
 *   whole exchange, reading the body included.
 * - **Body limit**: a declared `content-length` over `maxResponseBytes` is refused before reading, and the body is
 *   counted while it streams in: the download stops as soon as it passes the limit.
 * - **Redirects are never followed**, whatever the component asks: the policy was checked for this URL only, so the
 *   component gets the 3xx answer and may request the new location itself (which the host checks again).
 *
 * Failures reach the component as `host-error{code, message}`: `timeout` (no complete answer in time), `cancelled`
 * (the component call was cancelled or ran out of time: `HostCall.signal`), `too_large` (body over the limit),
 * `invalid_input` (a request `fetch` refuses, e.g. a GET with a body or a bad header), `unavailable` (connection
 * refused, DNS, TLS, reset). Messages name the method and the URL's origin only (paths and queries may hold tokens).
 */
export function fetchHostHttp(options: FetchHostHttpOptions = {}): HostHttpService {
  const doFetch = options.fetch ?? fetch;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_HTTP_LIMITS.maxResponseBytes;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_HTTP_LIMITS.defaultTimeoutMs;
  const maxTimeoutMs = options.maxTimeoutMs ?? DEFAULT_HTTP_LIMITS.maxTimeoutMs;
  return {
    async send(call: HostCall, req: HostHttpRequest): Promise<HostHttpResponse> {
      const timeoutMs = Math.max(1, Math.min(req.timeoutMs ?? defaultTimeoutMs, maxTimeoutMs));
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
      const what = `${req.method} ${originOf(req.url)}`;
      const tooLarge = (answered: string) =>
        new HostServiceError('too_large', `${what} answered ${answered}; the limit is ${maxBytes} bytes`);
      try {
        const res = await doFetch(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body && req.body.length > 0 ? (req.body as Uint8Array<ArrayBuffer>) : undefined,
          redirect: 'manual',
          signal,
        });
        const declared = Number(res.headers.get('content-length') ?? Number.NaN);
        if (declared > maxBytes) {
          await res.body?.cancel().catch(() => {});
          throw tooLarge(`${declared} bytes (content-length)`);
        }
        const body = await readLimited(res, maxBytes, () =>
          tooLarge(`more than ${maxBytes} bytes (download stopped)`),
        );
        const headers: [string, string][] = [];
        res.headers.forEach((value, name) => {
          headers.push([name, value]);
        });
        return { status: res.status, headers, body };
      } catch (e) {
        if (e instanceof HostServiceError) throw e;
        if (signal.aborted) {
          // The first signal to fire decides: the request's own time-out, or the component call's end.
          if (signal.reason === timeout.reason) {
            throw new HostServiceError('timeout', `${what} did not answer within ${timeoutMs} ms`, {
              cause: e,
            });
          }
          throw new HostServiceError('cancelled', `${what} was cancelled with the component call`, {
            cause: e,
          });
        }
        const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
        if (e instanceof TypeError && e.message !== 'fetch failed') {
          throw new HostServiceError('invalid_input', `${what}: ${e.message}`, { cause: e });
        }
        const why = cause?.code ?? cause?.message ?? (e as Error)?.message ?? String(e);
        throw new HostServiceError('unavailable', `${what} failed: ${String(why)}`, { cause: e });
      }
    },
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/** Reads a response body, failing as soon as it passes `max` bytes (the rest is not downloaded). */
async function readLimited(res: Response, max: number, tooLarge: () => Error): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}
