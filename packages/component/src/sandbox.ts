import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { createRuntime, type RuntimeRequest, type RuntimeResult } from '../worker/runtime.mjs';
import { ComponentError } from './errors.js';
import type { BridgeCall, HostBridge, HostResponse } from './host-bridge.js';
import type { LoadedComponent } from './load.js';

export type SandboxRequest = Omit<RuntimeRequest, 'componentKey'>;

export interface SandboxStats {
  workersStarted: number;
  workersTerminated: number;
  calls: number;
}

/** Runs component calls somewhere: worker threads (isolated, limits enforced) or the caller's thread. */
export interface Sandbox {
  run(
    component: LoadedComponent,
    req: SandboxRequest,
    call: BridgeCall,
    deadlineAt: number,
  ): Promise<RuntimeResult>;
  readonly stats: SandboxStats;
  close(): Promise<void>;
}

function specOf(c: LoadedComponent) {
  return {
    id: c.id,
    glue: c.glueUrl,
    modules: c.modules as Record<string, WebAssembly.Module>,
    memoryMaxPages: c.limits.memoryMb * 16,
    wasi: c.capabilities.wasi,
    imports: c.imports,
  };
}

const timeoutError = (c: LoadedComponent, ms: number) =>
  new ComponentError(
    'GT_COMPONENT_TIMEOUT',
    `component "${c.id}" did not finish within ${ms} ms and was stopped (its wall-time limit is ${c.limits.wallTimeMs} ms)`,
    { component: c.id },
  );
const cancelledError = (c: LoadedComponent, reason: unknown) =>
  new ComponentError('GT_COMPONENT_CANCELLED', `call of component "${c.id}" was cancelled by the caller`, {
    component: c.id,
    cause: reason,
  });

interface Job {
  component: LoadedComponent;
  req: SandboxRequest;
  call: BridgeCall;
  deadlineAt: number;
  affinity: number;
  resolve: (r: RuntimeResult) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  flags: Int32Array;
  port: MessagePort;
  loaded: Map<string, Promise<void>>;
  job: (Job & { callId: number; cleanup: () => void }) | undefined;
  dead: boolean;
}

export interface WorkerSandboxOptions {
  workers: number;
  maxInstancesPerWorker: number;
  /** How long a cancelled call may run on before its worker is terminated. */
  cancelGraceMs: number;
  /** V8 heap limit of each worker (JS glue and host objects; Wasm memory is capped separately). */
  maxOldGenerationSizeMb: number;
}

const WORKER_URL = new URL('../worker/sandbox-worker.mjs', import.meta.url);

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A pool of worker threads. Each call runs in one worker, off the main event loop; calls for the same instance key
 * prefer the same worker (so per-tenant instances are reused). A call past its deadline, or cancelled and still
 * running after the grace period, gets its worker terminated and replaced: the host goes on serving everyone else.
 */
export class WorkerSandbox implements Sandbox {
  readonly stats: SandboxStats = { workersStarted: 0, workersTerminated: 0, calls: 0 };
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Job[] = [];
  private nextCallId = 1;
  private closed = false;

  constructor(
    private readonly bridge: HostBridge,
    private readonly opts: WorkerSandboxOptions,
  ) {
    this.slots = new Array(Math.max(1, opts.workers)).fill(undefined);
  }

  private spawn(index: number): Slot {
    const control = new SharedArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER_URL, {
      workerData: { control, replyPort: port2, maxInstances: this.opts.maxInstancesPerWorker },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: this.opts.maxOldGenerationSizeMb },
    });
    worker.unref();
    const slot: Slot = {
      index,
      worker,
      flags: new Int32Array(control),
      port: port1,
      loaded: new Map(),
      job: undefined,
      dead: false,
    };
    this.stats.workersStarted++;
    worker.on('message', (msg) => this.onMessage(slot, msg));
    worker.on('error', (e) => this.onExit(slot, e));
    worker.on('exit', (code) => this.onExit(slot, new Error(`sandbox worker exited with code ${code}`)));
    this.slots[index] = slot;
    return slot;
  }

  private onExit(slot: Slot, e: Error & { code?: string }): void {
    if (slot.dead) return;
    slot.dead = true;
    slot.port.close();
    if (this.slots[slot.index] === slot) this.slots[slot.index] = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      job.cleanup();
      const memory = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
      job.reject(
        new ComponentError(
          memory ? 'GT_COMPONENT_MEMORY' : 'GT_COMPONENT_SANDBOX',
          memory
            ? `component "${job.component.id}" exhausted its sandbox's JavaScript heap`
            : `the sandbox running component "${job.component.id}" died: ${e.message}`,
          { component: job.component.id, cause: e },
        ),
      );
    }
    this.pump();
  }

  private kill(slot: Slot): void {
    if (slot.dead) return;
    slot.dead = true;
    slot.port.close();
    if (this.slots[slot.index] === slot) this.slots[slot.index] = undefined;
    this.stats.workersTerminated++;
    void slot.worker.terminate();
  }

  private reply(slot: Slot, response: HostResponse): void {
    if (slot.dead) return;
    slot.port.postMessage(response);
    Atomics.store(slot.flags, 0, 1);
    Atomics.notify(slot.flags, 0);
  }

  private onMessage(
    slot: Slot,
    msg: {
      type: string;
      callId?: number;
      method?: string;
      args?: Record<string, unknown>;
      result?: RuntimeResult;
      componentKey?: string;
      error?: string;
    },
  ): void {
    const job = slot.job;
    if (msg.type === 'host') {
      if (!job || job.callId !== msg.callId) {
        this.reply(slot, { e: { code: 'GT_COMPONENT_SANDBOX', message: 'no call in progress' } });
        return;
      }
      let response: HostResponse | Promise<HostResponse>;
      try {
        response = this.bridge.handle(job.call, msg.method!, msg.args!);
      } catch (e) {
        response = { e: { code: 'GT_COMPONENT_HOST', message: String((e as Error)?.message ?? e) } };
      }
      if (response instanceof Promise) {
        response.then(
          (r) => slot.job === job && this.reply(slot, r),
          (e) =>
            slot.job === job &&
            this.reply(slot, { e: { code: 'GT_COMPONENT_HOST', message: String(e?.message ?? e) } }),
        );
      } else this.reply(slot, response);
      return;
    }
    if (msg.type === 'notify') {
      if (job && job.callId === msg.callId) void this.bridge.handle(job.call, msg.method!, msg.args!);
      return;
    }
    if (msg.type === 'done' && job && job.callId === msg.callId) {
      slot.job = undefined;
      job.cleanup();
      if (job.call.signal.aborted) job.reject(cancelledError(job.component, job.call.signal.reason));
      else job.resolve(msg.result!);
      this.pump();
    }
  }

  private ensureLoaded(slot: Slot, component: LoadedComponent): Promise<void> {
    let p = slot.loaded.get(component.key);
    if (!p) {
      p = new Promise<void>((resolve, reject) => {
        const onMsg = (msg: { type: string; componentKey?: string; error?: string }) => {
          if (msg.type !== 'loaded' || msg.componentKey !== component.key) return;
          slot.worker.off('message', onMsg);
          if (msg.error)
            reject(
              new ComponentError(
                'GT_COMPONENT_LOAD',
                `component "${component.id}" failed to load in the sandbox: ${msg.error}`,
                { component: component.id },
              ),
            );
          else resolve();
        };
        slot.worker.on('message', onMsg);
      });
      slot.worker.postMessage({ type: 'load', componentKey: component.key, spec: specOf(component) });
      slot.loaded.set(component.key, p);
    }
    return p;
  }

  private pickSlot(job: Job): Slot | undefined {
    const n = this.slots.length;
    const preferred = job.affinity % n;
    for (let i = 0; i < n; i++) {
      const idx = (preferred + i) % n;
      const slot = this.slots[idx] ?? this.spawn(idx);
      if (!slot.job) return slot;
    }
    return undefined;
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.closed) {
      const job = this.queue[0]!;
      const slot = this.pickSlot(job);
      if (!slot) return;
      this.queue.shift();
      this.start(slot, job);
    }
  }

  private start(slot: Slot, job: Job): void {
    const callId = this.nextCallId++;
    const remaining = job.deadlineAt - Date.now();
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      Atomics.store(slot.flags, 1, 1);
      graceTimer = setTimeout(() => {
        if (slot.job?.callId !== callId) return;
        slot.job = undefined;
        this.kill(slot);
        job.reject(cancelledError(job.component, job.call.signal.reason));
        this.pump();
      }, this.opts.cancelGraceMs);
    };
    const timer = setTimeout(
      () => {
        if (slot.job?.callId !== callId) return;
        slot.job = undefined;
        cleanup();
        this.kill(slot);
        job.reject(timeoutError(job.component, Math.max(0, remaining)));
        this.pump();
      },
      Math.max(0, remaining),
    );
    const cleanup = () => {
      clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      job.call.signal.removeEventListener('abort', onAbort);
    };
    slot.job = { ...job, callId, cleanup };
    Atomics.store(slot.flags, 1, 0);
    this.stats.calls++;
    job.call.signal.addEventListener('abort', onAbort, { once: true });
    this.ensureLoaded(slot, job.component).then(
      () => {
        if (slot.job?.callId !== callId || slot.dead) return;
        slot.worker.postMessage({
          type: 'run',
          callId,
          req: { ...job.req, componentKey: job.component.key },
        });
      },
      (e) => {
        if (slot.job?.callId !== callId) return;
        slot.job = undefined;
        cleanup();
        job.reject(e);
        this.pump();
      },
    );
  }

  run(
    component: LoadedComponent,
    req: SandboxRequest,
    call: BridgeCall,
    deadlineAt: number,
  ): Promise<RuntimeResult> {
    if (this.closed)
      return Promise.reject(new ComponentError('GT_COMPONENT_SANDBOX', 'the component host is closed'));
    if (call.signal.aborted) return Promise.reject(cancelledError(component, call.signal.reason));
    return new Promise<RuntimeResult>((resolve, reject) => {
      this.queue.push({ component, req, call, deadlineAt, affinity: hash(req.instanceKey), resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0))
      job.reject(new ComponentError('GT_COMPONENT_SANDBOX', 'the component host was closed'));
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot) return;
        slot.job?.reject(new ComponentError('GT_COMPONENT_SANDBOX', 'the component host was closed'));
        slot.job?.cleanup();
        slot.job = undefined;
        slot.dead = true;
        slot.port.close();
        await slot.worker.terminate();
      }),
    );
  }
}

/**
 * Runs calls on the caller's thread: no wall-time enforcement (a looping component blocks the process) and host
 * services must answer synchronously. For trusted components, tools and benchmarks only.
 */
export class InlineSandbox implements Sandbox {
  readonly stats: SandboxStats = { workersStarted: 0, workersTerminated: 0, calls: 0 };
  private current: BridgeCall | undefined;
  private readonly runtime;
  private readonly loading = new Map<string, Promise<void>>();

  constructor(bridge: HostBridge, maxInstances: number) {
    this.runtime = createRuntime({
      hostCall: (method, args) => {
        const call = this.current;
        if (!call) return { e: { code: 'GT_COMPONENT_SANDBOX', message: 'no call in progress' } };
        const r = bridge.handle(call, method, args);
        if (r instanceof Promise) {
          r.catch(() => {});
          return {
            e: {
              code: 'GT_COMPONENT_HOST',
              message: `host service for ${method} answered asynchronously; the inline sandbox needs synchronous services (use the worker sandbox)`,
            },
          };
        }
        return r;
      },
      hostNotify: (method, args) => {
        if (this.current) void bridge.handle(this.current, method, args);
      },
      isCancelled: () => this.current?.signal.aborted ?? false,
      maxInstances,
    });
  }

  async run(
    component: LoadedComponent,
    req: SandboxRequest,
    call: BridgeCall,
    deadlineAt: number,
  ): Promise<RuntimeResult> {
    if (call.signal.aborted) throw cancelledError(component, call.signal.reason);
    let p = this.loading.get(component.key);
    if (!p) {
      p = this.runtime.load(component.key, specOf(component));
      this.loading.set(component.key, p);
    }
    await p;
    this.stats.calls++;
    const started = Date.now();
    this.current = call;
    try {
      const result = this.runtime.run({ ...req, componentKey: component.key });
      if (Date.now() > deadlineAt) throw timeoutError(component, Date.now() - started);
      return result;
    } finally {
      this.current = undefined;
    }
  }

  async close(): Promise<void> {
    this.runtime.dropInstances();
  }
}
