import type { ChannelMessageEnvelope } from '@greentic/types';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  type Connector,
  type GatewayEvent,
  type MessageInfo,
  type MessagingGatewayPluginOptions,
  messagingGateway,
} from '../src/index.js';

export const BINDING = { env: 'test', tenant: 'acme', team: 'support' };

export interface GatewayHarness {
  app: FastifyInstance;
  queued: { envelopes: ChannelMessageEnvelope[]; info: MessageInfo }[];
  events: GatewayEvent[];
}

/** A Fastify app with the gateway under /webhooks and an in-memory queue as onMessage. */
export async function gatewayApp(
  connectors: Connector[],
  opts: Partial<MessagingGatewayPluginOptions> = {},
): Promise<GatewayHarness> {
  const queued: GatewayHarness['queued'] = [];
  const events: GatewayEvent[] = [];
  const app = Fastify({ logger: false });
  await app.register(messagingGateway, {
    prefix: '/webhooks',
    connectors,
    onMessage: async (envelopes, info) => {
      queued.push({ envelopes, info });
    },
    onEvent: (e) => events.push(e),
    ...opts,
  });
  await app.ready();
  return { app, queued, events };
}

/** Deterministic time for the outbox: sleeping advances the clock; jitter is fixed at the midpoint. */
export function fakeTime(start = Date.UTC(2024, 0, 1)) {
  let now = start;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    random: () => 0.5,
    sleeps,
    advance(ms: number) {
      now += ms;
    },
  };
}
