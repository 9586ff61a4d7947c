declare module 'greentic:types-core/core@0.6.0' {
  export type EnvId = string;
  export type TenantId = string;
  export type TeamId = string;
  export type UserId = string;
  export type FlowId = string;
  export type StepId = string;
  export type ComponentId = string;
  export type CapabilityId = string;
  /**
   * Who a call runs for. The host fills every optional field it knows (see DECISIONS.md D3).
   */
  export interface TenantCtx {
    tenantId: TenantId,
    teamId?: TeamId,
    userId?: UserId,
    envId: EnvId,
    traceId?: string,
    correlationId?: string,
    /**
     * Absolute deadline of the call, Unix epoch milliseconds.
     */
    deadlineMs?: bigint,
    attempt: number,
    idempotencyKey?: string,
    i18nId?: string,
  }
  /**
   * A failure a component reports. `code` is open-ended; upstream ErrorCode values route best.
   */
  export interface NodeError {
    code: string,
    message: string,
    retryable: boolean,
    backoffMs?: bigint,
    /**
     * CBOR-encoded structured detail.
     */
    details?: Uint8Array,
  }
}
