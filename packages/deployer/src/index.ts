/**
 * @greentic/deployer — describe a Greentic environment (greentic.yaml), bootstrap it (tenants, secrets, the dev
 * signing key, connector webhooks, packs), and plan/apply/destroy it on dev-desktop, serverless or Kubernetes.
 */

export { type DeployerCliIO, formatPlan, runDeployerCli } from './cli.js';
export {
  CONNECTOR_KIND_NAMES,
  CONNECTOR_KINDS,
  type ConnectorKindSpec,
  type ConnectorSecretSpec,
  TELEGRAM_SECRET_TOKEN,
} from './connectors.js';
export {
  type ConnectorSpec,
  createDescription,
  ENVIRONMENT_SCHEMA,
  type EnvironmentDescription,
  formatDescription,
  type InitOptions,
  type K8sSpec,
  type LoadedDescription,
  loadDescription,
  locateDescription,
  type PackSpec,
  parseDescription,
  type SecretSpec,
  secretEnvNames,
  TARGET_KINDS,
  type TargetKind,
  type TargetSpec,
  type TenantSpec,
  writeDescription,
} from './description.js';
export {
  type Action,
  type ApplyResult,
  apply,
  type DeployOptions,
  type DestroyOptions,
  type DestroyResult,
  destroy,
  type Plan,
  type PlanEntry,
  plan,
  type ResourceKind,
} from './engine.js';
export {
  asDeployerError,
  DEPLOYER_ERROR_CODES,
  DeployerError,
  type DeployerErrorCode,
  type DeployerErrorOptions,
  type DeployStep,
  EXIT,
  isDeployerError,
} from './errors.js';
export { type GreenticHome, greenticHome } from './home.js';
export { ensureDevKey, type PackInfo, publishRef, readPackInfo } from './packs.js';
export {
  CONTAINER,
  checkRunnerConfig,
  connectorsRunnerSection,
  LIVENESS_PATH,
  packRunnerSection,
  READINESS_PATH,
  RUNNER_DEFAULTS,
  RUNNER_ENV,
  RUNNER_HTTP_PORT,
  RUNNER_SCHEMA,
  RUNNER_SHUTDOWN_TIMEOUT_MS,
  type RunnerPackInputs,
  type RunnerSecretsFile,
  runnerCommand,
  runnerEnvName,
  TRUST_DIR_NAME,
  WEBHOOK_PREFIX,
  webhookPath,
} from './runner-wiring.js';
export {
  collectSecretValues,
  createMasterKey,
  generateSecretValue,
  openSecretsStore,
  readMasterKey,
  readSecretsFile,
  SecretPrompter,
} from './secrets.js';
export { DeployerState, type ResourceRecord } from './state.js';
export type { Artifact, TargetInput } from './targets/common.js';
export {
  devDesktopArtifacts,
  devDesktopConfig,
  type RunnerPidFile,
  runningRunner,
  startRunner,
  stopRunner,
} from './targets/dev-desktop.js';
export {
  CHART_NAME,
  CHART_VERSION,
  type ChartLintProblem,
  helmChartFiles,
  lintChart,
  renderChartTemplates,
} from './targets/helm.js';
export { targetArtifacts } from './targets/index.js';
export {
  type K8sObject,
  type K8sValues,
  k8sArtifacts,
  k8sNames,
  k8sObjects,
  k8sRunnerConfig,
  k8sValues,
  literalValues,
  secretKeys,
  toYamlDocuments,
} from './targets/k8s.js';
export { type EnvEntry, serverlessArtifacts, serverlessConfig, serverlessEnv } from './targets/serverless.js';
export { deleteWebhook, getWebhookInfo, setWebhook } from './telegram.js';
