/**
 * JSON Schema (draft-07) of the runner daemon's configuration file (`greentic-runner serve --config <file>`).
 * Every section and field is optional; unknown fields are errors (they are usually typos). Defaults live in
 * `config.ts` (`DEFAULT_CONFIG`) and in docs/config.md#runner-daemon.
 */

const ms = (description: string, minimum = 0) => ({ type: 'integer', minimum, description });
const str = (description: string) => ({ type: 'string', minLength: 1, description });
/** A NATS subject token / stream or consumer name: no spaces, dots, wildcards or slashes. */
const natsName = (description: string) => ({
  type: 'string',
  pattern: '^[A-Za-z0-9_-]+$',
  description,
});
/** A dotted subject prefix without wildcards. */
const subjectPrefix = (description: string) => ({
  type: 'string',
  pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$',
  description,
});

/** An identifier as `@greentic/types` checks it (tenant, team, env of a binding; a connector id). */
const id = (description: string) => ({ type: 'string', pattern: '^[A-Za-z0-9._-]+$', description });
/** `env:NAME`, a `secrets://` URI, or (with `secrets.allowLiterals`) a literal. */
const secretRef = (description: string) => ({
  type: 'string',
  minLength: 1,
  description: `${description}: env:VARIABLE or secrets://env/tenant/team/category/name`,
});
/** One reference or a list of them (the old and the new secret during a rotation). */
const secretRefs = (description: string) => ({
  type: ['string', 'array'],
  minLength: 1,
  minItems: 1,
  items: { type: 'string', minLength: 1 },
  description: `${description}: env:VARIABLE or secrets://… (a list during a rotation)`,
});
const httpUrl = (description: string) => ({ type: 'string', pattern: '^https?://', description });
const binding = (description: string) => ({
  type: 'object',
  additionalProperties: false,
  required: ['env', 'tenant'],
  description,
  properties: {
    env: id('environment'),
    tenant: id('tenant'),
    team: id('team (optional)'),
  },
});
const rateLimit = {
  type: 'object',
  additionalProperties: false,
  required: ['rps', 'burst'],
  properties: {
    rps: { type: 'number', exclusiveMinimum: 0, description: 'sends per second' },
    burst: { type: 'integer', minimum: 1, description: 'sends allowed at once' },
  },
};

/** Fields every connector has (`ConnectorCommonConfig` of @greentic/messaging, without the injectables). */
const CONNECTOR_COMMON = {
  provider: { enum: ['telegram', 'slack', 'teams', 'whatsapp'] },
  id: id('the :id of the webhook URL /webhooks/{provider}/{id}'),
  binding: binding('the tenant every message of this connector belongs to'),
  apiBaseUrl: httpUrl('provider API base URL (a proxy, or a fake server in tests)'),
  rateLimit,
  replayTtlMs: ms('how long provider message ids are remembered (replays dropped)', 1),
  requestTimeoutMs: ms('deadline of one provider API call', 1),
};

/** Per provider: its own fields, and which of them are required. */
const CONNECTOR_PROVIDERS: Record<string, { required: string[]; properties: Record<string, unknown> }> = {
  telegram: {
    required: ['botToken', 'webhookSecrets'],
    properties: {
      botToken: secretRef('the BotFather token'),
      webhookSecrets: secretRefs('the setWebhook secret_token'),
      parseMode: { enum: ['MarkdownV2', 'plain'] },
      answerCallbacks: { enum: ['webhook', 'api', 'off'] },
    },
  },
  slack: {
    required: ['signingSecrets', 'botToken'],
    properties: {
      signingSecrets: secretRefs('the app signing secret'),
      botToken: secretRef('the xoxb- bot token'),
      botUserId: str("the bot's own user id"),
      toleranceSec: { type: 'integer', minimum: 1 },
      replyInThread: { type: 'boolean' },
    },
  },
  teams: {
    required: ['appId', 'appPassword'],
    properties: {
      appId: str('the Microsoft App ID'),
      appPassword: secretRef('the app client secret'),
      appTenantId: str('Entra tenant of a single-tenant bot'),
      jwks: {
        type: 'object',
        description: '{url} or {keys} (public keys: not secret)',
        properties: { url: httpUrl('JWKS URL'), keys: { type: 'array' } },
      },
      openIdMetadataUrl: httpUrl('OpenID metadata document'),
      issuers: { type: 'array', items: { type: 'string', minLength: 1 } },
      clockToleranceSec: { type: 'integer', minimum: 0 },
      jwksCooldownMs: ms('minimum time between two key-set fetches'),
      requireServiceUrlClaim: { type: 'boolean' },
      tokenUrl: httpUrl('outbound token endpoint'),
      tokenScope: str('outbound token scope'),
      serviceUrls: { type: 'array', items: httpUrl('allowed service URL prefix') },
    },
  },
  whatsapp: {
    required: ['appSecrets', 'verifyTokens', 'accessToken', 'phoneNumberId'],
    properties: {
      appSecrets: secretRefs('the Meta app secret'),
      verifyTokens: secretRefs('the subscribe handshake verify token'),
      accessToken: secretRef('the Cloud API access token'),
      phoneNumberId: str('the business phone number id'),
      apiVersion: { type: 'string', pattern: '^v\\d+\\.\\d+$' },
    },
  },
};

const connectorSchema = {
  type: 'object',
  required: ['provider', 'id', 'binding'],
  properties: { provider: CONNECTOR_COMMON.provider },
  allOf: Object.entries(CONNECTOR_PROVIDERS).map(([provider, p]) => ({
    if: { properties: { provider: { const: provider } }, required: ['provider'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable
    then: {
      additionalProperties: false,
      required: p.required,
      properties: { ...CONNECTOR_COMMON, ...p.properties },
    },
  })),
};

const stringList = (description: string) => ({
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description,
});

/** One provider of `oauth.providers`: `@greentic/oauth`'s `OAuthProviderConfig`, its client secret as a reference. */
const oauthProviderSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'clientId'],
  properties: {
    id: {
      type: 'string',
      pattern: '^[a-z0-9._-]+$',
      description: 'the id flows use (`oauth: {provider: <id>}`): lowercase letters, digits, ".", "_", "-"',
    },
    preset: {
      enum: ['google', 'microsoft', 'oidc', 'oauth2'],
      description: 'default oidc with an issuer, else oauth2',
    },
    displayName: str('shown on the consent card ("Sign in with …")'),
    clientId: str('the client id registered at the provider'),
    clientSecret: secretRef('the client secret, resolved once at startup'),
    clientSecretUri: {
      type: 'string',
      pattern: '^secrets://',
      description:
        'a secrets:// URI the broker reads from the encrypted secrets store whenever it needs the secret',
    },
    tokenEndpointAuthMethod: { enum: ['client_secret_basic', 'client_secret_post', 'none'] },
    issuer: httpUrl('oidc: the issuer to discover'),
    authorizationEndpoint: httpUrl('authorization endpoint (oauth2, or an override)'),
    tokenEndpoint: httpUrl('token endpoint (oauth2, or an override)'),
    jwksUri: httpUrl('JWKS of the ID tokens'),
    userinfoEndpoint: httpUrl('userinfo endpoint'),
    scopes: stringList('scopes asked for when a flow names none'),
    clientCredentialsScopes: stringList('scopes of the client-credentials grant'),
    authorizeParams: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'extra authorization request parameters',
    },
    directory: str(
      'microsoft: the Entra ID tenant (common, organizations, consumers, or a tenant id/domain)',
    ),
  },
};

export const RUNNER_CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://greentic.ai/schemas/runner-config.json',
  title: 'greentic-runner serve configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    http: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: str('address the HTTP server listens on'),
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'HTTP port (0: any free port)' },
      },
    },
    admin: {
      type: 'object',
      additionalProperties: false,
      properties: {
        token: {
          type: 'string',
          minLength: 16,
          description: 'bearer token of the admin API; unset: the admin API answers only on loopback',
        },
      },
    },
    stores: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { enum: ['memory', 'redis'], description: 'where sessions and state live' },
        redis: {
          type: 'object',
          additionalProperties: false,
          properties: {
            url: {
              type: 'string',
              pattern: '^rediss?://',
              description: 'redis://[user:password@]host:port[/db]',
            },
            namespace: {
              type: 'string',
              pattern: '^[A-Za-z0-9_.:-]+$',
              description: 'prefix of every key the runner writes (sessions, state, dedupe, sequences)',
            },
            connectTimeoutMs: ms('how long startup waits for Redis before failing', 1),
          },
        },
      },
    },
    nats: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: {
          type: 'boolean',
          description: 'consume ingress from NATS JetStream and publish replies to it',
        },
        url: { type: 'string', pattern: '^(nats|tls|ws|wss)://', description: 'nats://host:port' },
        name: str('client connection name (shows in NATS monitoring)'),
        connectTimeoutMs: ms('how long startup waits for NATS before failing', 1),
        subjectPrefix: subjectPrefix('first tokens of every subject: <prefix>.ingress.…, <prefix>.egress.…'),
        streams: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ingress: natsName('JetStream stream holding <prefix>.ingress.>'),
            egress: natsName('JetStream stream holding <prefix>.egress.>'),
            dlq: natsName('JetStream stream holding the dead-letter subjects'),
          },
        },
        storage: {
          enum: ['file', 'memory'],
          description: 'JetStream storage of the streams the runner creates',
        },
        consumer: natsName('durable pull consumer shared by all runners (they split the work)'),
        maxDeliver: { type: 'integer', minimum: 1, description: 'deliveries of one message before the DLQ' },
        ackWaitMs: ms('redelivery delay of an unacknowledged message (a runner that died)', 100),
        maxAckPending: {
          type: 'integer',
          minimum: 1,
          description: 'unacknowledged messages across all runners',
        },
        concurrency: { type: 'integer', minimum: 1, description: 'turns one runner runs at the same time' },
        duplicateWindowMs: ms('JetStream de-duplication window (Nats-Msg-Id) of the streams', 1000),
        maxAgeMs: ms('how long the streams keep messages (0: forever)'),
        dlqSubject: subjectPrefix('dead letters go to <dlqSubject>.<env>.<tenant>'),
        controlSubject: subjectPrefix(
          'plain-NATS control messages between runners: <controlSubject>.reload.<env> (default <subjectPrefix>.control)',
        ),
      },
    },
    flows: {
      type: 'object',
      additionalProperties: false,
      properties: {
        paths: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: '.ygtc files or directories (relative to the config file)',
        },
        entry: str('flow id that starts new conversations (default: the first loaded)'),
      },
    },
    engine: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxStepsPerTurn: { type: 'integer', minimum: 1 },
        conversationTtlMs: ms('how long a conversation is kept after its last message', 1),
        componentTimeoutMs: ms('deadline of one component call', 1),
        strictTemplates: { type: 'boolean' },
        outboxSize: { type: 'integer', minimum: 1 },
      },
    },
    dedupe: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ttlMs: ms('how long a provider message id (Telegram update_id, Slack event_id) is remembered', 1),
      },
    },
    ordering: {
      type: 'object',
      additionalProperties: false,
      properties: {
        deferDelayMs: ms('first redelivery delay of a message that arrived ahead of its turn', 1),
        gapTimeoutMs: ms('after this long a message waiting for a missing predecessor runs anyway', 1),
        sequenceTtlMs: ms(
          'lifetime of a conversation sequence counter (default: conversationTtlMs + 1 h)',
          1,
        ),
      },
    },
    tenancy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        env: natsName('environment this runner serves (its ingress filter)'),
        tenant: natsName('serve only this tenant (default: every tenant of the environment)'),
      },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      properties: {
        timeoutMs: ms('how long SIGTERM waits for in-flight turns before giving up', 1),
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: ['debug', 'info', 'warn', 'error', 'silent'] },
      },
    },
    packs: {
      type: ['object', 'null'],
      additionalProperties: false,
      description:
        'the pack store; present (even empty) it turns packs on. The loader checks this section itself (same rules)',
      properties: {
        store: str('the pack store directory (relative to this file); default $GREENTIC_HOME/packs'),
        trust: {
          type: ['string', 'array'],
          minLength: 1,
          items: { type: 'string', minLength: 1 },
          description: 'trusted public keys: a PEM file or directory, or a list of them',
        },
        keepVersions: {
          type: 'integer',
          minimum: 1,
          description: "versions of a tenant's pack kept in memory (the current one included)",
        },
      },
    },
    oauth: {
      type: 'object',
      additionalProperties: false,
      required: ['providers', 'signingKey', 'publicUrl'],
      description: 'OAuth: the broker, the oauth flow node and the /oauth/* routes',
      properties: {
        providers: { type: 'array', minItems: 1, items: oauthProviderSchema },
        signingKey: secretRefs('HMAC key of states and token handles, ≥ 32 bytes'),
        publicUrl: httpUrl('public origin of this runner: the redirect URI is <publicUrl>/oauth/callback'),
        redirectUris: { type: 'array', items: httpUrl('another redirect URI the broker accepts') },
        consentStore: {
          enum: ['memory', 'secrets'],
          description: 'where started consents wait: this process (memory) or the encrypted secrets store',
        },
        stateTtlMs: ms('lifetime of a consent link', 1000),
        handleTtlMs: ms('lifetime of a token handle', 1000),
        httpTimeoutMs: ms('timeout of each call to a provider', 1),
        allowInsecureHttp: {
          type: 'boolean',
          description: 'plain http provider endpoints on hosts other than loopback (never in production)',
        },
      },
    },
    connectors: {
      type: 'array',
      items: connectorSchema,
      description: 'messaging connectors served under /webhooks/{provider}/{id}; secrets as references',
    },
    webchat: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', description: 'serve the WebChat page and the Direct Line endpoint' },
        binding: binding('the tenant of WebChat conversations'),
        prefix: {
          type: 'string',
          pattern: '^(/[A-Za-z0-9._~-]+)*$',
          description: 'mount point: the page is <prefix>/webchat/, Direct Line <prefix>/v3/directline',
        },
        title: str('heading and title of the page'),
        botName: str("the bot's name in activities"),
        secrets: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'Direct Line secrets (env:VARIABLE or secrets://…); default: one random per process',
        },
        signingKey: secretRef('HS256 token key, ≥ 32 bytes; default random per process'),
        tokenTtlSec: { type: 'integer', minimum: 60, maximum: 604800 },
        maxTokenMintsPerMinute: { type: 'integer', minimum: 1 },
        publicUrl: httpUrl('public origin for streamUrls (behind a proxy)'),
        frameAncestors: str('CSP frame-ancestors of the page'),
      },
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      properties: {
        bodyLimit: { type: 'integer', minimum: 1024, description: 'largest webhook body (bytes)' },
        queue: {
          type: 'object',
          additionalProperties: false,
          description: 'the in-process queue of memory mode (no NATS)',
          properties: {
            concurrency: { type: 'integer', minimum: 1, description: 'turns run at once' },
            maxPending: {
              type: 'integer',
              minimum: 1,
              description: 'queued messages before webhooks are answered 503',
            },
            maxAttempts: { type: 'integer', minimum: 1, description: 'tries of a turn that throws' },
          },
        },
      },
    },
    egress: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: {
          type: 'boolean',
          description: 'with NATS: run the egress worker that sends the replies of the egress stream',
        },
        consumer: natsName('durable consumer of the egress stream shared by the egress workers'),
        concurrency: { type: 'integer', minimum: 1, description: 'replies one runner sends at once' },
        maxDeliver: { type: 'integer', minimum: 1 },
        ackWaitMs: ms('redelivery delay of an egress message whose sender died', 100),
        sentTtlMs: ms('how long a sent reply id is remembered (never sent twice)', 1),
        rateLimit,
        retry: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxAttempts: { type: 'integer', minimum: 1 },
            baseDelayMs: ms('first backoff'),
            maxDelayMs: ms('longest backoff'),
            maxRetryAfterMs: ms('a 429 asking to wait longer dead-letters the reply'),
          },
        },
      },
    },
    secrets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowLiterals: {
          type: 'boolean',
          description: 'accept literal secrets in this file (development only)',
        },
        file: {
          type: 'object',
          additionalProperties: false,
          properties: {
            dir: str(
              'greentic-secrets store directory (default GREENTIC_SECRETS_DIR, else ~/.greentic/secrets)',
            ),
            masterKeyFile: str('file holding the master key (default GREENTIC_SECRETS_MASTER_KEY[_FILE])'),
          },
        },
      },
    },
  },
} as const;
