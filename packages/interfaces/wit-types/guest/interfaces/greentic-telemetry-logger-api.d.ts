/// <reference path="./greentic-interfaces-types-types.d.ts" />
declare module 'greentic:telemetry/logger-api@1.0.0' {
  export function log(span: SpanContext, fields: Array<[string, string]>, ctx: TenantCtx | undefined): OpAck;
  export type SpanContext = import('greentic:interfaces-types/types@0.1.0').SpanContext;
  export type TenantCtx = import('greentic:interfaces-types/types@0.1.0').TenantCtx;
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
}
