// Shared by the platform tests: the hand-written tool component, its manifest, a pack with it, a local OTLP/HTTP
// (JSON) receiver, and a real OpenID Connect provider (oidc-provider) with a scripted browser.
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { buildComponentFromWat, type ComponentManifest } from '@greentic/component';
import { witDir } from '@greentic/interfaces';
import { blake3Hex, buildPack } from '@greentic/pack';
import type { NetworkPolicy } from '@greentic/types';
import Provider from 'oidc-provider';

const here = dirname(fileURLToPath(import.meta.url));

const CACHE = join(here, '..', 'node_modules', '.cache', 'greentic-runner-fixtures');

function witHash(): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (n.endsWith('.wit')) h.update(n).update(readFileSync(p));
      else if (!n.includes('.')) walk(p);
    }
  };
  walk(witDir());
  return h.digest('hex');
}

/** `test/fixtures/platform-tool.wat` as a component (built once, then cached on disk by WAT and WIT hash). */
export async function platformToolBytes(): Promise<Uint8Array> {
  const wat = readFileSync(join(here, 'fixtures', 'platform-tool.wat'), 'utf8');
  const key = createHash('sha256').update(wat).update(witHash()).digest('hex').slice(0, 16);
  const path = join(CACHE, `platform-tool-${key}.wasm`);
  if (!existsSync(path)) {
    const bytes = await buildComponentFromWat({ wat, witPath: witDir(), world: 'greentic:component/tool' });
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }
  return new Uint8Array(readFileSync(path));
}

/** An upstream v1 manifest for the tool: the secrets it declares, an HTTP client, and its network policy. */
export function toolManifest(
  bytes: Uint8Array,
  opts: { id?: string; secrets?: string[]; http?: boolean; network?: NetworkPolicy } = {},
): ComponentManifest {
  const io = { type: 'object' };
  return {
    id: opts.id ?? 'tool',
    name: 'Platform test tool',
    version: '0.1.0',
    world: 'greentic:component/tool@0.6.0',
    describe_export: 'describe',
    config_schema: { type: 'object', properties: {}, required: [], additionalProperties: false },
    operations: [
      { name: 'secret', input_schema: io, output_schema: io },
      { name: 'http', input_schema: io, output_schema: io },
    ],
    default_operation: 'secret',
    supports: ['messaging'],
    profiles: { default: 'default', supported: ['default'] },
    capabilities: {
      wasi: { random: false, clocks: false },
      host: { ...(opts.http ? { http: { client: true, server: false } } : {}) },
    },
    secret_requirements: (opts.secrets ?? []).map((key) => ({
      key,
      required: true,
      scope: { env: 'dev', tenant: 'acme' },
      format: 'text' as const,
    })),
    limits: { memory_mb: 32, wall_time_ms: 10_000 },
    ...(opts.network ? { 'x-greentic': { network: opts.network } } : {}),
    artifacts: { component_wasm: 'tool.wasm' },
    hashes: { component_wasm: `blake3:${blake3Hex(bytes)}` },
  };
}

/** Builds an unsigned `.gtpack` with the tool as component `tool` and the given flows; returns its path. */
export async function toolPack(
  dir: string,
  opts: {
    packId: string;
    version?: string;
    flows: Record<string, string>;
    manifest: ComponentManifest;
    bytes: Uint8Array;
  },
): Promise<string> {
  mkdirSync(join(dir, 'flows'), { recursive: true });
  mkdirSync(join(dir, 'components', 'tool'), { recursive: true });
  writeFileSync(join(dir, 'components', 'tool', 'tool.wasm'), opts.bytes);
  writeFileSync(
    join(dir, 'components', 'tool', 'component.manifest.json'),
    JSON.stringify(opts.manifest, null, 2),
  );
  const flowEntries = Object.entries(opts.flows).map(([id, text], i) => {
    writeFileSync(join(dir, 'flows', `${id}.ygtc`), text);
    return `  - { id: ${id}, file: flows/${id}.ygtc${i === 0 ? ', tags: [default], entrypoints: [default]' : ''} }`;
  });
  writeFileSync(
    join(dir, 'pack.yaml'),
    [
      `pack_id: ${opts.packId}`,
      `version: ${opts.version ?? '0.1.0'}`,
      'kind: application',
      'publisher: tests',
      'components:',
      '  - { id: tool, wasm: components/tool/tool.wasm, manifest: components/tool/component.manifest.json }',
      'flows:',
      ...flowEntries,
      '',
    ].join('\n'),
  );
  const out = join(dir, `${opts.packId}.gtpack`);
  await buildPack(join(dir, 'pack.yaml'), { out });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OTLP/HTTP receiver (JSON bodies, what @greentic/telemetry sends)

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  status: { code?: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
}

type AnyValue = {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
};
type KeyValue = { key: string; value: AnyValue };

function otlpValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(otlpValue);
  return undefined;
}
const attrs = (list: KeyValue[] | undefined) =>
  Object.fromEntries((list ?? []).map((kv) => [kv.key, otlpValue(kv.value)]));

/** Spans are ids in hex (OTLP/JSON) or base64 (some encoders): normalise to lowercase hex. */
function hexId(id: string | undefined): string | undefined {
  if (!id) return undefined;
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

/** A local OTLP/HTTP traces receiver on 127.0.0.1 (ephemeral port); keeps the raw bodies for leak checks. */
export class OtlpJsonReceiver {
  readonly bodies: string[] = [];
  private server: Server | undefined;
  private port = 0;

  get tracesUrl(): string {
    return `http://127.0.0.1:${this.port}/v1/traces`;
  }

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (
          req.method !== 'POST' ||
          req.url !== '/v1/traces' ||
          !String(req.headers['content-type']).includes('json')
        ) {
          res.writeHead(415).end();
          return;
        }
        this.bodies.push(body.toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Every span received so far. */
  spans(): ReceivedSpan[] {
    const out: ReceivedSpan[] = [];
    for (const text of this.bodies) {
      const doc = JSON.parse(text) as {
        resourceSpans?: {
          resource?: { attributes?: KeyValue[] };
          scopeSpans?: {
            spans?: {
              traceId: string;
              spanId: string;
              parentSpanId?: string;
              name: string;
              attributes?: KeyValue[];
              status?: { code?: number; message?: string };
              events?: { name: string; attributes?: KeyValue[] }[];
            }[];
          }[];
        }[];
      };
      for (const rs of doc.resourceSpans ?? []) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            out.push({
              traceId: hexId(s.traceId)!,
              spanId: hexId(s.spanId)!,
              parentSpanId: hexId(s.parentSpanId),
              name: s.name,
              attributes: attrs(s.attributes),
              resource,
              status: s.status ?? {},
              events: (s.events ?? []).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
            });
      }
    }
    return out;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A real OpenID Connect provider (oidc-provider, with its development login and consent pages)

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startTestIdp(redirectUri: string): Promise<TestIdp> {
  let handle: ((req: IncomingMessage, res: unknown) => void) | undefined;
  const server = createServer((req, res) => {
    if (handle) handle(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'platform-test' };
  const clientId = 'greentic-runner-test';
  const clientSecret = `client-secret-${randomUUID()}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    async findAccount(_ctx: unknown, id: string) {
      return { accountId: id, claims: async () => ({ sub: id, email: `${id}@example.test` }) };
    },
    claims: { openid: ['sub'], email: ['email'] },
    scopes: ['openid', 'email', 'offline_access'],
    features: { devInteractions: { enabled: true } },
    ttl: {
      AccessToken: 300,
      AuthorizationCode: 60,
      IdToken: 300,
      Interaction: 300,
      Session: 600,
      Grant: 600,
    },
    jwks: { keys: [jwk] },
    cookies: { keys: [`cookie-key-${randomUUID()}`] },
  } as never);
  handle = provider.callback() as never;
  return {
    issuer,
    clientId,
    clientSecret,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Plays the user's browser through the provider's development login and consent forms: follows redirects by hand
 * with a cookie jar, and stops at the first URL that starts with `until` (the redirect to the runner's callback),
 * which it returns without fetching.
 */
export async function signIn(authorizeUrl: string, user: string, until: string): Promise<string> {
  const jar = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  let url = authorizeUrl;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(until)) return url;
    const res = await go(url);
    const location = res.headers.get('location');
    if (location) {
      await res.arrayBuffer();
      url = new URL(location, url).toString();
      continue;
    }
    const html = await res.text();
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!prompt || !action) throw new Error(`no login/consent form at ${url} (HTTP ${res.status})`);
    const form = new URLSearchParams(
      prompt === 'login' ? { prompt, login: user, password: 'any' } : { prompt },
    );
    const submit = new URL(action, url).toString();
    const post = await go(submit, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const next = post.headers.get('location');
    await post.arrayBuffer();
    if (!next) throw new Error(`the ${prompt} form answered ${post.status} without a redirect`);
    url = new URL(next, submit).toString();
  }
  throw new Error('too many redirects while signing in');
}
