/**
 * Secrets for the deployer: the master key of the encrypted store (generated on first run, mode 0600), the store
 * itself (@greentic/secrets EncryptedFileSecretsProvider), and the values a run needs — from a prompt that never
 * echoes, the environment, or a secrets file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { Writable } from 'node:stream';
import {
  EncryptedFileSecretsProvider,
  parseSeed,
  type SecretsProvider,
  seedEntryValue,
} from '@greentic/secrets';
import { parse as parseYaml } from 'yaml';
import { type EnvironmentDescription, type SecretSpec, secretEnvNames } from './description.js';
import { DeployerError } from './errors.js';
import type { GreenticHome } from './home.js';

export type MasterKeySource = 'env' | 'env-file' | 'home-file';

export interface MasterKey {
  key: string;
  source: MasterKeySource;
  /** The file it was read from (or written to). */
  file?: string;
}

/**
 * The master key: `GREENTIC_SECRETS_MASTER_KEY`, else the file named by `GREENTIC_SECRETS_MASTER_KEY_FILE`, else
 * `$GREENTIC_HOME/master.key`. Returns undefined when none exists (see {@link createMasterKey}).
 */
export function readMasterKey(
  home: GreenticHome,
  env: Record<string, string | undefined>,
): MasterKey | undefined {
  if (env.GREENTIC_SECRETS_MASTER_KEY) return { key: env.GREENTIC_SECRETS_MASTER_KEY, source: 'env' };
  const file = env.GREENTIC_SECRETS_MASTER_KEY_FILE ?? home.masterKey;
  const source: MasterKeySource = env.GREENTIC_SECRETS_MASTER_KEY_FILE ? 'env-file' : 'home-file';
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && source === 'home-file') return undefined;
    throw new DeployerError(
      'GT_DEPLOY_SECRETS',
      `cannot read the master key ${file} (${(e as NodeJS.ErrnoException).code})`,
      {
        step: 'secrets',
        resource: `file:${file}`,
        hint: 'fix GREENTIC_SECRETS_MASTER_KEY_FILE or the file permissions',
        cause: e,
      },
    );
  }
  const key = text.trim();
  if (key.length < 16)
    throw new DeployerError('GT_DEPLOY_SECRETS', `the master key in ${file} is shorter than 16 bytes`, {
      step: 'secrets',
      resource: `file:${file}`,
      hint: 'restore the right key file; a new key cannot read the existing store',
    });
  if (source === 'home-file' && (statSync(file).mode & 0o077) !== 0)
    throw new DeployerError('GT_DEPLOY_SECRETS', `the master key ${file} is readable by other users`, {
      step: 'secrets',
      resource: `file:${file}`,
      hint: `chmod 600 ${file}`,
    });
  return { key, source, file };
}

/** Generates `$GREENTIC_HOME/master.key`: 32 random bytes, base64, created exclusively with mode 0600. */
export function createMasterKey(home: GreenticHome): MasterKey {
  mkdirSync(dirname(home.masterKey), { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64');
  let fd: number;
  try {
    fd = openSync(home.masterKey, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const existing = readMasterKey(home, {});
      if (existing) return existing;
    }
    throw new DeployerError('GT_DEPLOY_SECRETS', `cannot create the master key ${home.masterKey}`, {
      step: 'secrets',
      resource: `file:${home.masterKey}`,
      hint: 'check that $GREENTIC_HOME is writable',
      cause: e,
    });
  }
  writeFileSync(fd, `${key}\n`);
  closeSync(fd);
  return { key, source: 'home-file', file: home.masterKey };
}

export function openSecretsStore(home: GreenticHome, master: MasterKey | undefined): SecretsProvider {
  return new EncryptedFileSecretsProvider({ dir: home.secretsDir, masterKey: master?.key });
}

/** The latest stored version of `uri` (none: undefined). Needs no master key. */
export async function secretVersion(store: SecretsProvider, uri: string): Promise<string | undefined> {
  try {
    const versions = await store.versions(uri);
    return versions[versions.length - 1]?.version;
  } catch (e) {
    throw secretsError(e, uri);
  }
}

/** True when the store holds a value for `uri` (any version). Needs no master key. */
export async function hasSecret(store: SecretsProvider, uri: string): Promise<boolean> {
  return (await secretVersion(store, uri)) !== undefined;
}

export async function readSecretText(store: SecretsProvider, uri: string): Promise<string | undefined> {
  try {
    return (await store.get(uri))?.value.revealText();
  } catch (e) {
    throw secretsError(e, uri);
  }
}

export function secretsError(e: unknown, uri: string): DeployerError {
  if (e instanceof DeployerError) return e;
  const code = (e as { code?: string }).code;
  return new DeployerError('GT_DEPLOY_SECRETS', `secrets store: ${(e as Error).message}`, {
    step: 'secrets',
    resource: `secret:${uri}`,
    hint:
      code === 'GT_SECRETS_KEY'
        ? 'the master key does not open this store: restore $GREENTIC_HOME/master.key or GREENTIC_SECRETS_MASTER_KEY'
        : code === 'GT_SECRETS_LOCKED'
          ? 'another process holds the store lock; wait and run again'
          : 'check $GREENTIC_HOME/secrets (permissions, disk space), then run again',
    cause: e,
  });
}

/** A generated secret: 32 random bytes, base64url — 43 characters of [A-Za-z0-9_-], valid as a Telegram secret_token. */
export function generateSecretValue(): string {
  return randomBytes(32).toString('base64url');
}

/** Reads a secrets file: a mapping (secret URI or environment variable name → value), or a seed `{entries: […]}`. */
export function readSecretsFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DeployerError(
      'GT_DEPLOY_USAGE',
      `--secrets-file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code})`,
      { step: 'secrets', resource: `file:${file}`, hint: 'check the path', cause: e },
    );
  }
  const out = new Map<string, string>();
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    // never quote the text: it holds secret values
    const pos = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new DeployerError(
      'GT_DEPLOY_USAGE',
      `--secrets-file ${file}: not valid YAML/JSON${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`,
      {
        step: 'secrets',
        resource: `file:${file}`,
        hint: 'write a mapping of secret URI (or variable name) to value',
      },
    );
  }
  if (typeof doc === 'object' && doc !== null && 'entries' in doc) {
    for (const entry of parseSeed(text, file).entries) {
      const v = seedEntryValue(entry);
      if (v !== undefined) out.set(entry.uri, v.revealText());
    }
    return out;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new DeployerError('GT_DEPLOY_USAGE', `--secrets-file ${file}: must be a mapping`, {
      step: 'secrets',
      resource: `file:${file}`,
      hint: 'write `secrets://dev/acme/_/telegram/bot_token: "<value>"` lines (or TELEGRAM_BOT_TOKEN: "<value>")',
    });
  for (const [k, v] of Object.entries(doc)) {
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new DeployerError('GT_DEPLOY_USAGE', `--secrets-file ${file}: ${k}: the value must be a string`, {
        step: 'secrets',
        resource: `file:${file}`,
        hint: 'quote the value',
      });
    out.set(k, String(v));
  }
  return out;
}

/** Reads lines without echoing them (readline over a muted output); prompts go to `output`. */
export class SecretPrompter {
  private rl?: Interface;
  private readonly lines: string[] = [];
  private waiting?: { resolve: (s: string) => void; reject: (e: Error) => void };
  private closed = false;

  constructor(
    private readonly input: NodeJS.ReadableStream & { isTTY?: boolean },
    private readonly output: (s: string) => void,
  ) {}

  private open(): Interface {
    if (this.rl) return this.rl;
    const muted = new Writable({
      write(_chunk, _enc, cb) {
        cb();
      },
    });
    const rl = createInterface({ input: this.input, output: muted, terminal: Boolean(this.input.isTTY) });
    rl.on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(line);
      } else this.lines.push(line);
    });
    const abort = () => {
      this.closed = true;
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(
        new DeployerError('GT_DEPLOY_ABORTED', 'input ended before every secret was entered', {
          step: 'secrets',
          hint: 'run again and enter the values, or use --non-interactive with the environment or --secrets-file',
        }),
      );
    };
    rl.on('close', abort);
    rl.on('SIGINT', () => rl.close());
    this.rl = rl;
    return rl;
  }

  async ask(question: string): Promise<string> {
    this.open();
    this.output(question);
    const queued = this.lines.shift();
    const line =
      queued !== undefined
        ? queued
        : this.closed
          ? Promise.reject(
              new DeployerError('GT_DEPLOY_ABORTED', 'input ended before every secret was entered', {
                step: 'secrets',
                hint: 'use --non-interactive with the environment or --secrets-file',
              }),
            )
          : new Promise<string>((resolve, reject) => {
              this.waiting = { resolve, reject };
            });
    try {
      return await line;
    } finally {
      this.output('\n');
    }
  }

  close(): void {
    this.rl?.removeAllListeners('close');
    this.rl?.close();
  }
}

export interface CollectOptions {
  interactive: boolean;
  env: Record<string, string | undefined>;
  secretsFile?: Map<string, string>;
  prompter?: SecretPrompter;
  log?: (line: string) => void;
}

/** Per-kind checks of a value before it is stored (a bot token goes into a URL path). */
export function checkSecretValue(spec: SecretSpec, value: string): string | undefined {
  if (value.trim() === '') return 'is empty';
  if (/\/telegram[^/]*\/bot_token$/.test(spec.uri) && !/^[0-9]+:[A-Za-z0-9_-]+$/.test(value.trim()))
    return 'does not look like a Telegram bot token (<digits>:<letters, digits, _ and ->)';
  return undefined;
}

/**
 * The values of the secrets that are not in the store yet and are not generated: from the secrets file, the
 * environment (the secret's `env:` name, then the canonical GREENTIC_SECRET__… name), or a prompt. Fails with
 * GT_DEPLOY_SECRET_MISSING listing every secret still missing.
 */
export async function collectSecretValues(
  description: EnvironmentDescription,
  store: SecretsProvider,
  o: CollectOptions,
): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const missing: SecretSpec[] = [];
  for (const s of description.secrets) {
    if (s.generate) continue;
    if (await hasSecret(store, s.uri)) continue;
    const names = secretEnvNames(s);
    let value =
      o.secretsFile?.get(s.uri) ?? names.map((n) => o.secretsFile?.get(n)).find((v) => v !== undefined);
    let from = '--secrets-file';
    if (value === undefined) {
      const name = names.find((n) => o.env[n] !== undefined && o.env[n] !== '');
      if (name) {
        value = o.env[name];
        from = `$${name}`;
      }
    }
    if (value === undefined && o.interactive && o.prompter) {
      for (let tries = 0; tries < 3 && value === undefined; tries++) {
        const answer = (
          await o.prompter.ask(`${s.description ?? s.uri}\n  ${s.uri} (input hidden): `)
        ).trim();
        const problem = checkSecretValue(s, answer);
        if (problem) o.log?.(`  the value ${problem}; try again`);
        else value = answer;
      }
      from = 'prompt';
    }
    if (value === undefined) {
      missing.push(s);
      continue;
    }
    const problem = checkSecretValue(s, value.trim());
    if (problem)
      throw new DeployerError('GT_DEPLOY_SECRETS', `the value for ${s.uri} (from ${from}) ${problem}`, {
        step: 'secrets',
        resource: `secret:${s.uri}`,
        hint: `give the right value in ${from}`,
      });
    values.set(s.uri, value.trim());
  }
  if (missing.length > 0) {
    const list = missing.map((s) => `${s.uri} (${secretEnvNames(s).join(' or ')})`).join('; ');
    throw new DeployerError(
      'GT_DEPLOY_SECRET_MISSING',
      `${missing.length} secret${missing.length > 1 ? 's have' : ' has'} no value: ${list}`,
      {
        step: 'secrets',
        resource: `secret:${missing[0]!.uri}`,
        hint: o.interactive
          ? 'run in a terminal to be asked, or set the variables, or pass --secrets-file'
          : 'set the environment variables named above, or pass --secrets-file <file> (a mapping of URI to value)',
      },
    );
  }
  return values;
}
