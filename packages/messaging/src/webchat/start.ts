import { randomBytes } from 'node:crypto';
import { type ChannelMessageEnvelope, type TenantCtx, tenantCtx } from '@greentic/types';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BotMessage } from './activity.js';
import { createDirectLine, DIRECTLINE_BASE, type DirectLine, type DirectLineOptions } from './directline.js';

/** A bot for {@link startWebChat}: one user message in, the replies out (e.g. a flow engine's `TurnResult.replies`). */
/** Reply ids must be unique within a conversation (the engine's `<message id>:<n>` are): a repeated id is dropped. */
export type WebChatBot = (
  envelope: ChannelMessageEnvelope,
) => Promise<readonly BotMessage[]> | readonly BotMessage[];

export interface StartWebChatOptions
  extends Partial<Omit<DirectLineOptions, 'onActivity' | 'tenant' | 'secrets' | 'store'>> {
  bot: WebChatBot;
  /** Default `tenantCtx({env: 'dev', tenant: 'demo'})`. */
  tenant?: TenantCtx;
  /** Default a random secret (returned in the result). */
  secret?: string;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /**
   * What the user sees when the bot throws. Default: one message "Sorry, something went wrong." Return `[]` to show
   * nothing.
   */
  onBotError?: (error: unknown, envelope: ChannelMessageEnvelope) => readonly BotMessage[];
  /** Fastify logging. Default off. */
  logger?: boolean;
  store?: DirectLineOptions['store'];
}

export interface WebChat {
  /** The page, e.g. `http://127.0.0.1:41234/webchat/`. */
  url: string;
  /** The Direct Line base for clients (`domain` of botframework-directlinejs). */
  directLineUrl: string;
  /** The Direct Line secret (for server-side clients and tests). */
  secret: string;
  directLine: DirectLine;
  app: FastifyInstance;
  /** Resolves when every bot turn queued so far has finished and its replies were delivered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a Fastify server with the Direct Line endpoint and the WebChat page, wired to `bot`: each user message is
 * queued (turns of one conversation run one at a time, in order), the bot's replies are delivered as activities
 * answering it. For tests and demos; production wiring registers `createDirectLine(...).plugin` in its own server
 * and queues envelopes durably.
 */
export async function startWebChat(options: StartWebChatOptions): Promise<WebChat> {
  const {
    bot,
    tenant = tenantCtx({ env: 'dev', tenant: 'demo' }),
    secret = randomBytes(24).toString('base64url'),
    host = '127.0.0.1',
    port = 0,
    onBotError = () => [{ id: 'error', text: 'Sorry, something went wrong.' }],
    logger = false,
    ...rest
  } = options;
  const lanes = new Map<string, Promise<void>>();
  const running = new Set<Promise<void>>();
  const dl = createDirectLine({
    ...rest,
    tenant,
    secrets: [secret],
    onActivity(envelope, context) {
      const conversation = context.conversationId;
      const run = (lanes.get(conversation) ?? Promise.resolve()).then(async () => {
        let replies: readonly BotMessage[];
        try {
          replies = await bot(envelope);
        } catch (e) {
          app.log.error({ err: e }, 'webchat bot failed');
          replies = onBotError(e, envelope).map((m) => ({ ...m, id: `${envelope.id}:error:${m.id}` }));
        }
        for (const reply of replies) await context.deliver(reply);
      });
      const settled = run.catch((e) => app.log.error({ err: e }, 'webchat delivery failed'));
      lanes.set(conversation, settled);
      running.add(settled);
      void settled.finally(() => {
        running.delete(settled);
        if (lanes.get(conversation) === settled) lanes.delete(conversation);
      });
    },
  });
  const app = Fastify({ logger });
  await app.register(dl.plugin);
  const address = await app.listen({ host, port });
  const origin = address.replace('://[::1]', '://localhost');
  const pagePath =
    rest.page === false ? undefined : (rest.page?.path ?? '/webchat').replace(/^\/*|\/*$/g, '');
  return {
    url: pagePath === undefined ? origin : `${origin}/${pagePath}/`,
    directLineUrl: `${origin}${DIRECTLINE_BASE}`,
    secret,
    directLine: dl,
    app,
    async idle() {
      while (running.size > 0) await Promise.all([...running]);
    },
    async close() {
      await app.close();
    },
  };
}
