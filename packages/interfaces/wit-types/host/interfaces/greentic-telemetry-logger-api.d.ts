/** @module Interface greentic:telemetry/logger-api@1.0.0 **/
export function log(span: SpanContext, fields: Array<[string, string]>, ctx: TenantCtx | undefined): OpAck;
export type SpanContext = import('./greentic-interfaces-types-types.js').SpanContext;
export type TenantCtx = import('./greentic-interfaces-types-types.js').TenantCtx;
export interface HostError {
  code: string,
  message: string,
}
/**
 * # Variants
 * 
 * ## `"ok"`
 */
export type OpAck = 'ok';
