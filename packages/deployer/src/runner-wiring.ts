/**
 * Everything the deployer assumes about the runner, in one module: the config schema and defaults (imported from
 * @greentic/runner's public API), the environment variables that override them, the probe paths, the trust store
 * layout and the command that starts it. Generated artifacts (runner.yaml, env files, manifests, chart, compose)
 * take these values from here, and the tests check them against the runner's real schema and defaults.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CONFIG,
  ENV_OVERRIDES,
  loadRunnerConfig,
  RUNNER_CONFIG_SCHEMA,
  type RunnerConfig,
  type RunnerConfigInput,
} from '@greentic/runner';
import { CONNECTOR_KINDS } from './connectors.js';
import type { EnvironmentDescription } from './description.js';
import { DeployerError } from './errors.js';

export type { RunnerConfig, RunnerConfigInput };

/** The runner's defaults, as the runner defines them. */
export const RUNNER_DEFAULTS: Readonly<RunnerConfig> = DEFAULT_CONFIG;
/** The runner's config JSON Schema (draft-07). */
export const RUNNER_SCHEMA = RUNNER_CONFIG_SCHEMA;

/** The HTTP port the runner listens on by default (`http.port`). Generated artifacts use this port. */
export const RUNNER_HTTP_PORT: number = DEFAULT_CONFIG.http.port;
/** Liveness: answers 200 at once, also while starting (docs/runner.md § HTTP endpoints). */
export const LIVENESS_PATH = '/healthz';
/** Readiness: 200 when flows, stores and NATS are ready; 503 before and while draining. */
export const READINESS_PATH = '/readyz';
/** How long SIGTERM waits for in-flight turns by default (`shutdown.timeoutMs`). */
export const RUNNER_SHUTDOWN_TIMEOUT_MS: number = DEFAULT_CONFIG.shutdown.timeoutMs;

/** The `GREENTIC_RUNNER_*` variable that overrides a config field, from the runner's own table. */
export function runnerEnvName(path: string): string {
  const hit = ENV_OVERRIDES.find((o) => o.path === path);
  if (!hit)
    throw new DeployerError('GT_DEPLOY_ARTIFACT', `the runner has no environment override for ${path}`, {
      step: 'artifacts',
      hint: 'the runner config changed: update packages/deployer/src/runner-wiring.ts',
    });
  return hit.name;
}

/** The variables the generated artifacts set, by what they mean. */
export const RUNNER_ENV = {
  host: runnerEnvName('http.host'),
  port: runnerEnvName('http.port'),
  adminToken: runnerEnvName('admin.token'),
  stores: runnerEnvName('stores.kind'),
  redisUrl: runnerEnvName('stores.redis.url'),
  redisNamespace: runnerEnvName('stores.redis.namespace'),
  nats: runnerEnvName('nats.enabled'),
  natsUrl: runnerEnvName('nats.url'),
  flows: runnerEnvName('flows.paths'),
  env: runnerEnvName('tenancy.env'),
  tenant: runnerEnvName('tenancy.tenant'),
  logLevel: runnerEnvName('log.level'),
} as const;

/** Where the container image keeps things (docker/Dockerfile, the k8s manifests and the serverless config agree). */
export const CONTAINER = {
  /** The runner's config file inside the container (a ConfigMap or a mounted file). */
  configDir: '/etc/greentic',
  configPath: '/etc/greentic/runner.yaml',
  /** Flows mounted next to it (until the runner loads packs itself). */
  flowsDir: '/etc/greentic/flows',
  /** The `node` user of the node:20 images. */
  uid: 1000,
  gid: 1000,
  /** A writable scratch directory (the root filesystem is read-only). */
  tmpDir: '/tmp',
  /** Mounted secrets for MountedSecretsProvider (docs/secrets.md). */
  mountedSecretsDir: '/var/run/secrets/greentic',
} as const;

/** Directory name of the trust store under the Greentic home (`~/.greentic/trust/*.pem`). */
export const TRUST_DIR_NAME = 'trust';

/**
 * Where provider webhooks arrive: the messaging gateway (`@greentic/messaging` `messagingGateway`) registered
 * under this prefix serves `POST <prefix>/<provider>/<connector id>`.
 */
export const WEBHOOK_PREFIX = '/webhooks';
export function webhookPath(provider: string, connectorId: string): string {
  return `${WEBHOOK_PREFIX}/${provider}/${connectorId}`;
}

/** What a runner needs to run an environment's packs. */
export interface RunnerPackInputs {
  /** Flow files of the packs (sources), then `target.runner.flows`. */
  flowFiles: string[];
  /** Built, signed `.gtpack` files (dev-desktop: `$GREENTIC_HOME/packs/*.gtpack`). */
  packFiles?: string[];
  /** The trust store holding the dev public key (`$GREENTIC_HOME/trust`). */
  trustDir?: string;
}

/**
 * The part of a runner config that makes it run a set of packs. The runner's `packs` field is reserved (accepted,
 * not read yet — docs/config.md), so until it reads packs the flows of each pack are served from their sources
 * through `flows.paths`. When the runner loads packs, this is the one place to switch to `packs` + trust.
 */
export function packRunnerSection(p: RunnerPackInputs): RunnerConfigInput {
  return p.flowFiles.length > 0 ? { flows: { paths: p.flowFiles } } : {};
}

/** Where a runner reads `secrets://` references besides the environment: the deployer's encrypted store. */
export interface RunnerSecretsFile {
  dir: string;
  /** Omitted when the master key comes from GREENTIC_SECRETS_MASTER_KEY (the runner reads the variable). */
  masterKeyFile?: string;
}

/**
 * The runner's `connectors:` and `webchat:` sections for the connectors of a description (docs/config.md), with
 * secret fields as `secrets://` references — resolved by the runner at startup from `GREENTIC_SECRET__…` variables,
 * then from the encrypted file store named by `secretsFile` (dev-desktop). Webhooks are served at
 * {@link webhookPath}.
 */
export function connectorsRunnerSection(
  d: EnvironmentDescription,
  o: { telegramApiBase?: string; secretsFile?: RunnerSecretsFile } = {},
): RunnerConfigInput {
  const connectors: Record<string, unknown>[] = [];
  let webchat: Record<string, unknown> | undefined;
  for (const c of d.connectors) {
    const binding = { env: d.environment, tenant: c.tenant, ...(c.team ? { team: c.team } : {}) };
    const s = c.secrets;
    const setting = (name: 'app_id' | 'phone_number_id') => {
      const v = c[name];
      if (!v || v.startsWith('REPLACE-'))
        throw new DeployerError('GT_DEPLOY_CONFIG', `connector ${c.id}: ${name} is not set`, {
          step: 'artifacts',
          resource: `connector:${c.id}`,
          hint: `set connectors[].${name} in greentic.yaml (init wrote a placeholder)`,
        });
      return v;
    };
    const apiBaseUrl =
      c.kind === 'messaging.telegram' && o.telegramApiBase ? o.telegramApiBase : c.api_base_url;
    const common = { id: c.id, binding, ...(apiBaseUrl ? { apiBaseUrl } : {}) };
    switch (c.kind) {
      case 'messaging.telegram':
        connectors.push({
          provider: 'telegram',
          ...common,
          botToken: s.bot_token,
          webhookSecrets: [s.webhook_secret],
        });
        break;
      case 'messaging.slack':
        connectors.push({
          provider: 'slack',
          ...common,
          botToken: s.bot_token,
          signingSecrets: [s.signing_secret],
        });
        break;
      case 'messaging.teams':
        connectors.push({
          provider: 'teams',
          ...common,
          appId: setting('app_id'),
          appPassword: s.app_password,
        });
        break;
      case 'messaging.whatsapp':
        connectors.push({
          provider: 'whatsapp',
          ...common,
          accessToken: s.access_token,
          appSecrets: [s.app_secret],
          verifyTokens: [s.verify_token],
          phoneNumberId: setting('phone_number_id'),
        });
        break;
      case 'messaging.webchat':
        webchat = { enabled: true, binding, secrets: [s.directline_secret] };
        break;
      default:
        if (!CONNECTOR_KINDS[c.kind])
          throw new DeployerError('GT_DEPLOY_CONFIG', `connector ${c.id}: unknown kind ${c.kind}`, {
            step: 'artifacts',
            resource: `connector:${c.id}`,
          });
    }
  }
  const out: Record<string, unknown> = {};
  if (connectors.length > 0) out.connectors = connectors;
  if (webchat) out.webchat = webchat;
  if (o.secretsFile && (connectors.length > 0 || webchat))
    out.secrets = {
      file: {
        dir: o.secretsFile.dir,
        ...(o.secretsFile.masterKeyFile ? { masterKeyFile: o.secretsFile.masterKeyFile } : {}),
      },
    };
  return out as RunnerConfigInput;
}

/**
 * Checks a generated runner config with the runner's own loader (schema, cross-field rules, environment
 * overrides), exactly as `greentic-runner serve --config` would read it. Returns the effective config.
 */
export function checkRunnerConfig(
  config: RunnerConfigInput,
  options: { env?: Record<string, string | undefined>; resource: string },
): RunnerConfig {
  const dir = mkdtempSync(join(tmpdir(), 'greentic-deployer-'));
  try {
    const file = join(dir, 'runner.yaml');
    writeFileSync(file, JSON.stringify(config));
    return loadRunnerConfig(file, { env: options.env ?? {} });
  } catch (e) {
    throw new DeployerError(
      'GT_DEPLOY_ARTIFACT',
      `the generated runner config is not valid for the runner: ${(e as Error).message}`,
      {
        step: 'artifacts',
        resource: options.resource,
        hint: 'fix target.runner in the environment description (greentic.yaml)',
        cause: e,
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The command that runs `greentic-runner`: `GREENTIC_DEPLOYER_RUNNER_COMMAND` (a JSON array, or words separated by
 * spaces) when set, else `node <@greentic/runner's bin>` found through node_modules.
 */
export function runnerCommand(env: Record<string, string | undefined> = process.env): string[] {
  const override = env.GREENTIC_DEPLOYER_RUNNER_COMMAND;
  if (override?.trim()) {
    const t = override.trim();
    if (t.startsWith('[')) {
      const parsed = JSON.parse(t) as unknown;
      if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((s) => typeof s === 'string'))
        return parsed as string[];
      throw new DeployerError(
        'GT_DEPLOY_RUNNER',
        'GREENTIC_DEPLOYER_RUNNER_COMMAND is not a JSON array of strings',
        {
          step: 'runner',
          hint: 'set it to e.g. ["node","/path/to/greentic-runner.js"]',
        },
      );
    }
    return t.split(/\s+/);
  }
  const pkg = findRunnerPackage();
  if (!pkg)
    throw new DeployerError('GT_DEPLOY_RUNNER', 'cannot find the @greentic/runner package', {
      step: 'runner',
      hint: 'install the workspace (npm run setup), or set GREENTIC_DEPLOYER_RUNNER_COMMAND',
    });
  const bin = join(pkg.dir, pkg.bin);
  const dist = join(pkg.dir, 'dist', 'cli.js');
  if (!existsSync(dist))
    throw new DeployerError('GT_DEPLOY_RUNNER', `the runner is not built (${dist} is missing)`, {
      step: 'runner',
      hint: 'build it: npm run build (or set GREENTIC_DEPLOYER_RUNNER_COMMAND)',
    });
  return [process.execPath, bin];
}

function findRunnerPackage(): { dir: string; bin: string } | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', '@greentic', 'runner', 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { bin?: Record<string, string> };
      const bin = pkg.bin?.['greentic-runner'];
      if (bin) return { dir: dirname(candidate), bin };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
