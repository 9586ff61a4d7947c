import { memoryHostServices, StubHostHttp } from '@greentic/interfaces';
import type { NetworkPolicy } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ComponentError,
  ComponentHost,
  type ComponentManifest,
  type LoadedComponent,
} from '../src/index.js';
import { ctxOf, envelope, fixture, manifestFor, secretReq } from './helpers.js';

const http = new StubHostHttp((req) => ({ status: req.url.includes('/missing') ? 404 : 200, headers: [] }));
const services = memoryHostServices({
  secrets: {
    'secrets://dev/acme/_/openai/api_key': 'sk-acme',
    'secrets://dev/globex/_/openai/api_key': 'sk-globex',
  },
  http,
});
const host = new ComponentHost({ services, workers: 1 });
afterAll(() => host.close());

let bytes: Uint8Array;
beforeAll(async () => {
  bytes = (await fixture('host')).bytes;
});

const ALL: ComponentManifest['capabilities']['host'] = {
  secrets: { required: [secretReq('openai/api_key')] },
  state: { read: true, write: true, delete: true },
  http: { client: true },
};
const POLICY: NetworkPolicy = {
  egress: { domains: ['api.example.com'], protocols: ['https'] },
  deny_on_miss: true,
};

async function component(
  hostCaps: ComponentManifest['capabilities']['host'] | undefined,
  network?: NetworkPolicy,
): Promise<LoadedComponent> {
  return host.load({
    id: 'tool',
    bytes,
    manifest: hostCaps ? manifestFor(bytes, hostCaps) : undefined,
    network,
  });
}

async function denied(p: Promise<unknown>): Promise<ComponentError> {
  try {
    await p;
  } catch (e) {
    expect(e).toMatchObject({ code: 'GT_COMPONENT_DENIED' });
    return e as ComponentError;
  }
  throw new Error('expected a denial');
}

const call = (c: LoadedComponent, op: string, payload: unknown, tenant = 'acme') =>
  host.invoke(c, op, envelope(ctxOf(tenant), payload));

describe('capabilities (deny by default)', () => {
  it("reads only allow-listed secrets, each tenant's own", async () => {
    const c = await component(ALL);
    await expect(call(c, 'secret', 'openai/api_key')).resolves.toEqual({
      ok: true,
      output: new TextEncoder().encode('sk-acme'),
    });
    await expect(call(c, 'secret', 'OpenAI/API_KEY', 'globex')).resolves.toEqual({
      ok: true,
      output: new TextEncoder().encode('sk-globex'),
    });
    await expect(call(c, 'secret', 'openai/api_key', 'initech')).resolves.toEqual({ ok: true, output: null });
    const e = await denied(call(c, 'secret', 'stripe/key'));
    expect(e.message).toContain('secret "stripe/key" is not in the component\'s allow-list');
    expect(e).toMatchObject({ capability: 'secrets', resource: 'stripe/key', component: 'tool' });
    expect(services.secrets.requested).not.toContain('secrets://dev/acme/_/stripe/key');
  });

  it('denies everything to a component without a manifest', async () => {
    const c = await component(undefined, POLICY);
    await denied(call(c, 'secret', 'openai/api_key'));
    await denied(call(c, 'read', 'k'));
    await denied(call(c, 'write', ['k', 'v']));
    await denied(call(c, 'delete', 'k'));
    await denied(call(c, 'http', 'https://api.example.com/x'));
  });

  it('keeps state in the component namespace of the caller tenant', async () => {
    const c = await component(ALL);
    await expect(call(c, 'write', ['greeting', 'hi acme'])).resolves.toEqual({ ok: true, output: null });
    await expect(call(c, 'write', ['greeting', 'hi globex'], 'globex')).resolves.toEqual({
      ok: true,
      output: null,
    });
    expect(
      new TextDecoder().decode(((await call(c, 'read', 'greeting')) as { output: Uint8Array }).output),
    ).toBe('hi acme');
    expect(
      new TextDecoder().decode(
        ((await call(c, 'read', 'greeting', 'globex')) as { output: Uint8Array }).output,
      ),
    ).toBe('hi globex');
    expect([...services.state.entries.keys()]).toEqual(
      expect.arrayContaining(['dev.acme:component/tool:greeting', 'dev.globex:component/tool:greeting']),
    );
    await expect(call(c, 'read', 'greeting', 'initech')).resolves.toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    await expect(call(c, 'delete', 'greeting')).resolves.toEqual({ ok: true, output: null });
    await expect(call(c, 'read', 'greeting')).resolves.toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it('grants each state operation separately', async () => {
    const c = await component({ state: { read: true } });
    await expect(call(c, 'read', 'missing')).resolves.toMatchObject({ ok: false });
    const w = await denied(call(c, 'write', ['k', 'v']));
    expect(w).toMatchObject({ capability: 'state.write', resource: 'k' });
    expect((await denied(call(c, 'delete', 'k'))).capability).toBe('state.delete');
  });

  it('refuses a tenant-ctx argument that names another tenant', async () => {
    const c = await component(ALL);
    const e = await denied(call(c, 'ctx-read', 'greeting'));
    expect(e).toMatchObject({ capability: 'tenant' });
    expect(e.message).toContain('names tenant "other" but the call runs for tenant "acme"');
  });

  it('sends HTTP only to hosts the network policy allows', async () => {
    const c = await component(ALL, POLICY);
    await expect(call(c, 'http', 'https://api.example.com/v1')).resolves.toEqual({ ok: true, output: 200 });
    await expect(call(c, 'http', 'https://eu.api.example.com/missing')).resolves.toEqual({
      ok: true,
      output: 404,
    });
    const e = await denied(call(c, 'http', 'https://evil.example.org/steal'));
    expect(e).toMatchObject({ capability: 'http', resource: 'evil.example.org' });
    expect(e.message).toContain('"evil.example.org:443" is not allowed by the component\'s network policy');
    await denied(call(c, 'http', 'http://api.example.com/plain'));
    expect(http.requests.map((r) => r.url)).toEqual([
      'https://api.example.com/v1',
      'https://eu.api.example.com/missing',
    ]);
  });

  it('denies HTTP without a network policy, or when the manifest does not ask for a client', async () => {
    expect((await denied(call(await component(ALL), 'http', 'https://api.example.com/'))).message).toContain(
      'no network policy',
    );
    expect(
      (
        await denied(
          call(await component({ state: { read: true } }, POLICY), 'http', 'https://api.example.com/'),
        )
      ).message,
    ).toContain('capabilities.host.http.client');
  });

  it('passes logs to the host tagged with the caller and component', async () => {
    const c = await component({});
    await expect(call(c, 'log', null)).resolves.toEqual({ ok: true, output: null });
    expect(services.log.records.at(-1)).toEqual({
      component: 'tool',
      tenant: 'acme',
      record: {
        span: { flow_id: 'f', provider: 'p', node_id: undefined, session_id: undefined },
        fields: { k: 'v' },
      },
    });
  });
});
