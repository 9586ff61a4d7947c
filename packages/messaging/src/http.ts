/** Options of {@link callJson}. */
export interface CallOptions {
  method: 'POST' | 'PUT' | 'GET';
  headers?: Record<string, string>;
  /** A JSON body, or a form (`URLSearchParams`). */
  body?: unknown;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface CallAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body; `undefined` when the body is empty or not JSON. */
  json: unknown;
  text: string;
}

/** One HTTP call with a deadline. Network errors and timeouts reject (the caller treats them as retryable). */
export async function callJson(url: string, opts: CallOptions): Promise<CallAnswer> {
  const f = opts.fetch ?? fetch;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | URLSearchParams | undefined;
  if (opts.body instanceof URLSearchParams) body = opts.body;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  const res = await f(url, {
    method: opts.method,
    headers,
    ...(body !== undefined ? { body } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers: res.headers, json, text };
}

/**
 * Milliseconds to wait from a `Retry-After` header: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * `undefined` when absent or unreadable.
 */
export function retryAfterMs(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** 5xx, 408, 429 and Teams' 412 are worth retrying; any other 4xx is not. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 412;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function describeNetworkError(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return 'request timed out';
  const code = err?.cause?.code;
  return code ? `network error ${code}` : `network error: ${err?.message ?? String(e)}`;
}

/** Joins a base URL and a path with exactly one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
