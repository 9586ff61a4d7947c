import { describe, expect, it } from 'vitest';
import { parseMcpConfig, retryPolicyOf, timeoutOf, validateMcpConfig } from './config.js';
import { McpError } from './errors.js';

function fieldOf(value: unknown): string | undefined {
  try {
    validateMcpConfig(value);
  } catch (e) {
    expect(e).toBeInstanceOf(McpError);
    expect((e as McpError).code).toBe('GT_MCP_CONFIG');
    return (e as McpError).field;
  }
  throw new Error('expected GT_MCP_CONFIG');
}

describe('MCP client configuration', () => {
  it('accepts stdio and HTTP servers plus the upstream bindings keys', () => {
    const config = parseMcpConfig(
      [
        'store: { kind: local-dir, path: ./tools }',
        'security: { allow_unverified: true }',
        'runtime: { max_memory_mb: 128, timeout_ms: 8000, fuel: 50000000 }',
        'retry: { max_attempts: 3, base_delay_ms: 250 }',
        'servers:',
        '  files: { command: node, args: [server.js], env: { ROOT: /data }, tenants: [acme] }',
        '  search: { url: "https://tools.example.com/mcp", headers: { Authorization: "Bearer x" }, timeout_ms: 5000 }',
      ].join('\n'),
      { file: 'mcp.yaml' },
    );
    expect(Object.keys(config.servers)).toEqual(['files', 'search']);
    expect(timeoutOf(config, 'files')).toBe(8000);
    expect(timeoutOf(config, 'search')).toBe(5000);
    expect(retryPolicyOf(config, 'files')).toEqual({ maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 30_000 });
  });

  it('uses upstream defaults: 3 attempts, 250 ms base delay, 30 s timeout', () => {
    const config = validateMcpConfig({ servers: { s: { url: 'http://127.0.0.1:1/mcp' } } });
    expect(retryPolicyOf(config, 's')).toEqual({ maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 30_000 });
    expect(timeoutOf(config, 's')).toBe(30_000);
  });

  it('lets a server override the shared retry policy', () => {
    const config = validateMcpConfig({
      retry: { max_attempts: 4, base_delay_ms: 100 },
      servers: { s: { url: 'http://x/mcp', retry: { max_attempts: 1 } } },
    });
    expect(retryPolicyOf(config, 's')).toEqual({ maxAttempts: 1, baseDelayMs: 100, maxDelayMs: 30_000 });
  });

  it('names the offending field', () => {
    expect(fieldOf({})).toBe('/servers');
    expect(fieldOf({ servers: { s: { command: 'node', timeout_ms: -1 } } })).toBe('/servers/s/timeout_ms');
    expect(fieldOf({ servers: { s: { command: 'node', tenant: ['acme'] } } })).toBe('/servers/s/tenant');
    expect(fieldOf({ servers: { s: { command: 'node', retry: { max_attempts: 0 } } } })).toBe(
      '/servers/s/retry/max_attempts',
    );
    expect(fieldOf({ servers: { s: { command: 'node', tenants: 'acme' } } })).toBe('/servers/s/tenants');
  });

  it('needs exactly one of command and url', () => {
    expect(fieldOf({ servers: { s: {} } })).toBe('/servers/s');
    expect(fieldOf({ servers: { s: { command: 'node', url: 'http://x' } } })).toBe('/servers/s');
  });

  it('accepts only http(s) URLs', () => {
    expect(fieldOf({ servers: { s: { url: 'not a url' } } })).toBe('/servers/s/url');
    expect(fieldOf({ servers: { s: { url: 'file:///etc/passwd' } } })).toBe('/servers/s/url');
  });

  it('rejects transport-specific fields on the other transport', () => {
    expect(fieldOf({ servers: { s: { url: 'http://x', args: ['a'] } } })).toBe('/servers/s/args');
    expect(fieldOf({ servers: { s: { command: 'node', headers: { a: 'b' } } } })).toBe('/servers/s/headers');
  });

  it('rejects server names a flow could not write', () => {
    expect(fieldOf({ servers: { 'bad name': { command: 'node' } } })).toBeDefined();
  });

  it('reports YAML syntax errors as GT_MCP_CONFIG with the file', () => {
    expect(() => parseMcpConfig('servers: [', { file: 'mcp.yaml' })).toThrowError(
      /^mcp\.yaml: MCP configuration is not valid YAML/,
    );
  });
});
