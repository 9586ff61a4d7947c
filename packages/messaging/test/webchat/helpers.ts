import { type ChannelMessageEnvelope, tenantCtx } from '@greentic/types';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  type ActivityContext,
  type BotMessage,
  createDirectLine,
  type DirectLine,
  type DirectLineOptions,
} from '../../src/webchat/index.js';

export const SECRET = 'test-secret-0123456789abcdef';
export const TENANT = tenantCtx({ env: 'dev', tenant: 'acme' });

/** A clock the tests move by hand (the endpoint's `now`). */
export function manualClock(start = Date.UTC(2030, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance(seconds: number) {
      t += seconds * 1000;
    },
  };
}

/** A weather card with a city input and a submit button (what the flow's card looks like). */
export function weatherCard(): Record<string, unknown> {
  return {
    type: 'AdaptiveCard',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: 'Weather', size: 'Large', weight: 'Bolder', style: 'heading' },
      {
        type: 'FactSet',
        facts: [
          { title: 'Paris', value: '18 °C, light rain' },
          { title: 'Wind', value: '12 km/h' },
        ],
      },
      {
        type: 'ColumnSet',
        columns: [
          { type: 'Column', width: 'auto', items: [{ type: 'TextBlock', text: '**Tomorrow**' }] },
          { type: 'Column', items: [{ type: 'TextBlock', text: '21 °C, sunny', isSubtle: true }] },
        ],
      },
      { type: 'Input.Text', id: 'city', label: 'Another city', placeholder: 'e.g. Lisbon' },
      {
        type: 'Input.ChoiceSet',
        id: 'units',
        label: 'Units',
        value: 'metric',
        choices: [
          { title: 'Celsius', value: 'metric' },
          { title: 'Fahrenheit', value: 'imperial' },
        ],
      },
    ],
    actions: [
      { type: 'Action.Submit', title: 'Show forecast', data: { action: 'forecast' } },
      { type: 'Action.OpenUrl', title: 'Open map', url: 'https://example.com/map' },
    ],
  };
}

/**
 * An echo bot: "card" → a weather card; a card submit → "You chose <action> for <city>"; any other text →
 * "echo: <text>". Replies are delivered through the context, as a real bot's outbox would.
 */
export async function echoBot(envelope: ChannelMessageEnvelope, ctx: ActivityContext): Promise<void> {
  const reply = (m: Omit<BotMessage, 'id'>) => ctx.deliver({ id: `${envelope.id}:0`, ...m });
  if (envelope.metadata?.action !== undefined) {
    const city = envelope.metadata.city || 'Paris';
    await reply({
      text: `You chose ${envelope.metadata.action} for ${city} (${envelope.metadata.units ?? '?'})`,
    });
  } else if (envelope.text === 'card') {
    await reply({ text: 'Here is the weather:', card: weatherCard() });
  } else {
    await reply({ text: `echo: ${envelope.text ?? ''}` });
  }
}

export interface TestServer {
  app: FastifyInstance;
  dl: DirectLine;
  received: ChannelMessageEnvelope[];
  /** `METHOD path` of every request the app received. */
  requests: string[];
  /** `http://127.0.0.1:<port>` once `listen()` was called. */
  origin: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** A Fastify app with the Direct Line endpoint and the echo bot (replies are delivered before the POST returns). */
export async function testServer(
  options: Partial<DirectLineOptions> & { prefix?: string } = {},
): Promise<TestServer> {
  const received: ChannelMessageEnvelope[] = [];
  const { prefix, ...rest } = options;
  const dl = createDirectLine({
    tenant: TENANT,
    secrets: [SECRET],
    maxTokenMintsPerMinute: 1000,
    onActivity: async (envelope, ctx) => {
      received.push(envelope);
      await echoBot(envelope, ctx);
    },
    ...rest,
  });
  const app = Fastify({ logger: false });
  const requests: string[] = [];
  app.addHook('onRequest', async (request) => {
    requests.push(`${request.method} ${request.url.split('?')[0]}`);
  });
  await app.register(dl.plugin, prefix ? { prefix } : {});
  const server: TestServer = {
    app,
    dl,
    received,
    requests,
    origin: '',
    async listen() {
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      server.origin = address;
      return address;
    },
    close: () => app.close(),
  };
  return server;
}

/** Polls `check` until it is true (for events that arrive asynchronously); fails after `ms`. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
