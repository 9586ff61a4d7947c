import type {
  HostCall,
  HostHttpService,
  HostLogRecord,
  HostSecretsService,
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
  /**
   * Looks up a secret for a tenant (already allowed by the component's manifest). Undefined: no secret is bound.
   * `key.key` is the relative key the component named (`openai/api_key`, `api_key`): give it to
   * `@greentic/secrets`' scoped reader of the pack; `key.uri` is its 5-segment `secrets://` URI in the caller's scope.
   * A denial by the secrets service (`GT_SECRETS_DENIED`) reaches the component as `secrets-error.denied`.
   */
  secret?: (call: HostCall, key: ScopedSecretKey) => Promise<Uint8Array | undefined> | Uint8Array | undefined;
  /**
   * The whole secrets service (wins over `secret`): e.g. `componentSecretsService(secretsService)` of the runner's
   * platform, which checks each component's manifest declarations and the tenant allow-list. It gets the host's
   * `HostCall` object itself, so `componentOfCall(call)` (`@greentic/component`) finds the calling component.
   */
  secrets?: HostSecretsService;
  /** Receives component log lines. */
  log?: (call: HostCall, record: HostLogRecord) => void;
  /**
   * Outbound HTTP: `fetchHostHttp()` from `@greentic/component` (time-outs, body limit, no redirects followed).
   * Without it every request fails with host-error `unavailable`.
   */
  http?: HostHttpService;
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
 * caller's TenantCtx and the component's namespace), secrets through a lookup function, outbound HTTP through the
 * given client (`fetchHostHttp()` of `@greentic/component`: the one HTTP client of the component host, which never
 * follows redirects). The component host has already enforced the manifest's capabilities and NetworkPolicy before
 * calling these.
 */
export function runnerHostServices(opts: RunnerHostServicesOptions): HostServices {
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
    secrets: opts.secrets ?? {
      get: (call, key) => opts.secret?.(call, key),
    },
    http: opts.http ?? {
      send(_call, req) {
        throw new HostServiceError(
          'unavailable',
          `${req.method} ${new URL(req.url).origin}: the runner has no HTTP client for components (runnerHostServices({http: fetchHostHttp()}))`,
        );
      },
    },
    log: {
      log: (call, record) => opts.log?.(call, record),
    },
  };
}
