import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { ComponentHost } from '@greentic/component';
import type { ComponentRegistry } from '@greentic/interfaces';
import { redactUrl } from '@greentic/redis';
import type { SecretsProvider } from '@greentic/secrets';
import type { ChannelMessageEnvelope, ReplyScope, TenantCtx } from '@greentic/types';
import type { FastifyInstance } from 'fastify';
import type { JetStreamManager, NatsConnection } from 'nats';
import { RunnerConsumer } from '../bus/consumer.js';
import { ReloadBroadcast, type ReloadControlMessage } from '../bus/control.js';
import { type BusTopology, type ConsumerSettings, ensureConsumer, ensureStreams } from '../bus/jetstream.js';
import { IngressPublisher } from '../bus/publisher.js';
import { ingressFilter } from '../bus/subjects.js';
import type { RunnerConfig } from '../config/config.js';
import { FlowEngine, type HandleMessageOptions, type TurnResult } from '../engine/engine.js';
import { RunnerError } from '../errors.js';
import { RunnerGateway } from '../gateway/gateway.js';
import { secretRefResolver } from '../gateway/secrets.js';
import { PackComponentRegistry } from '../packs/components.js';
import { installStoredPacks } from '../packs/load.js';
import { TenantPackRegistry } from '../packs/registry.js';
import { type PackSettings, packSettingsOf } from '../packs/settings.js';
import { PackStore, type StoredPackRef } from '../packs/store.js';
import { createPlatform, type RunnerPlatform } from '../platform/platform.js';
import { type RunnerTelemetry, startRunnerTelemetryOrFail } from '../platform/telemetry.js';
import { connectNats } from './connect.js';
import { DaemonFlowSource, type FlowSet, type LoadedFlow, loadFlowSet } from './flows.js';
import { buildHttpServer } from './http.js';
import { DAEMON_LOG_FORMAT, type Logger, pinoLinesTo, silentLogger } from './log.js';
import { createDaemonOAuth, type DaemonOAuth, ResumeRoutes } from './oauth.js';
import { defaultStoreFactory, type RunnerStores, type StoreFactory } from './stores.js';

export type DaemonStatus = 'starting' | 'ok' | 'degraded' | 'draining' | 'stopped';

export interface RunnerDaemonOptions {
  config: RunnerConfig;
  log?: Logger;
  /** Builds the session/state stores and the ingress ledger (default: from `config.stores`). */
  storeFactory?: StoreFactory;
  /** Resolves component, adapter and mcp nodes of the flows. */
  components?: ComponentRegistry;
  /**
   * Loads the flows (at startup and on every reload) instead of reading `flows.paths`: for embedders that prepare
   * their flows (e.g. set parameters), as the weather demo does.
   */
  flowLoader?: () => Promise<LoadedFlow[]>;
  /** Environment of `env:` secret references of `connectors:`/`webchat:` (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Providers of `secrets://` references (default: environment variables, then the encrypted file store). */
  secretsProviders?: SecretsProvider[];
  /**
   * The process's telemetry (`startRunnerTelemetry`): the engine's tracer; `stop()` flushes and shuts it down last.
   * Default: the daemon starts it with `env` (spans exported when `OTEL_EXPORTER_OTLP_*ENDPOINT` or
   * `OTEL_TRACES_EXPORTER` is set), its log lines going to `log`.
   */
  telemetry?: RunnerTelemetry;
  /**
   * The platform services (`createPlatform`): secrets and policy tracing for pack components, OAuth's token store.
   * Default: built from `config.secrets.file` and `env`. `stop()` closes it.
   */
  platform?: RunnerPlatform;
}

/** The `packs` field of `/admin/packs`: one row per loaded pack (tenant `null`: the default pack). */
export interface PackRow {
  tenant: string | null;
  pack_id: string;
  version: string;
  digest: string;
  /** The version key new conversations start on (`<pack_id>@<version>#<digest prefix>`). */
  current: string;
  entry: string;
  /** Version keys kept in memory, newest first (conversations parked on them finish there). */
  loaded_versions: string[];
  signed: boolean | null;
  trusted: boolean | null;
  loaded_at: string | null;
  source: string | null;
}

const DEFAULT_PACK = '\u0000default';
const sanitizeId = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'runner';
const packSlot = (tenant: string | undefined) => tenant ?? DEFAULT_PACK;
const errorOf = (e: unknown) => ({
  code: (e as { code?: string }).code ?? 'GT_RUNNER_CONFIG',
  message: (e as Error).message,
});

/** The bus layout a configuration describes. */
export function topologyOf(cfg: RunnerConfig): BusTopology {
  const n = cfg.nats;
  return {
    subjectPrefix: n.subjectPrefix,
    dlqSubject: n.dlqSubject,
    streams: n.streams,
    storage: n.storage,
    duplicateWindowMs: n.duplicateWindowMs,
    maxAgeMs: n.maxAgeMs,
  };
}

/** The shared durable consumer a configuration describes. */
export function consumerOf(cfg: RunnerConfig): ConsumerSettings {
  const n = cfg.nats;
  return {
    stream: n.streams.ingress,
    durable: n.consumer,
    filterSubject: ingressFilter(n.subjectPrefix, cfg.tenancy.env, cfg.tenancy.tenant),
    maxDeliver: n.maxDeliver,
    ackWaitMs: n.ackWaitMs,
    maxAckPending: n.maxAckPending,
  };
}

/**
 * `greentic-runner serve`: the HTTP server (health, readiness, admin), the stores, the flows, and — with NATS —
 * the ingress consumer and the egress publisher. `start()` answers /healthz at once, then connects (failing fast
 * when a configured backend cannot be reached) and loads the flows; `stop()` drains.
 */
export class RunnerDaemon {
  private status: DaemonStatus = 'starting';
  private readonly log: Logger;
  private readonly cfg: RunnerConfig;
  private http?: FastifyInstance;
  private stores?: RunnerStores;
  private nc?: NatsConnection;
  private jsm?: JetStreamManager;
  private consumer?: RunnerConsumer;
  private publisherInstance?: IngressPublisher;
  private engine?: FlowEngine;
  private gatewayInstance?: RunnerGateway;
  private loaded: LoadedFlow[] = [];
  private flowSet?: FlowSet;
  private telemetry?: RunnerTelemetry;
  private platform?: RunnerPlatform;
  private host?: ComponentHost;
  private packRegistry?: TenantPackRegistry;
  private packSettings?: PackSettings;
  /** The store's record of each installed pack (signature, load time, source), by tenant slot. */
  private readonly packRefs = new Map<string, StoredPackRef>();
  private packFailures: { tenant: string | null; code: string; message: string }[] = [];
  private oauthInstance?: DaemonOAuth;
  private resumeRoutes?: ResumeRoutes;
  private lastReload: string | null = null;
  private lastError: string | null = null;
  private reloading?: Promise<unknown>;
  private natsConnected = true;
  private control?: ReloadBroadcast;
  /** This daemon's id on the control subject (host, pid, random): its own reload broadcasts are ignored. */
  readonly instanceId = `${sanitizeId(hostname())}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private starting?: Promise<void>;
  private readonly startedAt = Date.now();
  private stopPromise?: Promise<{ unfinished: number }>;
  private resolveStopped!: (r: { unfinished: number }) => void;
  /** Resolves when `stop()` has finished (after a signal, for the CLI). */
  readonly stopped = new Promise<{ unfinished: number }>((resolve) => {
    this.resolveStopped = resolve;
  });

  constructor(private readonly o: RunnerDaemonOptions) {
    this.cfg = o.config;
    this.log = o.log ?? silentLogger;
    this.telemetry = o.telemetry;
    this.platform = o.platform;
  }

  /** Flows come from `flows.paths` (or the embedder's `flowLoader`). */
  private get usesFlowPaths(): boolean {
    return this.o.flowLoader !== undefined || this.cfg.flows.paths.length > 0;
  }

  /** Packs are read from the pack store: a `packs:` section, or no `flows.paths` at all. */
  get packsEnabled(): boolean {
    return this.cfg.packs !== undefined || !this.usesFlowPaths;
  }

  /** The per-tenant pack registry (when packs are enabled, after start). */
  get packs(): TenantPackRegistry | undefined {
    return this.packRegistry;
  }

  /** The OAuth broker, node registry and routes (with an `oauth:` section, after start). */
  get oauth(): DaemonOAuth['oauth'] | undefined {
    return this.oauthInstance?.oauth;
  }

  private get env(): Record<string, string | undefined> {
    return this.o.env ?? process.env;
  }

  /** The HTTP server's address (after `start`). */
  get address(): { host: string; port: number } {
    const a = this.http?.server.address() as AddressInfo | null;
    return { host: a?.address ?? this.cfg.http.host, port: a?.port ?? this.cfg.http.port };
  }

  /** The messaging gateway and WebChat (when `connectors:` or `webchat.enabled` configure them). */
  get gateway(): RunnerGateway | undefined {
    return this.gatewayInstance;
  }

  /** The WebChat page's URL, once listening (undefined without WebChat). */
  get webchatUrl(): string | undefined {
    const path = this.gatewayInstance?.webchatPath;
    if (path === undefined) return undefined;
    const { host, port } = this.address;
    // a wildcard address is reached on loopback from this machine
    const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    return `http://${h}:${port}${path}`;
  }

  private loadFlows(): Promise<LoadedFlow[] | undefined> {
    if (!this.usesFlowPaths) return Promise.resolve(undefined);
    return this.o.flowLoader ? this.o.flowLoader() : loadFlowSet(this.cfg.flows.paths);
  }

  /** For gateways living in the same process: publishes to this daemon's ingress (NATS only). */
  get publisher(): IngressPublisher | undefined {
    return this.publisherInstance;
  }

  /** Listens, then connects and loads; rejects (after releasing what it opened) when startup fails. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.http = buildHttpServer(this, { adminToken: this.cfg.admin.token });
    try {
      // telemetry first (spans, the platform's redacting logger), then the platform services
      await this.startPlatform();
      // secrets are local (environment, encrypted file): a missing one ends startup before the server listens
      this.gatewayInstance = await RunnerGateway.create({
        config: this.cfg,
        log: this.log,
        ...(this.o.env ? { env: this.o.env } : {}),
        ...(this.o.secretsProviders ? { secretsProviders: this.o.secretsProviders } : {}),
      });
      await this.gatewayInstance?.mount(this.http);
      if (this.cfg.oauth) await this.startOAuth();
    } catch (e) {
      this.status = 'stopped';
      this.lastError = (e as Error).message;
      await this.releaseEarly();
      throw e;
    }
    try {
      await this.http.listen({ host: this.cfg.http.host, port: this.cfg.http.port });
    } catch (e) {
      this.status = 'stopped';
      await this.releaseEarly();
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `http: cannot listen on ${this.cfg.http.host}:${this.cfg.http.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose another http.port or GREENTIC_RUNNER_PORT`,
        { field: 'http.port' },
        { cause: e },
      );
    }
    this.log.info('listening', {
      ...this.address,
      stores: this.cfg.stores.kind,
      nats: this.cfg.nats.enabled,
      instance: this.instanceId,
      ...(this.gatewayInstance
        ? { webhooks: this.gatewayInstance.webhookPaths, webchat: this.gatewayInstance.webchatPath ?? null }
        : {}),
      ...(this.oauthInstance ? { oauth: this.oauthInstance.oauth.broker.providers().map((p) => p.id) } : {}),
      telemetry: this.telemetry?.enabled ?? false,
    });
    try {
      const flows = this.loadFlows();
      const stores = (this.o.storeFactory ?? defaultStoreFactory)(this.cfg);
      const nats = this.cfg.nats.enabled ? this.connectBus() : Promise.resolve();
      // wait for all three, so nothing is left half-open when one of them fails
      const [f, s, n] = await Promise.allSettled([flows, stores, nats]);
      if (s.status === 'fulfilled') this.stores = s.value;
      for (const r of [s, n, f]) if (r.status === 'rejected') throw r.reason;
      if (this.stopPromise) return; // stopped while starting: stop() releases everything
      if (this.cfg.oauth)
        this.resumeRoutes = new ResumeRoutes(
          this.stores!.state,
          (this.cfg.oauth.stateTtlMs ?? 15 * 60_000) + 5 * 60_000,
        );
      if (this.packsEnabled) await this.startPacks();
      this.install((f as PromiseFulfilledResult<LoadedFlow[] | undefined>).value);
      if (this.cfg.nats.enabled) {
        await this.startConsumer();
        this.startControl();
      }
      if (this.stopPromise) return;
      await this.gatewayInstance?.start({
        stores: this.stores!,
        handle: (msg, opts) => this.handleMessage(msg, opts),
        ...(this.cfg.nats.enabled
          ? {
              bus: {
                js: this.nc!.jetstream(),
                jsm: this.jsm!,
                publisher: this.publisherInstance!,
                topology: topologyOf(this.cfg),
              },
            }
          : {}),
      });
      if (this.stopPromise) return;
      this.status = 'ok';
      this.log.info('ready', {
        flows: this.loaded.map((l) => l.flow.id),
        entry: this.flowSet?.entry ?? null,
        ...(this.packRegistry
          ? { packs: this.packRows().map((p) => `${p.tenant ?? '(default)'}: ${p.current}`) }
          : {}),
        ...(this.cfg.nats.enabled ? { consumer: consumerOf(this.cfg) } : {}),
      });
    } catch (e) {
      this.lastError = (e as Error).message;
      if (this.stopPromise) return;
      this.log.error('startup failed', { error: (e as Error).message });
      await this.gatewayInstance?.stop(0).catch(() => {});
      await this.release();
      await this.telemetry?.shutdown().catch(() => {});
      this.status = 'stopped';
      throw e;
    }
  }

  private async connectBus() {
    const n = this.cfg.nats;
    this.nc = await connectNats(n.url, {
      connectTimeoutMs: n.connectTimeoutMs,
      name: `${n.name}-${process.pid}`,
      field: 'nats.url',
    });
    this.jsm = await this.nc.jetstreamManager({ timeout: n.connectTimeoutMs }).catch((e) => {
      throw new RunnerError(
        'GT_RUNNER_UNREACHABLE',
        `NATS at ${redactUrl(n.url)} (nats.url) answers but JetStream does not (${(e as Error).message}): start nats-server with -js`,
        {},
        { cause: e },
      );
    });
    await ensureStreams(this.jsm, topologyOf(this.cfg));
    await ensureConsumer(this.jsm, consumerOf(this.cfg));
    void (async () => {
      for await (const s of this.nc!.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') {
          this.natsConnected = s.type === 'reconnect';
          this.log.warn(`nats ${s.type}`, { server: String(s.data) });
        }
      }
    })();
  }

  private async startConsumer() {
    const n = this.cfg.nats;
    const js = this.nc!.jetstream();
    this.publisherInstance = new IngressPublisher({
      js,
      ledger: this.stores!.ledger,
      subjectPrefix: n.subjectPrefix,
      keyPrefix: this.cfg.stores.redis.namespace,
      dedupeTtlMs: this.cfg.dedupe.ttlMs,
      sequenceTtlMs: this.cfg.ordering.sequenceTtlMs,
      duplicateWindowMs: n.duplicateWindowMs,
    });
    this.consumer = new RunnerConsumer({
      nc: this.nc!,
      js,
      jsm: this.jsm!,
      topology: topologyOf(this.cfg),
      consumer: consumerOf(this.cfg),
      concurrency: n.concurrency,
      handle: (msg, opts) => this.handleMessage(msg, opts),
      deferDelayMs: this.cfg.ordering.deferDelayMs,
      gapTimeoutMs: this.cfg.ordering.gapTimeoutMs,
      log: this.log,
    });
    await this.consumer.start();
  }

  /** The reload broadcast: this runner's reloads go to the other runners of its env, and theirs come here. */
  private startControl() {
    const n = this.cfg.nats;
    this.control = new ReloadBroadcast({
      nc: this.nc!,
      controlSubject: n.controlSubject,
      env: this.cfg.tenancy.env,
      sender: this.instanceId,
      onReload: (m) => this.reloadFromBroadcast(m),
      onMalformed: (error, subject) => this.log.warn('control message ignored', { subject, error }),
    });
    this.control.start();
  }

  /** Another runner reloaded: the same reload as POST /admin/reload (the changed packs), not broadcast again. */
  private async reloadFromBroadcast(m: ReloadControlMessage) {
    this.log.info('reload requested by another runner', {
      from: m.sender,
      reason: m.reason,
      sent_at: m.sent_at,
    });
    const r = await this.reload({
      reason: `broadcast from ${m.sender}: ${m.reason}`,
      broadcast: false,
    }).catch((e: unknown) => ({ ok: false as const, error: errorOf(e) }));
    const packs = (r as { packs?: { installed: unknown[]; unchanged: unknown[]; failed: unknown[] } }).packs;
    const fields = {
      from: m.sender,
      ...(packs
        ? {
            packs_installed: packs.installed,
            packs_unchanged: packs.unchanged.length,
            packs_failed: packs.failed.length,
          }
        : {}),
    };
    if (r.ok) this.log.info('broadcast reload done', fields);
    else this.log.warn('broadcast reload failed', { ...fields, error: r.error });
  }

  /** Runs one turn on the current engine (the one the last reload installed). */
  handleMessage(msg: ChannelMessageEnvelope, opts: HandleMessageOptions = {}): Promise<TurnResult> {
    if (!this.engine) return Promise.reject(new Error('no flows are loaded yet'));
    const turn = this.engine.handleMessage(msg, opts);
    const routes = this.resumeRoutes;
    if (!routes) return turn;
    // a conversation now waiting for an OAuth consent keeps where its replies go (the resume message lacks it)
    return turn.then(async (r) => {
      await routes.remember(msg, r).catch((e: unknown) => {
        this.log.warn('oauth: the reply route of a waiting conversation was not kept', {
          id: msg.id,
          error: (e as Error).message,
        });
      });
      return r;
    });
  }

  /**
   * Where the message of an OAuth consent goes: like a webhook's — the gateway's queue (memory mode) or the
   * ingress stream (NATS) — so the conversation resumes in order and its replies go out the usual way.
   */
  private async resume(msg: ChannelMessageEnvelope): Promise<void> {
    const routed = (await this.resumeRoutes?.fill(msg)) ?? msg;
    this.log.info('oauth consent: resuming the conversation', {
      id: routed.id,
      tenant: routed.tenant.tenant_id,
      channel: routed.channel,
    });
    if (this.gatewayInstance?.ready()) {
      await this.gatewayInstance.enqueue([routed], { providerMessageIds: [routed.id] });
      return;
    }
    if (this.publisherInstance) {
      await this.publisherInstance.publishIngress(routed, { providerMessageId: routed.id });
      return;
    }
    // no gateway and no bus: run it here (its replies have no channel to go out on)
    const r = await this.handleMessage(routed);
    if (r.replies.length > 0)
      this.log.warn('oauth consent: the resumed turn has replies but no gateway to send them', {
        id: routed.id,
        status: r.status,
        replies: r.replies.length,
      });
  }

  /** Telemetry (unless given) and the platform services (unless given). */
  private async startPlatform(): Promise<void> {
    this.telemetry ??= await startRunnerTelemetryOrFail({
      env: this.env,
      logLevel: this.cfg.log.level,
      pino: DAEMON_LOG_FORMAT,
      logDestination: pinoLinesTo(this.log),
    });
    const file = this.cfg.secrets.file;
    this.platform ??= await createPlatform({
      env: this.env,
      telemetry: this.telemetry,
      secrets: {
        ...(file.dir !== undefined ? { dir: file.dir } : {}),
        ...(file.masterKeyFile !== undefined ? { masterKeyFile: file.masterKeyFile } : {}),
      },
    });
  }

  /** The `oauth:` section: broker, node, routes (mounted before the server listens). */
  private async startOAuth(): Promise<void> {
    const config = this.cfg as RunnerConfig & { oauth: NonNullable<RunnerConfig['oauth']> };
    this.oauthInstance = await createDaemonOAuth({
      config,
      platform: this.platform!,
      resolveRef: secretRefResolver(this.cfg, {
        env: this.env,
        ...(this.o.secretsProviders ? { providers: this.o.secretsProviders } : {}),
      }),
      onResume: (msg) => this.resume(msg),
      log: this.log,
    });
    await this.http!.register(this.oauthInstance.oauth.routes);
  }

  /** The pack registry (components on the platform's component host) with the store's packs installed. */
  private async startPacks(): Promise<void> {
    this.packSettings = packSettingsOf(this.cfg, this.env);
    this.host = this.platform!.componentHost(this.stores!.state);
    const host = this.host;
    this.packRegistry = new TenantPackRegistry({
      keepVersions: this.packSettings.keepVersions,
      components: (pack) => new PackComponentRegistry(host, pack),
    });
    const r = await this.installPacks(false);
    for (const f of r.failed)
      this.log.error('pack not installed', {
        tenant: f.tenant ?? '(default)',
        code: f.code,
        error: f.message,
      });
  }

  /**
   * Reads the pack store and installs what changed (`onlyChanged`: unchanged packs are not read again); each
   * tenant's version is swapped in one step. A pack that cannot be installed — altered, or loaded unsigned on a
   * production runner — is reported and its tenant keeps what it had.
   */
  private async installPacks(onlyChanged: boolean) {
    const registry = this.packRegistry!;
    const settings = this.packSettings!;
    const r = await installStoredPacks(registry, settings, { onlyChanged });
    for (const i of r.installed) this.packRefs.set(packSlot(i.tenant), i.ref);
    // a tenant whose index left the store falls back to the default pack (or flows.paths)
    const inStore = new Set(await new PackStore(settings.storeDir).tenants());
    const removed = registry.tenants().filter((t) => !inStore.has(t));
    for (const t of removed) {
      registry.uninstall(t);
      this.packRefs.delete(t);
    }
    const failed = r.failed.map((f) => ({ tenant: f.tenant ?? null, ...errorOf(f.error) }));
    this.packFailures = failed.map((f) => ({ tenant: f.tenant, code: f.code, message: f.message }));
    return {
      installed: r.installed.map((i) => ({
        tenant: i.tenant ?? null,
        pack_id: i.ref.pack_id,
        version: i.ref.version,
        current: i.version,
        ...(i.previous !== undefined ? { previous: i.previous } : {}),
      })),
      unchanged: r.unchanged.map((u) => u.tenant ?? null),
      removed,
      failed,
    };
  }

  /** The state of a conversation (see {@link FlowEngine.conversationState}); undefined before the flows are loaded. */
  async conversationState(ctx: TenantCtx, scope: ReplyScope): Promise<Record<string, unknown> | undefined> {
    return this.engine?.conversationState(ctx, scope);
  }

  /** The flow set of `flows.paths`, its entry checked. */
  private flowSetOf(flows: LoadedFlow[]): FlowSet | undefined {
    if (flows.length === 0) return undefined;
    const map = new Map(flows.map((l) => [l.flow.id, l.flow]));
    const entry = this.cfg.flows.entry ?? flows[0]!.flow.id;
    if (!map.has(entry))
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `flows.entry: no loaded flow has id "${entry}" (loaded: ${flows.map((l) => l.flow.id).join(', ')})`,
        { field: 'flows.entry' },
      );
    return { flows: map, entry };
  }

  /**
   * Builds an engine over the shared stores with these flows (and the pack registry) and makes it current: turns
   * running finish on the old one. `undefined`: no `flows.paths` (packs only).
   */
  private install(flows: LoadedFlow[] | undefined) {
    const set = flows === undefined ? undefined : this.flowSetOf(flows);
    const anyPack = this.packRegistry !== undefined && this.packRows().length > 0;
    if (!set && !anyPack) {
      if (!this.packsEnabled)
        throw new RunnerError(
          'GT_RUNNER_CONFIG',
          'flows.paths: no flow to run (give .ygtc files or directories, or set GREENTIC_RUNNER_FLOWS)',
          { field: 'flows.paths' },
        );
      const failed = this.packFailures.map((f) => `${f.tenant ?? 'default pack'}: ${f.code}: ${f.message}`);
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `nothing to run: no flows.paths, and the pack store ${this.packSettings?.storeDir} has ${failed.length > 0 ? `no pack this runner accepts (${failed.join('; ')})` : 'no pack'}. Load one (greentic-runner load --pack <file.gtpack> [--tenant t]), or give flows.paths / --flow`,
        { field: this.cfg.packs !== undefined ? 'packs' : 'flows.paths' },
      );
    }
    const e = this.cfg.engine;
    const engine = new FlowEngine({
      flows: new DaemonFlowSource({
        ...(this.packRegistry ? { packs: this.packRegistry } : {}),
        ...(set ? { paths: set } : {}),
        ...(this.oauthInstance ? { front: [this.oauthInstance.oauth.registry] } : {}),
      }),
      sessions: this.stores!.sessions,
      state: this.stores!.state,
      components: this.o.components,
      ...(this.platform ? { tracer: this.platform.tracer } : {}),
      maxStepsPerTurn: e.maxStepsPerTurn,
      conversationTtlMs: e.conversationTtlMs,
      componentTimeoutMs: e.componentTimeoutMs,
      strictTemplates: e.strictTemplates,
      outboxSize: e.outboxSize,
    });
    this.engine = engine;
    this.loaded = flows ?? [];
    this.flowSet = set;
    this.lastReload = new Date().toISOString();
    this.lastError = null;
  }

  /**
   * POST /admin/reload (and SIGHUP): loads `flows.paths` again and installs the packs that changed in the pack
   * store. Each part applies on its own: a bad flow keeps the loaded flows, a pack that cannot be installed keeps
   * its tenant's version; either makes the answer `ok: false` (HTTP 422) with what failed.
   */
  async reload(
    opts: { reason?: string; broadcast?: boolean } = {},
  ): Promise<
    | { ok: true; flows: string[]; last_reload: string; [more: string]: unknown }
    | { ok: false; error: unknown; [more: string]: unknown }
  > {
    if (this.status !== 'ok' && this.status !== 'degraded') {
      return { ok: false, error: { code: 'GT_RUNNER_NOT_READY', message: `the runner is ${this.status}` } };
    }
    if (this.reloading) await this.reloading.catch(() => {});
    const run = (async () => {
      const errors: { code: string; message: string }[] = [];
      let packs: Awaited<ReturnType<RunnerDaemon['installPacks']>> | undefined;
      if (this.packRegistry) {
        try {
          packs = await this.installPacks(true);
          for (const f of packs.failed)
            errors.push({
              code: f.code,
              message: `${f.tenant === null ? 'default pack' : `tenant ${f.tenant}`}: ${f.message}`,
            });
        } catch (e) {
          errors.push(errorOf(e));
        }
      }
      let flowsError: { code: string; message: string } | undefined;
      try {
        this.install(await this.loadFlows());
      } catch (e) {
        flowsError = errorOf(e);
        errors.unshift(flowsError);
      }
      const flows = this.loaded.map((l) => l.flow.id);
      const packPart = packs ? { packs } : {};
      if (errors.length === 0) {
        this.log.info(this.packRegistry ? 'flows and packs reloaded' : 'flows reloaded', {
          flows,
          ...(packs
            ? { packs_installed: packs.installed.length, packs_unchanged: packs.unchanged.length }
            : {}),
        });
        return { ok: true as const, flows, last_reload: this.lastReload!, ...packPart };
      }
      this.lastError = `reload failed: ${errors.map((e) => e.message).join('; ')}`;
      this.log.warn(
        flowsError ? 'reload failed; the loaded flows stay' : 'reload: some packs were not installed',
        { errors },
      );
      return {
        ok: false as const,
        error: errors[0]!,
        ...(errors.length > 1 ? { errors } : {}),
        flows,
        ...packPart,
      };
    })();
    this.reloading = run;
    let result: Awaited<typeof run>;
    try {
      result = await run;
    } finally {
      this.reloading = undefined;
    }
    // with NATS: the other runners of this env reload too (they read the same pack store)
    if (opts.broadcast !== false && this.control) {
      try {
        this.control.publish(opts.reason ?? 'reload');
        return { ...result, broadcast: this.control.subject };
      } catch (e) {
        this.log.warn('reload broadcast not sent: the other runners need their own reload', {
          subject: this.control.subject,
          error: (e as Error).message,
        });
      }
    }
    return result;
  }

  health() {
    return {
      status: this.status,
      active_flows: this.loaded.map((l) => l.flow.id),
      ...(this.packRegistry ? { active_packs: this.packRows().length } : {}),
      last_reload: this.lastReload,
      last_error: this.lastError,
    };
  }

  readiness() {
    const natsOk = this.nc !== undefined && !this.nc.isClosed() && this.natsConnected;
    const checks: Record<string, boolean | string> = {
      flows: this.engine !== undefined,
      stores: this.stores?.healthy() ?? false,
      nats: this.cfg.nats.enabled ? natsOk && this.consumer !== undefined : 'disabled',
      gateway: this.gatewayInstance ? this.gatewayInstance.ready() : 'disabled',
      accepting: this.status === 'ok',
    };
    const ready = Object.values(checks).every((v) => v === true || v === 'disabled');
    return { ready, status: this.status, checks };
  }

  /** The loaded packs: the default pack (tenant `null`) and each tenant's, current version first. */
  private packRows(): PackRow[] {
    const registry = this.packRegistry;
    if (!registry) return [];
    const rows: PackRow[] = [];
    for (const tenant of [undefined, ...registry.tenants()]) {
      const cur = registry.current(tenant);
      if (!cur) continue;
      const ref = this.packRefs.get(packSlot(tenant));
      rows.push({
        tenant: tenant ?? null,
        pack_id: cur.pack.manifest.pack_id,
        version: cur.pack.manifest.version,
        digest: cur.pack.archiveDigest,
        current: cur.key,
        entry: cur.entry,
        loaded_versions: registry.versions(tenant),
        signed: ref?.signed ?? null,
        trusted: ref?.trusted ?? null,
        loaded_at: ref?.loaded_at ?? null,
        source: ref?.source ?? null,
      });
    }
    return rows;
  }

  /** GET /admin/packs. */
  packsView() {
    if (!this.packRegistry) return { enabled: false, packs: [] };
    return {
      enabled: true,
      store: this.packSettings!.storeDir,
      production: this.packSettings!.production,
      // who runs what: a tenant's own pack, else flows.paths when given, else the default pack
      others: this.flowSet ? 'flows.paths' : 'default pack',
      last_reload: this.lastReload,
      packs: this.packRows(),
      failed: this.packFailures,
    };
  }

  flows() {
    return {
      entry: this.flowSet?.entry ?? null,
      last_reload: this.lastReload,
      flows: this.loaded.map((l) => ({
        id: l.flow.id,
        kind: l.flow.kind,
        title: l.flow.title ?? null,
        file: l.file,
        nodes: Object.keys(l.flow.nodes).length,
      })),
    };
  }

  stats() {
    return {
      pid: process.pid,
      status: this.status,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      stores: this.cfg.stores.kind,
      nats: this.cfg.nats.enabled,
      consumer: this.consumer?.stats ?? null,
      gateway: this.gatewayInstance?.stats() ?? null,
    };
  }

  /**
   * Graceful stop: readiness goes 503, the consumer stops pulling and lets in-flight turns finish (replies
   * published, messages acknowledged), NATS is drained, the HTTP server and the stores are closed.
   * Resolves with the number of turns that did not finish within `shutdown.timeoutMs`.
   */
  stop(): Promise<{ unfinished: number }> {
    this.stopPromise ??= (async () => {
      this.status = 'draining';
      this.gatewayInstance?.stopIntake();
      await this.starting?.catch(() => {});
      this.log.info('stopping: no new work; finishing in-flight turns', {
        in_flight: this.consumer?.stats.inFlight ?? 0,
        queued: this.gatewayInstance?.stats().queue?.pending ?? 0,
      });
      const turns = (await this.consumer?.stop(this.cfg.shutdown.timeoutMs)) ?? { unfinished: 0 };
      // memory mode: the queued turns run now; NATS: the replies being sent finish
      const sends = (await this.gatewayInstance?.stop(this.cfg.shutdown.timeoutMs)) ?? { unfinished: 0 };
      const unfinished = turns.unfinished + sends.unfinished;
      await this.release();
      this.status = 'stopped';
      this.log.info('stopped', {
        unfinished,
        stats: this.consumer?.stats ?? null,
        ...(this.gatewayInstance ? { gateway: this.gatewayInstance.stats() } : {}),
      });
      // last: the spans of the last turns are exported before the process exits
      await this.telemetry?.shutdown().catch((e: unknown) => {
        this.log.warn('telemetry: flushing the last spans failed', { error: (e as Error).message });
      });
      this.resolveStopped({ unfinished });
      return { unfinished };
    })();
    return this.stopPromise;
  }

  /** What startup opened before the server listened (a missing secret, a bad telemetry setting, a port in use). */
  private async releaseEarly() {
    await this.http?.close().catch(() => {});
    await this.gatewayInstance?.close().catch(() => {});
    this.oauthInstance?.close();
    await this.platform?.close().catch(() => {});
    await this.telemetry?.shutdown().catch(() => {});
  }

  private async release() {
    this.control?.stop();
    if (this.nc && !this.nc.isClosed()) {
      // a drain that cannot finish (NATS gone) must not keep the process from exiting
      const nc = this.nc;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        nc.drain().catch(() => {}),
        new Promise((r) => {
          timer = setTimeout(r, 5000);
        }),
      ]);
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close().catch(() => {});
    }
    await this.gatewayInstance?.close();
    await this.http?.close().catch(() => {});
    this.oauthInstance?.close();
    // after the last turn: the component host's workers, then the stores, then the platform's secrets providers
    await this.host?.close().catch(() => {});
    await this.stores?.close().catch(() => {});
    await this.platform?.close().catch(() => {});
  }
}
