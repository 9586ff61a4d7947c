/** Network protocol of an allow list (upstream `Protocol`; a custom one is `{"custom": "..."}`). */
export type Protocol = 'http' | 'https' | 'tcp' | 'udp' | 'grpc' | { custom: string };

/** Permitted domains, ports and protocols (upstream `AllowList`; empty lists are omitted from JSON). */
export interface AllowList {
  /** Domain suffixes or exact hosts. */
  domains?: string[];
  ports?: number[];
  protocols?: Protocol[];
}

/** Egress policy (upstream `NetworkPolicy`). */
export interface NetworkPolicy {
  egress: AllowList;
  /** Deny destinations that the allow list does not cover. */
  deny_on_miss: boolean;
}

export type PolicyDecisionStatus = 'allow' | 'deny';

/**
 * Result of evaluating a policy (upstream `PolicyDecision`). `status` and `reasons` are always written; the
 * legacy `allow`/`reason` fields only when present. Reading legacy JSON without `status` is handled by
 * {@link normalizePolicyDecision}.
 */
export interface PolicyDecision {
  status: PolicyDecisionStatus;
  reasons: string[];
  /** Legacy allow flag. */
  allow?: boolean;
  /** Legacy single reason. */
  reason?: string;
}

/** Legacy and current PolicyDecision JSON, as accepted on input. */
export interface PolicyDecisionInput {
  status?: PolicyDecisionStatus;
  reasons?: string[];
  allow?: boolean | null;
  reason?: string | null;
}

export function policyAllow(...reasons: string[]): PolicyDecision {
  return { status: 'allow', reasons };
}

export function policyDeny(...reasons: string[]): PolicyDecision {
  return { status: 'deny', reasons };
}

/**
 * Reads a decision the way upstream deserializes it: `status` wins, else the legacy `allow` flag, else `allow`;
 * `reasons` wins, else the legacy `reason` as a one-item list, else `[]`. Legacy fields are kept when present.
 */
export function normalizePolicyDecision(input: PolicyDecisionInput): PolicyDecision {
  const status: PolicyDecisionStatus =
    input.status ?? (typeof input.allow === 'boolean' ? (input.allow ? 'allow' : 'deny') : 'allow');
  const reasons = input.reasons ?? (typeof input.reason === 'string' ? [input.reason] : []);
  const out: PolicyDecision = { status, reasons: [...reasons] };
  if (typeof input.allow === 'boolean') out.allow = input.allow;
  if (typeof input.reason === 'string') out.reason = input.reason;
  return out;
}
