import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { componentOfCall } from '@greentic/component';
import type { HostSecretsService } from '@greentic/interfaces';
import { defaultGreenticHome } from '@greentic/pack';
import {
  type AllowListDoc,
  type AuditSink,
  componentSecretRequirements,
  DEFAULT_MOUNT_ROOT,
  EncryptedFileSecretsProvider,
  EnvSecretsProvider,
  MountedSecretsProvider,
  parseAllowList,
  SecretsAllowList,
  type SecretsProvider,
  SecretsService,
} from '@greentic/secrets';
import { parse as parseYaml } from 'yaml';
import { RunnerError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Names of the allow-list file looked for in the secrets directory, in this order. */
export const ALLOW_LIST_FILES: readonly string[] = ['allow-list.json', 'allow-list.yaml', 'allow-list.yml'];

export interface PlatformSecretsOptions {
  /** The provider chain; replaces the default (environment, mounted files, encrypted file store). */
  providers?: SecretsProvider[];
  /** Encrypted file store directory: default `GREENTIC_SECRETS_DIR`, else `$GREENTIC_HOME/secrets`. */
  dir?: string;
  /** Default `GREENTIC_SECRETS_MASTER_KEY`, else the file `masterKeyFile`/`GREENTIC_SECRETS_MASTER_KEY_FILE`. */
  masterKey?: string;
  masterKeyFile?: string;
  /**
   * Root of mounted (Kubernetes) secret files: default `GREENTIC_SECRETS_MOUNT_DIR`, else
   * `/var/run/secrets/greentic` — used when the directory exists. `false`: none.
   */
  mountDir?: string | false;
  /** The allow-list document; replaces the file. */
  allowList?: AllowListDoc | SecretsAllowList;
  /**
   * The allow-list file (JSON or YAML): default `GREENTIC_SECRETS_ALLOW_LIST`, else the first of
   * `allow-list.json`, `allow-list.yaml`, `allow-list.yml` in the store directory. None: every secret is denied.
   */
  allowListFile?: string;
  /** More audit sinks (every decision also goes to `service.audit`). */
  audit?: AuditSink | AuditSink[];
}

/** The secrets side of the platform. */
export interface PlatformSecrets {
  service: SecretsService;
  /** The writable encrypted file store of the chain (OAuth tokens, `greentic-secrets`), unless `providers` replaced it. */
  store: EncryptedFileSecretsProvider | undefined;
  /** Where the allow-list came from: a file path, `options`, or `none` (deny all). */
  allowListSource: string;
  /** The store directory. */
  dir: string;
}

function readMasterKey(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RunnerError(
      'GT_RUNNER_CONFIG',
      `cannot read the secrets master key file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file },
      { cause: e },
    );
  }
  const key = text.trim();
  if (key === '')
    throw new RunnerError('GT_RUNNER_CONFIG', `the secrets master key file ${file} is empty`, { file });
  return key;
}

/** Reads and checks an allow-list file (JSON or YAML). Errors name the file and the JSON pointer, never values. */
export function readAllowListFile(file: string): SecretsAllowList {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RunnerError(
      'GT_RUNNER_CONFIG',
      `cannot read the secrets allow-list ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      { file },
      { cause: e },
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new RunnerError(
      'GT_RUNNER_CONFIG',
      `the secrets allow-list ${file} is not valid JSON or YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`,
      { file },
    );
  }
  try {
    return parseAllowList(doc ?? {});
  } catch (e) {
    throw new RunnerError('GT_RUNNER_CONFIG', `${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
}

/**
 * Builds the runner's deny-by-default {@link SecretsService}: providers environment (`GREENTIC_SECRET__…`), mounted
 * files (when the directory exists) and the encrypted file store (`greentic-secrets`' store: same directory and
 * master key variables); the tenant allow-list from options or its file.
 */
export function platformSecrets(
  options: PlatformSecretsOptions = {},
  env: Env = process.env,
): PlatformSecrets {
  const home = defaultGreenticHome(env as Record<string, string | undefined>);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(p));
  const dir = abs(options.dir ?? (env.GREENTIC_SECRETS_DIR || join(home, 'secrets')));
  let store: EncryptedFileSecretsProvider | undefined;
  let providers = options.providers;
  if (!providers) {
    let masterKey = options.masterKey;
    if (masterKey === undefined) {
      if (options.masterKeyFile !== undefined) masterKey = readMasterKey(abs(options.masterKeyFile));
      else if (env.GREENTIC_SECRETS_MASTER_KEY) masterKey = env.GREENTIC_SECRETS_MASTER_KEY;
      else if (env.GREENTIC_SECRETS_MASTER_KEY_FILE)
        masterKey = readMasterKey(abs(env.GREENTIC_SECRETS_MASTER_KEY_FILE));
    }
    try {
      store = new EncryptedFileSecretsProvider({ dir, ...(masterKey !== undefined ? { masterKey } : {}) });
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `the encrypted secrets store ${dir}: ${(e as Error).message}`,
        { dir },
        { cause: e },
      );
    }
    const mountDir =
      options.mountDir === false
        ? undefined
        : (options.mountDir ?? (env.GREENTIC_SECRETS_MOUNT_DIR || DEFAULT_MOUNT_ROOT));
    providers = [
      new EnvSecretsProvider({ env: env as Record<string, string | undefined> }),
      ...(mountDir !== undefined && existsSync(mountDir)
        ? [new MountedSecretsProvider({ root: mountDir })]
        : []),
      store,
    ];
  }
  let allowList: SecretsAllowList;
  let allowListSource: string;
  if (options.allowList !== undefined) {
    try {
      allowList = parseAllowList(options.allowList);
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `secrets allow-list: ${(e as Error).message}`,
        {},
        { cause: e },
      );
    }
    allowListSource = 'options';
  } else {
    const named = options.allowListFile ?? (env.GREENTIC_SECRETS_ALLOW_LIST || undefined);
    const file =
      named !== undefined ? abs(named) : ALLOW_LIST_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
    if (file !== undefined) {
      allowList = readAllowListFile(file);
      allowListSource = file;
    } else {
      allowList = SecretsAllowList.denyAll();
      allowListSource = 'none';
    }
  }
  const service = new SecretsService({
    providers,
    allowList,
    ...(options.audit !== undefined ? { audit: options.audit } : {}),
  });
  return { service, store, allowListSource, dir };
}

/**
 * The component host's `secrets` service on a {@link SecretsService}: each `get` is checked for the calling
 * component — its manifest's declarations (`secret_requirements`, `capabilities.host.secrets.required`) and its
 * pack (`secretCategory`, which the runner sets to the pack id) — in the caller's tenant scope, against the tenant
 * allow-list. A component the host did not load (no manifest) declares nothing, so it gets nothing.
 */
export function componentSecretsService(service: SecretsService): HostSecretsService {
  return service.hostSecrets((call) => {
    const c = componentOfCall(call);
    if (!c?.manifest) return { declares: [] };
    return { declares: componentSecretRequirements(c.manifest), packId: c.secretCategory };
  });
}
