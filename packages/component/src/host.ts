import { AsyncResource } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  type HostServices,
  type InvocationEnvelope,
  type InvokeOptions,
  memoryHostServices,
  type WitNode,
} from '@greentic/interfaces';
import { type NodeError, scopeOf, type TenantCtx, teamOf, userOf } from '@greentic/types';
import { decodeCbor, encodeCbor } from './codec.js';
import type { PolicyDecisionHook } from './decision.js';
import { ComponentError } from './errors.js';
import { type BridgeCall, HostBridge } from './host-bridge.js';
import {
  type ComponentLimits,
  type ComponentSource,
  type LoadEvent,
  type LoadedComponent,
  loadComponent,
} from './load.js';
import { InlineSandbox, type Sandbox, type SandboxStats, WorkerSandbox } from './sandbox.js';

/** Which calls share a component instance (and so its linear memory). Never across tenants. */
export type InstanceScope = 'tenant' | 'scope' | 'call';

export interface ComponentHostOptions {
  /** Host services the components' imports reach (default: in-memory state and secrets, no HTTP). */
  services?: HostServices;
  /** Transpile cache folder (default `node_modules/.cache/greentic-components`, else `~/.cache/greentic/components`). */
  cacheDir?: string;
  /** `worker` (default): calls run in worker threads with limits enforced. `inline`: on the caller's thread, trusted code only. */
  sandbox?: 'worker' | 'inline';
  /** Worker threads (default 2). */
  workers?: number;
  /** Limits when neither the component source nor its manifest sets them (default 30 s, 128 MiB). */
  limits?: Partial<ComponentLimits>;
  /**
   * `tenant` (default): one instance per component, env and tenant, reused across that tenant's calls;
   * `scope`: per env/tenant/team/user; `call`: a fresh instance for every call.
   */
  instanceScope?: InstanceScope;
  /** Instances kept per worker (LRU, default 64). */
  maxInstancesPerWorker?: number;
  /** How long a cancelled call may go on (to see `should-cancel`) before its worker is terminated (default 100 ms). */
  cancelGraceMs?: number;
  /** V8 heap limit per worker in MiB (default 256). Wasm linear memory is capped per component instead. */
  workerHeapMb?: number;
  /** Load events (transpile, cache-hit, compile). */
  onEvent?: (event: LoadEvent) => void;
  /**
   * Called for every decision on a component's request to a host service — allowed and denied, for `http`
   * (scheme, manifest, network policy), `secrets` (manifest, then the secrets service) and `state` (manifest) — and
   * for a `tenant-ctx` argument naming another caller. It runs synchronously in the async context of the
   * `invoke`/`describe` caller, so a tracer sees the caller's active span (e.g. the flow node's); it cannot change
   * the decision, and what it throws is ignored. A decision holds keys and destinations, never values.
   */
  onPolicyDecision?: PolicyDecisionHook;
}

/** The result of one call: the decoded output, or the node-error the component returned. */
export type ComponentCallResult =
  | { ok: true; output: unknown; metadata?: unknown }
  | { ok: false; error: NodeError };

export interface HostStats extends SandboxStats {
  transpiles: number;
  cacheHits: number;
  compiles: number;
}

/** The WIT `tenant-ctx` (types-core@0.6.0) of a call; the host fills every field it knows (DECISIONS.md D3). */
export function witTenantCtx(ctx: TenantCtx, deadlineAt: number): WitNode.TenantCtx {
  const trace = ctx.trace_id ?? randomBytes(16).toString('hex');
  return {
    tenantId: ctx.tenant_id,
    teamId: teamOf(ctx),
    userId: userOf(ctx),
    envId: ctx.env,
    traceId: trace,
    correlationId: ctx.correlation_id ?? trace,
    deadlineMs: BigInt(Math.min(deadlineAt, ctx.deadline?.unix_millis ?? Number.MAX_SAFE_INTEGER)),
    attempt: ctx.attempt,
    idempotencyKey: ctx.idempotency_key,
    i18nId: ctx.i18n_id ?? 'en',
  };
}

function instanceKey(scope: InstanceScope, c: LoadedComponent, ctx: TenantCtx): string {
  const s = scopeOf(ctx);
  if (scope === 'scope') return `${c.key}|${s.env}|${s.tenant}|${s.team ?? ''}|${s.user ?? ''}`;
  return `${c.key}|${s.env}|${s.tenant}`;
}

function mapNodeError(e: WitNode.NodeError): NodeError {
  const out: NodeError = { code: e.code, message: e.message, retryable: e.retryable };
  if (e.backoffMs !== undefined) out.backoff_ms = Number(e.backoffMs);
  if (e.details !== undefined) out.details = { Binary: [...e.details] };
  return out;
}

/**
 * Loads components and runs their calls in a sandbox: host imports bound to the caller's tenant, capabilities from
 * the manifest (deny by default), wall-time and memory limits on every call, cancellation through AbortSignal.
 */
export class ComponentHost {
  private readonly bridge: HostBridge;
  private sandboxInstance: Sandbox | undefined;
  private readonly counters = { transpiles: 0, cacheHits: 0, compiles: 0 };

  constructor(private readonly options: ComponentHostOptions = {}) {
    this.bridge = new HostBridge(options.services ?? memoryHostServices(), options.onPolicyDecision);
  }

  private get sandbox(): Sandbox {
    this.sandboxInstance ??=
      this.options.sandbox === 'inline'
        ? new InlineSandbox(this.bridge, this.options.maxInstancesPerWorker ?? 64)
        : new WorkerSandbox(this.bridge, {
            workers: this.options.workers ?? 2,
            maxInstancesPerWorker: this.options.maxInstancesPerWorker ?? 64,
            cancelGraceMs: this.options.cancelGraceMs ?? 100,
            maxOldGenerationSizeMb: this.options.workerHeapMb ?? 256,
          });
    return this.sandboxInstance;
  }

  /** Counters: transpiles, cache hits, core-module compiles, workers started/terminated, calls. */
  get stats(): HostStats {
    const s = this.sandboxInstance?.stats ?? { workersStarted: 0, workersTerminated: 0, calls: 0 };
    return { ...this.counters, ...s };
  }

  /** Loads (verifies, transpiles or takes from cache, compiles) a component. See {@link loadComponent}. */
  load(source: ComponentSource): Promise<LoadedComponent> {
    return loadComponent(source, {
      cacheDir: this.options.cacheDir,
      defaultLimits: this.options.limits,
      onEvent: (e) => {
        if (e.type === 'transpile') this.counters.transpiles++;
        else if (e.type === 'cache-hit') this.counters.cacheHits++;
        else this.counters.compiles++;
        this.options.onEvent?.(e);
      },
    });
  }

  private async run(
    component: LoadedComponent,
    ctx: TenantCtx,
    req: { kind: 'invoke' | 'describe'; op?: string; envelope?: WitNode.InvocationEnvelope },
    options: InvokeOptions,
    deadlineAt: number,
  ) {
    const ac = new AbortController();
    const onAbort = () => ac.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const call: BridgeCall = { component, ctx, signal: ac.signal };
    if (this.bridge.reportsDecisions) call.scope = new AsyncResource('GreenticComponentCall');
    const scope = this.options.instanceScope ?? 'tenant';
    try {
      const result = await this.sandbox.run(
        component,
        { ...req, instanceKey: instanceKey(scope, component, ctx), fresh: scope === 'call' },
        call,
        deadlineAt,
      );
      if (call.failure) throw call.failure;
      if ('error' in result) {
        throw new ComponentError(result.error.code as ComponentError['code'], result.error.message, {
          component: component.id,
          capability: result.error.capability,
          resource: result.error.resource,
        });
      }
      return result;
    } catch (e) {
      if (call.failure && !(e instanceof ComponentError && e.code === 'GT_COMPONENT_TIMEOUT'))
        throw call.failure;
      throw e;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!ac.signal.aborted) ac.abort();
    }
  }

  private deadlineOf(component: LoadedComponent, options: InvokeOptions): number {
    const byLimit = Date.now() + component.limits.wallTimeMs;
    return options.deadline === undefined ? byLimit : Math.min(byLimit, options.deadline);
  }

  /**
   * Calls `node.invoke(op, envelope)`: the payload and metadata are CBOR-encoded, the output decoded. A node-error
   * comes back as `{ok: false, error}`; traps, timeouts, denials, ABI mismatches, cancellation and memory
   * exhaustion throw a {@link ComponentError}.
   */
  async invoke(
    component: LoadedComponent,
    op: string,
    envelope: InvocationEnvelope,
    options: InvokeOptions = {},
  ): Promise<ComponentCallResult> {
    const deadlineAt = this.deadlineOf(component, options);
    const wit: WitNode.InvocationEnvelope = {
      ctx: witTenantCtx(envelope.ctx, deadlineAt),
      flowId: envelope.flow_id,
      stepId: envelope.step_id,
      componentId: envelope.component_id,
      attempt: envelope.attempt,
      payloadCbor: encodeCbor(envelope.payload),
      metadataCbor: envelope.metadata === undefined ? undefined : encodeCbor(envelope.metadata, 'metadata'),
    };
    const result = await this.run(
      component,
      envelope.ctx,
      { kind: 'invoke', op, envelope: wit },
      options,
      deadlineAt,
    );
    if ('nodeError' in result)
      return { ok: false, error: mapNodeError(result.nodeError as WitNode.NodeError) };
    const out = result.ok as WitNode.InvocationResult;
    const decoded: ComponentCallResult = {
      ok: true,
      output: decodeCbor(out.outputCbor, 'output', component.id),
    };
    if (out.outputMetadataCbor !== undefined)
      decoded.metadata = decodeCbor(out.outputMetadataCbor, 'output metadata', component.id);
    return decoded;
  }

  /** Calls `node.describe()` for a tenant (instances are per tenant like every other call). */
  async describe(
    component: LoadedComponent,
    ctx: TenantCtx,
    options: InvokeOptions = {},
  ): Promise<WitNode.ComponentDescriptor> {
    const result = await this.run(
      component,
      ctx,
      { kind: 'describe' },
      options,
      this.deadlineOf(component, options),
    );
    if (!('ok' in result))
      throw new ComponentError('GT_COMPONENT_ABI', `describe() of component "${component.id}" failed`, {
        component: component.id,
      });
    return result.ok as WitNode.ComponentDescriptor;
  }

  /** Stops every worker; pending calls fail with `GT_COMPONENT_SANDBOX`. */
  async close(): Promise<void> {
    await this.sandboxInstance?.close();
  }
}
