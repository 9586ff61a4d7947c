import {
  HostServiceError,
  type HostServices,
  memoryHostServices,
  type ScopedSecretKey,
  StubHostHttp,
} from '@greentic/interfaces';
import type { NetworkPolicy } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentError, ComponentHost, type ComponentManifest, type LoadedComponent } from '../src/index.js';
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

  it('asks the service for bare keys under the component id (or secretCategory) as the URI category', async () => {
    const services2 = memoryHostServices({
      secrets: {
        'secrets://dev/acme/_/tool/kv_api_token': 'by-component',
        'secrets://dev/acme/_/weather-pack/kv_api_token': 'by-pack',
      },
    });
    const h = new ComponentHost({ services: services2, workers: 1 });
    try {
      const m = manifestFor(bytes, { secrets: { required: [secretReq('KV_API_TOKEN')] } });
      const byId = await h.load({ id: 'tool', bytes, manifest: m });
      const byPack = await h.load({ id: 'tool', bytes, manifest: m, secretCategory: 'weather-pack' });
      const text = (r: unknown) => new TextDecoder().decode((r as { output: Uint8Array }).output);
      expect(text(await h.invoke(byId, 'secret', envelope(ctxOf('acme'), 'kv_api_token')))).toBe(
        'by-component',
      );
      expect(text(await h.invoke(byPack, 'secret', envelope(ctxOf('acme'), 'kv_api_token')))).toBe('by-pack');
      await expect(h.load({ id: 'tool', bytes, secretCategory: 'Not/A/Segment' })).rejects.toMatchObject({
        code: 'GT_COMPONENT_LOAD',
      });
      // a key that names no secret URI (three parts) is invalid-key, before the allow-list
      await expect(h.invoke(byId, 'secret', envelope(ctxOf('acme'), 'a/b/c'))).resolves.toMatchObject({
        ok: false,
        error: { code: 'secret_error', message: 'invalid-key' },
      });
    } finally {
      await h.close();
    }
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

describe('secrets service failures', () => {
  const asked: ScopedSecretKey[] = [];
  const failing: HostServices = {
    ...memoryHostServices(),
    secrets: {
      get(_call, key) {
        asked.push(key);
        const name = key.key.split('/').pop();
        const coded = (code: string) => Object.assign(new Error(`secrets says ${code}`), { code });
        if (name === 'tenant_denied') throw coded('GT_SECRETS_DENIED');
        if (name === 'missing') throw coded('GT_SECRETS_NOT_FOUND');
        if (name === 'bad_uri') throw coded('GT_SECRETS_URI');
        if (name === 'host_denied') throw new HostServiceError('denied', 'no');
        if (name === 'broken') throw new HostServiceError('backend_down', 'vault is down');
        if (name === 'component_denied') {
          throw new ComponentError('GT_COMPONENT_DENIED', 'the host policy says no', {
            capability: 'secrets',
            resource: key.key,
          });
        }
        throw coded('GT_SECRETS_BACKEND');
      },
    },
  };
  const h = new ComponentHost({ services: failing, workers: 1 });
  afterAll(() => h.close());
  const keys = ['tenant_denied', 'missing', 'bad_uri', 'host_denied', 'broken', 'component_denied', 'other'];
  const load = () =>
    h.load({
      id: 'tool',
      bytes,
      manifest: manifestFor(bytes, { secrets: { required: keys.map((k) => secretReq(`svc/${k}`)) } }),
    });
  const secretError = (message: string) => ({ ok: false, error: { code: 'secret_error', message } });

  it('gives the component secrets-error.denied when the secrets service denies (GT_SECRETS_DENIED)', async () => {
    const c = await load();
    await expect(h.invoke(c, 'secret', envelope(ctxOf('acme'), 'svc/tenant_denied'))).resolves.toMatchObject(
      secretError('denied'),
    );
    await expect(h.invoke(c, 'secret', envelope(ctxOf('acme'), 'svc/host_denied'))).resolves.toMatchObject(
      secretError('denied'),
    );
    expect(asked.at(-1)).toEqual({ key: 'svc/host_denied', uri: 'secrets://dev/acme/_/svc/host_denied' });
  });

  it('maps not-found and bad URIs to their cases, other service errors to internal', async () => {
    const c = await load();
    const get = (k: string) => h.invoke(c, 'secret', envelope(ctxOf('acme'), `svc/${k}`));
    await expect(get('missing')).resolves.toMatchObject(secretError('not-found'));
    await expect(get('bad_uri')).resolves.toMatchObject(secretError('invalid-key'));
    await expect(get('broken')).resolves.toMatchObject(secretError('internal'));
  });

  it('keeps GT_COMPONENT_DENIED a denial that fails the call, and unexpected errors GT_COMPONENT_HOST', async () => {
    const c = await load();
    const e = await denied(h.invoke(c, 'secret', envelope(ctxOf('acme'), 'svc/component_denied')));
    expect(e.message).toBe('the host policy says no');
    await expect(h.invoke(c, 'secret', envelope(ctxOf('acme'), 'svc/other'))).rejects.toMatchObject({
      code: 'GT_COMPONENT_HOST',
      message: expect.stringContaining('secrets says GT_SECRETS_BACKEND'),
    });
  });
});

describe('network policy sources', () => {
  const manifestPolicy: NetworkPolicy = {
    egress: { domains: ['api.example.com'], protocols: ['https'] },
    deny_on_miss: true,
  };
  const withPolicy = () => ({
    ...manifestFor(bytes, { http: { client: true } }),
    'x-greentic': { network: manifestPolicy },
  });

  it("uses the manifest's x-greentic.network when the source gives no policy", async () => {
    const c = await host.load({ id: 'tool', bytes, manifest: withPolicy() });
    expect(c.network).toEqual(manifestPolicy);
    await expect(call(c, 'http', 'https://api.example.com/v1')).resolves.toEqual({ ok: true, output: 200 });
    await denied(call(c, 'http', 'https://other.example.net/'));
  });

  it('lets ComponentSource.network replace the manifest policy', async () => {
    const other: NetworkPolicy = { egress: { domains: ['other.example.net'] }, deny_on_miss: true };
    const c = await host.load({ id: 'tool', bytes, manifest: withPolicy(), network: other });
    expect(c.network).toEqual(other);
    await expect(call(c, 'http', 'https://other.example.net/')).resolves.toEqual({ ok: true, output: 200 });
    const e = await denied(call(c, 'http', 'https://api.example.com/v1'));
    expect(e).toMatchObject({ capability: 'http', resource: 'api.example.com' });
  });

  it('reads a top-level network (the old place) the same way', async () => {
    const c = await host.load({
      id: 'tool',
      bytes,
      manifest: { ...manifestFor(bytes, { http: { client: true } }), network: manifestPolicy },
    });
    expect(c.network).toEqual(manifestPolicy);
  });

  it('refuses a manifest whose x-greentic.network is not a policy', async () => {
    await expect(
      host.load({
        id: 'tool',
        bytes,
        manifest: { ...withPolicy(), 'x-greentic': { network: { egress: {} } as NetworkPolicy } },
      }),
    ).rejects.toMatchObject({
      code: 'GT_COMPONENT_MANIFEST',
      message: expect.stringContaining('/x-greentic/network: is not a network policy'),
    });
  });
});
