import type { ReplyScope, TenantCtx } from '@greentic/types';
import { tenantCtx } from '@greentic/types';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { OAuthBroker, StartConsentRequest } from './broker.js';
import { isOAuthError, OAuthError, type OAuthErrorCode } from './errors.js';
import { PAGE_HEADERS, renderConsentPage } from './html.js';
import { isRecord } from './http.js';

export interface OAuthRoutesOptions {
  broker: OAuthBroker;
  /**
   * Decides whether the caller may start a consent through `POST <basePath>/start` for the tenant its body names
   * (check the caller's credentials against `start.ctx`). Without it the route answers 403 `GT_OAUTH_FORBIDDEN`:
   * anyone able to start a consent for a tenant could push their own account into its conversations.
   */
  authorizeStart?: (request: FastifyRequest, start: StartConsentRequest) => boolean | Promise<boolean>;
  /** Prefix of the routes (default `/oauth`: `/oauth/start`, `/oauth/callback`). */
  basePath?: string;
  /** Serve `GET /.well-known/greentic-oauth` (providers and endpoints; default true). */
  wellKnown?: boolean;
}

/** Body of `POST /oauth/start`. */
export interface StartConsentBody {
  tenant: { env: string; tenant: string; team?: string; user?: string };
  provider: string;
  scopes?: string[] | string;
  redirect_uri?: string;
  reply_scope?: ReplyScope;
  channel?: string;
  session_id?: string;
  login_hint?: string;
}

const FRIENDLY: Partial<Record<OAuthErrorCode, { title: string; message: string }>> = {
  GT_OAUTH_STATE_EXPIRED: {
    title: 'This sign-in link has expired',
    message: 'Sign-in links work for a limited time. Go back to the chat and start the sign-in again.',
  },
  GT_OAUTH_STATE_REUSED: {
    title: 'This sign-in link was already used',
    message:
      'Each sign-in link works once. Go back to the chat; if it is still waiting, start the sign-in again.',
  },
  GT_OAUTH_STATE_INVALID: {
    title: 'This sign-in link is not valid',
    message: 'The link is incomplete or was changed. Go back to the chat and start the sign-in again.',
  },
  GT_OAUTH_DENIED: {
    title: 'Sign-in cancelled',
    message: 'The sign-in was not completed. You can close this window and return to the chat.',
  },
};

/**
 * The broker's HTTP routes as a Fastify plugin:
 * - `POST /oauth/start` `{tenant, provider, scopes?, redirect_uri?, reply_scope?, channel?, session_id?}` →
 *   `{authorize_url, state, consent_id, provider, scopes, expires_at}` (needs `authorizeStart`);
 * - `GET /oauth/callback?code&state` (the provider's redirect) → exchanges the code, stores the tokens, resumes the
 *   conversation (through the broker's `onConsentComplete`) and renders a small "return to the chat" page;
 * - `GET /.well-known/greentic-oauth` → the configured providers and the two endpoints.
 */
export const oauthRoutes: FastifyPluginAsync<OAuthRoutesOptions> = async (app, opts) => {
  const { broker } = opts;
  if (!broker) throw new OAuthError('GT_OAUTH_CONFIG', 'oauthRoutes needs the broker ({broker})');
  const base = (opts.basePath ?? '/oauth').replace(/\/+$/, '');

  app.post(`${base}/start`, async (request, reply) => {
    try {
      const start = startRequestOf(request.body);
      const allowed = opts.authorizeStart ? await opts.authorizeStart(request, start) : false;
      if (!allowed) {
        throw new OAuthError(
          'GT_OAUTH_FORBIDDEN',
          opts.authorizeStart
            ? 'this caller may not start a consent for that tenant'
            : 'POST /oauth/start is disabled: configure authorizeStart to decide who may start consents',
        );
      }
      const r = await broker.startConsent(start);
      reply.header('cache-control', 'no-store');
      return {
        authorize_url: r.authorize_url,
        state: r.state,
        consent_id: r.consent_id,
        provider: r.provider,
        scopes: r.scopes,
        expires_at: r.expires_at,
      };
    } catch (e) {
      return sendJsonError(request, reply, e);
    }
  });

  // logLevel warn: Fastify's per-request info logs would print the URL, which holds the authorization code
  app.get(`${base}/callback`, { logLevel: 'warn' }, async (request, reply) => {
    const q = isRecord(request.query) ? request.query : {};
    reply.headers(PAGE_HEADERS);
    try {
      const r = await broker.completeConsent({
        state: q.state,
        code: q.code,
        error: q.error,
        error_description: q.error_description,
        iss: q.iss,
      });
      const name = broker.providers().find((p) => p.id === r.provider)?.display_name ?? r.provider;
      return reply.code(200).send(
        renderConsentPage({
          ok: true,
          title: `Signed in with ${name}`,
          message: r.notified
            ? 'You can close this window and return to the chat.'
            : 'You can close this window and return to the chat. If it does not continue by itself, send any message there.',
        }),
      );
    } catch (e) {
      const err = isOAuthError(e) ? e : undefined;
      request.log.warn({ code: err?.code ?? 'internal' }, 'oauth callback failed');
      const friendly = (err && FRIENDLY[err.code]) ?? {
        title: 'Sign-in failed',
        message: 'The sign-in could not be completed. Go back to the chat and try again.',
      };
      return reply
        .code(err?.httpStatus ?? 500)
        .send(renderConsentPage({ ok: false, ...friendly, code: err?.code ?? 'internal error' }));
    }
  });

  if (opts.wellKnown !== false) {
    app.get('/.well-known/greentic-oauth', async () => ({
      providers: broker.providers(),
      start_endpoint: `${base}/start`,
      callback_endpoint: `${base}/callback`,
    }));
  }
};

function startRequestOf(body: unknown): StartConsentRequest {
  if (!isRecord(body)) throw new OAuthError('GT_OAUTH_INVALID', 'the body must be a JSON object');
  const t = body.tenant;
  if (!isRecord(t)) {
    throw new OAuthError('GT_OAUTH_INVALID', 'tenant is required: {env, tenant, team?, user?}');
  }
  let ctx: TenantCtx;
  try {
    ctx = tenantCtx({
      env: String(t.env ?? ''),
      tenant: String(t.tenant ?? ''),
      team: typeof t.team === 'string' ? t.team : undefined,
      user: typeof t.user === 'string' ? t.user : undefined,
      session_id: typeof body.session_id === 'string' ? body.session_id : undefined,
    });
  } catch (e) {
    throw new OAuthError('GT_OAUTH_INVALID', `tenant: ${(e as Error).message}`, { cause: e });
  }
  if (typeof body.provider !== 'string') throw new OAuthError('GT_OAUTH_INVALID', 'provider is required');
  const start: StartConsentRequest = { ctx, provider: body.provider };
  if (body.scopes !== undefined) start.scopes = body.scopes as string[] | string;
  if (body.redirect_uri !== undefined) start.redirect_uri = body.redirect_uri as string;
  if (body.reply_scope !== undefined) start.reply_scope = body.reply_scope as ReplyScope;
  for (const k of ['channel', 'session_id', 'login_hint'] as const) {
    const v = body[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new OAuthError('GT_OAUTH_INVALID', `${k} must be a string`);
    start[k] = v;
  }
  return start;
}

function sendJsonError(request: FastifyRequest, reply: FastifyReply, e: unknown) {
  reply.header('cache-control', 'no-store');
  if (isOAuthError(e)) {
    request.log.info({ code: e.code }, 'oauth request refused');
    return reply.code(e.httpStatus).send({ error: { code: e.code, message: e.message } });
  }
  request.log.error({ err: { name: (e as Error)?.name } }, 'oauth request failed');
  return reply
    .code(500)
    .send({ error: { code: 'internal', message: 'the OAuth broker failed; see its logs' } });
}
