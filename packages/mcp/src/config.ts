import { McpError } from './errors.js';
import { assertValid, compileOwnSchema, parseDocument } from './json-schema.js';
import type { RetryPolicy } from './retry.js';

/** Retry settings in config files (upstream `mcp.retry`). */
export interface McpRetryConfig {
  /** Total attempts, the first included (upstream default 3). */
  max_attempts?: number;
  /** Delay before the first retry in ms; doubled per retry, ±50 % jitter (upstream default 250). */
  base_delay_ms?: number;
  /** Upper bound for one delay in ms (default 30 000). */
  max_delay_ms?: number;
}

/** Settings every server has. */
export interface McpServerCommon {
  /** Tenants (`TenantCtx.tenant_id`) allowed to call this server. Omitted: every tenant. Empty: nobody. */
  tenants?: string[];
  /** Tools flows may call on this server. Omitted: every tool. */
  tools?: string[];
  /** Time limit of one attempt of a tool call in ms (default `runtime.timeout_ms`, else 30 000). */
  timeout_ms?: number;
  /** Time limit for starting/connecting and the MCP handshake in ms (default 10 000). */
  connect_timeout_ms?: number;
  /** Overrides the registry-wide `retry`. */
  retry?: McpRetryConfig;
}

/** A server started as a child process, spoken to over its stdin/stdout. */
export interface McpStdioServerConfig extends McpServerCommon {
  command: string;
  args?: string[];
  /**
   * Environment of the child. Only these variables plus a safe default set (PATH, HOME, …) are passed; the
   * runner's own environment (and its secrets) is not inherited.
   */
  env?: Record<string, string>;
  cwd?: string;
  /** What happens to the child's stderr (default `inherit`). */
  stderr?: 'inherit' | 'ignore';
}

/** A server reached over MCP streamable HTTP. */
export interface McpHttpServerConfig extends McpServerCommon {
  /** `http://` or `https://` endpoint, e.g. `https://tools.example.com/mcp`. */
  url: string;
  /** Extra request headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
}

export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

/**
 * MCP client configuration: external servers by name, plus upstream's `mcp` bindings section
 * (`store`, `security`, `runtime{max_memory_mb, timeout_ms, fuel}`, `retry{max_attempts, base_delay_ms}`).
 * `store`, `security`, `max_memory_mb` and `fuel` concern Wasm tools and are accepted but not used here.
 */
export interface McpConfig {
  servers: Record<string, McpServerConfig>;
  runtime?: { timeout_ms?: number; max_memory_mb?: number; fuel?: number };
  retry?: McpRetryConfig;
  store?: unknown;
  security?: unknown;
}

/** Defaults used when neither the server nor the registry config says otherwise. */
export const MCP_CONFIG_DEFAULTS = Object.freeze({
  timeout_ms: 30_000,
  connect_timeout_ms: 10_000,
  retry: Object.freeze({ max_attempts: 3, base_delay_ms: 250, max_delay_ms: 30_000 }),
});

/** Server names: what an `mcp` flow node puts in `server`. */
export const SERVER_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';

const stringList = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const retrySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    max_attempts: { type: 'integer', minimum: 1, maximum: 10 },
    base_delay_ms: { type: 'integer', minimum: 0, maximum: 60_000 },
    max_delay_ms: { type: 'integer', minimum: 0, maximum: 600_000 },
  },
} as const;
const common = {
  tenants: stringList,
  tools: stringList,
  timeout_ms: { type: 'integer', minimum: 1, maximum: 3_600_000 },
  connect_timeout_ms: { type: 'integer', minimum: 1, maximum: 600_000 },
  retry: retrySchema,
} as const;

/** JSON Schema of {@link McpConfig}. */
export const MCP_CONFIG_SCHEMA = Object.freeze({
  $id: 'https://greentic.ai/schemas/mcp/config.json',
  title: 'Greentic MCP client configuration',
  type: 'object',
  required: ['servers'],
  additionalProperties: false,
  properties: {
    servers: {
      type: 'object',
      propertyNames: { type: 'string', pattern: SERVER_NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          ...common,
          command: { type: 'string', minLength: 1 },
          args: { type: 'array', items: { type: 'string' } },
          env: stringMap,
          cwd: { type: 'string', minLength: 1 },
          stderr: { enum: ['inherit', 'ignore'] },
          url: { type: 'string', minLength: 1 },
          headers: stringMap,
        },
      },
    },
    runtime: {
      type: 'object',
      additionalProperties: false,
      properties: {
        timeout_ms: { type: 'integer', minimum: 1, maximum: 3_600_000 },
        max_memory_mb: { type: 'integer', minimum: 1 },
        fuel: { type: 'integer', minimum: 0 },
      },
    },
    retry: retrySchema,
    store: {},
    security: {},
  },
});

const STDIO_ONLY = ['args', 'env', 'cwd', 'stderr'] as const;
const HTTP_ONLY = ['headers'] as const;

let validator: ReturnType<typeof compileOwnSchema<McpConfig>> | undefined;

/**
 * Checks an untrusted MCP configuration (schema, then: each server has exactly one of `command`/`url`, URLs are
 * http(s), no stdio-only fields on HTTP servers and vice versa). Throws `GT_MCP_CONFIG` with `field` set to the
 * JSON pointer of the first problem (`/servers/weather/url`).
 */
export function validateMcpConfig(value: unknown, opts: { file?: string } = {}): McpConfig {
  validator ??= compileOwnSchema<McpConfig>(MCP_CONFIG_SCHEMA);
  assertValid(validator, value, 'GT_MCP_CONFIG', 'MCP configuration', opts.file);
  const fail = (field: string, message: string): never => {
    throw new McpError(
      'GT_MCP_CONFIG',
      `${opts.file ? `${opts.file}: ` : ''}MCP configuration is invalid: ${field} ${message}`,
      {
        field,
        file: opts.file,
        issues: [{ pointer: field, message }],
      },
    );
  };
  for (const [name, server] of Object.entries(value.servers)) {
    const at = `/servers/${name}`;
    const s = server as Partial<McpStdioServerConfig & McpHttpServerConfig>;
    if (s.command === undefined && s.url === undefined) {
      fail(at, 'needs either "command" (a stdio server) or "url" (a streamable HTTP server)');
    }
    if (s.command !== undefined && s.url !== undefined) {
      fail(at, 'has both "command" and "url"; a server is either stdio or HTTP');
    }
    if (s.url !== undefined) {
      let url: URL | undefined;
      try {
        url = new URL(s.url);
      } catch {
        fail(`${at}/url`, `is not a URL (got ${JSON.stringify(s.url)})`);
      }
      if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
        fail(`${at}/url`, `must be an http:// or https:// URL (got ${JSON.stringify(s.url)})`);
      }
      for (const k of STDIO_ONLY)
        if (s[k] !== undefined) fail(`${at}/${k}`, 'only applies to stdio servers ("command")');
    } else {
      for (const k of HTTP_ONLY)
        if (s[k] !== undefined) fail(`${at}/${k}`, 'only applies to HTTP servers ("url")');
    }
  }
  return value;
}

/** Parses and validates MCP configuration from JSON or YAML text. */
export function parseMcpConfig(
  text: string,
  opts: { file?: string; format?: 'json' | 'yaml' } = {},
): McpConfig {
  return validateMcpConfig(parseDocument(text, 'GT_MCP_CONFIG', 'MCP configuration', opts), opts);
}

/** True for a stdio server config. */
export function isStdioServer(server: McpServerConfig): server is McpStdioServerConfig {
  return 'command' in server && typeof server.command === 'string';
}

/** The retry policy of one server: its own `retry`, else the registry's, else upstream defaults. */
export function retryPolicyOf(config: McpConfig, server: string): RetryPolicy {
  const own = config.servers[server]?.retry ?? {};
  const shared = config.retry ?? {};
  const d = MCP_CONFIG_DEFAULTS.retry;
  return {
    maxAttempts: own.max_attempts ?? shared.max_attempts ?? d.max_attempts,
    baseDelayMs: own.base_delay_ms ?? shared.base_delay_ms ?? d.base_delay_ms,
    maxDelayMs: own.max_delay_ms ?? shared.max_delay_ms ?? d.max_delay_ms,
  };
}

/** The per-attempt time limit of one server's tool calls. */
export function timeoutOf(config: McpConfig, server: string): number {
  return config.servers[server]?.timeout_ms ?? config.runtime?.timeout_ms ?? MCP_CONFIG_DEFAULTS.timeout_ms;
}
