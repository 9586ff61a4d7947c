import type {
  ComponentDescription,
  ComponentInvoker,
  InvocationEnvelope,
  InvokeOptions,
} from '@greentic/interfaces';
import type { Outcome, TenantCtx } from '@greentic/types';
import { messageOf } from './outcome.js';
import { type AttemptReport, type CallOptions, callWithRetry } from './retry.js';
import type { ToolMap } from './toolmap.js';

/**
 * Finds the invoker for a tool map's `component` (for example the Wasm host's registry, keyed by the component's
 * path or id). `undefined` means the component is not available: the call answers `not_found`.
 */
export type ComponentResolver = (
  component: string,
  ctx: TenantCtx,
) => ComponentInvoker | undefined | Promise<ComponentInvoker | undefined>;

export interface ToolMapInvokerOptions {
  /** Name in `describe()` (default `toolmap`). */
  name?: string;
  sleep?: CallOptions['sleep'];
  random?: CallOptions['random'];
  now?: CallOptions['now'];
  onAttempt?: (report: AttemptReport & { tool: string }) => void;
}

/**
 * Serves the tools of a tool map: calling tool `name` invokes operation `entry` of `component` (found through
 * `resolve`), with the tool's `timeout_ms` per attempt and up to `max_retries` retries of transient failures,
 * backing off from `retry_backoff_ms`. Each attempt's envelope carries its attempt number.
 */
export class ToolMapInvoker implements ComponentInvoker {
  constructor(
    readonly map: ToolMap,
    private readonly resolveComponent: ComponentResolver,
    private readonly options: ToolMapInvokerOptions = {},
  ) {}

  describe(): ComponentDescription {
    return {
      name: this.options.name ?? 'toolmap',
      version: '0.0.0',
      ops: [...this.map].map((t) => ({ name: t.name, description: `${t.entry} of ${t.component}` })),
    };
  }

  async invoke(
    tool: string,
    envelope: InvocationEnvelope,
    options: InvokeOptions = {},
  ): Promise<Outcome<unknown>> {
    const ref = this.map.find(tool);
    if (!ref) {
      return {
        Error: {
          code: 'not_found',
          message: `the tool map has no tool "${tool}" (it has: ${this.map.names.join(', ') || 'no tools'})`,
        },
      };
    }
    const policy = this.map.policy(tool);
    const label = `tool "${tool}" (${ref.entry} of ${ref.component})`;
    const { outcome } = await callWithRetry(
      async ({ attempt, signal }) => {
        let component: ComponentInvoker | undefined;
        try {
          component = await this.resolveComponent(ref.component, envelope.ctx);
        } catch (e) {
          return {
            Error: { code: 'unavailable', message: `${label}: cannot load the component: ${messageOf(e)}` },
          };
        }
        if (!component) {
          return {
            Error: { code: 'not_found', message: `${label}: component "${ref.component}" is not available` },
          };
        }
        return component.invoke(
          ref.entry,
          { ...envelope, component_id: ref.component, attempt },
          { signal, deadline: options.deadline },
        );
      },
      {
        label,
        timeoutMs: policy.timeoutMs,
        retry: { maxAttempts: policy.maxAttempts, baseDelayMs: policy.baseDelayMs },
        signal: options.signal,
        deadline: options.deadline,
        firstAttempt: envelope.attempt > 0 ? envelope.attempt : 1,
        sleep: this.options.sleep,
        random: this.options.random,
        now: this.options.now,
        onAttempt: this.options.onAttempt ? (r) => this.options.onAttempt?.({ ...r, tool }) : undefined,
      },
    );
    return outcome;
  }
}
