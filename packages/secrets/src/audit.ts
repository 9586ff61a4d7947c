/** Why an access was granted or denied. */
export type SecretAccessReason =
  /** Declared by the pack and granted by the allow-list. */
  | 'granted'
  /** The pack (or component manifest) does not declare the secret. */
  | 'not_declared'
  /** The tenant's allow-list (and `global`) grants no pattern that matches. */
  | 'not_allowed'
  /** The URI asked for belongs to another env, tenant or team than the caller's. */
  | 'out_of_scope'
  /** The key or URI is malformed. */
  | 'invalid_key';

/** The caller's context as recorded (identifiers only). */
export interface AuditCtx {
  env: string;
  tenant: string;
  team?: string;
  user?: string;
  session_id?: string;
  flow_id?: string;
  node_id?: string;
  trace_id?: string;
  correlation_id?: string;
}

/** One access decision. Never holds a value. */
export interface SecretAccessRecord {
  /** ISO time of the decision. */
  time: string;
  decision: 'allow' | 'deny';
  reason: SecretAccessReason;
  /** Human explanation (names the rule or what is missing). */
  message: string;
  /** The key the caller asked for, as given. */
  key: string;
  /** The secret's URI in the caller's scope (tenant-wide form; the unit/team candidates are in `tried`). */
  uri: string;
  /** For an allowed read: the URI that answered, and every URI tried. */
  resolved_uri?: string;
  tried?: string[];
  /** For an allowed read: whether a value was found. */
  found?: boolean;
  ctx: AuditCtx;
  pack?: string;
  component?: string;
  /** Allow-list rule that granted (`tenants.acme: openai/*`). */
  rule?: string;
}

/**
 * Receives every access decision. A sink that throws fails the access (audit is part of it): a read whose record
 * cannot be written returns no value.
 */
export type AuditSink = (record: SecretAccessRecord) => void;

/** An in-memory audit log keeping the last `capacity` records (default 1000). */
export class MemoryAuditLog {
  readonly capacity: number;
  readonly #records: SecretAccessRecord[] = [];

  constructor(capacity = 1000) {
    this.capacity = capacity;
  }

  /** The sink to pass to a service: `audit: log.sink`. */
  readonly sink: AuditSink = (record) => {
    this.#records.push(structuredClone(record));
    if (this.#records.length > this.capacity) this.#records.splice(0, this.#records.length - this.capacity);
  };

  /** The records, oldest first (copies). */
  records(filter?: { decision?: 'allow' | 'deny'; tenant?: string }): SecretAccessRecord[] {
    return this.#records
      .filter(
        (r) =>
          (filter?.decision === undefined || r.decision === filter.decision) &&
          (filter?.tenant === undefined || r.ctx.tenant === filter.tenant),
      )
      .map((r) => structuredClone(r));
  }

  /** Only the denials. */
  denials(): SecretAccessRecord[] {
    return this.records({ decision: 'deny' });
  }

  clear(): void {
    this.#records.length = 0;
  }
}
