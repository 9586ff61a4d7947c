// The runner's platform services: telemetry, secrets, the component host's services and policy hook, OAuth.
export { type OAuthPlatform, type OAuthPlatformOptions, oauthPlatform } from './oauth.js';
export { createPlatform, type PlatformOptions, type RunnerPlatform } from './platform.js';
export {
  POLICY_ATTRIBUTES,
  POLICY_DECISION_EVENT,
  type PolicyRecorderOptions,
  policyDecisionRecorder,
  policyLogFields,
} from './policy.js';
export {
  ALLOW_LIST_FILES,
  componentSecretsService,
  type PlatformSecrets,
  type PlatformSecretsOptions,
  platformSecrets,
  readAllowListFile,
} from './secrets.js';
export {
  RUNNER_SERVICE_NAME,
  type RunnerTelemetry,
  type RunnerTelemetryOptions,
  startRunnerTelemetry,
  startRunnerTelemetryOrFail,
  TELEMETRY_TRIGGER_VARS,
  telemetryRequested,
} from './telemetry.js';
