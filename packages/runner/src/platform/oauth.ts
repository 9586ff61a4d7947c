import {
  type ConsentCompleteEvent,
  type ConsentResumeOptions,
  consentResumeMessage,
  OAuthBroker,
  type OAuthBrokerOptions,
  OAuthComponentRegistry,
  type OAuthNodeOptions,
  type OAuthRoutesOptions,
  oauthRoutes,
} from '@greentic/oauth';
import type { SecretsProvider } from '@greentic/secrets';
import type { Logger } from '@greentic/telemetry';
import type { ChannelMessageEnvelope } from '@greentic/types';
import type { FastifyPluginAsync } from 'fastify';
import { RunnerError } from '../errors.js';
import type { RunnerPlatform } from './platform.js';

export interface OAuthPlatformOptions extends Omit<OAuthBrokerOptions, 'onConsentComplete' | 'secrets'> {
  /**
   * Receives the message that resumes the conversation parked on an `oauth` node when its consent ends (granted or
   * refused): publish it to the runner's ingress, or hand it to `engine.handleMessage(msg)` in a single process.
   * Its id is `oauth-consent-<consent id>`, so a redelivery is deduplicated. What it throws is audited by the broker
   * (`consent.notify_failed`) and logged; the consent stays done.
   */
  onResume: (msg: ChannelMessageEnvelope, event: ConsentCompleteEvent) => void | Promise<void>;
  /** Where tokens are kept (a writable provider); default: `platform.secretsStore` (the encrypted file store). */
  secrets?: SecretsProvider;
  /** The runner platform: its encrypted file store and its logger are used by default. */
  platform?: RunnerPlatform;
  /** Broker audit records and resume failures (default: the platform's logger). */
  logger?: Logger;
  /** Options of the `oauth` node (`components`, `redirectUri`, `consentMessage`, `cancelWords`…). */
  node?: Omit<OAuthNodeOptions, 'broker'>;
  /** Options of the routes (`authorizeStart` — without it `POST /oauth/start` answers 403 —, `basePath`). */
  routes?: Omit<OAuthRoutesOptions, 'broker'>;
  /** Options of the resume message (`channel`). */
  resume?: ConsentResumeOptions;
}

export interface OAuthPlatform {
  broker: OAuthBroker;
  /** The `oauth` flow node: add it to the engine's `CompositeComponentRegistry`. */
  registry: OAuthComponentRegistry;
  /**
   * The Fastify plugin of `POST /oauth/start`, `GET /oauth/callback` and `GET /.well-known/greentic-oauth`, bound to
   * the broker: `await app.register(oauth.routes)`.
   */
  routes: FastifyPluginAsync;
  /**
   * What the broker calls when a consent ends: turns the event into `consentResumeMessage(event)` and hands it to
   * `onResume` (nothing when the consent was started without a conversation).
   */
  onConsentComplete(event: ConsentCompleteEvent): Promise<void>;
}

/**
 * OAuth for a runner: an {@link OAuthBroker} (tokens in the platform's encrypted secrets store unless `secrets` is
 * given), the `oauth` node's registry, the routes plugin, and the consent-complete adapter that resumes the parked
 * conversation through `onResume`.
 */
export function oauthPlatform(options: OAuthPlatformOptions): OAuthPlatform {
  const {
    onResume,
    platform,
    node,
    routes,
    resume,
    logger: givenLogger,
    secrets: givenSecrets,
    ...brokerOptions
  } = options;
  if (typeof onResume !== 'function')
    throw new RunnerError('GT_RUNNER_CONFIG', 'oauthPlatform needs onResume(msg): where resume messages go');
  const secrets = givenSecrets ?? platform?.secretsStore;
  if (!secrets)
    throw new RunnerError(
      'GT_RUNNER_CONFIG',
      'oauthPlatform needs a writable secrets provider for the tokens: pass secrets, or a platform with an encrypted file store',
    );
  const logger = givenLogger ?? platform?.logger;
  const onConsentComplete = async (event: ConsentCompleteEvent): Promise<void> => {
    const msg = consentResumeMessage(event, resume);
    if (!msg) {
      logger?.info(
        { consent_id: event.consent_id, provider: event.provider, tenant: event.ctx.tenant_id },
        'oauth consent ended without a conversation to resume',
      );
      return;
    }
    try {
      await onResume(msg, event);
    } catch (e) {
      logger?.warn(
        {
          consent_id: event.consent_id,
          provider: event.provider,
          tenant: event.ctx.tenant_id,
          err: { message: (e as Error)?.message, code: (e as { code?: string })?.code },
        },
        'oauth consent: the resume message could not be handed on',
      );
      throw e;
    }
  };
  const userAudit = brokerOptions.audit;
  const broker = new OAuthBroker({
    ...brokerOptions,
    secrets,
    onConsentComplete,
    audit: (record) => {
      logger?.info({ oauth_audit: record }, `oauth ${record.event}`);
      userAudit?.(record);
    },
  });
  const registry = new OAuthComponentRegistry({ ...node, broker });
  const plugin: FastifyPluginAsync = async (app) => {
    await app.register(oauthRoutes, { ...routes, broker });
  };
  return { broker, registry, routes: plugin, onConsentComplete };
}
