import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultGreenticHome } from '@greentic/pack';
import { loadRunnerConfig, type PacksConfig, type RunnerConfig } from '../config/config.js';
import { RunnerError } from '../errors.js';

/** How many versions of a tenant's pack the registry keeps in memory by default (the current one included). */
export const DEFAULT_KEEP_VERSIONS = 3;

/** Environment names that make a runner a production runner (case-insensitive). */
export const PRODUCTION_ENVS: readonly string[] = ['production', 'prod'];

/**
 * Where packs are stored and which keys are trusted, and whether this is a production runner — resolved from
 * command-line flags, the runner config file (`--config`, its `packs:` and `tenancy.env`) and the environment.
 */
export interface PackSettings {
  /** `$GREENTIC_HOME`, default `~/.greentic`. */
  home: string;
  /** The pack store: `--store`, else `packs.store` of the config, else `$GREENTIC_HOME/packs`. */
  storeDir: string;
  /**
   * Trusted public keys (PEM files or directories): `--trust`, else `packs.trust` of the config, else
   * `$GREENTIC_HOME/trust` when it holds a `*.pem`/`*.pub` file. Empty: no key is trusted.
   */
  trust: string[];
  /** Where `trust` came from, for messages. */
  trustSource: 'flag' | 'config' | 'default';
  /** Production runners refuse `--allow-unsigned`, and refuse to run packs that were loaded unsigned. */
  production: boolean;
  /** Why this is a production runner (`GREENTIC_ENV=production`, `runner.yaml: tenancy.env=prod`, …). */
  productionReason?: string;
  /** Versions of a tenant's pack kept in memory (current included): `packs.keepVersions`, default 3. */
  keepVersions: number;
}

export interface PackSettingsInput {
  env?: Record<string, string | undefined>;
  /** `--config <file>`: the runner configuration (docs/config.md#runner-daemon). */
  configFile?: string;
  /** `--store <dir>`. */
  store?: string;
  /** `--trust <dir|pem>` (repeatable). */
  trust?: string[];
}

function isProductionName(value: string | undefined): boolean {
  return value !== undefined && PRODUCTION_ENVS.includes(value.trim().toLowerCase());
}

/** True when the directory exists and holds at least one `*.pem`/`*.pub` file. */
function hasKeyFiles(dir: string): boolean {
  try {
    return (
      statSync(dir).isDirectory() && readdirSync(dir).some((f) => f.endsWith('.pem') || f.endsWith('.pub'))
    );
  } catch {
    return false;
  }
}

/** Resolves the pack settings; fails with `GT_RUNNER_CONFIG` for a bad config file. */
export function resolvePackSettings(input: PackSettingsInput = {}): PackSettings {
  const env = input.env ?? process.env;
  let config: RunnerConfig | undefined;
  if (input.configFile !== undefined) config = loadRunnerConfig(input.configFile, { env });
  return packSettings({
    env,
    ...(config ? { packs: config.packs ?? {}, tenancyEnv: config.tenancy.env } : {}),
    ...(input.configFile !== undefined ? { configLabel: input.configFile } : {}),
    ...(input.store !== undefined ? { store: input.store } : {}),
    ...(input.trust !== undefined ? { trust: input.trust } : {}),
  });
}

/**
 * The pack settings of a runner whose configuration is already loaded (the daemon): its `packs:` section and
 * `tenancy.env`, with the same defaults and production rules as {@link resolvePackSettings}.
 */
export function packSettingsOf(
  config: Pick<RunnerConfig, 'packs' | 'tenancy' | 'source'>,
  env: Record<string, string | undefined> = process.env,
): PackSettings {
  return packSettings({
    env,
    packs: config.packs ?? {},
    tenancyEnv: config.tenancy.env,
    configLabel: config.source ?? 'the runner configuration',
  });
}

function packSettings(o: {
  env: Record<string, string | undefined>;
  packs?: PacksConfig;
  tenancyEnv?: string;
  configLabel?: string;
  store?: string;
  trust?: string[];
}): PackSettings {
  const { env } = o;
  const home = defaultGreenticHome(env);
  const fromConfig = o.packs ?? {};
  const configEnv = o.tenancyEnv;

  let production = false;
  let productionReason: string | undefined;
  if (isProductionName(env.GREENTIC_ENV)) {
    production = true;
    productionReason = `GREENTIC_ENV=${env.GREENTIC_ENV}`;
  } else if (isProductionName(env.GREENTIC_RUNNER_ENV)) {
    production = true;
    productionReason = `GREENTIC_RUNNER_ENV=${env.GREENTIC_RUNNER_ENV}`;
  } else if (isProductionName(configEnv)) {
    production = true;
    productionReason = `${o.configLabel}: tenancy.env=${configEnv}`;
  }

  let trust: string[];
  let trustSource: PackSettings['trustSource'];
  if (o.trust && o.trust.length > 0) {
    trust = o.trust.map((t) => resolve(t));
    trustSource = 'flag';
  } else if (fromConfig.trust) {
    trust = fromConfig.trust;
    trustSource = 'config';
  } else {
    const dir = join(home, 'trust');
    trust = hasKeyFiles(dir) ? [dir] : [];
    trustSource = 'default';
  }
  for (const t of trustSource === 'default' ? [] : trust) {
    if (!existsSync(t))
      throw new RunnerError(
        trustSource === 'flag' ? 'GT_RUNNER_USAGE' : 'GT_RUNNER_CONFIG',
        `trust store ${t} does not exist`,
        trustSource === 'config' ? { field: 'packs.trust' } : {},
      );
  }

  return {
    home,
    storeDir: o.store !== undefined ? resolve(o.store) : (fromConfig.store ?? join(home, 'packs')),
    trust,
    trustSource,
    production,
    ...(productionReason !== undefined ? { productionReason } : {}),
    keepVersions: fromConfig.keepVersions ?? DEFAULT_KEEP_VERSIONS,
  };
}
