import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { checkOutcome, type Outcome } from '@greentic/types';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  type CallToolRequest,
  CallToolRequestSchema,
  type CallToolResult,
  ListToolsRequestSchema,
  ErrorCode as RpcErrorCode,
  McpError as SdkMcpError,
} from '@modelcontextprotocol/sdk/types.js';
import type { ValidateFunction } from 'ajv';
import type { McpToolInfo } from './client.js';
import { McpError } from './errors.js';
import { compileForeignSchema, describeIssues, toIssues } from './json-schema.js';
import { META_ATTEMPT, META_ERROR, messageOf, outcomeToResult } from './outcome.js';
import { callWithRetry } from './retry.js';
import { TOOL_NAME_PATTERN } from './toolmap.js';

/** What a tool implementation receives besides its arguments. */
export interface McpToolCall {
  /** Attempt number the caller sent in `_meta["ai.greentic/attempt"]` (1 when it sent none). */
  attempt: number;
  /** Aborted when the client cancels the request, the tool's `timeoutMs` passes, or the server closes. */
  signal: AbortSignal;
  requestId: string | number;
  /** The request's `_meta`, as sent. */
  meta: Record<string, unknown>;
}

/** A tool to expose. */
export interface McpTool {
  /** 1–128 characters of `A-Z a-z 0-9 _ - .`, unique in the server. */
  name: string;
  title?: string;
  description?: string;
  /** JSON Schema of the arguments; must describe an object (default `{type: "object"}`). */
  inputSchema?: Record<string, unknown>;
  /** JSON Schema of `Done` values (an object schema); clients then validate `structuredContent`. */
  outputSchema?: Record<string, unknown>;
  /** Time limit of one call in ms; an overrun answers a `timeout` error (default: none). */
  timeoutMs?: number;
  /**
   * Runs the tool. Answer an `Outcome` (`{Done}`, `{Pending}`, `{Error: {code, message}}`) or any other value for
   * `Done`. A thrown error becomes an `internal` error result.
   */
  invoke(args: Record<string, unknown>, call: McpToolCall): unknown;
}

export interface McpServerOptions {
  /** `serverInfo.name` (default `greentic`). */
  name?: string;
  /** `serverInfo.version` (default `0.1.0`). */
  version?: string;
  /** Instructions sent to clients in the handshake. */
  instructions?: string;
  tools: McpTool[];
  /** Check arguments against each tool's `inputSchema` before calling it (default `true`). */
  validateArguments?: boolean;
  /** Told about errors tools throw and HTTP requests that fail (default: ignored). */
  onError?: (error: unknown, context: { tool?: string }) => void;
}

export interface McpHttpOptions {
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Port (default `0`: an ephemeral port; read it from the returned `port`/`url`). */
  port?: number;
  /** Endpoint path (default `/mcp`). */
  path?: string;
  /** Require `Authorization: Bearer <authToken>` on every request. */
  authToken?: string;
  /**
   * `Host` header values accepted (DNS-rebinding protection); requests with another `Host`, or with an `Origin`
   * whose host is not listed, get 403. Default on loopback: `127.0.0.1:<port>`, `localhost:<port>`,
   * `[::1]:<port>`; elsewhere: no check.
   */
  allowedHosts?: string[];
  /** Largest request body in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** Allow binding a non-loopback interface without `authToken` (e.g. behind an authenticating proxy). */
  allowUnauthenticated?: boolean;
}

/** A listening HTTP endpoint. */
export interface McpHttpEndpoint {
  /** `http://127.0.0.1:<port>/mcp`: what a client's `StreamableHTTPClientTransport` connects to. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Tools served over MCP (see {@link createMcpServer}). */
export interface GreenticMcpServer {
  /** The tools as `tools/list` reports them. */
  readonly tools: readonly McpToolInfo[];
  /** Serves one client over stdio (default: this process's stdin/stdout). */
  connectStdio(streams?: { stdin?: Readable; stdout?: Writable }): Promise<void>;
  /** Serves MCP streamable HTTP (stateless, JSON responses) on its own `node:http` server. */
  listenHttp(options?: McpHttpOptions): Promise<McpHttpEndpoint>;
  /**
   * Handles one MCP HTTP request inside an existing `node:http` server (routing, auth and host checks are then the
   * caller's). Only POST is served; other methods get 405.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Stops stdio sessions and HTTP endpoints. */
  close(): Promise<void>;
}

interface PreparedTool {
  tool: McpTool;
  info: McpToolInfo;
  validate?: ValidateFunction;
}

const NAME_RE = new RegExp(TOOL_NAME_PATTERN);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOutcome(v: unknown): v is Outcome<unknown> {
  return isRecord(v) && Object.keys(v).length === 1 && ('Done' in v || 'Pending' in v || 'Error' in v);
}

function isObjectSchema(schema: Record<string, unknown>): boolean {
  return schema.type === 'object';
}

function prepare(tools: McpTool[], validateArguments: boolean): PreparedTool[] {
  const seen = new Set<string>();
  return tools.map((tool, i) => {
    const at = `/tools/${i}`;
    if (typeof tool?.name !== 'string' || !NAME_RE.test(tool.name)) {
      throw new McpError(
        'GT_MCP_TOOL_DEFINITION',
        `tool ${at} has an invalid name ${JSON.stringify(tool?.name)}: use 1-128 characters of A-Z a-z 0-9 _ - .`,
        { field: `${at}/name` },
      );
    }
    if (seen.has(tool.name)) {
      throw new McpError('GT_MCP_TOOL_DEFINITION', `tool name "${tool.name}" is used twice (${at})`, {
        field: `${at}/name`,
      });
    }
    seen.add(tool.name);
    if (typeof tool.invoke !== 'function') {
      throw new McpError('GT_MCP_TOOL_DEFINITION', `tool "${tool.name}" has no invoke function`, {
        field: `${at}/invoke`,
      });
    }
    const inputSchema = tool.inputSchema ?? { type: 'object' };
    for (const [key, schema] of [
      ['inputSchema', inputSchema],
      ['outputSchema', tool.outputSchema],
    ] as const) {
      if (schema !== undefined && (!isRecord(schema) || !isObjectSchema(schema))) {
        throw new McpError(
          'GT_MCP_TOOL_DEFINITION',
          `tool "${tool.name}": ${key} must be a JSON Schema with "type": "object" (MCP arguments and structured results are objects)`,
          { field: `${at}/${key}` },
        );
      }
    }
    let validate: ValidateFunction | undefined;
    if (validateArguments) {
      try {
        validate = compileForeignSchema(inputSchema);
      } catch (e) {
        throw new McpError(
          'GT_MCP_TOOL_DEFINITION',
          `tool "${tool.name}": inputSchema does not compile: ${messageOf(e)}`,
          {
            field: `${at}/inputSchema`,
            cause: e,
          },
        );
      }
    }
    const info: McpToolInfo = { name: tool.name, inputSchema };
    if (tool.title !== undefined) info.title = tool.title;
    if (tool.description !== undefined) info.description = tool.description;
    if (tool.outputSchema !== undefined) info.outputSchema = tool.outputSchema;
    return { tool, info, validate };
  });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function sendJsonError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/**
 * Exposes tools as an MCP server (`tools/list`, `tools/call`) over stdio and/or streamable HTTP, using the MCP
 * SDK's server transports. Tool results follow the Outcome mapping: `Done` objects become `structuredContent` (plus
 * their JSON as text), `Error` outcomes become `isError` results whose `_meta["ai.greentic/error"]` keeps the
 * upstream code, unknown tools are a JSON-RPC "invalid params" error, and arguments that break `inputSchema` an
 * `invalid_input` error result. Throws `GT_MCP_TOOL_DEFINITION` for bad tool definitions.
 */
export function createMcpServer(options: McpServerOptions): GreenticMcpServer {
  const prepared = prepare(options.tools ?? [], options.validateArguments ?? true);
  const byName = new Map(prepared.map((p) => [p.tool.name, p]));
  const infos = prepared.map((p) => p.info);
  const serverInfo = { name: options.name ?? 'greentic', version: options.version ?? '0.1.0' };
  const onError = options.onError ?? (() => {});
  const shutdown = new AbortController();
  const stdioServers = new Set<Server>();
  const endpoints = new Set<McpHttpEndpoint>();

  async function callTool(
    params: CallToolRequest['params'],
    extra: { signal: AbortSignal; requestId: string | number },
  ): Promise<CallToolResult> {
    const entry = byName.get(params.name);
    if (!entry) {
      throw new SdkMcpError(
        RpcErrorCode.InvalidParams,
        `Unknown tool: "${params.name}" (this server has: ${[...byName.keys()].join(', ') || 'no tools'})`,
        { [META_ERROR]: { code: 'not_found' } },
      );
    }
    const args = params.arguments ?? {};
    if (entry.validate && !entry.validate(args)) {
      const message = `arguments of tool "${params.name}" are invalid: ${describeIssues(toIssues(entry.validate.errors))}`;
      return outcomeToResult({ Error: { code: 'invalid_input', message } }) as CallToolResult;
    }
    const meta = isRecord(params._meta) ? params._meta : {};
    const sent = meta[META_ATTEMPT];
    const attempt = typeof sent === 'number' && Number.isInteger(sent) && sent >= 1 ? sent : 1;
    const { outcome } = await callWithRetry(
      async ({ signal }) => {
        try {
          const value = await entry.tool.invoke(args, { attempt, signal, requestId: extra.requestId, meta });
          if (!isOutcome(value)) return { Done: value };
          const checked = checkOutcome(value);
          if (checked.ok) return checked.value;
          return {
            Error: {
              code: 'internal',
              message: `tool "${params.name}" answered a malformed Outcome: ${checked.errors.map((i) => `${i.pointer} ${i.message}`).join('; ')}`,
            },
          };
        } catch (e) {
          onError(e, { tool: params.name });
          throw e;
        }
      },
      {
        label: `tool "${params.name}"`,
        timeoutMs: entry.tool.timeoutMs,
        signal: AbortSignal.any([extra.signal, shutdown.signal]),
      },
    );
    return outcomeToResult(outcome) as CallToolResult;
  }

  function sdkServer(): Server {
    const server = new Server(serverInfo, {
      capabilities: { tools: {} },
      ...(options.instructions ? { instructions: options.instructions } : {}),
    });
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: infos as never }));
    server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(request.params, extra));
    return server;
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse, maxBodyBytes?: number): Promise<void> {
    if (req.method !== 'POST') {
      sendJsonError(res, 405, 'Method not allowed: this MCP endpoint is stateless and only accepts POST', {
        allow: 'POST',
      });
      return;
    }
    const server = sdkServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      ...(maxBodyBytes ? { maxRequestBodySize: maxBodyBytes } : {}),
    });
    res.on('close', () => {
      void transport.close().catch(() => {});
      void server.close().catch(() => {});
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  return {
    tools: infos,

    async connectStdio(streams = {}) {
      const server = sdkServer();
      stdioServers.add(server);
      server.onclose = () => stdioServers.delete(server);
      await server.connect(new StdioServerTransport(streams.stdin, streams.stdout));
    },

    handleHttp: (req, res) => handleHttp(req, res),

    async listenHttp(opts = {}) {
      const host = opts.host ?? '127.0.0.1';
      const path = opts.path ?? '/mcp';
      const loopback = LOOPBACK.has(host);
      if (!loopback && !opts.authToken && !opts.allowUnauthenticated) {
        throw new McpError(
          'GT_MCP_LISTEN',
          `refusing to expose MCP tools on ${host} without authentication: pass authToken, or allowUnauthenticated: true when a proxy authenticates`,
          { field: 'authToken' },
        );
      }
      const tokenHash = opts.authToken ? sha256(`Bearer ${opts.authToken}`) : undefined;
      let allowedHosts: Set<string> | undefined;

      const http: HttpServer = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname !== path) return sendJsonError(res, 404, `Not found: the MCP endpoint is ${path}`);
        if (allowedHosts) {
          const hostHeader = (req.headers.host ?? '').toLowerCase();
          let originHost: string | undefined;
          if (req.headers.origin) {
            try {
              originHost = new URL(req.headers.origin).host.toLowerCase();
            } catch {
              originHost = '(invalid)';
            }
          }
          if (!allowedHosts.has(hostHeader) || (originHost !== undefined && !allowedHosts.has(originHost))) {
            return sendJsonError(res, 403, 'Forbidden: Host or Origin not allowed');
          }
        }
        if (tokenHash) {
          const given = sha256(req.headers.authorization ?? '');
          if (!timingSafeEqual(given, tokenHash)) {
            return sendJsonError(res, 401, 'Unauthorized: send Authorization: Bearer <token>', {
              'www-authenticate': 'Bearer',
            });
          }
        }
        handleHttp(req, res, opts.maxBodyBytes).catch((e) => {
          onError(e, {});
          sendJsonError(res, 500, 'Internal error');
        });
      });

      await new Promise<void>((resolve, reject) => {
        const fail = (e: Error) =>
          reject(
            new McpError('GT_MCP_LISTEN', `cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`, {
              cause: e,
            }),
          );
        http.once('error', fail);
        http.listen(opts.port ?? 0, host, () => {
          http.off('error', fail);
          resolve();
        });
      });
      const port = (http.address() as AddressInfo).port;
      if (opts.allowedHosts) allowedHosts = new Set(opts.allowedHosts.map((h) => h.toLowerCase()));
      else if (loopback) allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
      const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      const endpoint: McpHttpEndpoint = {
        url: `http://${urlHost}:${port}${path}`,
        host,
        port,
        close: async () => {
          endpoints.delete(endpoint);
          await new Promise<void>((resolve) => {
            http.close(() => resolve());
            http.closeAllConnections();
          });
        },
      };
      endpoints.add(endpoint);
      return endpoint;
    },

    async close() {
      shutdown.abort(new Error('the MCP server is closing'));
      await Promise.all([
        ...[...stdioServers].map((s) => s.close().catch(() => {})),
        ...[...endpoints].map((e) => e.close()),
      ]);
    },
  };
}
