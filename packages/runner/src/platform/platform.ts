import {
  ComponentHost,
  type ComponentHostOptions,
  fetchHostHttp,
  type PolicyDecisionHook,
} from '@greentic/component';
import type { HostHttpService, HostSecretsService, HostServices } from '@greentic/interfaces';
import type { EncryptedFileSecretsProvider, SecretAccessRecord, SecretsService } from '@greentic/secrets';
import type { StateStore } from '@greentic/state';
import { createLogger, type Env, GreenticTracer, type Logger } from '@greentic/telemetry';
import { runnerHostServices } from '../host-services.js';
import { policyDecisionRecorder } from './policy.js';
import { componentSecretsService, type PlatformSecretsOptions, platformSecrets } from './secrets.js';
import type { RunnerTelemetry } from './telemetry.js';

export interface PlatformOptions {
  /** Environment (`GREENTIC_HOME`, `GREENTIC_SECRETS_*`, `LOG_LEVEL`…); default `process.env`. */
  env?: Env;
  /** The process's telemetry ({@link startRunnerTelemetry}): its logger and tracer are used. */
  telemetry?: RunnerTelemetry;
  /** Overrides the telemetry's logger (default: a redacting pino logger on stdout). */
  logger?: Logger;
  /** Overrides the telemetry's tracer. */
  tracer?: GreenticTracer;
  /** Secrets providers, store, allow-list (see {@link PlatformSecretsOptions}). */
  secrets?: PlatformSecretsOptions;
  /** Outbound HTTP of components (default `fetchHostHttp()`). */
  http?: HostHttpService;
  /** Also receives every policy decision of the component hosts built on this platform. */
  onPolicyDecision?: PolicyDecisionHook;
}

/** The platform services a runner process shares: secrets, telemetry, the component host's services and policy hook. */
export interface RunnerPlatform {
  readonly logger: Logger;
  readonly tracer: GreenticTracer;
  /** Deny-by-default secrets (tenant allow-list, audit in `secrets.audit`). */
  readonly secrets: SecretsService;
  /** The writable encrypted file store (for the OAuth broker's tokens), unless `secrets.providers` replaced the chain. */
  readonly secretsStore: EncryptedFileSecretsProvider | undefined;
  /** The secrets directory, and where the allow-list came from (a file path, `options`, or `none`). */
  readonly secretsDir: string;
  readonly allowListSource: string;
  /** The component host's `secrets` service: manifest declarations + pack id + tenant allow-list. */
  readonly componentSecrets: HostSecretsService;
  /** The component host's `onPolicyDecision`: span events on the active node span, denials logged. */
  readonly onPolicyDecision: PolicyDecisionHook;
  /** The host services of components whose state lives in `state`. */
  hostServices(state: StateStore): HostServices;
  /** `ComponentHostOptions` with this platform's services and policy hook (plus `extra`: sandbox, cache, limits). */
  componentHostOptions(
    state: StateStore,
    extra?: Omit<ComponentHostOptions, 'services' | 'onPolicyDecision'>,
  ): ComponentHostOptions;
  /** A `ComponentHost` with {@link componentHostOptions}. */
  componentHost(
    state: StateStore,
    extra?: Omit<ComponentHostOptions, 'services' | 'onPolicyDecision'>,
  ): ComponentHost;
  /** Closes the secrets providers it created. */
  close(): Promise<void>;
}

function auditLogger(logger: Logger) {
  return (r: SecretAccessRecord) => {
    const fields = { secrets_audit: r };
    if (r.decision === 'deny') logger.info(fields, `secrets audit: denied ${r.uri} (${r.reason})`);
    else logger.debug(fields, `secrets audit: granted ${r.uri}`);
  };
}

/**
 * Builds the runner's platform services: a {@link SecretsService} (environment, mounted files and the encrypted file
 * store; the tenant allow-list from `secrets.allowList`, `GREENTIC_SECRETS_ALLOW_LIST` or
 * `<secrets dir>/allow-list.json|yaml`), the component host's services on it (`componentSecretsService`: each
 * component gets only what its manifest declares and its tenant is allowed, bare keys under its pack id), outbound
 * HTTP, component logs into the logger, and the policy-decision hook that traces every allow/deny of the component
 * host on the active node span. Throws `RunnerError` `GT_RUNNER_CONFIG` for an unreadable key file or allow-list.
 */
export async function createPlatform(options: PlatformOptions = {}): Promise<RunnerPlatform> {
  const env = options.env ?? process.env;
  const logger =
    options.logger ?? options.telemetry?.logger ?? createLogger({ name: 'greentic-runner', env });
  const tracer = options.tracer ?? options.telemetry?.tracer ?? new GreenticTracer();
  const userAudit = options.secrets?.audit;
  const secrets = platformSecrets(
    {
      ...options.secrets,
      audit: [
        auditLogger(logger),
        ...(userAudit === undefined ? [] : Array.isArray(userAudit) ? userAudit : [userAudit]),
      ],
    },
    env,
  );
  if (secrets.allowListSource === 'none')
    logger.debug(
      { secrets_dir: secrets.dir },
      'no secrets allow-list (GREENTIC_SECRETS_ALLOW_LIST or <secrets dir>/allow-list.json): components get no secrets',
    );
  const componentSecrets = componentSecretsService(secrets.service);
  const onPolicyDecision = policyDecisionRecorder({
    logger,
    ...(options.onPolicyDecision ? { forward: options.onPolicyDecision } : {}),
  });
  const http = options.http ?? fetchHostHttp();
  const hostServices = (state: StateStore): HostServices =>
    runnerHostServices({
      state,
      secrets: componentSecrets,
      http,
      log: (call, record) =>
        logger.info(
          {
            component: call.component,
            tenant: call.ctx.tenant_id,
            ...(call.ctx.flow_id ? { flow: call.ctx.flow_id } : {}),
            ...(call.ctx.node_id ? { node: call.ctx.node_id } : {}),
            fields: record.fields,
          },
          'component log',
        ),
    });
  const componentHostOptions = (
    state: StateStore,
    extra: Omit<ComponentHostOptions, 'services' | 'onPolicyDecision'> = {},
  ): ComponentHostOptions => ({ ...extra, services: hostServices(state), onPolicyDecision });
  return {
    logger,
    tracer,
    secrets: secrets.service,
    secretsStore: secrets.store,
    secretsDir: secrets.dir,
    allowListSource: secrets.allowListSource,
    componentSecrets,
    onPolicyDecision,
    hostServices,
    componentHostOptions,
    componentHost: (state, extra) => new ComponentHost(componentHostOptions(state, extra)),
    close: async () => {
      // providers the caller passed are the caller's to close
      if (options.secrets?.providers) return;
      await Promise.all(secrets.service.resolver.providers.map((p) => p.close?.()));
    },
  };
}
