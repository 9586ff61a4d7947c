import { OAuthError, scrubText } from './errors.js';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  fetch: FetchLike;
  timeoutMs: number;
  /** Allow `http:` URLs on hosts other than loopback (tests, labs). */
  allowInsecureHttp: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True for `https:` URLs, and for `http:` on loopback (or anywhere when `allowInsecureHttp`). */
export function urlProblem(raw: unknown, allowInsecureHttp: boolean): string | undefined {
  if (typeof raw !== 'string' || raw === '') return 'is missing';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.username || u.password) return 'must not carry credentials';
  if (u.hash) return 'must not have a #fragment';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && (allowInsecureHttp || LOOPBACK.has(u.hostname))) return undefined;
  return `must use https (got ${u.protocol}//${u.host}; plain http is only allowed on loopback)`;
}

/** A JSON answer of a provider endpoint. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * Calls a provider endpoint and reads a JSON body. Network failures, timeouts and 5xx answers become
 * `GT_OAUTH_HTTP`; the error names the URL without its query.
 */
export async function fetchJson(
  http: HttpOptions,
  url: string,
  init: RequestInit,
  what: string,
  provider?: string,
): Promise<JsonAnswer> {
  const where = safeUrl(url);
  let res: Response;
  try {
    res = await http.fetch(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(http.timeoutMs),
      headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
    });
  } catch (e) {
    const timedOut = (e as Error)?.name === 'TimeoutError';
    throw new OAuthError(
      'GT_OAUTH_HTTP',
      timedOut
        ? `${what} at ${where} did not answer within ${http.timeoutMs} ms`
        : `${what} at ${where} could not be reached (${(e as Error)?.message ?? 'network error'})`,
      { provider, cause: e },
    );
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 500) {
    throw new OAuthError(
      'GT_OAUTH_HTTP',
      `${what} at ${where} failed with HTTP ${res.status}; try again later`,
      {
        provider,
        status: res.status,
      },
    );
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

/** `scheme://host/path` of a URL (no query, no credentials) for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return scrubText(url).slice(0, 80);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
