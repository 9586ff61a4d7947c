import { type ErrorCode, isErrorCode, type Outcome } from '@greentic/types';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode as RpcErrorCode, McpError as SdkMcpError } from '@modelcontextprotocol/sdk/types.js';
import { McpError } from './errors.js';

// Internal: the mapping between Greentic Outcomes and MCP tool results / errors, used by both the client side
// (external servers → Outcome) and the server side (Outcome → tool result), so the two round-trip.

/** `_meta` key carrying the attempt number of a `tools/call` (1-based). */
export const META_ATTEMPT = 'ai.greentic/attempt';
/** `_meta` key of an error result: `{code, message}` with an upstream ErrorCode. */
export const META_ERROR = 'ai.greentic/error';
/** `_meta` key of a pending result: `{reason, expected_input?}`. */
export const META_PENDING = 'ai.greentic/pending';

interface ContentBlock {
  type: string;
  text?: string;
  [k: string]: unknown;
}

/** The parts of an MCP `CallToolResult` this package reads and writes. */
export interface ToolResult {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  _meta?: Record<string, unknown>;
  [k: string]: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A thrown value as an Outcome error: McpErrors keep their code, anything else is `internal`. */
export function outcomeFromThrown(e: unknown): Outcome<never> {
  if (e instanceof McpError) return e.toOutcome();
  return { Error: { code: 'internal', message: e instanceof Error ? e.message : String(e) } };
}

/**
 * An MCP tool result as an Outcome:
 * - `isError` → `Error` (code from `_meta["ai.greentic/error"].code` or `structuredContent.code` when it is an
 *   upstream ErrorCode, else `internal`; message from the text content);
 * - `_meta["ai.greentic/pending"]` → `Pending`;
 * - otherwise `Done` with `structuredContent`, else the text content parsed as JSON, else the text itself, else the
 *   non-text content blocks as they are.
 */
export function resultToOutcome(result: unknown, label = 'tool'): Outcome<unknown> {
  if (!isRecord(result)) {
    return { Error: { code: 'internal', message: `${label} answered something that is not a tool result` } };
  }
  const meta = isRecord(result._meta) ? result._meta : {};
  const content = Array.isArray(result.content) ? (result.content as ContentBlock[]) : [];
  const texts = content.filter((c) => isRecord(c) && c.type === 'text' && typeof c.text === 'string');
  const text = texts.length ? texts.map((c) => c.text).join('\n') : undefined;
  const structured = isRecord(result.structuredContent) ? result.structuredContent : undefined;

  if (result.isError === true) {
    const tagged = isRecord(meta[META_ERROR]) ? meta[META_ERROR] : {};
    const code = [tagged.code, structured?.code].find(isErrorCode) ?? 'internal';
    const message =
      (typeof tagged.message === 'string' && tagged.message) ||
      text ||
      (typeof structured?.message === 'string' && structured.message) ||
      `${label} reported an error without a message`;
    return { Error: { code, message } };
  }
  if (isRecord(meta[META_PENDING])) {
    const p = meta[META_PENDING];
    const reason = typeof p.reason === 'string' ? p.reason : (text ?? 'waiting for input');
    const expected = Array.isArray(p.expected_input)
      ? p.expected_input.filter((x) => typeof x === 'string')
      : undefined;
    return { Pending: expected ? { reason, expected_input: expected } : { reason } };
  }
  if (structured !== undefined) return { Done: structured };
  if (text !== undefined) {
    try {
      return { Done: JSON.parse(text) };
    } catch {
      return { Done: text };
    }
  }
  return { Done: content.length ? content : null };
}

/**
 * An Outcome as an MCP tool result (the inverse of {@link resultToOutcome}): objects become `structuredContent`
 * plus their JSON as text, strings become text, other values their JSON; errors set `isError`.
 */
export function outcomeToResult(outcome: Outcome<unknown>): ToolResult {
  if ('Error' in outcome) {
    const { code, message } = outcome.Error;
    return {
      isError: true,
      content: [{ type: 'text', text: message }],
      _meta: { [META_ERROR]: { code, message } },
    };
  }
  if ('Pending' in outcome) {
    return {
      content: [{ type: 'text', text: `pending: ${outcome.Pending.reason}` }],
      _meta: { [META_PENDING]: { ...outcome.Pending } },
    };
  }
  const value = outcome.Done;
  if (isRecord(value))
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
  if (typeof value === 'string') return { content: [{ type: 'text', text: value }] };
  return { content: [{ type: 'text', text: JSON.stringify(value ?? null) }] };
}

/** A JSON-RPC / transport error from the MCP SDK client as an upstream ErrorCode. */
export function errorCodeOfSdkError(e: unknown): ErrorCode {
  if (e instanceof McpError) return e.outcomeCode;
  if (e instanceof SdkMcpError) {
    const data = isRecord(e.data) ? e.data : {};
    const tagged = isRecord(data[META_ERROR]) ? data[META_ERROR].code : undefined;
    if (isErrorCode(tagged)) return tagged;
    switch (e.code) {
      case RpcErrorCode.ConnectionClosed:
        return 'unavailable';
      case RpcErrorCode.RequestTimeout:
        return 'timeout';
      case RpcErrorCode.MethodNotFound:
        return 'not_found';
      case RpcErrorCode.InvalidParams:
        return /unknown tool|tool .* not found/i.test(e.message) ? 'not_found' : 'invalid_input';
      case RpcErrorCode.InvalidRequest:
      case RpcErrorCode.ParseError:
        return 'invalid_input';
      case RpcErrorCode.UrlElicitationRequired:
        return 'unauthenticated';
      default:
        return 'internal';
    }
  }
  if (e instanceof StreamableHTTPError) return httpStatusCode(e.code ?? 0);
  if (isRecord(e) && e.name === 'UnauthorizedError') return 'unauthenticated';
  // fetch failures (ECONNREFUSED, DNS), spawn failures (ENOENT), broken pipes: the server is not there right now.
  return 'unavailable';
}

function httpStatusCode(status: number): ErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status >= 500 || status <= 0) return 'unavailable';
  return 'invalid_input';
}

/** Error message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
