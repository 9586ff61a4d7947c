import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parseSecretUri, segmentProblem } from '@greentic/secrets';
import type { ErrorObject, ValidateFunction } from 'ajv';
import AjvModule from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { RunnerError } from '../errors.js';
import { RUNNER_CONFIG_SCHEMA } from './schema.js';

export type StoreKind = 'memory' | 'redis';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * Where a secret comes from: `env:NAME` (an environment variable) or a `secrets://env/tenant/team/category/name` URI
 * (resolved through @greentic/secrets: environment provider, then the encrypted file store of `secrets.file`). Any
 * other string is a literal secret, refused unless `secrets.allowLiterals` is true (development only).
 */
export type SecretRef = string;

/** The providers a connector can have (as `@greentic/messaging`'s `ConnectorConfig.provider`). */
export type ConnectorProvider = 'telegram' | 'slack' | 'teams' | 'whatsapp';

/**
 * One connector of the `connectors:` section: a `@greentic/messaging` `ConnectorConfig` whose secret fields hold
 * {@link SecretRef}s (a list field may hold one reference or a list of them). Resolved at startup.
 */
export interface ConnectorSpec {
  provider: ConnectorProvider;
  id: string;
  binding: { env: string; tenant: string; team?: string };
  [field: string]: unknown;
}

/** The secret fields of each provider's config: `single` take one secret, `list` several (rotation). */
export const CONNECTOR_SECRET_FIELDS: Record<ConnectorProvider, { single: string[]; list: string[] }> = {
  telegram: { single: ['botToken'], list: ['webhookSecrets'] },
  slack: { single: ['botToken'], list: ['signingSecrets'] },
  teams: { single: ['appPassword'], list: [] },
  whatsapp: { single: ['accessToken'], list: ['appSecrets', 'verifyTokens'] },
};

/**
 * The `packs:` section: where the daemon's pack store is and which keys it trusts. Present (even empty) it turns
 * packs on; without it, packs are used only when no `flows.paths` is given (docs/runner.md#packs-and-hot-reload).
 */
export interface PacksConfig {
  /** The pack store (default `$GREENTIC_HOME/packs`); relative to the config file. */
  store?: string;
  /** Trusted public keys (PEM files or directories), relative to the config file. */
  trust?: string[];
  /** Versions of a tenant's pack kept in memory, the current one included (default 3). */
  keepVersions?: number;
}

/** The presets of `@greentic/oauth` (`OAuthPreset`). */
export type OAuthPresetName = 'google' | 'microsoft' | 'oidc' | 'oauth2';

/**
 * One identity provider of `oauth.providers`: a `@greentic/oauth` `OAuthProviderConfig` whose `clientSecret` is a
 * {@link SecretRef} (resolved once at startup, like connector secrets) and whose `clientSecretUri` is a `secrets://`
 * URI the broker reads from the runner's encrypted secrets store whenever it needs it (rotation without a restart).
 */
export interface OAuthProviderSpec {
  id: string;
  preset?: OAuthPresetName;
  displayName?: string;
  clientId: string;
  clientSecret?: SecretRef;
  clientSecretUri?: string;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  jwksUri?: string;
  userinfoEndpoint?: string;
  scopes?: string[];
  clientCredentialsScopes?: string[];
  authorizeParams?: Record<string, string>;
  directory?: string;
}

/** The `oauth:` section: the OAuth broker, the `oauth` flow node and the `/oauth/*` routes of the daemon. */
export interface OAuthConfig {
  providers: OAuthProviderSpec[];
  /** HMAC key of states and token handles (≥ 32 bytes): a reference, or a list of them (the first signs). */
  signingKey: SecretRef | SecretRef[];
  /** The public origin of this runner: the redirect URI given to providers is `<publicUrl>/oauth/callback`. */
  publicUrl: string;
  /** More redirect URIs the broker accepts (exact match). */
  redirectUris: string[];
  /** Where started consents wait for their callback: `memory` (this process) or `secrets` (the encrypted store). */
  consentStore: 'memory' | 'secrets';
  stateTtlMs?: number;
  handleTtlMs?: number;
  httpTimeoutMs?: number;
  /** Plain `http:` provider endpoints on hosts other than loopback (never in production). */
  allowInsecureHttp?: boolean;
}

/** The runner daemon's configuration, every default filled in. See docs/config.md#runner-daemon. */
export interface RunnerConfig {
  http: { host: string; port: number };
  admin: { token?: string };
  stores: {
    kind: StoreKind;
    redis: { url: string; namespace: string; connectTimeoutMs: number };
  };
  nats: {
    enabled: boolean;
    url: string;
    name: string;
    connectTimeoutMs: number;
    subjectPrefix: string;
    streams: { ingress: string; egress: string; dlq: string };
    storage: 'file' | 'memory';
    consumer: string;
    maxDeliver: number;
    ackWaitMs: number;
    maxAckPending: number;
    concurrency: number;
    duplicateWindowMs: number;
    maxAgeMs: number;
    dlqSubject: string;
    /** Plain-NATS control subjects between runners (`<controlSubject>.reload.<env>`); default `<subjectPrefix>.control`. */
    controlSubject: string;
  };
  flows: { paths: string[]; entry?: string };
  engine: {
    maxStepsPerTurn: number;
    conversationTtlMs: number;
    componentTimeoutMs: number;
    strictTemplates: boolean;
    outboxSize: number;
  };
  dedupe: { ttlMs: number };
  ordering: { deferDelayMs: number; gapTimeoutMs: number; sequenceTtlMs: number };
  tenancy: { env: string; tenant?: string };
  shutdown: { timeoutMs: number };
  log: { level: LogLevel };
  /** Messaging connectors served under `/webhooks/{provider}/{id}` (secrets as references). */
  connectors: ConnectorSpec[];
  /** The WebChat channel: the Direct Line endpoint and its page (`/webchat/`). */
  webchat: {
    enabled: boolean;
    /** The tenant WebChat conversations belong to (default: `tenancy.env`, `tenancy.tenant` or `demo`). */
    binding?: { env: string; tenant: string; team?: string };
    /** Where the endpoint is mounted: the page is `<prefix>/webchat/`, Direct Line `<prefix>/v3/directline`. */
    prefix: string;
    title: string;
    botName: string;
    /** Direct Line secrets (master keys for server-side clients); default one random secret per process. */
    secrets: SecretRef[];
    /** HS256 key of the tokens (≥ 32 bytes); default random per process. */
    signingKey?: SecretRef;
    tokenTtlSec?: number;
    maxTokenMintsPerMinute?: number;
    publicUrl?: string;
    frameAncestors?: string;
  };
  /** The webhook gateway and (without NATS) its in-process queue. */
  gateway: {
    bodyLimit: number;
    queue: { concurrency: number; maxPending: number; maxAttempts: number };
  };
  /** Sending replies: the outbox sender and (with NATS) the egress worker. */
  egress: {
    enabled: boolean;
    consumer: string;
    concurrency: number;
    maxDeliver: number;
    ackWaitMs: number;
    sentTtlMs: number;
    rateLimit: { rps: number; burst: number };
    retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number };
  };
  /** How secret references are resolved. */
  secrets: {
    /** Accept literal secrets in the file (development only). */
    allowLiterals: boolean;
    /** The encrypted file store (`greentic-secrets`) read for `secrets://` references. */
    file: { dir?: string; masterKeyFile?: string };
  };
  /** Packs from the pack store (the section's presence turns them on). */
  packs?: PacksConfig;
  /** OAuth: the broker, the `oauth` node and the `/oauth/*` routes (absent: no OAuth). */
  oauth?: OAuthConfig;
  /** Where the configuration came from (the file, when there is one), for messages. */
  source?: string;
}

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};
export type RunnerConfigInput = DeepPartial<Omit<RunnerConfig, 'source' | 'packs' | 'oauth'>> & {
  packs?: PacksConfig | null;
  oauth?: Partial<OAuthConfig>;
};

const HOUR = 60 * 60 * 1000;

/** Everything a laptop needs: memory stores, no NATS, HTTP on loopback. */
export const DEFAULT_CONFIG: RunnerConfig = {
  http: { host: '127.0.0.1', port: 8080 },
  admin: {},
  stores: {
    kind: 'memory',
    redis: { url: 'redis://127.0.0.1:6379', namespace: 'greentic', connectTimeoutMs: 3000 },
  },
  nats: {
    enabled: false,
    url: 'nats://127.0.0.1:4222',
    name: 'greentic-runner',
    connectTimeoutMs: 3000,
    subjectPrefix: 'greentic.messaging',
    streams: { ingress: 'GREENTIC_INGRESS', egress: 'GREENTIC_EGRESS', dlq: 'GREENTIC_DLQ' },
    storage: 'file',
    consumer: 'greentic-runner',
    maxDeliver: 5,
    ackWaitMs: 30_000,
    maxAckPending: 1000,
    concurrency: 64,
    duplicateWindowMs: 10 * 60 * 1000,
    maxAgeMs: 7 * 24 * HOUR,
    dlqSubject: 'greentic.messaging.dlq',
    controlSubject: 'greentic.messaging.control',
  },
  flows: { paths: [] },
  engine: {
    maxStepsPerTurn: 100,
    conversationTtlMs: 24 * HOUR,
    componentTimeoutMs: 30_000,
    strictTemplates: false,
    outboxSize: 16,
  },
  dedupe: { ttlMs: 36 * HOUR },
  ordering: { deferDelayMs: 200, gapTimeoutMs: 10_000, sequenceTtlMs: 25 * HOUR },
  tenancy: { env: 'dev' },
  shutdown: { timeoutMs: 30_000 },
  log: { level: 'info' },
  connectors: [],
  webchat: {
    enabled: false,
    prefix: '',
    title: 'Chat',
    botName: 'Greentic',
    secrets: [],
  },
  gateway: {
    bodyLimit: 1024 * 1024,
    queue: { concurrency: 16, maxPending: 10_000, maxAttempts: 3 },
  },
  egress: {
    enabled: true,
    consumer: 'greentic-egress',
    concurrency: 32,
    maxDeliver: 5,
    ackWaitMs: 30_000,
    sentTtlMs: 36 * HOUR,
    rateLimit: { rps: 10, burst: 20 },
    retry: { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 },
  },
  secrets: { allowLiterals: false, file: {} },
};

type EnvKind = 'string' | 'int' | 'bool' | 'list' | 'path';
/** The GREENTIC_RUNNER_* variables: each overrides one field of the file (documented in docs/config.md). */
export const ENV_OVERRIDES: readonly { name: string; path: string; kind: EnvKind }[] = [
  { name: 'GREENTIC_RUNNER_HOST', path: 'http.host', kind: 'string' },
  { name: 'GREENTIC_RUNNER_PORT', path: 'http.port', kind: 'int' },
  { name: 'GREENTIC_RUNNER_ADMIN_TOKEN', path: 'admin.token', kind: 'string' },
  { name: 'GREENTIC_RUNNER_STORES', path: 'stores.kind', kind: 'string' },
  { name: 'GREENTIC_RUNNER_REDIS_URL', path: 'stores.redis.url', kind: 'string' },
  { name: 'GREENTIC_RUNNER_REDIS_NAMESPACE', path: 'stores.redis.namespace', kind: 'string' },
  { name: 'GREENTIC_RUNNER_NATS', path: 'nats.enabled', kind: 'bool' },
  { name: 'GREENTIC_RUNNER_NATS_URL', path: 'nats.url', kind: 'string' },
  { name: 'GREENTIC_RUNNER_NATS_SUBJECT_PREFIX', path: 'nats.subjectPrefix', kind: 'string' },
  { name: 'GREENTIC_RUNNER_NATS_CONSUMER', path: 'nats.consumer', kind: 'string' },
  { name: 'GREENTIC_RUNNER_NATS_CONCURRENCY', path: 'nats.concurrency', kind: 'int' },
  { name: 'GREENTIC_RUNNER_FLOWS', path: 'flows.paths', kind: 'list' },
  { name: 'GREENTIC_RUNNER_ENTRY', path: 'flows.entry', kind: 'string' },
  { name: 'GREENTIC_RUNNER_ENV', path: 'tenancy.env', kind: 'string' },
  { name: 'GREENTIC_RUNNER_TENANT', path: 'tenancy.tenant', kind: 'string' },
  { name: 'GREENTIC_RUNNER_LOG_LEVEL', path: 'log.level', kind: 'string' },
  { name: 'GREENTIC_RUNNER_WEBCHAT', path: 'webchat.enabled', kind: 'bool' },
  { name: 'GREENTIC_RUNNER_SECRETS_DIR', path: 'secrets.file.dir', kind: 'path' },
  { name: 'GREENTIC_RUNNER_ALLOW_LITERAL_SECRETS', path: 'secrets.allowLiterals', kind: 'bool' },
  { name: 'GREENTIC_RUNNER_PACK_STORE', path: 'packs.store', kind: 'path' },
];

let cachedValidator: ValidateFunction | undefined;
function validator(): ValidateFunction {
  if (!cachedValidator) {
    // ajv ships CommonJS; depending on the interop the class is the module or its `default`.
    const mod = AjvModule as unknown as { default?: unknown };
    const Ajv = (mod.default ?? mod) as new (
      opts: Record<string, unknown>,
    ) => { compile(schema: unknown): ValidateFunction };
    cachedValidator = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(
      RUNNER_CONFIG_SCHEMA,
    );
  }
  return cachedValidator;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where each value came from, so an error can name the file (and line) or the environment variable. */
interface Origin {
  file?: string;
  /** 1-based line of a JSON pointer in the file (YAML/JSON documents). */
  lineOf?: (pointer: string) => number | undefined;
  /** JSON pointer → the environment variable that set it. */
  env: Map<string, string>;
}

export interface LoadConfigOptions {
  /** Environment to read GREENTIC_RUNNER_* from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Last word: values from command-line flags, applied after the file and the environment. */
  overrides?: RunnerConfigInput;
}

/**
 * Reads the configuration: defaults ← the file (YAML or JSON) ← GREENTIC_RUNNER_* variables ← `overrides`.
 * Fails with `GT_RUNNER_CONFIG` naming the file (with its line) or the variable, and the field.
 */
export function loadRunnerConfig(file: string | undefined, options: LoadConfigOptions = {}): RunnerConfig {
  const origin: Origin = { env: new Map() };
  let input: Record<string, unknown> = {};
  if (file !== undefined) {
    const abs = resolve(file);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (e) {
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `config file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        { file },
        { cause: e },
      );
    }
    const parsed = parseConfigText(text, file);
    input = parsed.value;
    origin.file = file;
    origin.lineOf = parsed.lineOf;
    // relative flow paths are relative to the file, not to the working directory
    const flows = input.flows;
    if (isRecord(flows) && Array.isArray(flows.paths)) {
      flows.paths = flows.paths.map((p) =>
        typeof p === 'string' && !isAbsolute(p) ? resolve(dirname(abs), p) : p,
      );
    }
    // the pack store and trusted keys too (checked after the environment and the flags are applied)
    if (isRecord(input.packs)) {
      const packs = input.packs;
      const rel = (p: unknown) =>
        typeof p === 'string' && p !== '' && !isAbsolute(p) ? resolve(dirname(abs), p) : p;
      if (packs.store !== undefined) packs.store = rel(packs.store);
      if (typeof packs.trust === 'string') packs.trust = rel(packs.trust);
      else if (Array.isArray(packs.trust)) packs.trust = packs.trust.map(rel);
    }
    const secretsFile = isRecord(input.secrets) ? input.secrets.file : undefined;
    if (isRecord(secretsFile)) {
      for (const k of ['dir', 'masterKeyFile']) {
        const p = secretsFile[k];
        if (typeof p === 'string' && !isAbsolute(p)) secretsFile[k] = resolve(dirname(abs), p);
      }
    }
  }
  applyEnv(input, options.env ?? process.env, origin);
  if (options.overrides) mergeInto(input, options.overrides as Record<string, unknown>);
  check(input, origin);
  const packs = 'packs' in input ? packsSection(input.packs, origin) : undefined;
  delete input.packs;
  const cfg = mergeInto(structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>, input);
  const out = cfg as unknown as RunnerConfig;
  if (packs !== undefined) out.packs = packs;
  if (out.oauth) {
    out.oauth.redirectUris ??= [];
    out.oauth.consentStore ??= 'memory';
    out.oauth.publicUrl = out.oauth.publicUrl.replace(/\/+$/, '');
  }
  // derived defaults
  const userNats = isRecord(input.nats) ? input.nats : {};
  if (userNats.dlqSubject === undefined) out.nats.dlqSubject = `${out.nats.subjectPrefix}.dlq`;
  if (userNats.controlSubject === undefined) out.nats.controlSubject = `${out.nats.subjectPrefix}.control`;
  const userOrdering = isRecord(input.ordering) ? input.ordering : {};
  if (userOrdering.sequenceTtlMs === undefined)
    out.ordering.sequenceTtlMs = out.engine.conversationTtlMs + HOUR;
  out.webchat.binding ??= { env: out.tenancy.env, tenant: out.tenancy.tenant ?? 'demo' };
  out.flows.paths = out.flows.paths.map((p) => resolve(p));
  crossCheck(out, origin);
  if (file !== undefined) out.source = file;
  return out;
}

/** Parses YAML (or JSON, which is YAML) and keeps a pointer → line map for messages. */
function parseConfigText(
  text: string,
  file: string,
): { value: Record<string, unknown>; lineOf: (p: string) => number | undefined } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new RunnerError(
      'GT_RUNNER_CONFIG',
      `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: not valid YAML/JSON: ${e.message.split('\n')[0]}`,
      { file },
    );
  }
  const value = doc.toJS() ?? {};
  if (!isRecord(value)) {
    throw new RunnerError('GT_RUNNER_CONFIG', `${file}: the configuration must be a mapping (key: value)`, {
      file,
    });
  }
  const lineOf = (pointer: string) => {
    const path = pointer
      .split('/')
      .slice(1)
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    // the deepest node that exists on the path
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(
        path.slice(0, n).map((s) => (/^\d+$/.test(s) ? Number(s) : s)),
        true,
      ) as { range?: [number, number, number] } | undefined;
      const container = n === 0 ? doc.contents : node;
      const range = (container as { range?: [number, number, number] } | undefined)?.range;
      if (range && (n === 0 || node !== undefined)) {
        if (n === 0 && !(isMap(doc.contents) || isSeq(doc.contents))) return undefined;
        return lines.linePos(range[0]).line;
      }
    }
    return undefined;
  };
  return { value, lineOf };
}

function applyEnv(input: Record<string, unknown>, env: Record<string, string | undefined>, origin: Origin) {
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.name];
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (o.kind === 'int') {
      value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    } else if (o.kind === 'bool') {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) value = true;
      else if (['0', 'false', 'no', 'off'].includes(v)) value = false;
      else {
        throw new RunnerError(
          'GT_RUNNER_CONFIG',
          `${o.name}=${raw}: must be true or false (also accepted: on/off, yes/no, 1/0)`,
          { env: o.name },
        );
      }
    } else if (o.kind === 'path') {
      value = resolve(raw);
    } else if (o.kind === 'list') {
      value = raw
        .split(/[,:]/)
        .map((s) => s.trim())
        .filter(Boolean)
        .map((p) => resolve(p));
    }
    const path = o.path.split('.');
    let cur = input;
    for (const seg of path.slice(0, -1)) {
      if (!isRecord(cur[seg])) cur[seg] = {};
      cur = cur[seg] as Record<string, unknown>;
    }
    cur[path[path.length - 1]!] = value;
    origin.env.set(`/${path.join('/')}`, o.name);
  }
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): Record<string, unknown> {
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    if (isRecord(v) && isRecord(target[k])) mergeInto(target[k] as Record<string, unknown>, v);
    else target[k] = isRecord(v) ? mergeInto({}, v) : v;
  }
  return target;
}

function check(input: Record<string, unknown>, origin: Origin) {
  const validate = validator();
  // `packs:` is checked by packsSection, whose messages name the field the way `greentic-runner load` always did
  const { packs: _packs, ...rest } = input;
  if (validate(rest)) return;
  let errors = [...(validate.errors ?? [])];
  // "must match then schema" only repeats the problem the `then` branch reports itself (per-provider connector fields)
  if (errors.some((e) => e.keyword !== 'if')) errors = errors.filter((e) => e.keyword !== 'if');
  // the most specific problem first: deepest pointer, then schema order
  errors.sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length);
  const first = errors[0]!;
  throw configError(first, origin, errors.length);
}

function configError(e: ErrorObject, origin: Origin, count: number): RunnerError {
  let pointer = e.instancePath;
  let what: string;
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    pointer = `${pointer}/${extra}`;
    const known = Object.keys(propertiesAt(e.schemaPath) ?? {});
    what = `unknown field${known.length ? ` (known here: ${known.join(', ')})` : ''}`;
  } else if (e.keyword === 'enum') {
    what = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (e.keyword === 'pattern') {
    what = `${e.message} (got ${JSON.stringify(valueAt(e))})`;
  } else {
    what = e.message ?? 'is invalid';
  }
  const field = pointer.split('/').slice(1).join('.') || '(root)';
  const envName = [...origin.env.entries()].find(([p]) => pointer === p || pointer.startsWith(`${p}/`))?.[1];
  const where = envName
    ? `${envName} (${field})`
    : origin.file
      ? `${origin.file}${lineSuffix(origin, pointer)}: ${field}`
      : field;
  const more = count > 1 ? ` (${count - 1} more problem${count > 2 ? 's' : ''})` : '';
  return new RunnerError('GT_RUNNER_CONFIG', `${where}: ${what}${more}`, {
    field,
    ...(origin.file ? { file: origin.file } : {}),
    ...(envName ? { env: envName } : {}),
  });
}

/** The offending value (ajv's `verbose` mode keeps it). */
function valueAt(e: ErrorObject): unknown {
  return (e as { data?: unknown }).data;
}

function lineSuffix(origin: Origin, pointer: string): string {
  const line = origin.lineOf?.(pointer);
  return line === undefined ? '' : `:${line}`;
}

function propertiesAt(schemaPath: string): Record<string, unknown> | undefined {
  // "#/properties/nats/additionalProperties" → the schema object at "#/properties/nats"
  const parts = schemaPath.replace(/^#\/?/, '').split('/').slice(0, -1);
  let cur: unknown = RUNNER_CONFIG_SCHEMA;
  for (const p of parts)
    cur = isRecord(cur) ? cur[p] : Array.isArray(cur) && /^\d+$/.test(p) ? cur[Number(p)] : undefined;
  return isRecord(cur) && isRecord(cur.properties) ? cur.properties : undefined;
}

/** Rules that span fields (the schema checks each field alone). */
function crossCheck(cfg: RunnerConfig, origin: Origin) {
  const fail = (pointer: string, message: string): never => {
    const field = pointer.split('/').slice(1).join('.');
    const envName = origin.env.get(pointer);
    const where = envName
      ? `${envName} (${field})`
      : origin.file
        ? `${origin.file}${lineSuffix(origin, pointer)}: ${field}`
        : field;
    throw new RunnerError('GT_RUNNER_CONFIG', `${where}: ${message}`, { field });
  };
  const n = cfg.nats;
  if (n.enabled) {
    const { ingress, egress, dlq } = n.streams;
    if (new Set([ingress, egress, dlq]).size < 3)
      fail(
        '/nats/streams',
        `ingress, egress and dlq must be three different streams (got ${ingress}, ${egress}, ${dlq})`,
      );
    if (n.dlqSubject === `${n.subjectPrefix}.ingress` || n.dlqSubject === `${n.subjectPrefix}.egress`)
      fail('/nats/dlqSubject', `must not be the ingress or egress subject (${n.dlqSubject})`);
    // control messages are plain NATS: a subject a stream holds would be stored (and the dead letters mixed in)
    const within = (s: string, root: string) => s === root || s.startsWith(`${root}.`);
    const held = [`${n.subjectPrefix}.ingress`, `${n.subjectPrefix}.egress`, n.dlqSubject].find((root) =>
      within(n.controlSubject, root),
    );
    if (held !== undefined)
      fail(
        '/nats/controlSubject',
        `must not be within ${held} (a stream holds ${held}.>; control messages are plain NATS): choose another subject, e.g. ${n.subjectPrefix}.control`,
      );
    // a redelivered turn re-publishes its replies: JetStream must still remember their Nats-Msg-Id then
    const redeliveryHorizon = n.ackWaitMs * n.maxDeliver + cfg.ordering.gapTimeoutMs;
    if (n.duplicateWindowMs < redeliveryHorizon)
      fail(
        '/nats/duplicateWindowMs',
        `must be at least ackWaitMs × maxDeliver + ordering.gapTimeoutMs (${redeliveryHorizon} ms), or a redelivered turn's replies could be sent twice`,
      );
    if (n.maxAgeMs !== 0 && n.maxAgeMs < n.duplicateWindowMs)
      fail('/nats/maxAgeMs', `must be 0 or at least duplicateWindowMs (${n.duplicateWindowMs} ms)`);
  }
  if (cfg.ordering.sequenceTtlMs <= cfg.engine.conversationTtlMs)
    fail(
      '/ordering/sequenceTtlMs',
      `must be longer than engine.conversationTtlMs (${cfg.engine.conversationTtlMs} ms): a counter that expires before its conversation would make new messages look old`,
    );
  if (cfg.admin.token !== undefined && /^\s|\s$/.test(cfg.admin.token))
    fail('/admin/token', 'must not start or end with whitespace');
  checkGateway(cfg, fail);
  if (cfg.oauth) checkOAuth(cfg.oauth, fail);
}

/**
 * The `packs:` section (`store`, `trust`, `keepVersions`), paths already made absolute. `null` (an empty `packs:`)
 * is the section with every default.
 */
function packsSection(raw: unknown, origin: Origin): PacksConfig {
  if (raw === undefined || raw === null) return {};
  const fail = (field: string, what: string) => {
    const pointer = field === '' ? '/packs' : `/packs/${field}`;
    const envName = origin.env.get(pointer);
    const where = envName
      ? `${envName} (packs.${field})`
      : origin.file
        ? `${origin.file}${lineSuffix(origin, pointer)}: packs.${field}`
        : `packs.${field}`;
    return new RunnerError('GT_RUNNER_CONFIG', `${where}: ${what}`, {
      field: `packs.${field}`.replace(/\.$/, ''),
      ...(origin.file ? { file: origin.file } : {}),
    });
  };
  if (!isRecord(raw)) throw fail('', 'must be a mapping with store, trust and keepVersions');
  const out: PacksConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'store') {
      if (typeof value !== 'string' || value === '') throw fail('store', 'must be a directory path');
      out.store = resolve(value);
    } else if (key === 'trust') {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.some((t) => typeof t !== 'string' || t === ''))
        throw fail('trust', 'must be a path (PEM public key or directory of them) or a list of paths');
      out.trust = (list as string[]).map((t) => resolve(t));
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

/** The OAuth section's rules that span fields (the schema checks each field alone). */
function checkOAuth(o: OAuthConfig, fail: (pointer: string, message: string) => never) {
  const seen = new Map<string, number>();
  o.providers.forEach((p, i) => {
    const at = `/oauth/providers/${i}`;
    const idProblem = segmentProblem(p.id);
    if (idProblem) fail(`${at}/id`, `${idProblem} (it names the provider's secrets)`);
    const first = seen.get(p.id);
    if (first !== undefined)
      fail(`${at}/id`, `provider "${p.id}" is configured twice (also oauth.providers.${first})`);
    seen.set(p.id, i);
    const preset = p.preset ?? (p.issuer !== undefined ? 'oidc' : 'oauth2');
    if (preset === 'oidc' && p.issuer === undefined)
      fail(
        `${at}/issuer`,
        'an oidc provider needs issuer (discovery reads <issuer>/.well-known/openid-configuration)',
      );
    if (preset === 'oauth2' && (p.authorizationEndpoint === undefined || p.tokenEndpoint === undefined))
      fail(
        `${at}/${p.authorizationEndpoint === undefined ? 'authorizationEndpoint' : 'tokenEndpoint'}`,
        'an oauth2 provider needs authorizationEndpoint and tokenEndpoint (or set issuer to use discovery)',
      );
    if (p.clientSecret !== undefined && p.clientSecretUri !== undefined)
      fail(
        `${at}/clientSecretUri`,
        'give clientSecret (a reference resolved at startup) or clientSecretUri, not both',
      );
    if (p.clientSecretUri !== undefined && parseSecretRef(p.clientSecretUri).kind !== 'uri')
      fail(
        `${at}/clientSecretUri`,
        'must be a secrets://env/tenant/team/category/name URI (read from the encrypted secrets store); for an environment variable use clientSecret: env:NAME',
      );
    const hasSecret = p.clientSecret !== undefined || p.clientSecretUri !== undefined;
    if ((p.tokenEndpointAuthMethod ?? (hasSecret ? 'client_secret_basic' : 'none')) !== 'none' && !hasSecret)
      fail(
        `${at}/clientSecret`,
        `tokenEndpointAuthMethod ${p.tokenEndpointAuthMethod} needs clientSecret or clientSecretUri`,
      );
  });
  for (const [pointer, url] of [
    ['/oauth/publicUrl', o.publicUrl] as const,
    ...o.redirectUris.map((u, j) => [`/oauth/redirectUris/${j}`, u] as const),
  ]) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      fail(pointer, `${JSON.stringify(url)} is not an absolute URL`);
    }
    if (u!.search || u!.hash || u!.username || u!.password)
      fail(pointer, 'must not have a query, a #fragment or credentials');
  }
}

/** What a secret reference is; the value of a literal is never put in a message. */
export function parseSecretRef(
  ref: string,
):
  | { kind: 'env'; name: string }
  | { kind: 'uri'; uri: string }
  | { kind: 'literal' }
  | { kind: 'bad'; why: string } {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)
      ? { kind: 'env', name }
      : { kind: 'bad', why: `env:${name} is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)` };
  }
  if (ref.startsWith('secrets://')) {
    try {
      parseSecretUri(ref);
    } catch (e) {
      return { kind: 'bad', why: (e as Error).message };
    }
    return { kind: 'uri', uri: ref };
  }
  return { kind: 'literal' };
}

/** Every secret reference of the configuration with its JSON pointer (connectors, then WebChat). */
export function secretRefsOf(
  cfg: Pick<RunnerConfig, 'connectors' | 'webchat' | 'oauth'>,
): { pointer: string; ref: string }[] {
  const out: { pointer: string; ref: string }[] = [];
  cfg.connectors.forEach((c, i) => {
    const fields = CONNECTOR_SECRET_FIELDS[c.provider];
    if (!fields) return;
    for (const f of [...fields.single, ...fields.list]) {
      const v = c[f];
      if (typeof v === 'string') out.push({ pointer: `/connectors/${i}/${f}`, ref: v });
      else if (Array.isArray(v))
        v.forEach((r, j) => {
          if (typeof r === 'string') out.push({ pointer: `/connectors/${i}/${f}/${j}`, ref: r });
        });
    }
  });
  if (cfg.webchat.enabled) {
    cfg.webchat.secrets.forEach((r, j) => {
      out.push({ pointer: `/webchat/secrets/${j}`, ref: r });
    });
    if (cfg.webchat.signingKey !== undefined)
      out.push({ pointer: '/webchat/signingKey', ref: cfg.webchat.signingKey });
  }
  if (cfg.oauth) {
    cfg.oauth.providers.forEach((p, i) => {
      if (p.clientSecret !== undefined)
        out.push({ pointer: `/oauth/providers/${i}/clientSecret`, ref: p.clientSecret });
    });
    const keys = cfg.oauth.signingKey;
    if (typeof keys === 'string') out.push({ pointer: '/oauth/signingKey', ref: keys });
    else keys.forEach((ref, j) => void out.push({ pointer: `/oauth/signingKey/${j}`, ref }));
  }
  return out;
}

/** Connectors and WebChat: secret references, duplicates, and bindings this runner's tenancy can serve. */
function checkGateway(cfg: RunnerConfig, fail: (pointer: string, message: string) => never) {
  for (const { pointer, ref } of secretRefsOf(cfg)) {
    const r = parseSecretRef(ref);
    if (r.kind === 'bad') fail(pointer, `not a secret reference: ${r.why}`);
    if (r.kind === 'literal' && !cfg.secrets.allowLiterals)
      fail(
        pointer,
        'a literal secret is refused here: give env:VARIABLE or a secrets:// URI (secrets.allowLiterals: true accepts literals, for development only)',
      );
  }
  const seen = new Map<string, number>();
  cfg.connectors.forEach((c, i) => {
    const key = `${c.provider}/${c.id}`;
    const first = seen.get(key);
    if (first !== undefined)
      fail(`/connectors/${i}/id`, `connector ${key} is configured twice (also connectors.${first})`);
    seen.set(key, i);
  });
  if (cfg.nats.enabled) {
    // with NATS, a message is queued on <prefix>.ingress.{binding env}.{binding tenant}…: this runner's consumer must read it
    const bindings: [string, { env: string; tenant: string }][] = cfg.connectors.map((c, i) => [
      `/connectors/${i}/binding`,
      c.binding,
    ]);
    if (cfg.webchat.enabled && cfg.webchat.binding) bindings.push(['/webchat/binding', cfg.webchat.binding]);
    for (const [pointer, b] of bindings) {
      if (b.env !== cfg.tenancy.env)
        fail(
          `${pointer}/env`,
          `"${b.env}" is not tenancy.env ("${cfg.tenancy.env}"): its messages would be queued where this runner does not read`,
        );
      if (cfg.tenancy.tenant !== undefined && b.tenant !== cfg.tenancy.tenant)
        fail(
          `${pointer}/tenant`,
          `"${b.tenant}" is not tenancy.tenant ("${cfg.tenancy.tenant}"): its messages would be queued where this runner does not read`,
        );
    }
  }
}

/** URLs in messages and logs never show a password (`redis://user:***@host`): the shared helper of @greentic/redis. */
export { redactUrl } from '@greentic/redis';

/** A short name for messages: the file name of the configuration, or "defaults". */
export function configLabel(cfg: RunnerConfig): string {
  return cfg.source ? basename(cfg.source) : 'defaults';
}
