// Public API of @greentic/messaging. Everything else is internal.

export {
  type ConnectorConfig,
  type ConnectorLookup,
  ConnectorRegistry,
  createConnector,
  PROVIDER_NAMES,
} from './connectors.js';
export {
  buildEnvelope,
  type EgressMessageLike,
  type EnvelopeParts,
  META,
  parseEnvelopeId,
  replyTargetOf,
} from './envelope.js';
export {
  isMessagingError,
  isWebChatCode,
  MessagingError,
  type MessagingErrorCode,
  type MessagingErrorOptions,
  WEBCHAT_ERROR_STATUS,
  type WebChatErrorCode,
} from './errors.js';
export {
  DEFAULT_BODY_LIMIT,
  type GatewayEvent,
  type GatewayOptions,
  type MessageInfo,
  type MessagingGatewayPluginOptions,
  messagingGateway,
  type OnMessage,
  WebhookGateway,
} from './gateway.js';
export {
  type AttemptInfo,
  DEFAULT_RATE_LIMIT,
  DEFAULT_SENT_TTL_MS,
  type DeadLetter,
  type DeadLetterSink,
  type DeliveryReport,
  MemoryDeadLetterSink,
  type OutboxOptions,
  OutboxSender,
  type RetryOptions,
} from './outbox.js';
export { type ConnectorCommonConfig, DEFAULT_REPLAY_TTL_MS } from './providers/base.js';
export { SLACK_DEFAULT_TOLERANCE_SEC, type SlackConfig, SlackConnector } from './providers/slack.js';
export {
  BOT_FRAMEWORK_ISSUER,
  BOT_FRAMEWORK_OPENID_METADATA,
  buildCard,
  type TeamsConfig,
  TeamsConnector,
} from './providers/teams.js';
export { TELEGRAM_SECRET_HEADER, type TelegramConfig, TelegramConnector } from './providers/telegram.js';
export { type WhatsAppConfig, WhatsAppConnector } from './providers/whatsapp.js';
export { TokenBucketLimiter } from './rate-limit.js';
export {
  ADAPTIVE_CARD_CONTENT_TYPE,
  isAdaptiveCard,
  type RenderModel,
  renderModel,
  summarizeAdaptiveCard,
} from './render/model.js';
export { downgradeToText, escapeMarkdownV2, escapeSlack, splitText } from './render/text.js';
export type { SecretList, SecretValue } from './secrets.js';
export {
  MemoryReplayGuard,
  MemorySentLog,
  type MemoryStoreOptions,
  type RedisLikeClient,
  RedisReplayGuard,
  RedisSentLog,
  type ReplayGuard,
  type SentLog,
} from './stores.js';
export type {
  Connector,
  HeaderValue,
  NormalizedMessage,
  NormalizeResult,
  OutboundReply,
  ProviderName,
  ProviderRequest,
  RateLimitOptions,
  ReplyButton,
  ReplyTarget,
  SendResult,
  SimpleCard,
  TenantBinding,
  VerifyResult,
  WebhookRequest,
  WebhookResponse,
} from './types.js';
// The WebChat / Direct Line channel (src/webchat) has its own public API; re-exported as it is.
export * from './webchat/index.js';
