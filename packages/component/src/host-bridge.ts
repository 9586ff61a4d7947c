import type { AsyncResource } from 'node:async_hooks';
import { type HostCall, HostServiceError, type HostServices } from '@greentic/interfaces';
import { type TenantCtx, teamOf, userOf } from '@greentic/types';
import { bindHostCall, type PolicyDecision, type PolicyDecisionHook } from './decision.js';
import { ComponentError, type SerializedComponentError } from './errors.js';
import type { LoadedComponent } from './load.js';
import {
  egressDecision,
  egressTarget,
  isValidSecretKey,
  scopedSecretKey,
  scopedStateKey,
  stateKeyProblem,
} from './policy.js';

/** What the bridge answers a host import with (see worker/runtime.mjs). */
export type HostResponse = { r: { tag: 'ok' | 'err'; val?: unknown } } | { e: SerializedComponentError };

/** The call a host request belongs to. */
export interface BridgeCall {
  component: LoadedComponent;
  ctx: TenantCtx;
  signal: AbortSignal;
  /** The first denial or host failure of the call: it fails the call whatever the component does next. */
  failure?: ComponentError;
  /** The async context of the caller of `invoke`: policy decisions are reported in it (so its active span is seen). */
  scope?: AsyncResource;
}

/** What a policy decision says, before the bridge adds the caller and the component. */
type DecisionInit = Omit<PolicyDecision, 'ctx' | 'component' | 'decision' | 'reason'>;

type WitCtx =
  | {
      env?: string;
      tenant?: string;
      tenantId?: string;
      teamId?: string;
      team?: string;
      userId?: string;
      user?: string;
    }
  | undefined;

const MAX_LOG_FIELDS = 64;
const MAX_LOG_VALUE = 4096;

const ok = (val?: unknown): HostResponse => ({ r: { tag: 'ok', val } });
const err = (val: unknown): HostResponse => ({ r: { tag: 'err', val } });

/**
 * The `secrets-error` a secrets service failure reaches the component as, by the error's `code` (a
 * `HostServiceError`'s, or `@greentic/secrets`' `SecretsError`'s, matched by string so this package does not depend
 * on it): a denial by the secrets service (the tenant's allow-list, the pack's declarations) is `denied`, a missing
 * value `not-found`, a key that is no secret URI `invalid-key`, any other `HostServiceError` `internal`. Other
 * errors are not answered as a value (undefined): a `ComponentError` (`GT_COMPONENT_DENIED`...) or an unexpected
 * failure fails the call.
 */
function secretsErrorOf(e: unknown): 'denied' | 'not-found' | 'invalid-key' | 'internal' | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'GT_SECRETS_DENIED') return 'denied';
  if (code === 'GT_SECRETS_NOT_FOUND') return 'not-found';
  if (code === 'GT_SECRETS_URI') return 'invalid-key';
  if (!(e instanceof HostServiceError)) return undefined;
  if (code === 'denied') return 'denied';
  if (code === 'not_found') return 'not-found';
  if (code === 'invalid_key') return 'invalid-key';
  return 'internal';
}

/**
 * Serves the host imports of running components on the main thread: checks every request against the component's
 * capabilities, scopes every key to the caller's tenant, and calls the {@link HostServices}. A denial fails the call
 * with `GT_COMPONENT_DENIED` (the component cannot catch and ignore it).
 */
export class HostBridge {
  constructor(
    private readonly services: HostServices,
    private readonly onPolicyDecision?: PolicyDecisionHook,
  ) {}

  /** True when someone listens to policy decisions (the host then captures each caller's async context). */
  get reportsDecisions(): boolean {
    return this.onPolicyDecision !== undefined;
  }

  /** Reports one decision, in the caller's async context; a hook that throws changes nothing. */
  private decide(call: BridgeCall, init: DecisionInit, decision: 'allow' | 'deny', reason: string): void {
    const hook = this.onPolicyDecision;
    if (!hook) return;
    const d: PolicyDecision = {
      ctx: call.ctx,
      component: call.component.id,
      capability: init.capability,
      operation: init.operation,
      resource: init.resource,
      decision,
      reason,
      source: init.source,
    };
    try {
      if (call.scope) call.scope.runInAsyncScope(hook, undefined, d);
      else hook(d);
    } catch {
      // The decision stands whatever the listener does.
    }
  }

  private fail(call: BridgeCall, error: ComponentError): HostResponse {
    call.failure ??= error;
    return { e: error.toJSON() };
  }

  private deny(
    call: BridgeCall,
    capability: string,
    resource: string,
    message: string,
    decision?: DecisionInit,
  ): HostResponse {
    if (decision) this.decide(call, decision, 'deny', message);
    return this.fail(
      call,
      new ComponentError('GT_COMPONENT_DENIED', `component "${call.component.id}": ${message}`, {
        component: call.component.id,
        capability,
        resource,
      }),
    );
  }

  /** A `tenant-ctx` argument may only restate the caller's own scope (components cannot re-key tenant/team/user). */
  private checkCtx(
    call: BridgeCall,
    what: string,
    ctx: WitCtx,
    decision: Omit<DecisionInit, 'source'>,
  ): HostResponse | undefined {
    if (ctx === undefined || ctx === null) return undefined;
    const mine = {
      env: call.ctx.env,
      tenant: call.ctx.tenant_id,
      team: teamOf(call.ctx),
      user: userOf(call.ctx),
    };
    const theirs = {
      env: ctx.env,
      tenant: ctx.tenantId ?? ctx.tenant,
      team: ctx.teamId ?? ctx.team,
      user: ctx.userId ?? ctx.user,
    };
    for (const k of ['env', 'tenant', 'team', 'user'] as const) {
      if (theirs[k] !== mine[k]) {
        return this.deny(
          call,
          'tenant',
          `${k} "${theirs[k] ?? ''}"`,
          `${what} names ${k} "${theirs[k] ?? '(none)'}" but the call runs for ${k} "${mine[k] ?? '(none)'}": a component can only act for its caller`,
          { ...decision, source: 'tenant' },
        );
      }
    }
    return undefined;
  }

  private hostCall(call: BridgeCall): HostCall {
    return bindHostCall({ ctx: call.ctx, component: call.component.id, signal: call.signal }, call.component);
  }

  private serviceError(
    call: BridgeCall,
    what: string,
    e: unknown,
    toErr: (e: HostServiceError) => unknown,
  ): HostResponse {
    if (e instanceof HostServiceError) return err(toErr(e));
    if (e instanceof ComponentError) return this.fail(call, e);
    return this.fail(
      call,
      new ComponentError(
        'GT_COMPONENT_HOST',
        `component "${call.component.id}": ${what} failed: ${(e as Error)?.message ?? e}`,
        {
          component: call.component.id,
          cause: e,
        },
      ),
    );
  }

  /** Answers one host import. May return a promise (the worker waits). */
  handle(
    call: BridgeCall,
    method: string,
    args: Record<string, unknown>,
  ): HostResponse | Promise<HostResponse> {
    switch (method) {
      case 'state.read':
      case 'state.write':
      case 'state.delete':
        return this.state(call, method.slice(6) as 'read' | 'write' | 'delete', args);
      case 'secrets.get':
        return this.secret(call, args.key);
      case 'http.send':
        return this.http(call, args);
      case 'log':
        this.log(call, args);
        return ok('ok');
      default:
        return this.fail(
          call,
          new ComponentError(
            'GT_COMPONENT_ABI',
            `component "${call.component.id}" called an unknown host function ${method}`,
            {
              component: call.component.id,
            },
          ),
        );
    }
  }

  private async state(
    call: BridgeCall,
    op: 'read' | 'write' | 'delete',
    args: Record<string, unknown>,
  ): Promise<HostResponse> {
    const key = args.key as string;
    const decision = { capability: 'state', operation: op, resource: String(key) } as const;
    const bad = this.checkCtx(call, `state ${op} of "${key}"`, args.ctx as WitCtx, decision);
    if (bad) return bad;
    if (!call.component.capabilities.state[op]) {
      return this.deny(
        call,
        `state.${op}`,
        String(key),
        `state ${op} of "${key}" is not allowed: its manifest does not grant capabilities.host.state.${op}`,
        { ...decision, source: 'manifest' },
      );
    }
    const problem = stateKeyProblem(key);
    if (problem) return err({ code: 'invalid_input', message: problem });
    this.decide(
      call,
      { ...decision, source: 'manifest' },
      'allow',
      `its manifest grants capabilities.host.state.${op}`,
    );
    const scoped = scopedStateKey(call.ctx, call.component.id, key);
    const hc = this.hostCall(call);
    const toErr = (e: HostServiceError) => ({ code: e.code, message: e.message });
    try {
      if (op === 'read') {
        const value = await this.services.state.read(hc, scoped);
        return value === undefined
          ? err({ code: 'not_found', message: `state key "${key}" has no value` })
          : ok(value);
      }
      if (op === 'write') {
        const bytes = args.bytes;
        if (!(bytes instanceof Uint8Array))
          return err({ code: 'invalid_input', message: 'state value must be bytes' });
        await this.services.state.write(hc, scoped, bytes);
        return ok('ok');
      }
      await this.services.state.delete(hc, scoped);
      return ok('ok');
    } catch (e) {
      return this.serviceError(call, `state ${op} of "${key}"`, e, toErr);
    }
  }

  private async secret(call: BridgeCall, rawKey: unknown): Promise<HostResponse> {
    const key = String(rawKey);
    if (!isValidSecretKey(key)) return err('invalid-key');
    const scoped = scopedSecretKey(call.ctx, key, call.component.secretCategory);
    const decision = { capability: 'secrets', operation: 'get', resource: scoped.key } as const;
    if (!call.component.capabilities.secrets.has(scoped.key)) {
      return this.deny(
        call,
        'secrets',
        key,
        `secret "${key}" is not in the component's allow-list (capabilities.host.secrets.required / secret_requirements)`,
        { ...decision, source: 'manifest' },
      );
    }
    try {
      const value = await this.services.secrets.get(this.hostCall(call), scoped);
      this.decide(
        call,
        { ...decision, source: 'secrets-service' },
        'allow',
        value === undefined
          ? `declared in the manifest and granted by the secrets service; no value is bound for ${scoped.uri}`
          : `declared in the manifest and granted by the secrets service (${scoped.uri})`,
      );
      return ok(value);
    } catch (e) {
      const code = secretsErrorOf(e);
      if (code === 'denied' || code === 'not-found') {
        this.decide(
          call,
          { ...decision, source: 'secrets-service' },
          code === 'denied' ? 'deny' : 'allow',
          code === 'denied'
            ? `the secrets service denied it: ${(e as Error)?.message ?? 'denied'}`
            : `declared in the manifest and granted by the secrets service; no value is set for ${scoped.uri}`,
        );
      }
      if (code) return err(code);
      return this.serviceError(call, `secret "${key}"`, e, () => 'internal');
    }
  }

  private async http(call: BridgeCall, args: Record<string, unknown>): Promise<HostResponse> {
    const req = args.req as { method: string; url: string; headers: [string, string][]; body?: Uint8Array };
    const options = args.options as { timeoutMs?: number; followRedirects?: boolean } | undefined;
    let url: URL | undefined;
    try {
      url = new URL(req.url);
    } catch {
      url = undefined;
    }
    const operation = String(req.method);
    const target =
      url && (url.protocol === 'https:' || url.protocol === 'http:') ? egressTarget(url) : undefined;
    // the resource reported is the destination only (never the path or query, which may hold tokens)
    const resource = target ?? url?.protocol ?? 'invalid-url';
    const bad = this.checkCtx(call, `HTTP ${req.method} ${url?.origin ?? 'request'}`, args.ctx as WitCtx, {
      capability: 'http',
      operation,
      resource,
    });
    if (bad) return bad;
    if (!url) return err({ code: 'invalid_input', message: `"${req.url}" is not an absolute URL` });
    const decision = { capability: 'http', operation, resource } as const;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return this.deny(
        call,
        'http',
        url.protocol,
        `outbound ${url.protocol} requests are not allowed (only http and https)`,
        { ...decision, source: 'manifest' },
      );
    }
    if (!call.component.capabilities.http) {
      return this.deny(
        call,
        'http',
        url.host,
        `outbound HTTP to "${url.host}" is not allowed: its manifest does not grant capabilities.host.http.client`,
        { ...decision, source: 'manifest' },
      );
    }
    const egress = egressDecision(call.component.network, url);
    if (!egress.allowed)
      return this.deny(call, 'http', url.host, egress.reason, { ...decision, source: 'network-policy' });
    this.decide(call, { ...decision, source: 'network-policy' }, 'allow', egress.reason);
    try {
      const res = await this.services.http.send(this.hostCall(call), {
        method: req.method,
        url: url.href,
        headers: req.headers,
        body: req.body,
        timeoutMs: options?.timeoutMs,
        followRedirects: options?.followRedirects,
      });
      return ok({ status: res.status, headers: res.headers, body: res.body });
    } catch (e) {
      return this.serviceError(call, `HTTP ${req.method} ${url.origin}`, e, (x) => ({
        code: x.code,
        message: x.message,
      }));
    }
  }

  private log(call: BridgeCall, args: Record<string, unknown>): void {
    const span = (args.span ?? {}) as {
      sessionId?: string;
      flowId?: string;
      nodeId?: string;
      provider?: string;
    };
    const fields: Record<string, string> = {};
    for (const [k, v] of ((args.fields ?? []) as [string, string][]).slice(0, MAX_LOG_FIELDS)) {
      fields[String(k)] = String(v).slice(0, MAX_LOG_VALUE);
    }
    try {
      this.services.log.log(this.hostCall(call), {
        span: {
          flow_id: span.flowId,
          node_id: span.nodeId,
          session_id: span.sessionId,
          provider: span.provider,
        },
        fields,
      });
    } catch {
      // A log sink failure must not fail the component's call.
    }
  }
}
