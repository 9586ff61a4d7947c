import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { HeaderValue, VerifyResult } from './types.js';

/** The first value of a header (names are lower case, as Node gives them). */
export function header(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();

/** Compares in constant time, whatever the lengths (both sides are hashed first). */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** True when `candidate` equals any of `secrets`; every secret is compared, so timing does not tell which. */
export function matchesAny(candidate: string | Buffer, secrets: readonly (string | Buffer)[]): boolean {
  let ok = false;
  for (const s of secrets) ok = constantTimeEqual(candidate, s) || ok;
  return ok;
}

/** HMAC-SHA256 of `data` with `key`, as lower-case hex. */
export function hmacSha256Hex(key: string, ...data: (string | Buffer)[]): string {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest('hex');
}

export const unauthorized = (reason: string): VerifyResult => ({ ok: false, status: 401, reason });
export const forbidden = (reason: string): VerifyResult => ({ ok: false, status: 403, reason });
