import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorConfig } from '@greentic/messaging';
import {
  EncryptedFileSecretsProvider,
  EnvSecretsProvider,
  type SecretsProvider,
  SecretsResolver,
} from '@greentic/secrets';
import {
  CONNECTOR_SECRET_FIELDS,
  parseSecretRef,
  type RunnerConfig,
  type SecretRef,
} from '../config/config.js';
import { RunnerError } from '../errors.js';

/** What the gateway needs, every secret reference replaced by its value. */
export interface ResolvedGatewaySecrets {
  connectors: ConnectorConfig[];
  webchat?: { secrets: string[]; signingKey?: string };
}

export interface ResolveSecretsOptions {
  /** Environment of `env:` references and of the secrets providers (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Providers for `secrets://` references (default: environment, then the encrypted file store of `secrets.file`). */
  providers?: SecretsProvider[];
}

const fieldName = (pointer: string) => pointer.split('/').slice(1).join('.');

/** Resolves one secret reference of the configuration; errors name the field (a JSON pointer) and the reference. */
export type SecretRefResolver = (ref: SecretRef, pointer: string) => Promise<string>;

/**
 * The resolver of the configuration's secret references (`env:NAME`, `secrets://…`, literals where allowed): local
 * sources only — environment variables, then the providers (default: the environment provider and the encrypted
 * file store of `secrets.file`). Errors name the field and the reference, never a value.
 */
export function secretRefResolver(cfg: RunnerConfig, options: ResolveSecretsOptions = {}): SecretRefResolver {
  const env = options.env ?? process.env;
  let resolver: SecretsResolver | undefined;
  const chain = async () => {
    resolver ??= new SecretsResolver(options.providers ?? (await defaultProviders(cfg, env)));
    return resolver;
  };
  const where = (pointer: string) => `${cfg.source ? `${cfg.source}: ` : ''}${fieldName(pointer)}`;
  return async (ref: SecretRef, pointer: string): Promise<string> => {
    const r = parseSecretRef(ref);
    if (r.kind === 'literal') return ref; // allowed: the configuration refused it otherwise
    if (r.kind === 'bad')
      throw new RunnerError('GT_RUNNER_CONFIG', `${where(pointer)}: not a secret reference: ${r.why}`, {
        field: fieldName(pointer),
      });
    if (r.kind === 'env') {
      const v = env[r.name];
      if (v === undefined || v === '')
        throw new RunnerError(
          'GT_RUNNER_CONFIG',
          `${where(pointer)}: environment variable ${r.name} is not set (or empty); export it, or reference a secrets:// URI`,
          { field: fieldName(pointer), env: r.name },
        );
      return v;
    }
    let record: Awaited<ReturnType<SecretsResolver['get']>>;
    try {
      record = await (await chain()).get(r.uri);
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `${where(pointer)}: cannot read ${r.uri}: ${(e as { code?: string }).code ? `${(e as { code: string }).code}: ` : ''}${(e as Error).message}`,
        { field: fieldName(pointer), uri: r.uri },
        { cause: e },
      );
    }
    if (!record)
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `${where(pointer)}: ${r.uri} is not set in any secrets provider (tried ${(await chain()).providers.map((p) => p.name).join(', ')}); set it with greentic-secrets put, or export the GREENTIC_SECRET__… variable`,
        { field: fieldName(pointer), uri: r.uri },
      );
    return record.value.revealText();
  };
}

/**
 * Resolves the secret references of `connectors:` and `webchat:` (local sources only: environment variables and the
 * encrypted file store), so that a missing secret ends startup before the server listens. Errors name the field
 * and the reference, never a value.
 */
export async function resolveGatewaySecrets(
  cfg: RunnerConfig,
  options: ResolveSecretsOptions = {},
): Promise<ResolvedGatewaySecrets> {
  const one = secretRefResolver(cfg, options);

  const connectors: ConnectorConfig[] = [];
  for (const [i, c] of cfg.connectors.entries()) {
    const out: Record<string, unknown> = structuredClone(c);
    const fields = CONNECTOR_SECRET_FIELDS[c.provider];
    for (const f of fields.single) {
      const v = c[f];
      if (typeof v === 'string') out[f] = await one(v, `/connectors/${i}/${f}`);
    }
    for (const f of fields.list) {
      const v = c[f];
      const refs = typeof v === 'string' ? [v] : Array.isArray(v) ? (v as string[]) : [];
      const values: string[] = [];
      for (const [j, ref] of refs.entries())
        values.push(
          await one(ref, typeof v === 'string' ? `/connectors/${i}/${f}` : `/connectors/${i}/${f}/${j}`),
        );
      out[f] = values;
    }
    connectors.push(out as unknown as ConnectorConfig);
  }
  let webchat: ResolvedGatewaySecrets['webchat'];
  if (cfg.webchat.enabled) {
    const secrets: string[] = [];
    for (const [j, ref] of cfg.webchat.secrets.entries())
      secrets.push(await one(ref, `/webchat/secrets/${j}`));
    webchat = { secrets };
    if (cfg.webchat.signingKey !== undefined)
      webchat.signingKey = await one(cfg.webchat.signingKey, '/webchat/signingKey');
  }
  return { connectors, ...(webchat ? { webchat } : {}) };
}

/**
 * Environment variables (`GREENTIC_SECRET__…`), then the encrypted file store: `secrets.file.dir`, else
 * `GREENTIC_SECRETS_DIR`, else `~/.greentic/secrets`; its master key from `secrets.file.masterKeyFile`, else
 * `GREENTIC_SECRETS_MASTER_KEY`, else the file `GREENTIC_SECRETS_MASTER_KEY_FILE` (as `greentic-secrets` reads them).
 */
async function defaultProviders(
  cfg: RunnerConfig,
  env: Record<string, string | undefined>,
): Promise<SecretsProvider[]> {
  const dir = cfg.secrets.file.dir ?? env.GREENTIC_SECRETS_DIR ?? join(homedir(), '.greentic', 'secrets');
  const keyFile =
    cfg.secrets.file.masterKeyFile ??
    (env.GREENTIC_SECRETS_MASTER_KEY ? undefined : env.GREENTIC_SECRETS_MASTER_KEY_FILE);
  let masterKey = env.GREENTIC_SECRETS_MASTER_KEY || undefined;
  if (keyFile) {
    try {
      masterKey = (await readFile(keyFile, 'utf8')).trim() || undefined;
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `secrets.file.masterKeyFile: cannot read ${keyFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        { field: 'secrets.file.masterKeyFile' },
        { cause: e },
      );
    }
  }
  return [new EnvSecretsProvider({ env }), new EncryptedFileSecretsProvider({ dir, masterKey })];
}
