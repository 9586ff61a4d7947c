/**
 * Outbound policy, traced: the real component host runs a hand-written tool component (test/fixtures/platform-tool.wat)
 * with the runner platform's services. An allowed and a denied HTTP destination and a denied secret each reach the
 * flow as it should (the denials as `permission_denied` it routes on), and every decision is a
 * `greentic.policy.decision` event on the node's span (exported through an in-memory exporter) and, when denied, a
 * log line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WasmComponentRegistry } from '@greentic/component';
import { loadFlow } from '@greentic/flow';
import { MemorySecretsProvider } from '@greentic/secrets';
import { MemorySessionStore } from '@greentic/session';
import { MemoryStateStore } from '@greentic/state';
import { createLogger, GreenticTracer, initTelemetry, type Telemetry } from '@greentic/telemetry';
import { tenantCtx } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowEngine } from '../src/engine/engine.js';
import { createPlatform, POLICY_DECISION_EVENT, type RunnerPlatform } from '../src/platform/index.js';
import { platformToolBytes, toolManifest } from './platform-support.js';

interface Exported {
  name: string;
  attributes: Record<string, unknown>;
  events: { name: string; attributes?: Record<string, unknown> }[];
  spanContext(): { traceId: string; spanId: string };
}

const exported: Exported[] = [];
const exporter = {
  export(batch: Exported[], done: (r: { code: number }) => void) {
    exported.push(...batch);
    done({ code: 0 });
  },
  shutdown: async () => {},
  forceFlush: async () => {},
};
const logLines: string[] = [];
const SECRET_VALUE = 'tenant-acme-value-never-printed';

let telemetry: Telemetry;
let platform: RunnerPlatform;
let server: Server;
let port: number;
let engine: FlowEngine;
let closeHost: () => Promise<void> = async () => {};
const hits: string[] = [];

beforeAll(async () => {
  // registered globally: the policy hook finds the node span as the active span
  telemetry = await initTelemetry({
    serviceName: 'platform-policy-test',
    exporter: exporter as never,
    processor: 'simple',
    env: {},
  });
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  const store = new MemorySecretsProvider();
  await store.put('secrets://dev/acme/_/demo-pack/api_token', SECRET_VALUE);
  platform = await createPlatform({
    env: {},
    logger: createLogger({
      env: {},
      level: 'debug',
      destination: { write: (l: string) => logLines.push(l) },
    }),
    tracer: new GreenticTracer(),
    // acme may read nothing: the allow-list grants api_token to globex only
    secrets: { providers: [store], allowList: { tenants: { globex: { allow: ['api_token'] } } } },
  });
  const state = new MemoryStateStore();
  const host = platform.componentHost(state, { workers: 1 });
  const bytes = await platformToolBytes();
  const registry = new WasmComponentRegistry(host);
  await registry.register({
    id: 'tool',
    bytes,
    manifest: toolManifest(bytes, {
      secrets: ['api_token'],
      http: true,
      network: { egress: { domains: ['127.0.0.1'], protocols: ['http'] }, deny_on_miss: true },
    }),
    secretCategory: 'demo-pack',
  });
  engine = new FlowEngine({
    sessions: new MemorySessionStore(),
    state,
    components: registry,
    tracer: platform.tracer,
  });
  engine.registerFlow(
    loadFlow(`
id: policy
type: messaging
start: allowed
nodes:
  allowed:
    component.exec: { component: tool, input: "http://127.0.0.1:${port}/forecast?key=abc123" }
    operation: http
    routing:
      - { status: error, to: wrong }
      - { to: denied_host }
  denied_host:
    component.exec: { component: tool, input: "http://evil.example.test/exfiltrate" }
    operation: http
    routing:
      - { status: error, condition: 'prev.error.code == "permission_denied"', to: denied_secret }
      - { to: wrong }
  denied_secret:
    component.exec: { component: tool, input: "api_token" }
    operation: secret
    routing:
      - { status: error, condition: 'prev.error.code == "permission_denied"', to: undeclared_secret }
      - { to: wrong }
  undeclared_secret:
    component.exec: { component: tool, input: "stripe/key" }
    operation: secret
    routing:
      - { status: error, condition: 'prev.error.code == "permission_denied"', to: done }
      - { to: wrong }
  done:
    template: "every request got the answer its policy gives"
    routing: out
  wrong:
    template: "unexpected: {{prev}}"
    routing: out
`),
  );
  closeHost = () => host.close();
}, 120_000);

afterAll(async () => {
  await closeHost();
  await telemetry?.shutdown();
  await platform?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const acme = tenantCtx({ env: 'dev', tenant: 'acme' });

describe('outbound policy decisions', () => {
  it('lets the flow route on permission_denied, and traces every decision on its node span', async () => {
    const r = await engine.handleMessage({
      id: 'm1',
      tenant: acme,
      channel: 'test',
      session_id: 'c1',
      reply_scope: { conversation: 'c1' },
      text: 'go',
      metadata: {},
    });
    expect(r.trail).toEqual(['allowed', 'denied_host', 'denied_secret', 'undeclared_secret', 'done']);
    expect(r.status).toBe('done');
    expect(r.replies.map((x) => x.text)).toEqual(['every request got the answer its policy gives']);
    // only the allowed destination was reached
    expect(hits).toEqual(['/forecast?key=abc123']);
    await telemetry.forceFlush();

    const nodes = new Map(
      exported.filter((s) => s.name === 'greentic.node').map((s) => [s.attributes['greentic.node.id'], s]),
    );
    const decisionsOf = (node: string) =>
      nodes
        .get(node)!
        .events.filter((e) => e.name === POLICY_DECISION_EVENT)
        .map((e) => e.attributes);

    expect(decisionsOf('allowed')).toEqual([
      {
        'greentic.policy.capability': 'http',
        'greentic.policy.operation': 'GET',
        'greentic.policy.resource': `127.0.0.1:${port}`,
        'greentic.policy.decision': 'allow',
        'greentic.policy.reason': `"127.0.0.1:${port}" is in the allow list`,
        'greentic.policy.source': 'network-policy',
        'greentic.component.name': 'tool',
      },
    ]);
    expect(nodes.get('allowed')!.attributes).toMatchObject({ 'greentic.policy.decision': 'allow' });

    expect(decisionsOf('denied_host')).toEqual([
      expect.objectContaining({
        'greentic.policy.capability': 'http',
        'greentic.policy.resource': 'evil.example.test:80',
        'greentic.policy.decision': 'deny',
        'greentic.policy.source': 'network-policy',
      }),
    ]);
    expect(nodes.get('denied_host')!.attributes).toMatchObject({
      'greentic.policy.decision': 'deny',
      'greentic.policy.capability': 'http',
      'greentic.policy.resource': 'evil.example.test:80',
      'greentic.policy.denials': 1,
      'greentic.run.status': 'error',
      'greentic.error.code': 'permission_denied',
    });

    expect(decisionsOf('denied_secret')).toEqual([
      expect.objectContaining({
        'greentic.policy.capability': 'secrets',
        'greentic.policy.resource': 'api_token',
        'greentic.policy.decision': 'deny',
        'greentic.policy.source': 'secrets-service',
        'greentic.policy.reason': expect.stringContaining(
          'secrets://dev/acme/_/demo-pack/api_token is denied: the allow-list grants',
        ),
      }),
    ]);
    expect(decisionsOf('undeclared_secret')).toEqual([
      expect.objectContaining({
        'greentic.policy.resource': 'stripe/key',
        'greentic.policy.decision': 'deny',
        'greentic.policy.source': 'manifest',
      }),
    ]);
    // decisions sit on the node span of the node that asked, in the turn's trace
    const turn = exported.find((s) => s.name === 'greentic.turn')!;
    for (const n of nodes.values()) expect(n.spanContext().traceId).toBe(turn.spanContext().traceId);
    expect(decisionsOf('done')).toEqual([]);

    // the allow-list denial was audited by the secrets service
    expect(platform.secrets.audit.denials()).toEqual([
      expect.objectContaining({
        reason: 'not_allowed',
        uri: 'secrets://dev/acme/_/demo-pack/api_token',
        pack: 'demo-pack',
        component: 'tool',
      }),
    ]);

    // denials are logged (warn), allowed requests at debug
    const logs = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const denied = logs.filter((l) => l.level === 40);
    expect(denied.map((l) => (l.policy as { resource: string }).resource)).toEqual([
      'evil.example.test:80',
      'api_token',
      'stripe/key',
    ]);
    expect(denied[0]).toMatchObject({
      tenant: 'acme',
      flow: 'policy',
      node: 'denied_host',
      component: 'tool',
    });
    expect(denied[0]!.trace_id).toBe(turn.spanContext().traceId);

    // no secret value, and no URL path or query, anywhere in spans or logs
    const everything = JSON.stringify([exported.map((s) => [s.attributes, s.events]), logLines]);
    expect(everything).not.toContain(SECRET_VALUE);
    expect(everything).not.toContain('abc123');
    expect(everything).not.toContain('exfiltrate');
  });

  it('gives the secret to a tenant the allow-list grants it to (and only its own value)', async () => {
    const r = await engine.handleMessage(
      {
        id: 'g1',
        tenant: tenantCtx({ env: 'dev', tenant: 'globex' }),
        channel: 'test',
        session_id: 'g1',
        reply_scope: { conversation: 'g1' },
        text: 'go',
        metadata: {},
      },
      {},
    );
    // globex's read of api_token is granted, but globex has no value of its own: the component answers not_found
    // (which this flow does not route, so the turn fails there) — acme's value is never handed over
    expect(r.trail).toEqual(['allowed', 'denied_host', 'denied_secret']);
    expect(r.status).toBe('error');
    expect(r.error?.message).toContain('failed (not_found: no value is set for this secret)');
    expect(JSON.stringify(r)).not.toContain(SECRET_VALUE);
    const granted = platform.secrets.audit.records().filter((x) => x.decision === 'allow');
    expect(granted).toEqual([
      expect.objectContaining({ uri: 'secrets://dev/globex/_/demo-pack/api_token', found: false }),
    ]);
  });
});
