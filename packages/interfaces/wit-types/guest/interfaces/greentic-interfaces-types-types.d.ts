declare module 'greentic:interfaces-types/types@0.1.0' {
  /**
   * A key relative to the component's own namespace (the host adds tenant and component scope).
   */
  export type StateKey = string;
  export interface Impersonation {
    actorId: string,
    reason?: string,
  }
  /**
   * Upstream TenantCtx, field for field (legacy duplicates tenant/team/user included).
   */
  export interface TenantCtx {
    env: string,
    tenant: string,
    tenantId: string,
    team?: string,
    teamId?: string,
    user?: string,
    userId?: string,
    traceId?: string,
    i18nId?: string,
    correlationId?: string,
    attributes: Array<[string, string]>,
    sessionId?: string,
    flowId?: string,
    nodeId?: string,
    providerId?: string,
    deadlineMs?: bigint,
    attempt: number,
    idempotencyKey?: string,
    impersonation?: Impersonation,
  }
  /**
   * Telemetry span context (upstream SpanContext).
   */
  export interface SpanContext {
    tenant: string,
    sessionId?: string,
    flowId: string,
    nodeId?: string,
    provider: string,
    startMs?: bigint,
    endMs?: bigint,
  }
}
