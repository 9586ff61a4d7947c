import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  ComponentHost,
  type ComponentManifest,
  canonicalSecretKey,
  fetchHostHttp,
  manifestNetworkPolicy,
  parseManifest,
  scopedStateKey,
  scopePrefix,
  WasmComponentRegistry,
} from '@greentic/component';
import {
  type HostCall,
  type HostHttpRequest,
  type HostHttpResponse,
  type HostHttpService,
  type HostSecretsService,
  MemoryHostLog,
  MemoryHostState,
} from '@greentic/interfaces';
import { type NetworkPolicy, type Outcome, type TenantCtx, tenantCtx } from '@greentic/types';
import { type BuildOptions, buildComponent } from './build.js';
import { ComponentCliError } from './errors.js';
import { MANIFEST_FILE } from './project.js';

export interface TestComponentOptions {
  /** The operation to invoke. */
  op: string;
  /** The operation's input (any JSON value). */
  input: unknown;
  /** Component id (default: the manifest's id, else the file name). */
  id?: string;
  /** Manifest file (default: `component.manifest.json` next to the `.wasm`). Without one, nothing is allowed. */
  manifest?: string;
  /** Secrets the component may read (relative keys), bound for the call's tenant. */
  secrets?: Record<string, string>;
  /** State seeded before the call: relative key → text (stored as UTF-8). */
  state?: Record<string, string>;
  /** Hosts added to the network policy's allow list (a policy denying everything else is created if needed). */
  allowHosts?: string[];
  env?: string;
  tenant?: string;
  team?: string;
  user?: string;
  /** Wall-time limit of the call (ms), overriding the manifest's. */
  timeoutMs?: number;
  /** For a project folder: build options (cache, output folder, progress). */
  build?: BuildOptions;
  /** Progress lines. */
  onProgress?: (line: string) => void;
}

export interface HttpRecord {
  method: string;
  url: string;
  status?: number;
  error?: string;
}

export interface TestComponentResult {
  component: string;
  op: string;
  wasm: string;
  outcome: Outcome<unknown>;
  ms: number;
  /** The component's state after the call: relative key → value (UTF-8 text, or `base64:` when binary). */
  state: Record<string, string>;
  http: HttpRecord[];
  logs: Record<string, string>[];
}

class RecordingHttp implements HostHttpService {
  readonly records: HttpRecord[] = [];
  constructor(private readonly inner: HostHttpService) {}
  async send(call: HostCall, request: HostHttpRequest): Promise<HostHttpResponse> {
    const rec: HttpRecord = { method: request.method, url: request.url };
    this.records.push(rec);
    try {
      const res = await this.inner.send(call, request);
      rec.status = res.status;
      return res;
    } catch (e) {
      rec.error = (e as Error).message;
      throw e;
    }
  }
}

function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ComponentCliError(
      'GT_COMPONENT_CLI_USAGE',
      `cannot read ${path} as JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function decodeValue(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return `base64:${Buffer.from(bytes).toString('base64')}`;
  }
}

/**
 * Invokes one operation of a component through the real sandboxed host (worker thread, capability checks from the
 * manifest, the network policy, time and memory limits), with in-memory secrets and state and real outbound HTTP.
 * `target` is a `.wasm` file or a component project folder (built first, from the build cache when unchanged).
 */
export async function testComponent(
  target: string,
  options: TestComponentOptions,
): Promise<TestComponentResult> {
  const path = resolve(target);
  if (!existsSync(path))
    throw new ComponentCliError('GT_COMPONENT_CLI_USAGE', `${target}: no such file or folder`);
  let wasm: string;
  let manifestPath = options.manifest === undefined ? undefined : resolve(options.manifest);
  if (statSync(path).isDirectory()) {
    const built = await buildComponent(path, { onProgress: options.onProgress, ...options.build });
    wasm = built.wasmPath;
    manifestPath ??= built.manifestPath;
  } else {
    wasm = path;
    const sibling = join(dirname(path), MANIFEST_FILE);
    if (manifestPath === undefined && existsSync(sibling)) manifestPath = sibling;
  }

  let manifest: ComponentManifest | undefined;
  if (manifestPath !== undefined) {
    manifest = parseManifest(readJsonFile(manifestPath), manifestPath);
  } else {
    options.onProgress?.('no component manifest: the component gets no capabilities');
  }
  // Without --allow-host the host takes the policy from the manifest (x-greentic.network) itself.
  let network: NetworkPolicy | undefined;
  if (options.allowHosts && options.allowHosts.length > 0) {
    const declared = manifestNetworkPolicy(manifest);
    network = {
      egress: { ...declared?.egress, domains: [...(declared?.egress.domains ?? []), ...options.allowHosts] },
      deny_on_miss: true,
    };
  }
  const id = options.id ?? manifest?.id ?? (wasm.split(/[\\/]/).pop() ?? 'component').replace(/\.wasm$/, '');

  let ctx: TenantCtx;
  try {
    ctx = tenantCtx({
      env: options.env ?? 'dev',
      tenant: options.tenant ?? 'local',
      team: options.team,
      user: options.user ?? 'tester',
    });
  } catch (cause) {
    throw new ComponentCliError('GT_COMPONENT_CLI_USAGE', `bad tenant context: ${(cause as Error).message}`, {
      cause,
    });
  }
  const state = new MemoryHostState();
  for (const [k, v] of Object.entries(options.state ?? {})) {
    state.entries.set(scopedStateKey(ctx, id, k).qualified, new TextEncoder().encode(v));
  }
  // --secret values by relative key (the host has already checked the manifest's allow-list and scoped the call)
  const secretValues = new Map(
    Object.entries(options.secrets ?? {}).map(([k, v]) => [
      canonicalSecretKey(k),
      new TextEncoder().encode(v),
    ]),
  );
  const secrets: HostSecretsService = { get: (_call, key) => secretValues.get(key.key)?.slice() };
  const http = new RecordingHttp(fetchHostHttp());
  const log = new MemoryHostLog();

  const host = new ComponentHost({ services: { state, secrets, http, log }, workers: 1 });
  try {
    const registry = new WasmComponentRegistry(host);
    options.onProgress?.(`loading ${id} into the sandboxed host`);
    await registry.register({
      id,
      path: wasm,
      manifest,
      network,
      limits: options.timeoutMs === undefined ? undefined : { wallTimeMs: options.timeoutMs },
    });
    const invoker = await registry.resolve({ kind: 'component', component: id, operation: options.op }, ctx);
    if (!invoker) throw new ComponentCliError('GT_COMPONENT_CLI_USAGE', `component "${id}" did not load`);
    const t0 = performance.now();
    const outcome = await invoker.invoke(options.op, {
      ctx,
      flow_id: 'greentic-component-test',
      step_id: options.op,
      component_id: id,
      attempt: 1,
      payload: options.input,
    });
    const ms = Math.round(performance.now() - t0);
    const prefix = `${scopePrefix(ctx)}:component/${id}:`;
    const after: Record<string, string> = {};
    for (const [k, v] of [...state.entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (k.startsWith(prefix)) after[k.slice(prefix.length)] = decodeValue(v);
    }
    return {
      component: id,
      op: options.op,
      wasm,
      outcome,
      ms,
      state: after,
      http: http.records,
      logs: log.records.map((r) => r.record.fields),
    };
  } finally {
    await host.close();
  }
}
