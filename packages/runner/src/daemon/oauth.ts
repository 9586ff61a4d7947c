import { META } from '@greentic/messaging';
import {
  type ConsentStore,
  isOAuthError,
  OAUTH_CONSENT_ACTION,
  type OAuthProviderConfig,
  SecretsConsentStore,
} from '@greentic/oauth';
import type { StateStore } from '@greentic/state';
import {
  type ChannelMessageEnvelope,
  type ReplyScope,
  replyScopeHash,
  type TenantCtx,
  tenantCtx,
} from '@greentic/types';
import type { FastifyRequest } from 'fastify';
import type { OAuthConfig, RunnerConfig } from '../config/config.js';
import type { TurnResult } from '../engine/engine.js';
import { RunnerError } from '../errors.js';
import type { SecretRefResolver } from '../gateway/secrets.js';
import { type OAuthPlatform, oauthPlatform } from '../platform/oauth.js';
import type { RunnerPlatform } from '../platform/platform.js';
import { adminGate } from './http.js';
import type { Logger } from './log.js';

/** The redirect URI the daemon's callback route answers: `<oauth.publicUrl>/oauth/callback`. */
export function oauthCallbackUrl(cfg: OAuthConfig): string {
  return `${cfg.publicUrl}/oauth/callback`;
}

/** The wait reason of a conversation parked on an `oauth` node (the node's default). */
const OAUTH_WAIT_REASON = 'oauth consent';
/** StateStore prefix of the reply routes kept for conversations waiting for a consent. */
const ROUTE_PREFIX = 'runner-oauth-reply';
/** Connector metadata that describes the incoming message itself, not where replies go. */
const NOT_ROUTING = new Set<string>([
  META.ACTION,
  META.ACTION_SOURCE,
  META.ACTION_TITLE,
  META.PROVIDER_MESSAGE_ID,
  META.MESSAGE_ID,
]);

const tenantLevel = (ctx: TenantCtx): TenantCtx => tenantCtx({ env: ctx.env, tenant: ctx.tenant_id });
const scopeOf = (msg: ChannelMessageEnvelope): ReplyScope =>
  msg.reply_scope ?? { conversation: msg.session_id };
const routeKey = (msg: ChannelMessageEnvelope) =>
  `${msg.channel}.${msg.tenant.team_id ?? '_'}.${msg.tenant.user_id ?? '_'}.${replyScopeHash(scopeOf(msg))}`;

/**
 * Where the replies of a resumed conversation go. The message an OAuth consent resumes a conversation with carries
 * the conversation's tenant, channel and reply scope, but not the connector metadata a provider needs to answer
 * (`connector`, Teams' `service_url`, …): while a conversation waits for a consent, its last message's routing
 * metadata is kept in the state store (shared by the runners with Redis stores) and put back on the resume message.
 */
export class ResumeRoutes {
  constructor(
    private readonly state: StateStore,
    private readonly ttlMs: number,
  ) {}

  /** After a turn: a conversation now waiting for a consent keeps its message's routing metadata. */
  async remember(msg: ChannelMessageEnvelope, r: TurnResult): Promise<void> {
    if (r.status !== 'pending' || r.waitReason !== OAUTH_WAIT_REASON) return;
    const meta = msg.metadata ?? {};
    if (typeof meta[META.CONNECTOR] !== 'string') return; // WebChat and in-process channels need none
    const routing = Object.fromEntries(Object.entries(meta).filter(([k]) => !NOT_ROUTING.has(k)));
    await this.state.set(tenantLevel(msg.tenant), ROUTE_PREFIX, routeKey(msg), routing, {
      ttlMs: this.ttlMs,
    });
  }

  /** The resume message with the routing metadata of its conversation (its own metadata wins). */
  async fill(msg: ChannelMessageEnvelope): Promise<ChannelMessageEnvelope> {
    if (msg.metadata?.action !== OAUTH_CONSENT_ACTION || typeof msg.metadata?.[META.CONNECTOR] === 'string')
      return msg;
    const routing = await this.state.get(tenantLevel(msg.tenant), ROUTE_PREFIX, routeKey(msg));
    if (typeof routing !== 'object' || routing === null || Array.isArray(routing)) return msg;
    return { ...msg, metadata: { ...(routing as Record<string, string>), ...msg.metadata } };
  }
}

export interface DaemonOAuthOptions {
  config: RunnerConfig & { oauth: OAuthConfig };
  platform: RunnerPlatform;
  /** Resolves `env:`/`secrets://` references of the section. */
  resolveRef: SecretRefResolver;
  /** Where the resume message of a consent goes (the daemon's ingress). */
  onResume: (msg: ChannelMessageEnvelope) => Promise<void>;
  log: Logger;
}

export interface DaemonOAuth {
  oauth: OAuthPlatform;
  close(): void;
}

const configError = (field: string, message: string, cause?: unknown) =>
  new RunnerError(
    'GT_RUNNER_CONFIG',
    `${field}: ${message}`,
    { field },
    cause === undefined ? undefined : { cause },
  );

/**
 * The `oauth:` section as the daemon runs it: secrets resolved (client secrets and the signing key, like connector
 * secrets; `clientSecretUri` checked in the encrypted store), the broker with tokens in the platform's encrypted
 * store, the `oauth` node, and the routes. `POST /oauth/start` is for operators: it needs `Authorization: Bearer
 * <admin.token>` (refused when no admin token is configured) — flows build their consent links server side.
 */
export async function createDaemonOAuth(o: DaemonOAuthOptions): Promise<DaemonOAuth> {
  const { config, platform } = o;
  const cfg = config.oauth;
  const label = (field: string) => `${config.source ? `${config.source}: ` : ''}${field}`;
  const store = platform.secretsStore;
  if (!store)
    throw configError(
      label('oauth'),
      'OAuth keeps tokens in the encrypted secrets store (secrets.file), which this runner does not have',
    );
  const providers: OAuthProviderConfig[] = [];
  for (const [i, p] of cfg.providers.entries()) {
    const { clientSecret, ...rest } = p;
    const provider: OAuthProviderConfig = { ...rest };
    if (clientSecret !== undefined)
      provider.clientSecret = await o.resolveRef(clientSecret, `/oauth/providers/${i}/clientSecret`);
    if (p.clientSecretUri !== undefined) {
      // read whenever the broker needs it (rotation without a restart); it must be there now
      const found = await store.get(p.clientSecretUri).catch((e: unknown) => {
        throw configError(
          label(`oauth.providers.${i}.clientSecretUri`),
          `cannot read ${p.clientSecretUri} from the encrypted secrets store ${store.dir}: ${(e as Error).message}`,
          e,
        );
      });
      if (!found)
        throw configError(
          label(`oauth.providers.${i}.clientSecretUri`),
          `${p.clientSecretUri} is not in the encrypted secrets store ${store.dir}; set it with greentic-secrets put`,
        );
    }
    providers.push(provider);
  }
  const keyRefs = typeof cfg.signingKey === 'string' ? [cfg.signingKey] : cfg.signingKey;
  const signingKey: string[] = [];
  for (const [j, ref] of keyRefs.entries())
    signingKey.push(
      await o.resolveRef(
        ref,
        typeof cfg.signingKey === 'string' ? '/oauth/signingKey' : `/oauth/signingKey/${j}`,
      ),
    );

  let consents: ConsentStore | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  if (cfg.consentStore === 'secrets') {
    const shared = new SecretsConsentStore(store);
    consents = shared;
    sweeper = setInterval(() => {
      shared.sweep(Date.now()).catch((e: unknown) => {
        o.log.warn('oauth: sweeping expired consents failed', { error: (e as Error).message });
      });
    }, 10 * 60_000);
    sweeper.unref();
  }

  const gate = config.admin.token === undefined ? undefined : adminGate(config.admin.token);
  const authorizeStart = (request: FastifyRequest) => gate?.(request).ok === true;
  try {
    const oauth = oauthPlatform({
      platform,
      providers,
      signingKey: signingKey.length === 1 ? signingKey[0]! : signingKey,
      redirectUris: [oauthCallbackUrl(cfg), ...cfg.redirectUris.filter((u) => u !== oauthCallbackUrl(cfg))],
      ...(consents ? { consents } : {}),
      ...(cfg.stateTtlMs !== undefined ? { stateTtlMs: cfg.stateTtlMs } : {}),
      ...(cfg.handleTtlMs !== undefined ? { handleTtlMs: cfg.handleTtlMs } : {}),
      ...(cfg.httpTimeoutMs !== undefined ? { httpTimeoutMs: cfg.httpTimeoutMs } : {}),
      ...(cfg.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
      routes: { authorizeStart },
      onResume: (msg) => o.onResume(msg),
    });
    return {
      oauth,
      close: () => {
        if (sweeper) clearInterval(sweeper);
      },
    };
  } catch (e) {
    if (sweeper) clearInterval(sweeper);
    if (isOAuthError(e)) throw configError(label('oauth'), e.message, e);
    throw e;
  }
}
