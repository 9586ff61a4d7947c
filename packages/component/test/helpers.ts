import { readFileSync } from 'node:fs';
import { type TenantCtx, tenantCtx } from '@greentic/types';
import { blake3 } from '@noble/hashes/blake3.js';
import type { ComponentManifest } from '../src/index.js';

// @ts-expect-error plain JS helper shared with the benchmarks
export { fixture } from './fixtures/index.mjs';

export const UPSTREAM_VALID_MANIFEST = JSON.parse(
  readFileSync(
    new URL(
      '../../../../shared/conformance/packs/greenticai__greentic-component__crates__greentic-component__tests__fixtures__manifests__valid.component.json',
      import.meta.url,
    ),
    'utf8',
  ),
) as ComponentManifest;

export function ctxOf(tenant: string, extra: { team?: string; user?: string } = {}): TenantCtx {
  return tenantCtx({ env: 'dev', tenant, ...extra });
}

export function envelope(ctx: TenantCtx, payload: unknown, component = 'c') {
  return { ctx, flow_id: 'flow', step_id: 'step', component_id: component, attempt: 0, payload };
}

/** A valid manifest for `bytes` with the given host capabilities (nothing else granted). */
export function manifestFor(
  bytes: Uint8Array,
  host: ComponentManifest['capabilities']['host'],
  extra: Partial<ComponentManifest> = {},
): ComponentManifest {
  const m = structuredClone(UPSTREAM_VALID_MANIFEST);
  delete m.secret_requirements;
  m.capabilities = { wasi: {}, host };
  m.hashes = { component_wasm: `blake3:${Buffer.from(blake3(bytes)).toString('hex')}` };
  return { ...m, ...extra };
}

export const secretReq = (key: string) => ({
  key,
  required: true,
  scope: { env: 'dev', tenant: 'acme' },
  format: 'text' as const,
});
