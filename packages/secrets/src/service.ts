import { isolationScopeOf, type TenantCtx } from '@greentic/types';
import { type AllowListDoc, parseAllowList, SecretsAllowList } from './allow-list.js';
import {
  type AuditCtx,
  type AuditSink,
  MemoryAuditLog,
  type SecretAccessReason,
  type SecretAccessRecord,
} from './audit.js';
import { isSecretsError, SecretsError } from './errors.js';
import type { SecretRecord, SecretsProvider } from './provider.js';
import { SecretsResolver } from './resolver.js';
import {
  DEFAULT_CATEGORY,
  formatSecretUri,
  parseSecretUri,
  SECRET_URI_SCHEME,
  type SecretKeyParts,
  secretUri,
  splitSecretKey,
} from './uri.js';
import type { SecretValue } from './value.js';

/** A secret a pack declares: a key (`KV_API_TOKEN`, `openai/api_key`) or a requirement object with `key`. */
export type DeclaredSecret = string | { key: string };

export interface SecretsServiceOptions {
  /** The chain to read from; or give `providers`. */
  resolver?: SecretsResolver;
  providers?: SecretsProvider[];
  /** The operator's allow-list (tenants and global). Without one, everything is denied. */
  allowList?: AllowListDoc | SecretsAllowList;
  /** Extra audit sinks; every decision also goes to {@link SecretsService.audit}. */
  audit?: AuditSink | AuditSink[];
  /** The in-memory log (default: a new one with 1000 records). */
  auditLog?: MemoryAuditLog;
  /** Record allowed reads too, not only denials (default true). */
  recordAllowed?: boolean;
  now?: () => number;
}

export interface ScopedSecretsOptions {
  /** Keys the pack (or component manifest) declares. Only these can be read. */
  packDeclares: readonly DeclaredSecret[];
  /** Overrides the service's allow-list for this scope. */
  allowList?: AllowListDoc | SecretsAllowList;
  /** The pack: category of bare keys (upstream scaffold uses the pack id) and recorded in the audit. */
  packId?: string;
  /** Category of bare keys when it is not the pack id (default: `packId`, else `configs`). */
  category?: string;
  /** The component asking, for the audit. */
  component?: string;
  /** The deployed unit: its unit-scoped value is tried before the team's and the tenant's. */
  unit?: string;
}

/** A component-host call, structurally as `@greentic/interfaces` `HostCall` (`ctx` and component id). */
export interface HostSecretsCall {
  ctx: TenantCtx;
  component: string;
}

/** What the host knows about the component making a call. */
export interface HostComponentSecrets {
  /** The keys its manifest declares (`secret_requirements` and `capabilities.host.secrets.required`). */
  declares: readonly DeclaredSecret[];
  packId?: string;
  unit?: string;
}

/** Structurally `@greentic/interfaces` `HostSecretsService`: bytes, or `undefined` when no value is bound. */
export interface HostSecretsAdapter {
  get(call: HostSecretsCall, key: { key: string; uri?: string }): Promise<Uint8Array | undefined>;
}

function auditCtxOf(
  ctx: TenantCtx,
  scope: { env: string; tenant: string; team?: string; user?: string },
): AuditCtx {
  const out: AuditCtx = { env: scope.env, tenant: scope.tenant };
  if (scope.team !== undefined) out.team = scope.team;
  if (scope.user !== undefined) out.user = scope.user;
  for (const k of ['session_id', 'flow_id', 'node_id', 'trace_id', 'correlation_id'] as const) {
    const v = ctx[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * Deny-by-default access to secrets. `scopedSecrets(ctx, {packDeclares, allowList})` gives a flow or component
 * a reader bound to its caller's env, tenant and team: a key is readable only when the pack declares it AND the
 * tenant's allow-list (or `global`) grants it, and only in the caller's own scope (unit → team → tenant-wide
 * fallback). Every decision is recorded in {@link audit} (and the extra sinks), with the URI, never the value.
 */
export class SecretsService {
  readonly resolver: SecretsResolver;
  readonly audit: MemoryAuditLog;
  readonly #allowList: SecretsAllowList;
  readonly #sinks: AuditSink[];
  readonly #recordAllowed: boolean;
  readonly #now: () => number;

  constructor(options: SecretsServiceOptions) {
    if (options.resolver) this.resolver = options.resolver;
    else if (options.providers && options.providers.length > 0)
      this.resolver = new SecretsResolver(options.providers);
    else
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        'a SecretsService needs a resolver or at least one provider',
      );
    this.#allowList =
      options.allowList === undefined ? SecretsAllowList.denyAll() : parseAllowList(options.allowList);
    this.audit = options.auditLog ?? new MemoryAuditLog();
    this.#sinks = [
      this.audit.sink,
      ...(options.audit === undefined ? [] : Array.isArray(options.audit) ? options.audit : [options.audit]),
    ];
    this.#recordAllowed = options.recordAllowed ?? true;
    this.#now = options.now ?? Date.now;
  }

  /** @internal Records a decision in every sink. */
  record(record: Omit<SecretAccessRecord, 'time'>): void {
    if (record.decision === 'allow' && !this.#recordAllowed) return;
    const full: SecretAccessRecord = { time: new Date(this.#now()).toISOString(), ...record };
    for (const sink of this.#sinks) sink(full);
  }

  /** A reader bound to `ctx`'s scope and the pack's declarations. Throws `GT_SECRETS_SCOPE` for a bad ctx. */
  scopedSecrets(ctx: TenantCtx, options: ScopedSecretsOptions): ScopedSecrets {
    return new ScopedSecrets(
      this,
      ctx,
      options,
      options.allowList === undefined ? this.#allowList : parseAllowList(options.allowList),
    );
  }

  /**
   * The component host's secrets service: each `get` is checked as `scopedSecrets(call.ctx, …)` with the
   * declarations `component(call)` reports. A missing value is `undefined`; a denial throws `GT_SECRETS_DENIED`.
   */
  hostSecrets(component: (call: HostSecretsCall) => HostComponentSecrets | undefined): HostSecretsAdapter {
    return {
      get: async (call, key) => {
        const info = component(call) ?? { declares: [] };
        const scoped = this.scopedSecrets(call.ctx, {
          packDeclares: info.declares,
          component: call.component,
          ...(info.packId !== undefined ? { packId: info.packId } : {}),
          ...(info.unit !== undefined ? { unit: info.unit } : {}),
        });
        const value = await scoped.tryGet(key.key);
        return value?.reveal();
      },
    };
  }
}

interface Decision {
  parts: SecretKeyParts;
  uri: string;
  /** Set when the caller named a full URI: read exactly it, without fallback. */
  exact?: string;
}

/** Reads secrets for one caller scope; see {@link SecretsService.scopedSecrets}. */
export class ScopedSecrets {
  /** The caller's scope (team absent when tenant-wide). */
  readonly scope: { readonly env: string; readonly tenant: string; readonly team?: string };
  readonly #service: SecretsService;
  readonly #ctx: AuditCtx;
  readonly #allow: SecretsAllowList;
  readonly #declared: Set<string>;
  readonly #category: string;
  readonly #packId: string | undefined;
  readonly #component: string | undefined;
  readonly #unit: string | undefined;

  constructor(
    service: SecretsService,
    ctx: TenantCtx,
    options: ScopedSecretsOptions,
    allow: SecretsAllowList,
  ) {
    let iso: ReturnType<typeof isolationScopeOf>;
    try {
      iso = isolationScopeOf(ctx);
    } catch (e) {
      throw new SecretsError(
        'GT_SECRETS_SCOPE',
        `secrets need a valid caller scope: ${(e as Error).message}`,
        { cause: e },
      );
    }
    this.scope =
      iso.team === undefined
        ? { env: iso.env, tenant: iso.tenant }
        : { env: iso.env, tenant: iso.tenant, team: iso.team };
    this.#service = service;
    this.#ctx = auditCtxOf(ctx, iso);
    this.#allow = allow;
    this.#packId = options.packId;
    this.#component = options.component;
    this.#unit = options.unit;
    this.#category = options.category ?? options.packId ?? DEFAULT_CATEGORY;
    if (!Array.isArray(options.packDeclares)) {
      throw new SecretsError(
        'GT_SECRETS_INVALID',
        'scopedSecrets needs packDeclares: the keys the pack declares (may be empty)',
      );
    }
    this.#declared = new Set();
    for (const d of options.packDeclares) {
      const key = typeof d === 'string' ? d : d?.key;
      const p = splitSecretKey(key, this.#category);
      this.#declared.add(`${p.category}/${p.name}`);
    }
  }

  /** The `category/name` keys this reader may ask for (before the allow-list). */
  declared(): string[] {
    return [...this.#declared].sort();
  }

  #deny(key: string, uri: string, reason: SecretAccessReason, message: string): never {
    this.#service.record({
      decision: 'deny',
      reason,
      message,
      key,
      uri,
      ctx: this.#ctx,
      ...(this.#packId !== undefined ? { pack: this.#packId } : {}),
      ...(this.#component !== undefined ? { component: this.#component } : {}),
    });
    throw new SecretsError('GT_SECRETS_DENIED', message, { uri });
  }

  #scopeUri(parts: SecretKeyParts): string {
    return formatSecretUri(secretUri({ ...this.scope, ...parts }));
  }

  /** Checks a key (or URI) against scope, declarations and allow-list; records and throws on denial. */
  #decide(key: string): Decision & { rule: string } {
    let parts: SecretKeyParts;
    let exact: string | undefined;
    if (typeof key === 'string' && key.trim().startsWith(SECRET_URI_SCHEME)) {
      let u: ReturnType<typeof parseSecretUri>;
      try {
        u = parseSecretUri(key);
      } catch (e) {
        return this.#deny(String(key), String(key).trim(), 'invalid_key', `secret ${(e as Error).message}`);
      }
      const own =
        u.env === this.scope.env &&
        u.tenant === this.scope.tenant &&
        (u.team === undefined || u.team === this.scope.team);
      if (!own || u.version !== undefined) {
        const where = `env ${this.scope.env}, tenant ${this.scope.tenant}${this.scope.team ? `, team ${this.scope.team}` : ''}`;
        const message = own
          ? `secret ${formatSecretUri(u)} is denied: a scoped reader reads the latest version only`
          : `secret ${formatSecretUri(u)} is denied: it is outside the caller's scope (${where}); a flow or component reads only its own tenant's secrets`;
        return this.#deny(key, formatSecretUri(u), 'out_of_scope', message);
      }
      parts = { category: u.category, name: u.name };
      exact = formatSecretUri(u);
    } else {
      try {
        parts = splitSecretKey(key, this.#category);
      } catch (e) {
        return this.#deny(
          String(key),
          String(key),
          'invalid_key',
          `secret key denied: ${(e as Error).message}`,
        );
      }
    }
    const uri = exact ?? this.#scopeUri(parts);
    const id = `${parts.category}/${parts.name}`;
    const who = this.#component
      ? `component ${this.#component}`
      : this.#packId
        ? `pack ${this.#packId}`
        : 'the pack';
    if (!this.#declared.has(id)) {
      const declared = this.declared();
      return this.#deny(
        key,
        uri,
        'not_declared',
        `secret ${uri} is denied: ${who} does not declare "${id}" ` +
          `(declared: ${declared.length ? declared.join(', ') : 'none'}); add it to the manifest's secret_requirements`,
      );
    }
    const match = this.#allow.grants(this.scope, parts);
    if (!match) {
      return this.#deny(
        key,
        uri,
        'not_allowed',
        `secret ${uri} is denied: the allow-list grants "${id}" to neither tenant ${this.scope.tenant}` +
          `${this.scope.team ? ` (team ${this.scope.team})` : ''} nor global; add "${id}" to tenants.${this.scope.tenant}.allow`,
      );
    }
    return {
      parts,
      uri,
      rule: `${match.source}: ${match.pattern}`,
      ...(exact !== undefined ? { exact } : {}),
    };
  }

  async #read(key: string): Promise<{ record: SecretRecord | undefined; tried: string[]; uri: string }> {
    const d = this.#decide(key);
    let found: { record: SecretRecord | undefined; tried: string[] };
    try {
      found =
        d.exact !== undefined
          ? { record: await this.#service.resolver.get(d.exact), tried: [d.exact] }
          : await this.#service.resolver.resolve({ ...this.scope, ...d.parts, unit: this.#unit });
    } catch (e) {
      if (isSecretsError(e)) throw e;
      throw new SecretsError('GT_SECRETS_BACKEND', `reading ${d.uri} failed: ${(e as Error).message}`, {
        cause: e,
        uri: d.uri,
      });
    }
    this.#service.record({
      decision: 'allow',
      reason: 'granted',
      message: found.record ? `read ${found.record.uri}` : `no value at ${found.tried.join(', ')}`,
      key,
      uri: d.uri,
      tried: found.tried,
      found: found.record !== undefined,
      ...(found.record ? { resolved_uri: found.record.uri } : {}),
      ctx: this.#ctx,
      rule: d.rule,
      ...(this.#packId !== undefined ? { pack: this.#packId } : {}),
      ...(this.#component !== undefined ? { component: this.#component } : {}),
    });
    return { ...found, uri: d.uri };
  }

  /** The value, or `undefined` when none is set. Throws `GT_SECRETS_DENIED` (recorded) when not allowed. */
  async tryGet(key: string): Promise<SecretValue | undefined> {
    return (await this.#read(key)).record?.value;
  }

  /** The value. Throws `GT_SECRETS_DENIED` (recorded) or `GT_SECRETS_NOT_FOUND` naming every URI tried. */
  async get(key: string): Promise<SecretValue> {
    const r = await this.#read(key);
    if (!r.record) {
      throw new SecretsError(
        'GT_SECRETS_NOT_FOUND',
        `secret ${r.uri} has no value (tried ${r.tried.join(', ')}); set it with: greentic-secrets set ${r.tried[r.tried.length - 1]}`,
        { uri: r.uri },
      );
    }
    return r.record.value;
  }

  /** The full record (value, version, provider), or `undefined`. Same checks as {@link get}. */
  async getRecord(key: string): Promise<SecretRecord | undefined> {
    return (await this.#read(key)).record;
  }
}
