/**
 * plan / apply / destroy. The environment description gives the desired resources, the state file the recorded
 * ones; a plan is their difference (create, update, delete, no-op), and apply converges resource by resource,
 * recording progress after every step, so running it twice changes nothing the second time and an interrupted
 * run can simply be run again.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { SecretsProvider } from '@greentic/secrets';
import { CONNECTOR_KINDS } from './connectors.js';
import {
  type ConnectorSpec,
  type LoadedDescription,
  resolveFrom,
  type SecretSpec,
  type TargetKind,
} from './description.js';
import { DeployerError } from './errors.js';
import type { GreenticHome } from './home.js';
import {
  buildAndSignPack,
  ensureDevKey,
  type PackInfo,
  packSourceHash,
  publishPack,
  publishRef,
  pushPackFunction,
  readPackInfo,
} from './packs.js';
import {
  loadTenantPack,
  type RunnerSecretsFile,
  type StoredPackRef,
  tenantPackIsCurrent,
  unloadTenantPack,
  webhookPath,
} from './runner-wiring.js';
import {
  createMasterKey,
  generateSecretValue,
  hasSecret,
  openSecretsStore,
  readMasterKey,
  readSecretText,
  secretsError,
  secretVersion,
} from './secrets.js';
import { acquireLock, DeployerState, type ResourceRecord } from './state.js';
import { type Artifact, artifactsHash, flowFiles, type TargetInput } from './targets/common.js';
import {
  devDesktopConfig,
  reloadRunner,
  runningRunner,
  startRunner,
  stopRunner,
} from './targets/dev-desktop.js';
import { targetArtifacts } from './targets/index.js';
import { deleteWebhook, setWebhook } from './telegram.js';

export type ResourceKind =
  | 'master-key'
  | 'tenant'
  | 'team'
  | 'user'
  | 'secret'
  | 'signing-key'
  | 'connector'
  | 'pack'
  | 'pack-load'
  | 'publish'
  | 'artifacts'
  | 'process';

export type Action = 'create' | 'update' | 'delete' | 'no-op';

export interface PlanEntry {
  id: string;
  kind: ResourceKind;
  action: Action;
  /** Why (update: what changed; no-op: nothing). */
  reason: string;
  /** Deploy-phase resources (the runner process) are left to apply; bootstrap stops before them. */
  phase: 'bootstrap' | 'deploy';
}

export interface Plan {
  name: string;
  target: TargetKind;
  entries: PlanEntry[];
  /** create + update + delete. */
  changes: number;
  /** Things the user should know (e.g. why the runner is not started). */
  notes: string[];
}

export type PushPack = NonNullable<ReturnType<typeof pushPackFunction>>;

export interface DeployOptions {
  home: GreenticHome;
  loaded: LoadedDescription;
  /** Target to converge to (default: the description's target.kind). */
  target?: TargetKind;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Secret values collected up front (URI → value), for secrets not yet in the store. */
  secretValues?: Map<string, string>;
  /** Overrides every Telegram connector's api_base_url (tests: a fake Bot API server). */
  telegramApiBase?: string;
  fetch?: typeof fetch;
  /** Injected failure: throws in the middle of this resource (`<id>` or `<id>#<step>`); also GREENTIC_DEPLOYER_FAIL_AT. */
  failAt?: string;
  /** Publish function (default: @greentic/pack pushPack). */
  push?: PushPack;
  /** Start the dev-desktop runner (apply: yes unless --no-start; bootstrap: never). */
  startRunner?: boolean;
  /** Only bootstrap-phase creates/updates (deletions of stale resources still happen). */
  phase?: 'bootstrap' | 'all';
  /** How long to wait for a started runner's /healthz. */
  runnerStartTimeoutMs?: number;
}

interface Ctx {
  o: DeployOptions;
  home: GreenticHome;
  state: DeployerState;
  target: TargetKind;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  store(): SecretsProvider;
  packs: PackInfo[];
  targetInput: TargetInput;
  outDir: string;
  failAt?: string;
  notes: string[];
}

interface Desired {
  id: string;
  kind: ResourceKind;
  phase: 'bootstrap' | 'deploy';
  hash(ctx: Ctx): Promise<string>;
  /** A local check that the recorded thing still exists as recorded (false: update it). */
  present?(ctx: Ctx, rec: ResourceRecord): Promise<boolean> | boolean;
  apply(ctx: Ctx, rec: ResourceRecord | undefined, checkpoint: Checkpoint): Promise<Applied>;
}

interface Applied {
  data: Record<string, unknown>;
  owned: boolean;
}

type Checkpoint = (step: string, data?: Record<string, unknown>) => void;

const hashOf = (v: unknown) => `sha256:${createHash('sha256').update(JSON.stringify(v)).digest('hex')}`;

function outDirOf(home: GreenticHome, loaded: LoadedDescription, target: TargetKind): string {
  const d = loaded.description;
  return d.target.out_dir && d.target.kind === target
    ? resolveFrom(loaded.dir, d.target.out_dir)
    : join(home.deployDir, d.name, target);
}

/** The deployer's store as the dev runner reads it: the master key file unless the key is in the environment. */
function runnerSecretsFile(home: GreenticHome, env: Record<string, string | undefined>): RunnerSecretsFile {
  if (env.GREENTIC_SECRETS_MASTER_KEY) return { dir: home.secretsDir };
  return { dir: home.secretsDir, masterKeyFile: env.GREENTIC_SECRETS_MASTER_KEY_FILE ?? home.masterKey };
}

function builtPackPath(home: GreenticHome, p: PackInfo): string {
  return join(home.packsDir, `${p.packId}-${p.version}.gtpack`);
}

function context(o: DeployOptions, state: DeployerState): Ctx {
  const env = o.env ?? process.env;
  const target = o.target ?? state.target ?? o.loaded.description.target.kind;
  const packs = o.loaded.description.packs.map((p) => readPackInfo(resolveFrom(o.loaded.dir, p.path)));
  let store: SecretsProvider | undefined;
  let storeKey: string | undefined;
  const ctx: Ctx = {
    o,
    home: o.home,
    state,
    target,
    env,
    log: o.log ?? (() => {}),
    store() {
      const master = readMasterKey(o.home, env);
      if (!store || storeKey !== master?.key) {
        store = openSecretsStore(o.home, master);
        storeKey = master?.key;
      }
      return store;
    },
    packs,
    targetInput: {
      description: o.loaded.description,
      dir: o.loaded.dir,
      packs,
      packStore: o.home.packStore,
      trustDir: o.home.trustDir,
      ...(o.telegramApiBase ? { telegramApiBase: o.telegramApiBase } : {}),
      secretsFile: runnerSecretsFile(o.home, env),
    },
    outDir: outDirOf(o.home, o.loaded, target),
    notes: [],
  };
  const failAt = o.failAt ?? env.GREENTIC_DEPLOYER_FAIL_AT;
  if (failAt) ctx.failAt = failAt;
  return ctx;
}

// ---------------------------------------------------------------- desired resources

function desiredResources(ctx: Ctx): Desired[] {
  const d = ctx.o.loaded.description;
  const out: Desired[] = [];
  out.push(masterKeyResource());
  for (const t of d.tenants) {
    out.push(recordResource('tenant', `tenant:${t.id}`, { id: t.id, display_name: t.display_name }));
    for (const team of t.teams ?? [])
      out.push(recordResource('team', `team:${t.id}/${team.id}`, { tenant: t.id, ...team }));
    for (const u of t.users ?? [])
      out.push(recordResource('user', `user:${t.id}/${u.id}`, { tenant: t.id, ...u }));
  }
  for (const s of d.secrets) out.push(secretResource(s));
  out.push(signingKeyResource());
  for (const c of d.connectors) out.push(connectorResource(c));
  for (const [i, p] of ctx.packs.entries()) {
    out.push(packResource(p));
    const spec = d.packs[i]!;
    if (spec.publish) {
      const ref = typeof spec.publish === 'string' ? spec.publish : publishRef(d.target.registry!, p);
      out.push(publishResource(p, ref));
    }
  }
  if (ctx.target === 'dev-desktop' && ctx.packs.length > 0) {
    // a tenant runs one pack: the first one listed
    const [first, ...others] = ctx.packs;
    for (const t of d.tenants) out.push(packLoadResource(first!, t.id));
    if (others.length > 0)
      ctx.notes.push(
        `dev-desktop loads ${first!.packId} for every tenant (a tenant runs one pack); ${others.map((p) => p.packId).join(', ')} ${others.length === 1 ? 'is' : 'are'} built but not loaded`,
      );
  }
  out.push(artifactsResource(ctx.target));
  if (ctx.target === 'dev-desktop' && ctx.o.startRunner !== false) {
    if (flowFiles(ctx.targetInput).length > 0) out.push(processResource());
    else
      ctx.notes.push(
        'the runner is not started: there is no flow to serve (add packs: or target.runner.flows to greentic.yaml)',
      );
  }
  return out;
}

function masterKeyResource(): Desired {
  return {
    id: 'master-key',
    kind: 'master-key',
    phase: 'bootstrap',
    hash: async () => hashOf('master-key/v1'),
    present: (ctx) => readMasterKey(ctx.home, ctx.env) !== undefined,
    apply: async (ctx, rec, checkpoint) => {
      const existing = readMasterKey(ctx.home, ctx.env);
      const createdBefore = rec?.data.created === true;
      if (existing)
        return {
          data: { source: existing.source, file: existing.file, created: createdBefore },
          owned: createdBefore,
        };
      const created = createMasterKey(ctx.home);
      checkpoint('created', { created: true });
      ctx.log(`  master key generated: ${created.file} (mode 0600)`);
      return { data: { source: created.source, file: created.file, created: true }, owned: true };
    },
  };
}

function recordResource(
  kind: 'tenant' | 'team' | 'user',
  id: string,
  spec: Record<string, unknown>,
): Desired {
  const clean = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  return {
    id,
    kind,
    phase: 'bootstrap',
    hash: async () => hashOf(clean),
    apply: async () => ({ data: clean, owned: true }),
  };
}

function secretResource(s: SecretSpec): Desired {
  const id = `secret:${s.uri}`;
  return {
    id,
    kind: 'secret',
    phase: 'bootstrap',
    hash: async () => hashOf({ uri: s.uri, generate: Boolean(s.generate) }),
    present: (ctx) => hasSecret(ctx.store(), s.uri),
    apply: async (ctx, rec, checkpoint) => {
      const store = ctx.store();
      const storedBefore = rec?.data.stored === true;
      if (await hasSecret(store, s.uri)) {
        return { data: { uri: s.uri, stored: storedBefore }, owned: storedBefore };
      }
      let value = ctx.o.secretValues?.get(s.uri);
      if (value === undefined && s.generate) value = generateSecretValue();
      if (value === undefined)
        throw new DeployerError('GT_DEPLOY_SECRET_MISSING', `${s.uri} has no value in the secrets store`, {
          step: 'secrets',
          resource: id,
          hint: 'run greentic-deployer bootstrap (it asks for it, or reads it from the environment or --secrets-file)',
        });
      try {
        await store.put(s.uri, value, { format: 'text' });
      } catch (e) {
        throw secretsError(e, s.uri);
      }
      checkpoint('stored', { uri: s.uri, stored: true });
      ctx.log(`  ${s.generate ? 'generated and stored' : 'stored'} ${s.uri}`);
      return { data: { uri: s.uri, stored: true }, owned: true };
    },
  };
}

function signingKeyResource(): Desired {
  return {
    id: 'signing-key:dev',
    kind: 'signing-key',
    phase: 'bootstrap',
    hash: async () => hashOf('dev-ed25519/v1'),
    present: (ctx, rec) =>
      typeof rec.data.key === 'string' && existsSync(rec.data.key) && existsSync(ctx.home.trustDir),
    apply: async (ctx, rec) => {
      const key = await ensureDevKey(ctx.home);
      if (key.created)
        ctx.log(`  dev signing key created: ${ctx.home.devSigningKey} (trust: ${ctx.home.devPublicKey})`);
      return {
        data: { key: ctx.home.devSigningKey, public: ctx.home.devPublicKey, fingerprint: key.fingerprint },
        owned: key.created || rec?.owned === true,
      };
    },
  };
}

interface ConnectorPlan {
  url?: string;
  apiBase?: string;
}

function connectorPlan(ctx: Ctx, c: ConnectorSpec): ConnectorPlan {
  const kind = CONNECTOR_KINDS[c.kind]!;
  const d = ctx.o.loaded.description;
  const url =
    c.webhook_url ??
    (d.target.public_url
      ? `${d.target.public_url.replace(/\/+$/, '')}${webhookPath(kind.provider, c.id)}`
      : undefined);
  const apiBase =
    c.kind === 'messaging.telegram' && ctx.o.telegramApiBase
      ? ctx.o.telegramApiBase
      : (c.api_base_url ?? kind.defaultApiBase);
  return { ...(url ? { url } : {}), ...(apiBase ? { apiBase } : {}) };
}

function connectorResource(c: ConnectorSpec): Desired {
  const id = `connector:${c.id}`;
  const kind = CONNECTOR_KINDS[c.kind]!;
  return {
    id,
    kind: 'connector',
    phase: 'bootstrap',
    hash: async (ctx) => {
      const p = connectorPlan(ctx, c);
      const secretVersions: Record<string, string | undefined> = {};
      for (const [k, uri] of Object.entries(c.secrets))
        secretVersions[k] = await secretVersion(ctx.store(), uri);
      return hashOf({
        kind: c.kind,
        tenant: c.tenant,
        team: c.team,
        ...p,
        options: c.options,
        secretVersions,
      });
    },
    apply: async (ctx, _rec, checkpoint) => {
      const p = connectorPlan(ctx, c);
      const data = {
        kind: c.kind,
        tenant: c.tenant,
        team: c.team ?? null,
        url: p.url ?? null,
        api_base: p.apiBase ?? null,
      };
      if (kind.webhook === 'none') return { data, owned: true };
      if (!p.url)
        throw new DeployerError('GT_DEPLOY_CONFIG', `connector ${c.id} needs a public webhook URL`, {
          step: 'webhook',
          resource: id,
          hint: `set target.public_url (an HTTPS URL ${kind.provider} can reach; a tunnel for dev-desktop) or connectors[].webhook_url in greentic.yaml`,
        });
      if (kind.webhook === 'manual') {
        ctx.log(`  ${c.id}: set the webhook URL in the ${kind.provider} console to ${p.url}`);
        return { data: { ...data, manual: true }, owned: true };
      }
      // messaging.telegram: setWebhook with the generated secret token
      if (p.apiBase === 'https://api.telegram.org' && !p.url.startsWith('https://'))
        throw new DeployerError('GT_DEPLOY_CONFIG', `Telegram requires an HTTPS webhook URL (got ${p.url})`, {
          step: 'webhook',
          resource: id,
          hint: 'set target.public_url to an https:// URL (a tunnel such as cloudflared or ngrok for dev-desktop)',
        });
      const botToken = await requireSecret(ctx, c.secrets.bot_token!, id);
      const secretToken = await requireSecret(ctx, c.secrets.webhook_secret!, id);
      const apiBase = p.apiBase!;
      await setWebhook(
        {
          url: p.url,
          secretToken,
          ...(c.options?.max_connections !== undefined ? { maxConnections: c.options.max_connections } : {}),
          ...(c.options?.allowed_updates ? { allowedUpdates: c.options.allowed_updates } : {}),
          ...(c.options?.drop_pending_updates !== undefined
            ? { dropPendingUpdates: c.options.drop_pending_updates }
            : {}),
        },
        { apiBase, botToken, resource: id, ...(ctx.o.fetch ? { fetch: ctx.o.fetch } : {}) },
      );
      checkpoint('webhook-set', { ...data, bot_token: c.secrets.bot_token });
      ctx.log(`  setWebhook ${c.id} → ${p.url}`);
      return { data: { ...data, bot_token: c.secrets.bot_token }, owned: true };
    },
  };
}

async function requireSecret(ctx: Ctx, uri: string, resource: string): Promise<string> {
  const v = await readSecretText(ctx.store(), uri);
  if (v === undefined)
    throw new DeployerError('GT_DEPLOY_SECRET_MISSING', `${uri} is not in the secrets store`, {
      step: 'secrets',
      resource,
      hint: 'run greentic-deployer bootstrap to store it',
    });
  return v;
}

function packResource(p: PackInfo): Desired {
  const id = `pack:${p.packId}`;
  return {
    id,
    kind: 'pack',
    phase: 'bootstrap',
    hash: async (ctx) =>
      hashOf({
        source: packSourceHash(p.dir),
        version: p.version,
        // which key signs (a digest of its file, never the key itself)
        key: signingKeyDigest(ctx.home),
      }),
    present: (ctx, rec) =>
      typeof rec.data.out === 'string' && existsSync(rec.data.out) && existsSync(builtPackPath(ctx.home, p)),
    apply: async (ctx) => {
      const key = await ensureDevKey(ctx.home);
      const out = builtPackPath(ctx.home, p);
      const built = await buildAndSignPack(p, out, key.privateKeyPem, (line) => ctx.log(`    ${line}`));
      ctx.log(`  built and signed ${p.packId} ${p.version} → ${out}`);
      return { data: { out, digest: built.archiveDigest, pack_yaml: p.packYaml }, owned: true };
    },
  };
}

/**
 * dev-desktop: the built pack as the tenant's current pack in the runner's pack store (`greentic-runner load`'s
 * `loadPackIntoStore`), and a running runner told to reload. A pack whose digest is already current is left alone.
 * `before` records the tenant's pack before the deployer first loaded one, so destroy can put it back.
 */
function packLoadResource(p: PackInfo, tenant: string): Desired {
  const id = `pack-load:${tenant}`;
  return {
    id,
    kind: 'pack-load',
    phase: 'bootstrap',
    hash: async (ctx) =>
      hashOf({
        pack: p.packId,
        source: packSourceHash(p.dir),
        version: p.version,
        key: signingKeyDigest(ctx.home),
        store: ctx.home.packStore,
        trust: ctx.home.trustDir,
      }),
    present: async (ctx, rec) =>
      typeof rec.data.digest === 'string' &&
      (await tenantPackIsCurrent(ctx.home.packStore, tenant, rec.data.digest)),
    apply: async (ctx, rec, checkpoint) => {
      const file = builtPackPath(ctx.home, p);
      const loaded = await loadTenantPack({
        store: ctx.home.packStore,
        trustDir: ctx.home.trustDir,
        tenant,
        file,
        env: ctx.env,
      });
      const earlier = Array.isArray(rec?.data.loaded) ? (rec.data.loaded as string[]) : [];
      // what the tenant had before the deployer touched it (kept across updates)
      const before =
        rec && 'before' in rec.data
          ? (rec.data.before as StoredPackRef | null)
          : loaded.previous && !earlier.includes(loaded.previous.digest)
            ? loaded.previous
            : null;
      const data = {
        tenant,
        pack_id: p.packId,
        version: p.version,
        digest: loaded.digest,
        store: ctx.home.packStore,
        file,
        before,
        loaded: [...new Set([...earlier, ...(loaded.changed ? [loaded.digest] : [])])],
      };
      checkpoint('loaded', data);
      if (loaded.changed) {
        ctx.log(`  loaded ${p.packId} ${p.version} (${loaded.digest.slice(0, 19)}…) for tenant ${tenant}`);
        if (await reloadRunner(ctx.home)) ctx.log('  the running runner reloaded its packs');
      }
      return { data, owned: true };
    },
  };
}

function publishResource(p: PackInfo, ref: string): Desired {
  const id = `publish:${p.packId}`;
  return {
    id,
    kind: 'publish',
    phase: 'bootstrap',
    hash: async () => hashOf({ ref, source: packSourceHash(p.dir), version: p.version }),
    apply: async (ctx) => {
      const out = builtPackPath(ctx.home, p);
      const pushed = await publishPack(out, ref, p, ctx.o.push ?? pushPackFunction());
      ctx.log(`  published ${p.packId} → ${pushed.ref}`);
      return { data: { ref, pinned: pushed.ref, digest: pushed.digest }, owned: true };
    },
  };
}

function artifactsResource(target: TargetKind): Desired {
  let cached: Artifact[] | undefined;
  const generate = (ctx: Ctx) => {
    cached ??= targetArtifacts(target, ctx.targetInput);
    return cached;
  };
  return {
    id: `artifacts:${target}`,
    kind: 'artifacts',
    phase: 'bootstrap',
    hash: async (ctx) => hashOf({ dir: ctx.outDir, files: artifactsHash(generate(ctx)) }),
    present: (ctx) =>
      generate(ctx).every((a) => {
        const file = join(ctx.outDir, a.path);
        return existsSync(file) && readFileSync(file, 'utf8') === a.content;
      }),
    apply: async (ctx, rec, checkpoint) => {
      const files = generate(ctx);
      const previous = Array.isArray(rec?.data.files) ? (rec.data.files as string[]) : [];
      const previousDir = typeof rec?.data.dir === 'string' ? rec.data.dir : ctx.outDir;
      checkpoint('writing', {
        dir: ctx.outDir,
        files: [...new Set([...previous, ...files.map((f) => f.path)])],
      });
      for (const a of files) writeAtomic(join(ctx.outDir, a.path), a.content, a.mode ?? 0o644);
      const keep = new Set(files.map((f) => join(ctx.outDir, f.path)));
      removeFiles(
        previousDir,
        previous.filter((f) => !keep.has(join(previousDir, f))),
      );
      ctx.log(`  wrote ${files.length} file${files.length === 1 ? '' : 's'} to ${ctx.outDir}`);
      return { data: { dir: ctx.outDir, files: files.map((f) => f.path) }, owned: true };
    },
  };
}

function processResource(): Desired {
  return {
    id: 'process:runner',
    kind: 'process',
    phase: 'deploy',
    hash: async (ctx) => hashOf(devDesktopConfig(ctx.targetInput)),
    present: (ctx, rec) => {
      const running = runningRunner(ctx.home);
      return running !== undefined && running.pid === rec.data.pid;
    },
    apply: async (ctx, _rec, checkpoint) => {
      if (await stopRunner(ctx.home)) ctx.log('  stopped the running runner');
      const config = devDesktopConfig(ctx.targetInput);
      const port = config.http!.port!;
      const file = join(ctx.outDir, 'runner.yaml');
      const info = await startRunner(ctx.home, file, port, {
        env: ctx.env,
        log: ctx.log,
        ...(ctx.o.runnerStartTimeoutMs ? { timeoutMs: ctx.o.runnerStartTimeoutMs } : {}),
      });
      checkpoint('started', { pid: info.pid, port, log: info.log });
      ctx.log(`  runner serving on http://127.0.0.1:${port} (log ${info.log})`);
      return { data: { pid: info.pid, port, log: info.log, config: file }, owned: true };
    },
  };
}

function signingKeyDigest(home: GreenticHome): string | null {
  const file = [home.devSigningKey, home.packcDevKey].find((f) => existsSync(f));
  return file ? createHash('sha256').update(readFileSync(file)).digest('hex') : null;
}

function writeAtomic(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}

function removeFiles(dir: string, files: string[]): void {
  for (const f of files) rmSync(join(dir, f), { force: true });
  // remove directories left empty (deepest first), up to and including dir
  const dirs = new Set<string>();
  for (const f of files) {
    let d = dirname(join(dir, f));
    while (d.length >= dir.length) {
      dirs.add(d);
      if (d === dir) break;
      d = dirname(d);
    }
  }
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      if (existsSync(d) && readdirSync(d).length === 0) rmdirSync(d);
    } catch {
      // not empty or gone: fine
    }
  }
}

// ---------------------------------------------------------------- plan

async function decide(ctx: Ctx, r: Desired): Promise<{ action: Action; reason: string; hash: string }> {
  const rec = ctx.state.get(r.id);
  const hash = await r.hash(ctx);
  if (!rec) return { action: 'create', reason: 'not created yet', hash };
  if (rec.status === 'in-progress')
    return {
      action: 'update',
      reason: `interrupted${rec.step ? ` after step ${rec.step}` : ''}: resume`,
      hash,
    };
  if (rec.hash !== hash) return { action: 'update', reason: 'the description changed', hash };
  if (r.present && !(await r.present(ctx, rec)))
    return { action: 'update', reason: 'missing or changed on disk', hash };
  return { action: 'no-op', reason: 'up to date', hash };
}

function staleRecords(ctx: Ctx, desired: Desired[]): ResourceRecord[] {
  const ids = new Set(desired.map((r) => r.id));
  return ctx.state
    .list()
    .filter((r) => !ids.has(r.id))
    .reverse();
}

export async function plan(o: DeployOptions): Promise<Plan> {
  const state = DeployerState.load(o.home.stateDir, o.loaded.description.name);
  const ctx = context(o, state);
  const desired = desiredResources(ctx);
  const entries: PlanEntry[] = [];
  for (const r of desired) {
    const { action, reason } = await decide(ctx, r);
    entries.push({ id: r.id, kind: r.kind, action, reason, phase: r.phase });
  }
  for (const rec of staleRecords(ctx, desired))
    entries.push({
      id: rec.id,
      kind: rec.kind as ResourceKind,
      action: 'delete',
      reason: 'no longer in the description',
      phase: 'bootstrap',
    });
  return {
    name: state.name,
    target: ctx.target,
    entries,
    changes: entries.filter((e) => e.action !== 'no-op').length,
    notes: ctx.notes,
  };
}

// ---------------------------------------------------------------- apply

export interface ApplyResult extends Plan {
  /** Where the target's artifacts are. */
  outDir: string;
  stateFile: string;
}

export async function apply(o: DeployOptions): Promise<ApplyResult> {
  const name = o.loaded.description.name;
  const release = acquireLock(o.home.stateDir, name);
  try {
    const state = DeployerState.load(o.home.stateDir, name);
    const ctx = context(o, state);
    state.target = ctx.target;
    state.description = o.loaded.file;
    state.save();
    const desired = desiredResources(ctx);
    const entries: PlanEntry[] = [];
    // deletions first: a target switch stops the old runner before the new one starts
    for (const rec of staleRecords(ctx, desired)) {
      ctx.log(`- ${rec.id}`);
      await destroyRecord(ctx, rec, { keepSecrets: false, purge: false, force: false });
      state.remove(rec.id);
      entries.push({
        id: rec.id,
        kind: rec.kind as ResourceKind,
        action: 'delete',
        reason: 'no longer in the description',
        phase: 'bootstrap',
      });
    }
    for (const r of desired) {
      if (o.phase === 'bootstrap' && r.phase === 'deploy') continue;
      const { action, reason, hash } = await decide(ctx, r);
      entries.push({ id: r.id, kind: r.kind, action, reason, phase: r.phase });
      if (action === 'no-op') {
        ctx.log(`= ${r.id}`);
        continue;
      }
      ctx.log(`${action === 'create' ? '+' : '~'} ${r.id} (${reason})`);
      const rec = state.get(r.id);
      const base: Omit<ResourceRecord, 'updated_at'> = {
        id: r.id,
        kind: r.kind,
        hash: rec?.hash ?? '',
        status: 'in-progress',
        step: 'start',
        data: rec?.data ?? {},
        owned: rec?.owned ?? false,
      };
      state.put(base);
      const checkpoint: Checkpoint = (step, data) => {
        Object.assign(base, { step, data: { ...base.data, ...(data ?? {}) } });
        state.put(base);
        if (ctx.failAt === r.id || ctx.failAt === `${r.id}#${step}`)
          throw new DeployerError('GT_DEPLOY_INJECTED', `injected failure in ${r.id} after step ${step}`, {
            step: 'state',
            resource: r.id,
            hint: 'unset GREENTIC_DEPLOYER_FAIL_AT and run again: the run resumes',
          });
      };
      const applied = await r.apply(ctx, state.get(r.id), checkpoint);
      if (ctx.failAt === r.id) checkpoint('done', applied.data);
      state.put({
        id: r.id,
        kind: r.kind,
        hash,
        status: 'applied',
        data: applied.data,
        owned: applied.owned,
      });
    }
    return {
      name,
      target: ctx.target,
      entries,
      changes: entries.filter((e) => e.action !== 'no-op').length,
      notes: ctx.notes,
      outDir: ctx.outDir,
      stateFile: state.file,
    };
  } finally {
    release();
  }
}

// ---------------------------------------------------------------- destroy

export interface DestroyOptions {
  /** Keep the secrets the deployer stored (a later bootstrap does not ask again). */
  keepSecrets?: boolean;
  /** Also remove the master key and the dev signing key, when the deployer created them. */
  purge?: boolean;
  /** Go on when a provider cannot be reached (the webhook stays registered there). */
  force?: boolean;
}

/** removed: gone; kept: left in place and still recorded (--keep-secrets, no --purge); left: not the deployer's, forgotten. */
type DestroyOutcome = 'removed' | 'kept' | 'left';

async function destroyRecord(ctx: Ctx, rec: ResourceRecord, o: DestroyOptions): Promise<DestroyOutcome> {
  const d = rec.data;
  switch (rec.kind as ResourceKind) {
    case 'process':
      if (await stopRunner(ctx.home)) ctx.log('  runner stopped');
      return 'removed';
    case 'artifacts':
      if (typeof d.dir === 'string' && Array.isArray(d.files)) removeFiles(d.dir, d.files as string[]);
      return 'removed';
    case 'pack':
      if (typeof d.out === 'string') rmSync(d.out, { force: true });
      return 'removed';
    case 'pack-load': {
      if (typeof d.tenant !== 'string' || typeof d.store !== 'string') return 'removed';
      const digests = Array.isArray(d.loaded) ? (d.loaded as string[]) : [];
      const before = (d.before as StoredPackRef | null | undefined) ?? undefined;
      const ours = await unloadTenantPack({
        store: d.store,
        tenant: d.tenant,
        digests,
        ...(before ? { before } : {}),
      });
      ctx.log(
        ours
          ? `  ${before ? `restored ${before.pack_id} ${before.version} as` : 'removed'} the pack of tenant ${d.tenant} in ${d.store}`
          : `  tenant ${d.tenant} has another pack in ${d.store} now: left as it is`,
      );
      return ours ? 'removed' : 'left';
    }
    case 'publish':
      ctx.log(`  the registry keeps ${String(d.pinned ?? d.ref)} (delete it there if you need to)`);
      return 'removed';
    case 'connector': {
      if (
        d.kind !== 'messaging.telegram' ||
        typeof d.bot_token !== 'string' ||
        typeof d.api_base !== 'string'
      )
        return 'removed';
      try {
        const botToken = await requireSecret(ctx, d.bot_token, rec.id);
        await deleteWebhook({
          apiBase: d.api_base,
          botToken,
          resource: rec.id,
          ...(ctx.o.fetch ? { fetch: ctx.o.fetch } : {}),
        });
        ctx.log(`  deleteWebhook ${rec.id.slice('connector:'.length)}`);
      } catch (e) {
        if (!o.force) throw e;
        ctx.log(`  warning: ${(e as Error).message} (--force: going on; the webhook may still be set)`);
      }
      return 'removed';
    }
    case 'secret':
      if (!rec.owned && d.stored !== true) return 'left';
      if (o.keepSecrets) return 'kept';
      try {
        await ctx.store().delete(String(d.uri));
      } catch (e) {
        throw secretsError(e, String(d.uri));
      }
      ctx.log(`  removed ${String(d.uri)}`);
      return 'removed';
    case 'signing-key':
      if (!rec.owned) return 'left';
      if (!o.purge) return 'kept';
      rmSync(ctx.home.devSigningKey, { force: true });
      rmSync(ctx.home.devPublicKey, { force: true });
      return 'removed';
    case 'master-key':
      if (!rec.owned) return 'left';
      if (!o.purge) return 'kept';
      rmSync(ctx.home.masterKey, { force: true });
      return 'removed';
    default:
      return 'removed';
  }
}

export interface DestroyResult {
  name: string;
  removed: string[];
  /** Still there and still recorded: secrets with --keep-secrets, keys without --purge. */
  kept: string[];
  /** Found, not created by the deployer: left as they were, and no longer recorded. */
  left: string[];
}

export async function destroy(o: DeployOptions & DestroyOptions): Promise<DestroyResult> {
  const name = o.loaded.description.name;
  const release = acquireLock(o.home.stateDir, name);
  try {
    const state = DeployerState.load(o.home.stateDir, name);
    const ctx = context(o, state);
    const removed: string[] = [];
    const kept: string[] = [];
    const left: string[] = [];
    for (const rec of [...state.list()].reverse()) {
      ctx.log(`- ${rec.id}`);
      try {
        const r = await destroyRecord(ctx, rec, o);
        ({ removed, kept, left })[r].push(rec.id);
      } catch (e) {
        throw e instanceof DeployerError
          ? e
          : new DeployerError('GT_DEPLOY_STATE', `destroying ${rec.id} failed: ${(e as Error).message}`, {
              step: 'destroy',
              resource: rec.id,
              hint: 'fix the cause and run destroy again (what was removed is recorded)',
              cause: e,
            });
      }
      // kept resources stay recorded (still owned), so a later destroy can remove them
      if (!kept.includes(rec.id)) state.remove(rec.id);
    }
    if (state.isEmpty()) state.delete();
    if (removed.length > 0 && existsSync(ctx.outDir) && readdirSync(ctx.outDir).length === 0)
      rmdirSync(ctx.outDir);
    return { name, removed, kept, left };
  } finally {
    release();
  }
}

/** Relative path for messages. */
export function shortPath(p: string, from = process.cwd()): string {
  const r = relative(from, p);
  return r.startsWith('..') ? p : r || '.';
}
