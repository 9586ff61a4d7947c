import type { AddressInfo } from 'node:net';
import type { ComponentRegistry } from '@greentic/interfaces';
import type { SecretsProvider } from '@greentic/secrets';
import type { ChannelMessageEnvelope, ReplyScope, TenantCtx } from '@greentic/types';
import type { FastifyInstance } from 'fastify';
import type { JetStreamManager, NatsConnection } from 'nats';
import { RunnerConsumer } from '../bus/consumer.js';
import { type BusTopology, type ConsumerSettings, ensureConsumer, ensureStreams } from '../bus/jetstream.js';
import { IngressPublisher } from '../bus/publisher.js';
import { ingressFilter } from '../bus/subjects.js';
import { type RunnerConfig, redactUrl } from '../config/config.js';
import { FlowEngine, type HandleMessageOptions, type TurnResult } from '../engine/engine.js';
import { RunnerError } from '../errors.js';
import { RunnerGateway } from '../gateway/gateway.js';
import { connectNats } from './connect.js';
import { type LoadedFlow, loadFlowSet } from './flows.js';
import { buildHttpServer } from './http.js';
import { type Logger, silentLogger } from './log.js';
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
}

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
  private lastReload: string | null = null;
  private lastError: string | null = null;
  private reloading?: Promise<unknown>;
  private natsConnected = true;
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

  private loadFlows(): Promise<LoadedFlow[]> {
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
      // secrets are local (environment, encrypted file): a missing one ends startup before the server listens
      this.gatewayInstance = await RunnerGateway.create({
        config: this.cfg,
        log: this.log,
        ...(this.o.env ? { env: this.o.env } : {}),
        ...(this.o.secretsProviders ? { secretsProviders: this.o.secretsProviders } : {}),
      });
      await this.gatewayInstance?.mount(this.http);
    } catch (e) {
      this.status = 'stopped';
      this.lastError = (e as Error).message;
      await this.http.close().catch(() => {});
      throw e;
    }
    try {
      await this.http.listen({ host: this.cfg.http.host, port: this.cfg.http.port });
    } catch (e) {
      this.status = 'stopped';
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
      ...(this.gatewayInstance
        ? { webhooks: this.gatewayInstance.webhookPaths, webchat: this.gatewayInstance.webchatPath ?? null }
        : {}),
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
      this.install((f as PromiseFulfilledResult<LoadedFlow[]>).value);
      if (this.cfg.nats.enabled) await this.startConsumer();
      if (this.stopPromise) return;
      await this.gatewayInstance?.start({
        stores: this.stores!,
        handle: (msg) => this.handleMessage(msg),
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
        entry: this.engine?.entryFlowId,
        ...(this.cfg.nats.enabled ? { consumer: consumerOf(this.cfg) } : {}),
      });
    } catch (e) {
      this.lastError = (e as Error).message;
      if (this.stopPromise) return;
      this.log.error('startup failed', { error: (e as Error).message });
      await this.gatewayInstance?.stop(0).catch(() => {});
      await this.release();
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

  /** Runs one turn on the current engine (the one the last reload installed). */
  handleMessage(msg: ChannelMessageEnvelope, opts: HandleMessageOptions = {}): Promise<TurnResult> {
    if (!this.engine) return Promise.reject(new Error('no flows are loaded yet'));
    return this.engine.handleMessage(msg, opts);
  }

  /** The state of a conversation (see {@link FlowEngine.conversationState}); undefined before the flows are loaded. */
  async conversationState(ctx: TenantCtx, scope: ReplyScope): Promise<Record<string, unknown> | undefined> {
    return this.engine?.conversationState(ctx, scope);
  }

  /** Builds an engine over the shared stores with these flows and makes it current (turns running finish on the old one). */
  private install(flows: LoadedFlow[]) {
    if (flows.length === 0)
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        'flows.paths: no flow to run (give .ygtc files or directories, or set GREENTIC_RUNNER_FLOWS)',
        { field: 'flows.paths' },
      );
    const e = this.cfg.engine;
    const engine = new FlowEngine({
      sessions: this.stores!.sessions,
      state: this.stores!.state,
      components: this.o.components,
      maxStepsPerTurn: e.maxStepsPerTurn,
      conversationTtlMs: e.conversationTtlMs,
      componentTimeoutMs: e.componentTimeoutMs,
      strictTemplates: e.strictTemplates,
      outboxSize: e.outboxSize,
    });
    for (const l of flows) engine.registerFlow(l.flow);
    const entry = this.cfg.flows.entry ?? flows[0]!.flow.id;
    const ir = engine.flow(entry);
    if (!ir)
      throw new RunnerError(
        'GT_RUNNER_CONFIG',
        `flows.entry: no loaded flow has id "${entry}" (loaded: ${flows.map((l) => l.flow.id).join(', ')})`,
        { field: 'flows.entry' },
      );
    engine.registerFlow(ir, { default: true });
    this.engine = engine;
    this.loaded = flows;
    this.lastReload = new Date().toISOString();
    this.lastError = null;
  }

  /** POST /admin/reload: loads the flows again; on failure the running ones stay and the error is reported. */
  async reload(): Promise<
    { ok: true; flows: string[]; last_reload: string } | { ok: false; error: unknown }
  > {
    if (this.status !== 'ok' && this.status !== 'degraded') {
      return { ok: false, error: { code: 'GT_RUNNER_NOT_READY', message: `the runner is ${this.status}` } };
    }
    if (this.reloading) await this.reloading.catch(() => {});
    const run = (async () => {
      try {
        const flows = await this.loadFlows();
        this.install(flows);
        this.log.info('flows reloaded', { flows: flows.map((l) => l.flow.id) });
        return { ok: true as const, flows: flows.map((l) => l.flow.id), last_reload: this.lastReload! };
      } catch (e) {
        this.lastError = `reload failed: ${(e as Error).message}`;
        this.log.warn('reload failed; the loaded flows stay', { error: (e as Error).message });
        return {
          ok: false as const,
          error: { code: (e as { code?: string }).code ?? 'GT_RUNNER_CONFIG', message: (e as Error).message },
        };
      }
    })();
    this.reloading = run;
    try {
      return await run;
    } finally {
      this.reloading = undefined;
    }
  }

  health() {
    return {
      status: this.status,
      active_flows: this.loaded.map((l) => l.flow.id),
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

  flows() {
    return {
      entry: this.engine?.entryFlowId ?? null,
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
      this.resolveStopped({ unfinished });
      return { unfinished };
    })();
    return this.stopPromise;
  }

  private async release() {
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
    await this.stores?.close().catch(() => {});
  }
}
