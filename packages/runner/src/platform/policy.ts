import type { PolicyDecision, PolicyDecisionHook } from '@greentic/component';
import { ATTR_COMPONENT_NAME, type Logger } from '@greentic/telemetry';
import { type Span, trace } from '@opentelemetry/api';

/** The span event recorded for each policy decision, and the span attribute summing them up. */
export const POLICY_DECISION_EVENT = 'greentic.policy.decision';

/** Attribute keys of policy decisions (on the event; the `decision`, `capability`, `resource`, `reason` ones also on the span). */
export const POLICY_ATTRIBUTES = Object.freeze({
  DECISION: 'greentic.policy.decision',
  CAPABILITY: 'greentic.policy.capability',
  OPERATION: 'greentic.policy.operation',
  RESOURCE: 'greentic.policy.resource',
  REASON: 'greentic.policy.reason',
  SOURCE: 'greentic.policy.source',
  /** On the span: how many denials happened in it. */
  DENIALS: 'greentic.policy.denials',
});

export interface PolicyRecorderOptions {
  /** Denials are logged at `warn`, allowed requests at `debug`. */
  logger?: Logger;
  /** Also called with every decision (after the span and the log). */
  forward?: PolicyDecisionHook;
}

/** The log fields of a decision: where it happened and what was decided — never a value, never the user. */
export function policyLogFields(d: PolicyDecision): Record<string, unknown> {
  return {
    policy: {
      decision: d.decision,
      capability: d.capability,
      operation: d.operation,
      resource: d.resource,
      source: d.source,
      reason: d.reason,
    },
    component: d.component,
    env: d.ctx.env,
    tenant: d.ctx.tenant_id,
    ...(d.ctx.team_id ? { team: d.ctx.team_id } : {}),
    ...(d.ctx.flow_id ? { flow: d.ctx.flow_id } : {}),
    ...(d.ctx.node_id ? { node: d.ctx.node_id } : {}),
  };
}

/**
 * The component host's `onPolicyDecision` for the runner: each decision becomes a `greentic.policy.decision` event
 * on the active span (the flow node's: the host reports decisions in the caller's async context) with
 * `greentic.policy.{capability,operation,resource,decision,reason,source}` and `greentic.component.name`; the span
 * itself gets `greentic.policy.decision` (`deny` once anything in it was denied, else `allow`), and for the first
 * denial `greentic.policy.capability`/`resource`/`reason`, plus the count `greentic.policy.denials`. Denials are
 * logged (warn). The resource is a destination (`host:port`) or a key, never a value.
 */
export function policyDecisionRecorder(options: PolicyRecorderOptions = {}): PolicyDecisionHook {
  const denials = new WeakMap<Span, number>();
  return (d) => {
    const span = trace.getActiveSpan();
    if (span?.isRecording()) {
      span.addEvent(POLICY_DECISION_EVENT, {
        [POLICY_ATTRIBUTES.CAPABILITY]: d.capability,
        [POLICY_ATTRIBUTES.OPERATION]: d.operation,
        [POLICY_ATTRIBUTES.RESOURCE]: d.resource,
        [POLICY_ATTRIBUTES.DECISION]: d.decision,
        [POLICY_ATTRIBUTES.REASON]: d.reason,
        [POLICY_ATTRIBUTES.SOURCE]: d.source,
        [ATTR_COMPONENT_NAME]: d.component,
      });
      const denied = denials.get(span) ?? 0;
      if (d.decision === 'deny') {
        denials.set(span, denied + 1);
        span.setAttribute(POLICY_ATTRIBUTES.DENIALS, denied + 1);
        if (denied === 0) {
          span.setAttributes({
            [POLICY_ATTRIBUTES.DECISION]: 'deny',
            [POLICY_ATTRIBUTES.CAPABILITY]: d.capability,
            [POLICY_ATTRIBUTES.RESOURCE]: d.resource,
            [POLICY_ATTRIBUTES.REASON]: d.reason,
          });
        }
      } else if (denied === 0) {
        span.setAttribute(POLICY_ATTRIBUTES.DECISION, 'allow');
      }
    }
    const log = options.logger;
    if (log) {
      if (d.decision === 'deny')
        log.warn(
          policyLogFields(d),
          `policy denied ${d.capability} ${d.operation} ${d.resource} for component ${d.component}`,
        );
      else if (log.isLevelEnabled?.('debug') !== false)
        log.debug(policyLogFields(d), `policy allowed ${d.capability} ${d.operation} ${d.resource}`);
    }
    options.forward?.(d);
  };
}
