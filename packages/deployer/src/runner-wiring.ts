/**
 * Everything the deployer assumes about the runner, in one module: the config schema and defaults (imported from
 * @greentic/runner's public API), the environment variables that override them, the probe paths, the trust store
 * layout and the command that starts it. Generated artifacts (runner.yaml, env files, manifests, chart, compose)
 * take these values from here, and the tests check them against the runner's real schema and defaults.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CONFIG,
  ENV_OVERRIDES,
  loadPackIntoStore,
  loadRunnerConfig,
  PackStore,
  RUNNER_CONFIG_SCHEMA,
  type RunnerConfig,
  type RunnerConfigInput,
  resolvePackSettings,
  type StoredPackRef,
} from '@greentic/runner';
import { CONNECTOR_KINDS } from './connectors.js';
import type { EnvironmentDescription } from './description.js';
import { DeployerError } from './errors.js';

export type { RunnerConfig, RunnerConfigInput, StoredPackRef };

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

/** Directory name of the runner's pack store under the Greentic home (its default: `~/.greentic/packs`). */
export const PACK_STORE_DIR_NAME = 'packs';

/** What a runner needs to run an environment's packs. */
export interface RunnerPackInputs {
  /**
   * Flow files served through `flows.paths`: with `packStore`, only `target.runner.flows`; without, the flows of the
   * packs (sources) too.
   */
  flowFiles: string[];
  /** The runner's pack store the packs are loaded into (dev-desktop: `$GREENTIC_HOME/packs`). */
  packStore?: string;
  /** The trust store holding the dev public key (`$GREENTIC_HOME/trust`). */
  trustDir?: string;
}

/**
 * The part of a runner config that makes it run a set of packs. With a pack store (dev-desktop): `packs: {store,
 * trust}` — the runner runs each tenant's pack from the store (verified, with its components, hot reload on
 * `POST /admin/reload`), and `flows.paths` only carries the extra flows of `target.runner.flows`. Without one (the
 * container targets, which have no pack store yet): the flows are served from their sources through `flows.paths`.
 */
export function packRunnerSection(p: RunnerPackInputs): RunnerConfigInput {
  const flows = p.flowFiles.length > 0 ? { flows: { paths: p.flowFiles } } : {};
  if (!p.packStore) return flows;
  return { packs: { store: p.packStore, ...(p.trustDir ? { trust: [p.trustDir] } : {}) }, ...flows };
}

/** `sha256:<hex>` of a file: what the pack store names an archive by (the pack's archive digest). */
export function fileDigest(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
}

export interface TenantPackLoad {
  store: string;
  trustDir: string;
  tenant: string;
  /** The built, signed `.gtpack`. */
  file: string;
  env?: Record<string, string | undefined>;
}

export interface TenantPackLoaded {
  digest: string;
  /** False: the tenant's current pack already had this digest (nothing written). */
  changed: boolean;
  /** The tenant's current pack before (undefined: none). */
  previous?: StoredPackRef;
}

/** The tenant's current pack in a store (undefined: none). */
export async function currentTenantPack(store: string, tenant: string): Promise<StoredPackRef | undefined> {
  return (await new PackStore(store).index(tenant))?.current ?? undefined;
}

/** True when the tenant's current pack in the store has this digest and its archive is there. */
export async function tenantPackIsCurrent(store: string, tenant: string, digest: string): Promise<boolean> {
  try {
    const s = new PackStore(store);
    return (await s.index(tenant))?.current?.digest === digest && existsSync(s.blobPath(digest));
  } catch {
    return false;
  }
}

/**
 * Makes a built pack the tenant's current pack in the runner's pack store, through the runner's own `load`
 * (`loadPackIntoStore`: verified against the trust store before anything is written). A no-op when the tenant's
 * current pack already has the archive's digest.
 */
export async function loadTenantPack(o: TenantPackLoad): Promise<TenantPackLoaded> {
  const resource = `pack-load:${o.tenant}`;
  try {
    const digest = fileDigest(o.file);
    const before = await currentTenantPack(o.store, o.tenant);
    if (before?.digest === digest && existsSync(new PackStore(o.store).blobPath(digest)))
      return { digest, changed: false, previous: before };
    const settings = resolvePackSettings({ env: o.env ?? {}, store: o.store, trust: [o.trustDir] });
    const r = await loadPackIntoStore({ pack: o.file, tenant: o.tenant, settings });
    return { digest: r.ref.digest, changed: true, ...(before ? { previous: before } : {}) };
  } catch (e) {
    throw new DeployerError(
      'GT_DEPLOY_PACK',
      `loading ${o.file} into the pack store ${o.store} for tenant ${o.tenant} failed: ${(e as Error).message}`,
      {
        step: 'pack-load',
        resource,
        hint: `check it with: greentic-runner load --pack ${o.file} --tenant ${o.tenant} --store ${o.store} --trust ${o.trustDir}`,
        cause: e,
      },
    );
  }
}

/**
 * Undoes {@link loadTenantPack}: when the tenant's current pack is still one the deployer loaded (`digests`), the
 * pack it had before (`before`) is made current again, or, when it had none, its index is removed (the tenant then
 * falls back to the default pack). Archives the deployer loaded that no index has as current any more are deleted.
 * Returns false when someone else has loaded another pack for the tenant since (left as it is).
 */
export async function unloadTenantPack(o: {
  store: string;
  tenant: string;
  digests: string[];
  before?: StoredPackRef;
}): Promise<boolean> {
  const store = new PackStore(o.store);
  const current = (await store.index(o.tenant))?.current;
  const ours = current !== undefined && current !== null && o.digests.includes(current.digest);
  if (ours) {
    if (o.before && existsSync(store.blobPath(o.before.digest))) await store.setCurrent(o.tenant, o.before);
    else await store.removeIndex(o.tenant);
  }
  await store.prune(o.digests);
  return ours;
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
