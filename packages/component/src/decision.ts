import type { HostCall } from '@greentic/interfaces';
import type { TenantCtx } from '@greentic/types';
import type { LoadedComponent } from './load.js';

/** The capabilities whose requests the host decides on (and reports through `onPolicyDecision`). */
export type PolicyCapability = 'http' | 'secrets' | 'state';

/**
 * One decision of the host about a component's request to a host service, as given to
 * `ComponentHostOptions.onPolicyDecision`. It never holds a value: `resource` is the destination (`host:port` of an
 * HTTP request, or the URL scheme when that is what was refused), the relative secret key, or the relative state key.
 */
export interface PolicyDecision {
  /** The caller's tenant context (with `flow_id`/`node_id` when the engine set them). */
  ctx: TenantCtx;
  /** Registry id of the component that asked. */
  component: string;
  capability: PolicyCapability;
  /** `GET`/`POST`... for HTTP, `read`/`write`/`delete` for state, `get` for secrets. */
  operation: string;
  resource: string;
  decision: 'allow' | 'deny';
  /**
   * Why, in words (`"api.example.com:443" is in the allow list`, `... is not allowed by the component's network
   * policy`, the secrets service's denial message). Names resources, never values.
   */
  reason: string;
  /**
   * Who decided: `manifest` (capabilities), `network-policy` (egress rules), `tenant` (a tenant-ctx argument naming
   * another caller), or `secrets-service` (the service behind the host, e.g. a tenant allow-list).
   */
  source: 'manifest' | 'network-policy' | 'tenant' | 'secrets-service';
}

/** Receives every policy decision of a {@link ComponentHost}; see `ComponentHostOptions.onPolicyDecision`. */
export type PolicyDecisionHook = (decision: PolicyDecision) => void;

const calls = new WeakMap<HostCall, LoadedComponent>();

/** @internal Records which loaded component a `HostCall` handed to the host services belongs to. */
export function bindHostCall(call: HostCall, component: LoadedComponent): HostCall {
  calls.set(call, component);
  return call;
}

/**
 * The loaded component (its manifest, `secretCategory`, network policy) whose request a host service is serving,
 * from the `HostCall` object the host passed to it; undefined for any other object (a copy of it included). A
 * secrets service uses it to check the caller's manifest declarations, e.g. with `@greentic/secrets`:
 * `service.hostSecrets((call) => { const c = componentOfCall(call); return c && {declares:
 * componentSecretRequirements(c.manifest), packId: c.secretCategory}; })`.
 */
export function componentOfCall(call: HostCall): LoadedComponent | undefined {
  return calls.get(call);
}
