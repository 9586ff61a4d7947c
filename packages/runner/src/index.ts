export {
  type ConsumerStats,
  RunnerConsumer,
  type RunnerConsumerOptions,
  type TurnHandler,
} from './bus/consumer.js';
export { type DeadLetterOrigin, publishDeadLetter } from './bus/dlq.js';
export {
  type BusTopology,
  type ConsumerSettings,
  ensureConsumer,
  ensureStreams,
  streamConfigs,
} from './bus/jetstream.js';
export {
  type Claim,
  type ClaimOptions,
  type IngressLedger,
  MemoryIngressLedger,
  RedisIngressLedger,
} from './bus/ledger.js';
export { decodeEgress, decodeEnvelope, type EgressMessage, egressMessages } from './bus/messages.js';
export {
  IngressPublisher,
  type IngressPublisherOptions,
  type PublishIngressOptions,
  type PublishIngressResult,
} from './bus/publisher.js';
export {
  conversationKey,
  dlqSubject,
  egressFilter,
  egressMsgId,
  egressSubject,
  HEADERS,
  ingressFilter,
  ingressMsgId,
  ingressSubject,
  NO_TEAM,
  type SubjectParts,
  sanitizeToken,
  subjectParts,
} from './bus/subjects.js';
export {
  extractTrace,
  ingressTraceContext,
  injectTrace,
  newTraceparent,
  type TraceContext,
} from './bus/trace.js';
export { type CliIO, runRunnerCli } from './cli.js';
export {
  CONNECTOR_SECRET_FIELDS,
  type ConnectorProvider,
  type ConnectorSpec,
  DEFAULT_CONFIG,
  ENV_OVERRIDES,
  type LoadConfigOptions,
  loadRunnerConfig,
  type OAuthConfig,
  type OAuthPresetName,
  type OAuthProviderSpec,
  type PacksConfig,
  parseSecretRef,
  type RunnerConfig,
  type RunnerConfigInput,
  redactUrl,
  type SecretRef,
  secretRefsOf,
} from './config/config.js';
export { RUNNER_CONFIG_SCHEMA } from './config/schema.js';
export { connectNats, connectRedis } from './daemon/connect.js';
export {
  consumerOf,
  type DaemonStatus,
  type PackRow,
  RunnerDaemon,
  type RunnerDaemonOptions,
  topologyOf,
} from './daemon/daemon.js';
export { DaemonFlowSource, FLOW_PATHS_VERSION, type FlowSet, type LoadedFlow } from './daemon/flows.js';
export { adminGate, isLoopback } from './daemon/http.js';
export {
  DAEMON_LOG_FORMAT,
  jsonLogger,
  type Logger,
  loggerOverPino,
  type PinoLike,
  pinoLinesTo,
} from './daemon/log.js';
export {
  createDaemonOAuth,
  type DaemonOAuth,
  type DaemonOAuthOptions,
  oauthCallbackUrl,
  ResumeRoutes,
} from './daemon/oauth.js';
export {
  defaultStoreFactory,
  memoryStores,
  type RunnerStores,
  redisStores,
  type StoreFactory,
} from './daemon/stores.js';
export {
  componentRef,
  type EngineOptions,
  FlowEngine,
  type FlowRef,
  type FlowSource,
  type HandleMessageOptions,
  isBuiltinOp,
  type OutboundMessage,
  type TurnResult,
  type TurnStatus,
} from './engine/engine.js';
export { RunnerError, type RunnerErrorCode } from './errors.js';
export {
  type EgressOutcome,
  type EgressSend,
  type EgressStats,
  EgressWorker,
  type EgressWorkerOptions,
} from './gateway/egress-worker.js';
export {
  type GatewayRuntime,
  type GatewayStats,
  RunnerGateway,
  type RunnerGatewayOptions,
} from './gateway/gateway.js';
export {
  type MemoryQueueOptions,
  type MemoryQueueStats,
  MemoryTurnQueue,
  type QueuedMessage,
} from './gateway/queue.js';
export {
  type ResolvedGatewaySecrets,
  type ResolveSecretsOptions,
  resolveGatewaySecrets,
  type SecretRefResolver,
  secretRefResolver,
} from './gateway/secrets.js';
export { type RunnerHostServicesOptions, runnerHostServices } from './host-services.js';
export { envelopeFromInput, type InputDefaults } from './input.js';
export { componentSource, PackComponentRegistry } from './packs/components.js';
export {
  type InstallStoredOptions,
  type InstallStoredResult,
  installStoredPacks,
  type LoadPackOptions,
  type LoadPackResult,
  loadPackIntoStore,
  type OpenTenantPackResult,
  openTenantPack,
} from './packs/load.js';
export {
  type InstallResult,
  type PackVersion,
  packEntryFlow,
  packVersionKey,
  TenantPackRegistry,
  type TenantPackRegistryOptions,
} from './packs/registry.js';
export { type PackEngine, type PackEngineOptions, packEngine } from './packs/run.js';
export {
  DEFAULT_KEEP_VERSIONS,
  type PackSettings,
  type PackSettingsInput,
  PRODUCTION_ENVS,
  packSettingsOf,
  resolvePackSettings,
} from './packs/settings.js';
export {
  PACK_STORE_HISTORY_LIMIT,
  PACK_STORE_INDEX_SCHEMA,
  PackStore,
  type PackStoreIndex,
  type StoredPackRef,
} from './packs/store.js';
export {
  ALLOW_LIST_FILES,
  componentSecretsService,
  createPlatform,
  type OAuthPlatform,
  type OAuthPlatformOptions,
  oauthPlatform,
  type PlatformOptions,
  type PlatformSecrets,
  type PlatformSecretsOptions,
  POLICY_ATTRIBUTES,
  POLICY_DECISION_EVENT,
  type PolicyRecorderOptions,
  platformSecrets,
  policyDecisionRecorder,
  policyLogFields,
  RUNNER_SERVICE_NAME,
  type RunnerPlatform,
  type RunnerTelemetry,
  type RunnerTelemetryOptions,
  readAllowListFile,
  startRunnerTelemetry,
  startRunnerTelemetryOrFail,
  TELEMETRY_TRIGGER_VARS,
  telemetryRequested,
} from './platform/index.js';
