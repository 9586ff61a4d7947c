/** @module Interface greentic:http/http-client@1.1.0 **/
export function send(req: Request, options: RequestOptions | undefined, ctx: TenantCtx | undefined): Response;
export type TenantCtx = import('./greentic-interfaces-types-types.js').TenantCtx;
export interface Request {
  method: string,
  url: string,
  headers: Array<[string, string]>,
  body?: Uint8Array,
}
export interface Response {
  status: number,
  headers: Array<[string, string]>,
  body?: Uint8Array,
}
export interface HostError {
  code: string,
  message: string,
}
/**
 * # Variants
 * 
 * ## `"inherit"`
 * 
 * ## `"direct"`
 */
export type ProxyMode = 'inherit' | 'direct';
/**
 * # Variants
 * 
 * ## `"strict"`
 */
export type TlsMode = 'strict';
export interface RequestOptions {
  timeoutMs?: number,
  followRedirects?: boolean,
  proxy: ProxyMode,
  tls: TlsMode,
}
