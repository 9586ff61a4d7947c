import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MessagingError } from '../errors.js';
import type { MintedToken } from './tokens.js';

/** The folder of the page's assets (`packages/messaging/webchat-ui`), the same from `src/` and from `dist/`. */
export const WEBCHAT_UI_DIR = fileURLToPath(new URL('../../webchat-ui/', import.meta.url));

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'webchat.css': 'text/css; charset=utf-8',
  'webchat.js': 'text/javascript; charset=utf-8',
  'directline-client.js': 'text/javascript; charset=utf-8',
  'adaptive-cards.js': 'text/javascript; charset=utf-8',
  'markdown.js': 'text/javascript; charset=utf-8',
};

export interface WebChatPageOptions {
  /** Where the page is served, below the plugin's prefix. Default `/webchat` (the page is `/webchat/`). */
  path?: string;
  /** The page's heading and title. Default `Chat`. */
  title?: string;
  /**
   * Decides who may load the page and get an anonymous token from it (the page's token route is a public token
   * vending machine otherwise). Default: everybody.
   */
  authorize?: (request: FastifyRequest) => boolean | Promise<boolean>;
  /** CSP `frame-ancestors`: who may embed the page in an iframe. Default `'self'`; e.g. `https://www.example.com`. */
  frameAncestors?: string;
}

export interface PageWiring {
  /** Path-absolute URL of the Direct Line base (`<prefix>/v3/directline`). */
  directLinePath: string;
  botName: string;
  /** Mints a token for a new anonymous conversation (rate limited by the caller). */
  mint(request: FastifyRequest): Promise<MintedToken & { userId: string }>;
}

/** GET `<path>/` (the page), its assets, `<path>/config.json`, and POST `<path>/token`. */
export function registerPage(
  fastify: FastifyInstance,
  options: WebChatPageOptions,
  wiring: PageWiring,
): void {
  const path = normalisePath(options.path ?? '/webchat');
  const assets = new Map<string, Buffer>();
  for (const name of Object.keys(ASSETS)) assets.set(name, readFileSync(`${WEBCHAT_UI_DIR}${name}`));
  const prefix = fastify.prefix;
  const title = options.title ?? 'Chat';
  const frameAncestors = options.frameAncestors ?? "'self'";

  const allowed = async (request: FastifyRequest) => {
    if (options.authorize && !(await options.authorize(request))) {
      throw new MessagingError('GT_MSG_WEBCHAT_FORBIDDEN', 'this page is not available to you');
    }
  };
  const asset = (reply: FastifyReply, name: string, request: FastifyRequest) => {
    const type = ASSETS[name];
    const body = assets.get(name);
    if (!type || !body) throw new MessagingError('GT_MSG_WEBCHAT_BAD_REQUEST', `no page asset ${name}`);
    const host = request.host;
    reply
      .header('content-type', type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header(
        'content-security-policy',
        [
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          "img-src 'self' data: https:",
          `connect-src 'self' ws://${host} wss://${host}`,
          "base-uri 'none'",
          "form-action 'none'",
          `frame-ancestors ${frameAncestors}`,
        ].join('; '),
      );
    return reply.send(body);
  };

  fastify.get(path, async (_request, reply) => reply.redirect(`${prefix}${path}/`));
  fastify.get(`${path}/`, async (request, reply) => {
    await allowed(request);
    return asset(reply, 'index.html', request);
  });
  fastify.get<{ Params: { file: string } }>(`${path}/:file`, async (request, reply) => {
    const file = request.params.file;
    if (file === 'config.json') {
      await allowed(request);
      reply.header('cache-control', 'no-store');
      return {
        title,
        botName: wiring.botName,
        directLine: wiring.directLinePath,
        tokenUrl: `${prefix}${path}/token`,
      };
    }
    if (!Object.hasOwn(ASSETS, file) || file === 'index.html') {
      reply.code(404);
      return { error: { code: 'GT_MSG_WEBCHAT_BAD_REQUEST', message: `no page asset ${file}` } };
    }
    return asset(reply, file, request);
  });
  fastify.post(`${path}/token`, async (request, reply) => {
    await allowed(request);
    const minted = await wiring.mint(request);
    reply.header('cache-control', 'no-store');
    return {
      conversationId: minted.conversationId,
      token: minted.token,
      expires_in: minted.expiresIn,
      userId: minted.userId,
    };
  });
}

function normalisePath(p: string): string {
  const s = `/${p.replace(/^\/+|\/+$/g, '')}`;
  if (!/^\/[A-Za-z0-9._~/-]+$/.test(s)) {
    throw new MessagingError(
      'GT_MSG_WEBCHAT_BAD_OPTIONS',
      `page.path ${JSON.stringify(p)} is not a plain URL path`,
    );
  }
  return s;
}
