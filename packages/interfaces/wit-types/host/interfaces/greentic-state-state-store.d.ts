/** @module Interface greentic:state/state-store@1.0.0 **/
/**
 * Reads a value; a missing key is `err({code: "not_found"})`.
 */
export function read(key: StateKey, ctx: TenantCtx | undefined): Uint8Array;
export function write(key: StateKey, bytes: Uint8Array, ctx: TenantCtx | undefined): OpAck;
export { _delete as delete };
function _delete(key: StateKey, ctx: TenantCtx | undefined): OpAck;
export type StateKey = import('./greentic-interfaces-types-types.js').StateKey;
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
