/**
 * serverless: a container configuration for platforms that run N copies of one image (Cloud Run, ECS/Fargate,
 * Azure Container Apps, Knative). Every instance is stateless: sessions and state in Redis, ingress from NATS
 * JetStream, both from environment variables, so any number of instances can run and any can stop.
 */
import { envKeyForUri } from '@greentic/secrets';
import { stringify as toYaml } from 'yaml';
import {
  CONTAINER,
  checkRunnerConfig,
  connectorsRunnerSection,
  LIVENESS_PATH,
  READINESS_PATH,
  RUNNER_ENV,
  RUNNER_HTTP_PORT,
  RUNNER_SHUTDOWN_TIMEOUT_MS,
  type RunnerConfigInput,
} from '../runner-wiring.js';
import { type Artifact, DEFAULT_IMAGE, flowFiles, readFlow, type TargetInput } from './common.js';

export function serverlessConfig(input: TargetInput): RunnerConfigInput {
  const d = input.description;
  const r = d.target.runner ?? {};
  const flows = flowFiles(input);
  return {
    http: { host: '0.0.0.0', port: r.port ?? RUNNER_HTTP_PORT },
    stores: { kind: 'redis', redis: { namespace: `greentic:${d.environment}` } },
    nats: { enabled: true },
    ...(flows.length > 0 ? { flows: { paths: [CONTAINER.flowsDir] } } : {}),
    tenancy: { env: d.environment, ...(r.tenant ? { tenant: r.tenant } : {}) },
    log: { level: r.log_level ?? 'info' },
    // secrets:// references resolve from the GREENTIC_SECRET__… variables of runner.env
    ...connectorsRunnerSection(d, input.telegramApiBase ? { telegramApiBase: input.telegramApiBase } : {}),
  };
}

export interface EnvEntry {
  name: string;
  value: string;
  /** Must be set by the platform (empty here). */
  required?: boolean;
  /** Holds or may hold a secret: set it from the platform's secret store, never in plain config. */
  secret?: boolean;
  comment: string;
}

/** The environment of every instance. URLs of Redis and NATS come from here, never from the image. */
export function serverlessEnv(input: TargetInput): EnvEntry[] {
  const d = input.description;
  const entries: EnvEntry[] = [
    { name: RUNNER_ENV.stores, value: 'redis', comment: 'sessions and state in Redis: instances share them' },
    {
      name: RUNNER_ENV.nats,
      value: 'true',
      comment: 'ingress from NATS JetStream: instances split the work',
    },
    {
      name: RUNNER_ENV.redisUrl,
      value: '',
      required: true,
      secret: true,
      comment:
        'redis://[user:password@]host:6379[/db] or rediss://… (Redis >= 6.2, maxmemory-policy noeviction)',
    },
    {
      name: RUNNER_ENV.natsUrl,
      value: '',
      required: true,
      secret: true,
      comment: 'nats://[user:password@]host:4222 (JetStream enabled: nats-server -js)',
    },
    {
      name: RUNNER_ENV.env,
      value: d.environment,
      comment: 'tenancy.env: the environment these instances serve',
    },
    {
      name: RUNNER_ENV.adminToken,
      value: '',
      secret: true,
      comment: 'bearer token of /admin/* (16+ characters); unset: admin answers on loopback only',
    },
    { name: 'OTEL_SERVICE_NAME', value: 'greentic-runner', comment: 'service.name of traces' },
    {
      name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      value: '',
      comment: 'OTLP/HTTP collector base URL (docs/telemetry.md); unset: http://localhost:4318',
    },
  ];
  for (const s of d.secrets)
    entries.push({
      name: envKeyForUri(s.uri),
      value: '',
      required: true,
      secret: true,
      comment: `${s.uri}: ${s.description ?? 'secret'} (read by the runner's EnvSecretsProvider)`,
    });
  return entries;
}

/** An env file (`docker run --env-file`, most platforms' import): KEY=value lines, comments on their own lines. */
export function formatEnvFile(entries: EnvEntry[], title: string): string {
  const lines = [
    `# ${title}`,
    '# REQUIRED: set by the platform. SECRET: from its secret store, never in plain config.',
  ];
  for (const e of entries) {
    const tags = [e.required ? 'REQUIRED' : '', e.secret ? 'SECRET' : ''].filter(Boolean).join(', ');
    lines.push('', `# ${tags ? `${tags}: ` : ''}${e.comment}`, `${e.name}=${e.value}`);
  }
  return `${lines.join('\n')}\n`;
}

export function serverlessArtifacts(input: TargetInput): Artifact[] {
  const d = input.description;
  const config = serverlessConfig(input);
  const env = serverlessEnv(input);
  // the config must be valid as the runner reads it, with the environment the platform will set
  const sample: Record<string, string> = Object.fromEntries(env.map((e) => [e.name, e.value]));
  sample[RUNNER_ENV.redisUrl] = 'redis://redis.example:6379';
  sample[RUNNER_ENV.natsUrl] = 'nats://nats.example:4222';
  checkRunnerConfig(config, { env: sample, resource: 'artifacts:serverless/runner.yaml' });
  const image = d.target.serverless?.image ?? DEFAULT_IMAGE;
  const flows = flowFiles(input);
  const port = config.http?.port ?? RUNNER_HTTP_PORT;
  const grace = Math.ceil(RUNNER_SHUTDOWN_TIMEOUT_MS / 1000) + 10;
  const container = {
    name: `${d.name}-runner`,
    image: `${image.repository}:${image.tag}`,
    /** the image's ENTRYPOINT is `greentic-runner serve` (docker/Dockerfile) */
    args: ['--config', CONTAINER.configPath],
    port,
    user: `${CONTAINER.uid}:${CONTAINER.gid}`,
    readOnlyRootFilesystem: true,
    writablePaths: [CONTAINER.tmpDir],
    stateless: true,
    concurrency: { minInstances: 0, maxInstances: 'any' },
    healthCheck: { type: 'http', path: LIVENESS_PATH, port, intervalSeconds: 10, timeoutSeconds: 2 },
    readinessCheck: { type: 'http', path: READINESS_PATH, port, intervalSeconds: 5, timeoutSeconds: 2 },
    shutdown: { signal: 'SIGTERM', gracePeriodSeconds: grace },
    files: [
      { path: CONTAINER.configPath, from: 'runner.yaml' },
      ...flows.map((f) => ({ path: `${CONTAINER.flowsDir}/${f.name}`, from: `flows/${f.name}` })),
    ],
    env: Object.fromEntries(env.filter((e) => !e.secret && e.value !== '').map((e) => [e.name, e.value])),
    secrets: env.filter((e) => e.secret).map((e) => ({ name: e.name, required: Boolean(e.required) })),
  };
  const header = `# greentic-runner config generated by greentic-deployer for "${d.name}" (serverless).\n# Stateless: Redis and NATS URLs come from the environment (runner.env). Regenerated by apply.\n`;
  const dockerfile = [
    '# The instance image: the runner image plus this environment\u2019s config and flows (no state, no secrets).',
    `FROM ${image.repository}:${image.tag}`,
    `COPY runner.yaml ${CONTAINER.configPath}`,
    ...(flows.length > 0 ? [`COPY flows/ ${CONTAINER.flowsDir}/`] : []),
    '',
  ].join('\n');
  return [
    { path: 'runner.yaml', content: header + toYaml(config) },
    {
      path: 'runner.env',
      content: formatEnvFile(env, `greentic-runner (${d.name}, serverless): environment of every instance`),
    },
    { path: 'container.json', content: `${JSON.stringify(container, null, 2)}\n` },
    { path: 'Dockerfile', content: dockerfile },
    ...flows.map((f) => ({ path: `flows/${f.name}`, content: readFlow(f) })),
  ];
}
