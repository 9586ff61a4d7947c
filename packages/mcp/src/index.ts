export {
  connectMcpServer,
  type McpAttemptReport,
  McpComponentRegistry,
  type McpConnector,
  type McpLocalServer,
  type McpRegistryOptions,
  type McpSession,
  type McpToolInfo,
} from './client.js';
export {
  isStdioServer,
  MCP_CONFIG_DEFAULTS,
  MCP_CONFIG_SCHEMA,
  type McpConfig,
  type McpHttpServerConfig,
  type McpRetryConfig,
  type McpServerCommon,
  type McpServerConfig,
  type McpStdioServerConfig,
  parseMcpConfig,
  retryPolicyOf,
  SERVER_NAME_PATTERN,
  timeoutOf,
  validateMcpConfig,
} from './config.js';
export { isMcpError, McpError, type McpErrorCode, type McpErrorOptions, type McpIssue } from './errors.js';
export { type InvokerToolsOptions, toolFromOperation, toolsFromInvoker } from './invoker-tools.js';
export {
  META_ATTEMPT,
  META_ERROR,
  META_PENDING,
  outcomeToResult,
  resultToOutcome,
  type ToolResult,
} from './outcome.js';
export {
  type AttemptContext,
  type AttemptReport,
  backoffDelay,
  type CallOptions,
  type CallResult,
  callWithRetry,
  DEFAULT_RETRY_POLICY,
  isTransient,
  type RetryPolicy,
  sleepFor,
  TRANSIENT_ERROR_CODES,
} from './retry.js';
export {
  createMcpServer,
  type GreenticMcpServer,
  type McpHttpEndpoint,
  type McpHttpOptions,
  type McpServerOptions,
  type McpTool,
  type McpToolCall,
} from './server.js';
export {
  loadToolMap,
  parseToolMap,
  TOOL_NAME_PATTERN,
  TOOLMAP_DEFAULTS,
  TOOLMAP_SCHEMA,
  type ToolCallPolicy,
  ToolMap,
  type ToolMapConfig,
  type ToolMapParseOptions,
  type ToolRef,
  validateToolMap,
} from './toolmap.js';
export { type ComponentResolver, ToolMapInvoker, type ToolMapInvokerOptions } from './toolmap-invoker.js';
