import { type AddressInfo, createServer } from 'node:net';
import type { ComponentInvoker, InvocationEnvelope } from '@greentic/interfaces';
import { type Outcome, type TenantCtx, tenantCtx } from '@greentic/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMcpServer,
  type GreenticMcpServer,
  isMcpError,
  type McpAttemptReport,
  McpComponentRegistry,
  type McpConfig,
  type McpConnector,
  type McpHttpEndpoint,
  type McpSession,
  ToolMap,
  ToolMapInvoker,
} from '../src/index.js';
import { fixtureTools } from './fixtures/tools.js';
import { stdioFixture } from './helpers.js';

const acme = tenantCtx({ env: 'dev', tenant: 'acme' });
const globex = tenantCtx({ env: 'dev', tenant: 'globex' });

/** What the flow engine does for an `mcp: {server, tool, arguments}` node. */
async function callNode(
  registry: McpComponentRegistry,
  server: string,
  tool: string,
  args: unknown,
  ctx: TenantCtx = acme,
): Promise<Outcome<unknown>> {
  const invoker = await registry.resolve({ kind: 'mcp', component: server, operation: tool }, ctx);
  if (!invoker) throw new Error(`no invoker for ${server}`);
  const envelope: InvocationEnvelope = {
    ctx: { ...ctx, flow_id: 'f', node_id: 'n' },
    flow_id: 'f',
    step_id: 'n',
    component_id: server,
    attempt: 1,
    payload: args,
  };
  return invoker.invoke(tool, envelope, {
    signal: new AbortController().signal,
    deadline: Date.now() + 20_000,
  });
}

const error = (o: Outcome<unknown>) => ('Error' in o ? o.Error : undefined);

let httpServer: GreenticMcpServer;
let endpoint: McpHttpEndpoint;
let registry: McpComponentRegistry;
const reports: McpAttemptReport[] = [];
const delays: number[] = [];

/** A loopback TCP server that drops every connection: an MCP server that is "down" (no port-reuse races). */
const dropper = createServer((socket) => socket.destroy());

let downUrl: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
  downUrl = `http://127.0.0.1:${(dropper.address() as AddressInfo).port}/mcp`;
  httpServer = createMcpServer({ name: 'fixture', version: '1.2.3', tools: fixtureTools() });
  endpoint = await httpServer.listenHttp();
  process.env.GT_FIXTURE_SECRET = 'must-not-leak';
  const fixture = stdioFixture();
  const config: McpConfig = {
    retry: { max_attempts: 3, base_delay_ms: 250 },
    servers: {
      local_stdio: { ...fixture, env: { GT_FIXTURE_VALUE: 'given' } },
      local_http: { url: endpoint.url },
      acme_only: { url: endpoint.url, tenants: ['acme'] },
      few_tools: { url: endpoint.url, tools: ['echo'] },
      quick: { url: endpoint.url, timeout_ms: 30, retry: { max_attempts: 2 } },
      down: { url: downUrl, connect_timeout_ms: 2000 },
      missing_binary: { command: '/nonexistent/greentic-mcp-server', retry: { max_attempts: 1 } },
    },
  };
  registry = new McpComponentRegistry(config, {
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
    onAttempt: (r) => reports.push(r),
  });
});

afterAll(async () => {
  await registry?.close();
  await httpServer?.close();
  await new Promise((resolve) => dropper.close(resolve));
  delete process.env.GT_FIXTURE_SECRET;
});

describe('McpComponentRegistry', () => {
  it('resolves only mcp refs to configured servers', async () => {
    expect(
      await registry.resolve({ kind: 'component', component: 'local_http', operation: 'echo' }, acme),
    ).toBeUndefined();
    expect(
      await registry.resolve({ kind: 'mcp', component: 'unknown', operation: 'echo' }, acme),
    ).toBeUndefined();
    expect(
      await registry.resolve({ kind: 'mcp', component: 'local_http', operation: 'echo' }, acme),
    ).toBeDefined();
    expect(registry.servers).toContain('local_stdio');
  });

  for (const server of ['local_stdio', 'local_http']) {
    describe(`over ${server === 'local_stdio' ? 'stdio' : 'streamable HTTP'}`, () => {
      it('answers structuredContent as Done', async () => {
        expect(await callNode(registry, server, 'add', { a: 2, b: 40 })).toEqual({ Done: { sum: 42 } });
        expect(await callNode(registry, server, 'echo', { city: 'Oslo' })).toEqual({
          Done: { city: 'Oslo' },
        });
      });

      it('answers text as Done, and empty arguments as {}', async () => {
        expect(await callNode(registry, server, 'greet', undefined)).toEqual({ Done: 'Hello, world!' });
      });

      it('maps an isError result to Error with the server code, without retrying invalid_input', async () => {
        reports.length = 0;
        const o = await callNode(registry, server, 'fail', {
          code: 'invalid_input',
          message: 'no such city',
        });
        expect(o).toEqual({ Error: { code: 'invalid_input', message: 'no such city' } });
        expect(reports).toHaveLength(1);
      });

      it('maps a thrown tool error to internal', async () => {
        expect(error(await callNode(registry, server, 'boom', {}))).toEqual({
          code: 'internal',
          message: 'kaboom',
        });
      });

      it('retries transient errors with backoff and passes the attempt number to the server', async () => {
        reports.length = 0;
        delays.length = 0;
        expect(await callNode(registry, server, 'flaky', { succeed_on: 3 })).toEqual({
          Done: { attempt: 3 },
        });
        expect(reports.map((r) => [r.attempt, r.willRetry])).toEqual([
          [1, true],
          [2, true],
          [3, false],
        ]);
        expect(reports[0]).toMatchObject({ server, tool: 'flaky', tenant: 'acme' });
        expect(delays).toEqual([250, 500]);
      });

      it('gives up after max_attempts on a transient error', async () => {
        reports.length = 0;
        const o = await callNode(registry, server, 'fail', { code: 'rate_limited', message: 'slow down' });
        expect(o).toEqual({
          Error: { code: 'rate_limited', message: 'slow down (gave up after 3 attempts)' },
        });
        expect(reports).toHaveLength(3);
      });

      it('answers Pending for a pending result', async () => {
        expect(await callNode(registry, server, 'approve', {})).toEqual({
          Pending: { reason: 'needs approval' },
        });
      });

      it('answers not_found for an unknown tool', async () => {
        const e = error(await callNode(registry, server, 'nope', {}));
        expect(e?.code).toBe('not_found');
        expect(e?.message).toContain(`tool "nope" on MCP server "${server}"`);
      });

      it('answers invalid_input for arguments that are not an object, without calling', async () => {
        expect(error(await callNode(registry, server, 'echo', [1, 2]))?.code).toBe('invalid_input');
      });

      it('describes the server from tools/list', async () => {
        const invoker = await registry.resolve({ kind: 'mcp', component: server, operation: 'add' }, acme);
        const d = await invoker!.describe();
        expect(d).toMatchObject({ name: server, version: '1.2.3' });
        expect(d.ops.find((op) => op.name === 'add')).toMatchObject({
          description: 'Adds two numbers',
          input_schema: { type: 'object', required: ['a', 'b'] },
        });
      });
    });
  }

  it('passes only the configured environment to a stdio server', async () => {
    expect(await callNode(registry, 'local_stdio', 'env', {})).toEqual({
      Done: { given: 'given', inherited: null },
    });
  });

  it('times out a slow call per attempt, retries it, and reports timeout', async () => {
    reports.length = 0;
    const e = error(await callNode(registry, 'quick', 'hang', {}));
    expect(e?.code).toBe('timeout');
    expect(e?.message).toContain('timed out after 30 ms');
    expect(e?.message).toContain('gave up after 2 attempts');
    expect(reports.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('denies a tenant outside the allow-list', async () => {
    expect(await callNode(registry, 'acme_only', 'echo', { a: 1 }, acme)).toEqual({ Done: { a: 1 } });
    const e = error(await callNode(registry, 'acme_only', 'echo', { a: 1 }, globex));
    expect(e).toEqual({
      code: 'permission_denied',
      message: 'tenant "globex" may not use MCP server "acme_only" (not in its "tenants" allow-list)',
    });
    const invoker = await registry.resolve(
      { kind: 'mcp', component: 'acme_only', operation: 'echo' },
      globex,
    );
    const err = await Promise.resolve(invoker!.describe()).catch((x: unknown) => x);
    expect(isMcpError(err, 'GT_MCP_PERMISSION_DENIED')).toBe(true);
  });

  it('checks the envelope tenant as well as the resolving one', async () => {
    const invoker = await registry.resolve({ kind: 'mcp', component: 'acme_only', operation: 'echo' }, acme);
    const o = await invoker!.invoke('echo', {
      ctx: globex,
      flow_id: 'f',
      step_id: 'n',
      component_id: 'acme_only',
      attempt: 1,
      payload: {},
    });
    expect(error(o)?.code).toBe('permission_denied');
  });

  it('denies tools outside the tool allow-list and lists only allowed ones', async () => {
    expect(error(await callNode(registry, 'few_tools', 'add', { a: 1, b: 2 }))?.code).toBe(
      'permission_denied',
    );
    expect(await callNode(registry, 'few_tools', 'echo', {})).toEqual({ Done: {} });
    const invoker = await registry.resolve({ kind: 'mcp', component: 'few_tools', operation: 'echo' }, acme);
    expect((await invoker!.describe()).ops.map((o) => o.name)).toEqual(['echo']);
  });

  it('answers unavailable when the server cannot be reached, after retrying', async () => {
    reports.length = 0;
    delays.length = 0;
    const e = error(await callNode(registry, 'down', 'echo', {}));
    expect(e?.code).toBe('unavailable');
    expect(e?.message).toContain(`cannot connect to MCP server "down" (http: ${downUrl})`);
    expect(reports).toHaveLength(3);
    expect(delays).toEqual([250, 500]);
  });

  it('answers unavailable when a stdio command does not exist', async () => {
    const e = error(await callNode(registry, 'missing_binary', 'echo', {}));
    expect(e?.code).toBe('unavailable');
    expect(e?.message).toContain('stdio: /nonexistent/greentic-mcp-server');
  });

  it('rejects an invalid configuration', () => {
    expect(() => new McpComponentRegistry({ servers: { s: { url: 'ftp://x' } } })).toThrowError(
      /\/servers\/s\/url/,
    );
  });
});

describe('McpComponentRegistry with injected connections', () => {
  function fakeSession(call: McpSession['callTool']): McpSession {
    return {
      callTool: call,
      listTools: async () => [],
      close: async () => {},
      serverInfo: { name: 'fake', version: '9' },
    };
  }
  const env = (payload: unknown): InvocationEnvelope => ({
    ctx: acme,
    flow_id: 'f',
    step_id: 'n',
    component_id: 's',
    attempt: 1,
    payload,
  });

  it('reconnects after a failed connection and after a lost one', async () => {
    let connects = 0;
    let session: McpSession | undefined;
    const connect: McpConnector = async () => {
      connects++;
      if (connects === 1) throw new Error('ECONNREFUSED');
      session = fakeSession(async () => {
        if (connects === 2) {
          session!.onclose?.();
          throw new Error('socket hang up');
        }
        return { content: [{ type: 'text', text: '"ok"' }] };
      });
      return session;
    };
    const reg = new McpComponentRegistry(
      { servers: { s: { url: 'http://example.invalid/mcp' } } },
      { connect, sleep: async () => {} },
    );
    const inv = await reg.resolve({ kind: 'mcp', component: 's', operation: 't' }, acme);
    expect(await inv!.invoke('t', env({}))).toEqual({ Done: 'ok' });
    expect(connects).toBe(3);
    await reg.close();
    expect(error(await inv!.invoke('t', env({})))?.message).toContain('the registry is closed');
  });

  it('sends the attempt number in _meta, starting from the envelope attempt', async () => {
    const metas: unknown[] = [];
    const connect: McpConnector = async () =>
      fakeSession(async (params) => {
        metas.push(params._meta);
        return {
          isError: true,
          content: [{ type: 'text', text: 'busy' }],
          _meta: { 'ai.greentic/error': { code: 'unavailable' } },
        };
      });
    const reg = new McpComponentRegistry(
      { servers: { s: { url: 'http://example.invalid/mcp', retry: { max_attempts: 2 } } } },
      { connect, sleep: async () => {} },
    );
    const inv = await reg.resolve({ kind: 'mcp', component: 's', operation: 't' }, acme);
    await inv!.invoke('t', { ...env({}), attempt: 4 });
    expect(metas).toEqual([{ 'ai.greentic/attempt': 4 }, { 'ai.greentic/attempt': 5 }]);
  });

  it('stops when the engine aborts the call', async () => {
    const connect: McpConnector = async () =>
      fakeSession(
        (_params, { signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      );
    const reg = new McpComponentRegistry(
      { servers: { s: { url: 'http://example.invalid/mcp' } } },
      { connect },
    );
    const inv = await reg.resolve({ kind: 'mcp', component: 's', operation: 't' }, acme);
    const ac = new AbortController();
    const p = inv!.invoke('t', env({}), { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('turn deadline')), 5);
    expect(error(await p)).toEqual({
      code: 'timeout',
      message: 'tool "t" on MCP server "s" was cancelled: turn deadline',
    });
  });
});

describe('local servers', () => {
  const calls: string[] = [];
  const echoComponent: ComponentInvoker = {
    describe: () => ({ name: 'echo', version: '1', ops: [{ name: 'tool_invoke' }] }),
    invoke: async (op, e) => {
      calls.push(op);
      return { Done: e.payload };
    },
  };
  const map = new ToolMap({ tools: [{ name: 'echo', component: 'echo.wasm', entry: 'tool_invoke' }] });

  it('serves a tool map by name, with the same tenant rules', async () => {
    const reg = new McpComponentRegistry(
      { servers: {} },
      { local: { pack: { invoker: new ToolMapInvoker(map, () => echoComponent), tenants: ['acme'] } } },
    );
    expect(await callNode(reg, 'pack', 'echo', { x: 1 })).toEqual({ Done: { x: 1 } });
    expect(calls).toEqual(['tool_invoke']);
    expect(error(await callNode(reg, 'pack', 'echo', {}, globex))?.code).toBe('permission_denied');
    expect(
      (await (await reg.resolve({ kind: 'mcp', component: 'pack', operation: 'echo' }, acme))!.describe())
        .ops,
    ).toHaveLength(1);
  });

  it('rejects a local server whose name is also configured', () => {
    expect(
      () =>
        new McpComponentRegistry(
          { servers: { pack: { url: 'http://x/mcp' } } },
          { local: { pack: echoComponent } },
        ),
    ).toThrowError(/both configured and given as a local server/);
  });
});
