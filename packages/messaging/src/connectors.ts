import { MessagingError } from './errors.js';
import { type SlackConfig, SlackConnector } from './providers/slack.js';
import { type TeamsConfig, TeamsConnector } from './providers/teams.js';
import { type TelegramConfig, TelegramConnector } from './providers/telegram.js';
import { type WhatsAppConfig, WhatsAppConnector } from './providers/whatsapp.js';
import type { Connector, ProviderName } from './types.js';

/** A connector's configuration, tagged with its provider (the shape a runner config file maps to). */
export type ConnectorConfig =
  | ({ provider: 'telegram' } & TelegramConfig)
  | ({ provider: 'slack' } & SlackConfig)
  | ({ provider: 'teams' } & TeamsConfig)
  | ({ provider: 'whatsapp' } & WhatsAppConfig);

export const PROVIDER_NAMES: readonly ProviderName[] = ['telegram', 'slack', 'teams', 'whatsapp'];

/** Builds the connector a config describes. Throws `GT_MSG_CONFIG` naming the first problem. */
export function createConnector(config: ConnectorConfig): Connector {
  switch (config?.provider) {
    case 'telegram':
      return new TelegramConnector(config);
    case 'slack':
      return new SlackConnector(config);
    case 'teams':
      return new TeamsConnector(config);
    case 'whatsapp':
      return new WhatsAppConnector(config);
    default:
      throw new MessagingError(
        'GT_MSG_CONFIG',
        `connector provider ${JSON.stringify((config as { provider?: unknown })?.provider)} is not one of ${PROVIDER_NAMES.join(', ')}`,
      );
  }
}

/** Finds the connector of a webhook route or a reply target. */
export interface ConnectorLookup {
  get(provider: string, id: string): Connector | undefined;
}

/** The configured connectors by provider and id. Also the object the gateway and the outbox share. */
export class ConnectorRegistry implements ConnectorLookup {
  private readonly byKey = new Map<string, Connector>();

  constructor(connectors: readonly (Connector | ConnectorConfig)[] = []) {
    for (const c of connectors) this.add(c);
  }

  /** Adds a connector (or builds it from its config). A second connector with the same provider and id is refused. */
  add(c: Connector | ConnectorConfig): Connector {
    const connector = isConnector(c) ? c : createConnector(c);
    const key = `${connector.provider}/${connector.id}`;
    if (this.byKey.has(key))
      throw new MessagingError('GT_MSG_CONFIG', `connector ${key} is configured twice`);
    this.byKey.set(key, connector);
    return connector;
  }

  /** Removes a connector; its webhook answers 404 from then on. */
  remove(provider: string, id: string): boolean {
    return this.byKey.delete(`${provider}/${id}`);
  }

  get(provider: string, id: string): Connector | undefined {
    return this.byKey.get(`${provider}/${id}`);
  }

  list(): Connector[] {
    return [...this.byKey.values()];
  }
}

function isConnector(c: Connector | ConnectorConfig): c is Connector {
  return typeof (c as Connector).verify === 'function' && typeof (c as Connector).send === 'function';
}

/** A lookup from what a caller passes: a registry, any lookup, or a list of connectors/configs. */
export function toLookup(c: ConnectorLookup | readonly (Connector | ConnectorConfig)[]): ConnectorLookup {
  return Array.isArray(c)
    ? new ConnectorRegistry(c as readonly (Connector | ConnectorConfig)[])
    : (c as ConnectorLookup);
}
