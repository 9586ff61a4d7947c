import { request } from 'node:http';
import type { ComponentInvoker } from '@greentic/interfaces';
import { tenantCtx } from '@greentic/types';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMcpServer,
  type GreenticMcpServer,
  isMcpError,
  type McpHttpEndpoint,
  META_ATTEMPT,
  META_ERROR,
  META_PENDING,
  toolsFromInvoker,
} from '../src/index.js';
import { fixtureTools } from './fixtures/tools.js';
import { stdioFixture } from './helpers.js';

type Connect = () => Promise<Client>;

/** The same conversation, whatever the transport. */
function conformance(name: string, connect: Connect) {
  describe(`${name}: the MCP SDK client`, () => {
    let client: Client;
    beforeAll(async () => {
      client = await connect();
    });
    afterAll(async () => {
      await client?.close();
    });

    it('sees the server name and the tool capability', () => {
      expect(client.getServerVersion()).toMatchObject({ name: 'fixture', version: '1.2.3' });
      expect(client.getServerCapabilities()?.tools).toBeDefined();
    });

    it('lists the tools with their schemas', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(fixtureTools().map((t) => t.name));
      const add = tools.find((t) => t.name === 'add')!;
      expect(add.description).toBe('Adds two numbers');
      expect(add.inputSchema).toMatchObject({ type: 'object', required: ['a', 'b'] });
      expect(add.outputSchema).toMatchObject({ type: 'object' });
      expect(tools.find((t) => t.name === 'greet')!.inputSchema).toEqual({ type: 'object' });
    });

    it('calls a tool and gets structured content', async () => {
      const res = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
      expect(res.isError).toBeFalsy();
      expect(res.structuredContent).toEqual({ sum: 5 });
      expect(res.content).toEqual([{ type: 'text', text: '{"sum":5}' }]);
    });

    it('gets plain text from a tool that answers a string', async () => {
      const res = await client.callTool({ name: 'greet', arguments: { name: 'Ada' } });
      expect(res.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
      expect(res.structuredContent).toBeUndefined();
    });

    it('gets an error result, with the Greentic code in _meta', async () => {
      const res = await client.callTool({
        name: 'fail',
        arguments: { code: 'rate_limited', message: 'slow down' },
      });
      expect(res.isError).toBe(true);
      expect(res.content).toEqual([{ type: 'text', text: 'slow down' }]);
      expect(res._meta?.[META_ERROR]).toEqual({ code: 'rate_limited', message: 'slow down' });
    });

    it('gets an internal error result when the tool throws', async () => {
      const res = await client.callTool({ name: 'boom', arguments: {} });
      expect(res.isError).toBe(true);
      expect(res._meta?.[META_ERROR]).toEqual({ code: 'internal', message: 'kaboom' });
    });

    it('gets invalid_input naming the field when arguments break the input schema', async () => {
      const res = await client.callTool({ name: 'add', arguments: { a: 2, b: 'three' } });
      expect(res.isError).toBe(true);
      const error = res._meta?.[META_ERROR] as { code: string; message: string };
      expect(error.code).toBe('invalid_input');
      expect(error.message).toContain('arguments of tool "add" are invalid: /b must be number (got "three")');
    });

    it('gets a JSON-RPC invalid-params error for an unknown tool', async () => {
      const err = await client.callTool({ name: 'nope', arguments: {} }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: -32602 });
      expect((err as Error).message).toContain('Unknown tool: "nope"');
    });

    it('receives the attempt number from _meta', async () => {
      const res = await client.callTool({
        name: 'flaky',
        arguments: { succeed_on: 2 },
        _meta: { [META_ATTEMPT]: 2 },
      });
      expect(res.structuredContent).toEqual({ attempt: 2 });
      const first = await client.callTool({ name: 'flaky', arguments: { succeed_on: 2 } });
      expect(first.isError).toBe(true);
    });

    it('marks a pending outcome in _meta', async () => {
      const res = await client.callTool({ name: 'approve', arguments: {} });
      expect(res.isError).toBeFalsy();
      expect(res._meta?.[META_PENDING]).toEqual({ reason: 'needs approval' });
    });

    it('cancels a running tool when the client aborts', async () => {
      const ac = new AbortController();
      const p = client.callTool({ name: 'hang', arguments: {} }, undefined, { signal: ac.signal });
      setTimeout(() => ac.abort(new Error('user gave up')), 20);
      await expect(p).rejects.toThrow('user gave up');
      // the connection still works
      expect((await client.callTool({ name: 'echo', arguments: { ok: true } })).structuredContent).toEqual({
        ok: true,
      });
    });
  });
}

conformance('stdio', async () => {
  const client = new Client({ name: 'test', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ ...stdioFixture(), stderr: 'inherit' }));
  return client;
});

let server: GreenticMcpServer;
let endpoint: McpHttpEndpoint;
beforeAll(async () => {
  server = createMcpServer({ name: 'fixture', version: '1.2.3', tools: fixtureTools() });
  endpoint = await server.listenHttp();
});
afterAll(async () => {
  await server?.close();
});

conformance('streamable HTTP', async () => {
  const client = new Client({ name: 'test', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint.url)));
  return client;
});

/** A raw HTTP request to the endpoint. */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
});
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('streamable HTTP endpoint', () => {
  it('listens on 127.0.0.1 with an ephemeral port, at /mcp', () => {
    expect(endpoint.host).toBe('127.0.0.1');
    expect(endpoint.port).toBeGreaterThan(0);
    expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}/mcp`);
  });

  it('answers an initialize POST with JSON', async () => {
    const res = await raw(endpoint.url, { headers: JSON_HEADERS, body: INIT });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).result.serverInfo).toEqual({ name: 'fixture', version: '1.2.3' });
  });

  it('answers 405 to GET and DELETE (stateless: no SSE stream, no sessions)', async () => {
    expect(
      (await raw(endpoint.url, { method: 'GET', headers: { accept: 'text/event-stream' } })).status,
    ).toBe(405);
    expect((await raw(endpoint.url, { method: 'DELETE' })).status).toBe(405);
  });

  it('answers 404 on other paths', async () => {
    expect(
      (await raw(endpoint.url.replace('/mcp', '/other'), { headers: JSON_HEADERS, body: INIT })).status,
    ).toBe(404);
  });

  it('rejects a foreign Host or Origin (DNS rebinding)', async () => {
    expect(
      (await raw(endpoint.url, { headers: { ...JSON_HEADERS, host: 'evil.example:80' }, body: INIT })).status,
    ).toBe(403);
    expect(
      (await raw(endpoint.url, { headers: { ...JSON_HEADERS, origin: 'http://evil.example' }, body: INIT }))
        .status,
    ).toBe(403);
    expect(
      (
        await raw(endpoint.url, {
          headers: { ...JSON_HEADERS, origin: `http://localhost:${endpoint.port}` },
          body: INIT,
        })
      ).status,
    ).toBe(200);
  });

  it('requires the bearer token when one is set', async () => {
    const secured = createMcpServer({ tools: fixtureTools() });
    const ep = await secured.listenHttp({ authToken: 's3cret', path: '/tools' });
    try {
      const denied = await raw(ep.url, { headers: JSON_HEADERS, body: INIT });
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toBe('Bearer');
      expect(
        (await raw(ep.url, { headers: { ...JSON_HEADERS, authorization: 'Bearer wrong' }, body: INIT }))
          .status,
      ).toBe(401);
      const client = new Client({ name: 'test', version: '0.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(ep.url), {
          requestInit: { headers: { authorization: 'Bearer s3cret' } },
        }),
      );
      expect((await client.listTools()).tools.length).toBe(fixtureTools().length);
      await client.close();
    } finally {
      await secured.close();
    }
  });

  it('refuses a non-loopback interface without a token', async () => {
    const s = createMcpServer({ tools: [] });
    const err = await s.listenHttp({ host: '0.0.0.0' }).catch((e: unknown) => e);
    expect(isMcpError(err, 'GT_MCP_LISTEN')).toBe(true);
  });

  it('reports a port in use as GT_MCP_LISTEN', async () => {
    const s = createMcpServer({ tools: [] });
    const err = await s.listenHttp({ port: endpoint.port }).catch((e: unknown) => e);
    expect(isMcpError(err, 'GT_MCP_LISTEN')).toBe(true);
    expect((err as Error).cause).toBeDefined();
  });
});

describe('tool answers', () => {
  it('turns a malformed Outcome into an internal error', async () => {
    const s = createMcpServer({
      tools: [{ name: 'bad', invoke: () => ({ Error: { code: 'oops', message: 'x' } }) }],
    });
    const ep = await s.listenHttp();
    const client = new Client({ name: 'test', version: '0.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(ep.url)));
      const res = await client.callTool({ name: 'bad', arguments: {} });
      const error = res._meta?.[META_ERROR] as { code: string; message: string };
      expect(error.code).toBe('internal');
      expect(error.message).toMatch(/^tool "bad" answered a malformed Outcome: \/Error\/code/);
    } finally {
      await client.close();
      await s.close();
    }
  });
});

describe('tool definitions', () => {
  const ok = { invoke: () => ({ Done: null }) };
  it('rejects bad and duplicate names', () => {
    expect(() => createMcpServer({ tools: [{ name: 'has space', ...ok }] })).toThrowError(/invalid name/);
    expect(() =>
      createMcpServer({
        tools: [
          { name: 'a', ...ok },
          { name: 'a', ...ok },
        ],
      }),
    ).toThrowError(/used twice/);
  });

  it('rejects input schemas that do not describe an object', () => {
    try {
      createMcpServer({ tools: [{ name: 'a', inputSchema: { type: 'string' }, ...ok }] });
      expect.unreachable();
    } catch (e) {
      expect(isMcpError(e, 'GT_MCP_TOOL_DEFINITION')).toBe(true);
      expect((e as { field: string }).field).toBe('/tools/0/inputSchema');
    }
  });
});

describe('a component invoker as MCP tools', () => {
  const ctx = tenantCtx({ env: 'dev', tenant: 'acme' });
  const seen: unknown[] = [];
  const weather: ComponentInvoker = {
    describe: () => ({
      name: 'weather_api',
      version: '1.0.0',
      ops: [
        {
          name: 'forecast',
          description: 'Forecast for a city',
          input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
        },
        { name: 'shout', input_schema: { type: 'string' } },
        { name: 'ping' },
      ],
    }),
    invoke: async (op, env) => {
      seen.push({ op, env });
      if (op === 'forecast') return { Done: { city: (env.payload as { q: string }).q, temp: 21 } };
      if (op === 'shout') return { Done: String(env.payload).toUpperCase() };
      return { Done: 'pong' };
    },
  };

  it('exposes each op with its schema and calls the invoker with an envelope for the configured tenant', async () => {
    const tools = await toolsFromInvoker(weather, { ctx, toolName: (op) => `weather.${op}` });
    const s = createMcpServer({ name: 'fixture', version: '1.2.3', tools });
    const ep = await s.listenHttp();
    const client = new Client({ name: 'test', version: '0.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(ep.url)));
      const listed = (await client.listTools()).tools;
      expect(listed.map((t) => t.name)).toEqual(['weather.forecast', 'weather.shout', 'weather.ping']);
      expect(listed[1]!.inputSchema).toMatchObject({
        properties: { input: { type: 'string' } },
        required: ['input'],
      });

      const res = await client.callTool({ name: 'weather.forecast', arguments: { q: 'Oslo' } });
      expect(res.structuredContent).toEqual({ city: 'Oslo', temp: 21 });
      expect(seen[0]).toMatchObject({
        op: 'forecast',
        env: {
          ctx,
          component_id: 'weather_api',
          step_id: 'weather.forecast',
          attempt: 1,
          payload: { q: 'Oslo' },
        },
      });
      const shout = await client.callTool({ name: 'weather.shout', arguments: { input: 'hi' } });
      expect(shout.content).toEqual([{ type: 'text', text: 'HI' }]);
      const bad = await client.callTool({ name: 'weather.forecast', arguments: {} });
      expect(bad._meta?.[META_ERROR]).toMatchObject({ code: 'invalid_input' });
    } finally {
      await client.close();
      await s.close();
    }
  });

  it('rejects asking for an operation the component does not have', async () => {
    await expect(toolsFromInvoker(weather, { ctx, operations: ['forecast', 'nope'] })).rejects.toThrowError(
      /no operation "nope"/,
    );
  });
});
