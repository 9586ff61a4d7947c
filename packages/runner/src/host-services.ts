import type {
  HostCall,
  HostHttpRequest,
  HostHttpResponse,
  HostLogRecord,
  HostServices,
  ScopedSecretKey,
  ScopedStateKey,
} from '@greentic/interfaces';
import { HostServiceError } from '@greentic/interfaces';
import type { StateStore } from '@greentic/state';

/** Where component state lives in the StateStore: one document per key, bytes as base64. */
const COMPONENT_STATE_PREFIX = 'component-state';

export interface RunnerHostServicesOptions {
  state: StateStore;
  /** Looks up a secret for a tenant (already allowed by the component's manifest). Undefined: no secret is bound. */
  secret?: (call: HostCall, key: ScopedSecretKey) => Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /** Receives component log lines. */
  log?: (call: HostCall, record: HostLogRecord) => void;
  /** The `fetch` used for outbound HTTP (tests inject one). */
  fetch?: typeof fetch;
  /** Upper bound on a response body a component may receive. */
  maxResponseBytes?: number;
}

/** Component state keys are `<namespace>/<key>` segments the StateStore accepts. */
function stateKey(key: ScopedStateKey): { prefix: string; key: string } {
  // `~` escapes every character the StateStore does not accept in a segment (including `~` itself and `/`)
  const safe = (s: string) =>
    s === '' || s === '.' || s === '..'
      ? `~${Buffer.from(s).toString('hex')}~`
      : s.replace(/[^A-Za-z0-9._@+=,-]/gu, (c) => `~${Buffer.from(c).toString('hex')}~`);
  return {
    prefix: `${COMPONENT_STATE_PREFIX}/${key.namespace.split('/').map(safe).join('/')}`,
    key: safe(key.key),
  };
}

/**
 * The runner's implementation of the services components may call: state in the runner's StateStore (scoped by the
 * caller's TenantCtx and the component's namespace), secrets through a lookup function, outbound HTTP with `fetch`.
 * The component host has already enforced the manifest's capabilities and NetworkPolicy before calling these.
 * Redirects are never followed here: a redirect could leave the hosts the policy allows, so the 3xx response goes back
 * to the component, whose next request is checked again.
 */
export function runnerHostServices(opts: RunnerHostServicesOptions): HostServices {
  const doFetch = opts.fetch ?? fetch;
  const maxBytes = opts.maxResponseBytes ?? 8 * 1024 * 1024;
  return {
    state: {
      async read(call, key) {
        const k = stateKey(key);
        const v = await opts.state.get(call.ctx, k.prefix, k.key);
        return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : undefined;
      },
      async write(call, key, value) {
        const k = stateKey(key);
        await opts.state.set(call.ctx, k.prefix, k.key, Buffer.from(value).toString('base64'));
      },
      async delete(call, key) {
        const k = stateKey(key);
        return opts.state.delete(call.ctx, k.prefix, k.key);
      },
    },
    secrets: {
      get: (call, key) => opts.secret?.(call, key),
    },
    http: {
      async send(call: HostCall, req: HostHttpRequest): Promise<HostHttpResponse> {
        const signals = [call.signal, req.timeoutMs ? AbortSignal.timeout(req.timeoutMs) : undefined].filter(
          (s): s is AbortSignal => s !== undefined,
        );
        let res: Response;
        try {
          res = await doFetch(req.url, {
            method: req.method,
            headers: req.headers,
            body: req.body && req.body.length > 0 ? req.body : undefined,
            redirect: 'manual',
            signal: signals.length ? AbortSignal.any(signals) : undefined,
          });
        } catch (e) {
          const timedOut = (e as Error).name === 'TimeoutError' || (e as Error).name === 'AbortError';
          throw new HostServiceError(
            timedOut ? 'timeout' : 'unavailable',
            `${req.method} ${req.url}: ${(e as Error).message}`,
            { cause: e },
          );
        }
        const body = new Uint8Array(await res.arrayBuffer());
        if (body.byteLength > maxBytes) {
          throw new HostServiceError(
            'too_large',
            `${req.method} ${req.url}: response of ${body.byteLength} bytes exceeds ${maxBytes}`,
          );
        }
        return { status: res.status, headers: [...res.headers.entries()], body };
      },
    },
    log: {
      log: (call, record) => opts.log?.(call, record),
    },
  };
}
