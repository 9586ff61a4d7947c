import type {
  ComponentDescription,
  ComponentInvoker,
  ComponentRef,
  ComponentRegistry,
  InvocationEnvelope,
  InvokeOptions,
} from '@greentic/interfaces';
import type { Outcome, TenantCtx } from '@greentic/types';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isStdioServer,
  MCP_CONFIG_DEFAULTS,
  type McpConfig,
  type McpServerConfig,
  retryPolicyOf,
  timeoutOf,
  validateMcpConfig,
} from './config.js';
import { McpError } from './errors.js';
import { errorCodeOfSdkError, META_ATTEMPT, messageOf, resultToOutcome } from './outcome.js';
import { type AttemptReport, type CallOptions, callWithRetry } from './retry.js';

/** A tool as an MCP server lists it. */
export interface McpToolInfo {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}

/** A live connection to one MCP server (what {@link McpConnector} returns). */
export interface McpSession {
  /** Sends `tools/call`; resolves with the raw `CallToolResult`, rejects on protocol/transport errors. */
  callTool(
    params: { name: string; arguments: Record<string, unknown>; _meta?: Record<string, unknown> },
    options: { signal: AbortSignal; timeoutMs: number },
  ): Promise<unknown>;
  /** All tools (every page of `tools/list`). */
  listTools(options?: { signal?: AbortSignal }): Promise<McpToolInfo[]>;
  /** The server's `serverInfo` from the handshake. */
  readonly serverInfo?: { name: string; version: string };
  close(): Promise<void>;
  /** Set by the registry; the session calls it when the connection is lost. */
  onclose?: () => void;
}

/** Opens a session to a configured server. Rejecting means "unavailable"; it is tried again on the next call. */
export type McpConnector = (
  name: string,
  server: McpServerConfig,
  options: { signal: AbortSignal; timeoutMs: number },
) => Promise<McpSession>;

const CLIENT_INFO = { name: 'greentic-mcp', version: '0.1.0' };
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The default {@link McpConnector}: the MCP SDK's `Client` over `StdioClientTransport` (`command`) or
 * `StreamableHTTPClientTransport` (`url`).
 */
export const connectMcpServer: McpConnector = async (_name, server, { signal, timeoutMs }) => {
  let transport: Transport;
  if (isStdioServer(server)) {
    transport = new StdioClientTransport({
      command: server.command,
      args: server.args ?? [],
      env: { ...getDefaultEnvironment(), ...(server.env ?? {}) },
      cwd: server.cwd,
      stderr: server.stderr ?? 'inherit',
    });
  } else {
    transport = new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: server.headers ? { headers: server.headers } : undefined,
    });
  }
  const client = new Client(CLIENT_INFO, { capabilities: {} });
  try {
    await client.connect(transport, { signal, timeout: Math.min(timeoutMs, MAX_TIMER_MS) });
  } catch (e) {
    await client.close().catch(() => {});
    throw e;
  }
  const session: McpSession = {
    serverInfo: client.getServerVersion(),
    callTool: (params, opts) =>
      client.callTool(params, undefined, {
        signal: opts.signal,
        timeout: Number.isFinite(opts.timeoutMs) ? Math.min(opts.timeoutMs + 1000, MAX_TIMER_MS) : undefined,
      }),
    async listTools(opts = {}) {
      const tools: McpToolInfo[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const res = await client.listTools(cursor ? { cursor } : undefined, { signal: opts.signal });
        tools.push(...(res.tools as McpToolInfo[]));
        cursor = res.nextCursor;
        if (!cursor) break;
      }
      return tools;
    },
    close: () => client.close(),
  };
  client.onclose = () => session.onclose?.();
  return session;
};

/** A server implemented in-process (e.g. a {@link ToolMapInvoker} over Wasm components), reachable by name. */
export interface McpLocalServer {
  invoker: ComponentInvoker;
  /** Tenants allowed (omitted: all). */
  tenants?: string[];
  /** Tools allowed (omitted: all). */
  tools?: string[];
}

/** Reported after every attempt of a tool call on an external server. */
export interface McpAttemptReport extends AttemptReport {
  server: string;
  tool: string;
  tenant: string;
}

export interface McpRegistryOptions {
  /** Opens sessions (default {@link connectMcpServer}); tests inject fakes. */
  connect?: McpConnector;
  /** In-process servers by name, next to the configured external ones. Timeouts/retries are theirs to apply. */
  local?: Record<string, ComponentInvoker | McpLocalServer>;
  /** Hooks for deterministic retries in tests. */
  sleep?: CallOptions['sleep'];
  random?: CallOptions['random'];
  now?: CallOptions['now'];
  onAttempt?: (report: McpAttemptReport) => void;
}

class Connection {
  private current: Promise<McpSession> | undefined;
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly server: McpServerConfig,
    private readonly connector: McpConnector,
  ) {}

  session(): Promise<McpSession> {
    if (this.closed) {
      return Promise.reject(
        new McpError('GT_MCP_UNAVAILABLE', `MCP server "${this.name}": the registry is closed`),
      );
    }
    if (!this.current) {
      const timeoutMs = this.server.connect_timeout_ms ?? MCP_CONFIG_DEFAULTS.connect_timeout_ms;
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const p: Promise<McpSession> = this.connector(this.name, this.server, {
        signal: ac.signal,
        timeoutMs,
      }).then(
        (s) => {
          s.onclose = () => {
            if (this.current === p) this.current = undefined;
          };
          if (this.closed) {
            void s.close().catch(() => {});
            throw new McpError('GT_MCP_UNAVAILABLE', `MCP server "${this.name}": the registry is closed`);
          }
          return s;
        },
        (e) => {
          if (this.current === p) this.current = undefined;
          throw new McpError(
            'GT_MCP_UNAVAILABLE',
            `cannot connect to MCP server "${this.name}" (${describeServer(this.server)}): ${ac.signal.aborted ? messageOf(ac.signal.reason) : messageOf(e)}`,
            { cause: e },
          );
        },
      );
      p.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
      this.current = p;
    }
    return this.current;
  }

  /** Drops the session so the next call reconnects. */
  reset(session: McpSession): void {
    const p = this.current;
    if (!p) return;
    void p.then((s) => {
      if (s === session && this.current === p) {
        this.current = undefined;
        void s.close().catch(() => {});
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.current;
    this.current = undefined;
    if (p) await p.then((s) => s.close()).catch(() => {});
  }
}

function describeServer(server: McpServerConfig): string {
  // Arguments, headers and query strings may hold credentials: only the command / origin and path are shown.
  if (isStdioServer(server)) return `stdio: ${server.command}`;
  const u = new URL(server.url);
  return `http: ${u.origin}${u.pathname}`;
}

function denied(message: string): Outcome<never> {
  return { Error: { code: 'permission_denied', message } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function allows(list: string[] | undefined, item: string): boolean {
  return list === undefined || list.includes(item);
}

/**
 * Resolves `mcp` flow nodes (`{kind: 'mcp', component: <server>, operation: <tool>}`) to configured MCP servers:
 * external ones (stdio command or streamable HTTP URL, through the MCP SDK client) and in-process ones
 * (`options.local`). Connections are opened on first use, shared by all tenants, and reopened after a failure.
 *
 * Tool calls answer Outcomes: the tool's result as `Done`, tool errors as `Error` (code from the server, else
 * `internal`), connection failures as `unavailable`, and tenants/tools outside the server's allow-lists as
 * `permission_denied`. Transient failures (`timeout`, `unavailable`, `rate_limited`) are retried per the server's
 * `retry` policy; the attempt number travels in `_meta["ai.greentic/attempt"]`.
 */
export class McpComponentRegistry implements ComponentRegistry {
  readonly config: McpConfig;
  private readonly connections = new Map<string, Connection>();
  private readonly local = new Map<string, McpLocalServer>();

  /** Validates `config` (throws `GT_MCP_CONFIG`). */
  constructor(
    config: McpConfig,
    private readonly options: McpRegistryOptions = {},
  ) {
    this.config = validateMcpConfig(structuredClone(config));
    const connect = options.connect ?? connectMcpServer;
    for (const [name, server] of Object.entries(this.config.servers)) {
      this.connections.set(name, new Connection(name, server, connect));
    }
    for (const [name, entry] of Object.entries(options.local ?? {})) {
      if (this.connections.has(name)) {
        throw new McpError(
          'GT_MCP_CONFIG',
          `MCP server "${name}" is both configured and given as a local server`,
          {
            field: `/servers/${name}`,
          },
        );
      }
      this.local.set(name, 'invoker' in entry ? entry : { invoker: entry });
    }
  }

  /** Names of all servers (external and local). */
  get servers(): string[] {
    return [...this.connections.keys(), ...this.local.keys()];
  }

  resolve(ref: ComponentRef, ctx: TenantCtx): ComponentInvoker | undefined {
    if (ref.kind !== 'mcp') return undefined;
    const local = this.local.get(ref.component);
    if (local) return new LocalServerInvoker(ref.component, local, ctx.tenant_id);
    const conn = this.connections.get(ref.component);
    if (!conn) return undefined;
    return new ExternalServerInvoker(ref.component, this.config, conn, ctx.tenant_id, this.options);
  }

  /** Closes every open connection (stdio children are stopped). Later calls answer `unavailable`. */
  async close(): Promise<void> {
    await Promise.all([...this.connections.values()].map((c) => c.close()));
  }
}

function tenantDenied(server: string, tenant: string): string {
  return `tenant "${tenant}" may not use MCP server "${server}" (not in its "tenants" allow-list)`;
}

function toolDenied(server: string, tool: string, tools: string[]): string {
  return `MCP server "${server}" does not allow tool "${tool}" (its "tools" allow-list has: ${tools.join(', ') || 'nothing'})`;
}

class LocalServerInvoker implements ComponentInvoker {
  constructor(
    private readonly name: string,
    private readonly server: McpLocalServer,
    private readonly tenant: string,
  ) {}

  async describe(): Promise<ComponentDescription> {
    if (!allows(this.server.tenants, this.tenant)) {
      throw new McpError('GT_MCP_PERMISSION_DENIED', tenantDenied(this.name, this.tenant));
    }
    const d = await this.server.invoker.describe();
    return { ...d, ops: d.ops.filter((op) => allows(this.server.tools, op.name)) };
  }

  async invoke(
    tool: string,
    envelope: InvocationEnvelope,
    options?: InvokeOptions,
  ): Promise<Outcome<unknown>> {
    for (const tenant of new Set([this.tenant, envelope.ctx.tenant_id])) {
      if (!allows(this.server.tenants, tenant)) return denied(tenantDenied(this.name, tenant));
    }
    if (!allows(this.server.tools, tool)) return denied(toolDenied(this.name, tool, this.server.tools ?? []));
    try {
      return await this.server.invoker.invoke(tool, envelope, options);
    } catch (e) {
      return { Error: { code: 'internal', message: messageOf(e) } };
    }
  }
}

class ExternalServerInvoker implements ComponentInvoker {
  private readonly server: McpServerConfig;

  constructor(
    private readonly name: string,
    private readonly config: McpConfig,
    private readonly conn: Connection,
    private readonly tenant: string,
    private readonly options: McpRegistryOptions,
  ) {
    this.server = config.servers[name]!;
  }

  async describe(): Promise<ComponentDescription> {
    if (!allows(this.server.tenants, this.tenant)) {
      throw new McpError('GT_MCP_PERMISSION_DENIED', tenantDenied(this.name, this.tenant));
    }
    const session = await this.conn.session();
    let tools: McpToolInfo[];
    try {
      tools = await session.listTools();
    } catch (e) {
      const code = errorCodeOfSdkError(e);
      if (code === 'unavailable') this.conn.reset(session);
      throw new McpError(
        code === 'unavailable' ? 'GT_MCP_UNAVAILABLE' : 'GT_MCP_PROTOCOL',
        `MCP server "${this.name}" could not list its tools: ${messageOf(e)}`,
        { cause: e, outcomeCode: code },
      );
    }
    return {
      name: this.name,
      version: session.serverInfo?.version ?? '0.0.0',
      ops: tools
        .filter((t) => allows(this.server.tools, t.name))
        .map((t) => ({
          name: t.name,
          description: t.description,
          input_schema: t.inputSchema,
          output_schema: t.outputSchema,
        })),
    };
  }

  async invoke(
    tool: string,
    envelope: InvocationEnvelope,
    options: InvokeOptions = {},
  ): Promise<Outcome<unknown>> {
    for (const tenant of new Set([this.tenant, envelope.ctx.tenant_id])) {
      if (!allows(this.server.tenants, tenant)) return denied(tenantDenied(this.name, tenant));
    }
    if (!allows(this.server.tools, tool)) return denied(toolDenied(this.name, tool, this.server.tools ?? []));
    const args = envelope.payload ?? {};
    if (!isRecord(args)) {
      return {
        Error: {
          code: 'invalid_input',
          message: `arguments of tool "${tool}" on MCP server "${this.name}" must be an object (got ${Array.isArray(args) ? 'an array' : typeof args})`,
        },
      };
    }
    const label = `tool "${tool}" on MCP server "${this.name}"`;
    const { outcome } = await callWithRetry(
      async ({ attempt, signal, timeoutMs }) => {
        const session = await this.conn.session();
        try {
          const result = await session.callTool(
            { name: tool, arguments: args, _meta: { [META_ATTEMPT]: attempt } },
            { signal, timeoutMs },
          );
          return resultToOutcome(result, label);
        } catch (e) {
          const code = errorCodeOfSdkError(e);
          if (code === 'unavailable') this.conn.reset(session);
          return { Error: { code, message: `${label}: ${messageOf(e)}` } };
        }
      },
      {
        label,
        timeoutMs: timeoutOf(this.config, this.name),
        retry: retryPolicyOf(this.config, this.name),
        signal: options.signal,
        deadline: options.deadline,
        firstAttempt: envelope.attempt > 0 ? envelope.attempt : 1,
        sleep: this.options.sleep,
        random: this.options.random,
        now: this.options.now,
        onAttempt: this.options.onAttempt
          ? (r) => this.options.onAttempt?.({ ...r, server: this.name, tool, tenant: envelope.ctx.tenant_id })
          : undefined,
      },
    );
    return outcome;
  }
}
