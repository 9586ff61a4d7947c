import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { defaultGreenticHome } from '@greentic/pack';
import { loadRunnerConfig } from '../config/config.js';
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

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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

/**
 * Reads the `packs:` section of a runner config file (the daemon's loader validates the rest of the file):
 *
 * ```yaml
 * packs:
 *   store: /var/lib/greentic/packs     # relative paths are relative to the config file
 *   trust: [/etc/greentic/trust]       # a path or a list of them
 *   keepVersions: 3
 * ```
 */
function packsSection(
  raw: unknown,
  file: string,
): { store?: string; trust?: string[]; keepVersions?: number } {
  if (raw === undefined || raw === null) return {};
  const fail = (field: string, what: string) =>
    new RunnerError('GT_RUNNER_CONFIG', `${file}: packs.${field}: ${what}`, {
      file,
      field: `packs.${field}`,
    });
  if (!isRecord(raw)) throw fail('', 'must be a mapping with store, trust and keepVersions');
  const base = dirname(resolve(file));
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const out: { store?: string; trust?: string[]; keepVersions?: number } = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'store') {
      if (typeof value !== 'string' || value === '') throw fail('store', 'must be a directory path');
      out.store = path(value);
    } else if (key === 'trust') {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || t === ''))
        throw fail('trust', 'must be a path (PEM public key or directory of them) or a list of paths');
      out.trust = (list as string[]).map(path);
    } else if (key === 'keepVersions') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
        throw fail('keepVersions', `must be a whole number ≥ 1 (got ${JSON.stringify(value)})`);
      out.keepVersions = value;
    } else {
      throw fail(key, 'unknown field (known here: store, trust, keepVersions)');
    }
  }
  return out;
}

/** Resolves the pack settings; fails with `GT_RUNNER_CONFIG` for a bad config file. */
export function resolvePackSettings(input: PackSettingsInput = {}): PackSettings {
  const env = input.env ?? process.env;
  const home = defaultGreenticHome(env);
  let fromConfig: ReturnType<typeof packsSection> = {};
  let configEnv: string | undefined;
  if (input.configFile !== undefined) {
    const config = loadRunnerConfig(input.configFile, { env }) as ReturnType<typeof loadRunnerConfig> & {
      packs?: unknown;
    };
    fromConfig = packsSection(config.packs, input.configFile);
    configEnv = config.tenancy.env;
  }

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
    productionReason = `${input.configFile}: tenancy.env=${configEnv}`;
  }

  let trust: string[];
  let trustSource: PackSettings['trustSource'];
  if (input.trust && input.trust.length > 0) {
    trust = input.trust.map((t) => resolve(t));
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
      );
  }

  return {
    home,
    storeDir: input.store !== undefined ? resolve(input.store) : (fromConfig.store ?? join(home, 'packs')),
    trust,
    trustSource,
    production,
    ...(productionReason !== undefined ? { productionReason } : {}),
    keepVersions: fromConfig.keepVersions ?? DEFAULT_KEEP_VERSIONS,
  };
}
