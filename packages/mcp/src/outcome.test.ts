import type { Outcome } from '@greentic/types';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError as SdkMcpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { McpError } from './errors.js';
import {
  errorCodeOfSdkError,
  META_ERROR,
  outcomeFromThrown,
  outcomeToResult,
  resultToOutcome,
} from './outcome.js';

const text = (t: string) => ({ type: 'text', text: t });

describe('tool result → Outcome', () => {
  it('prefers structuredContent', () => {
    expect(resultToOutcome({ content: [text('ignored')], structuredContent: { a: 1 } })).toEqual({
      Done: { a: 1 },
    });
  });

  it('parses JSON text, else keeps the text', () => {
    expect(resultToOutcome({ content: [text('{"temp": 21}')] })).toEqual({ Done: { temp: 21 } });
    expect(resultToOutcome({ content: [text('[1,2]')] })).toEqual({ Done: [1, 2] });
    expect(resultToOutcome({ content: [text('sunny')] })).toEqual({ Done: 'sunny' });
    expect(resultToOutcome({ content: [text('line 1'), text('line 2')] })).toEqual({
      Done: 'line 1\nline 2',
    });
  });

  it('keeps non-text content blocks as they are, and answers null for no content', () => {
    const image = { type: 'image', data: 'AAAA', mimeType: 'image/png' };
    expect(resultToOutcome({ content: [image] })).toEqual({ Done: [image] });
    expect(resultToOutcome({ content: [] })).toEqual({ Done: null });
  });

  it('maps isError to internal with the text as message', () => {
    expect(resultToOutcome({ isError: true, content: [text('disk full')] })).toEqual({
      Error: { code: 'internal', message: 'disk full' },
    });
    expect(resultToOutcome({ isError: true, content: [] }, 'tool "x"')).toEqual({
      Error: { code: 'internal', message: 'tool "x" reported an error without a message' },
    });
  });

  it('keeps an upstream error code from _meta or structuredContent, ignoring unknown codes', () => {
    expect(
      resultToOutcome({
        isError: true,
        content: [text('slow down')],
        _meta: { [META_ERROR]: { code: 'rate_limited' } },
      }),
    ).toEqual({ Error: { code: 'rate_limited', message: 'slow down' } });
    expect(
      resultToOutcome({
        isError: true,
        content: [],
        structuredContent: { code: 'not_found', message: 'no city' },
      }),
    ).toEqual({
      Error: { code: 'not_found', message: 'no city' },
    });
    expect(
      resultToOutcome({ isError: true, content: [text('x')], structuredContent: { code: 'E42' } }),
    ).toEqual({
      Error: { code: 'internal', message: 'x' },
    });
  });

  it('rejects something that is not a result', () => {
    expect(resultToOutcome('nope')).toEqual({
      Error: { code: 'internal', message: 'tool answered something that is not a tool result' },
    });
  });
});

describe('Outcome → tool result → Outcome', () => {
  const cases: Outcome<unknown>[] = [
    { Done: { a: [1, 2], b: 'x' } },
    { Done: 'plain text' },
    { Done: 42 },
    { Done: [1, 'two'] },
    { Done: null },
    { Done: true },
    { Pending: { reason: 'needs approval' } },
    { Pending: { reason: 'ask', expected_input: ['text'] } },
    { Error: { code: 'rate_limited', message: 'slow down' } },
    { Error: { code: 'invalid_input', message: 'bad city' } },
  ];
  for (const outcome of cases) {
    it(`round-trips ${JSON.stringify(outcome)}`, () => {
      expect(resultToOutcome(JSON.parse(JSON.stringify(outcomeToResult(outcome))))).toEqual(outcome);
    });
  }

  it('puts objects in structuredContent and their JSON in the text', () => {
    expect(outcomeToResult({ Done: { a: 1 } })).toEqual({
      content: [text('{"a":1}')],
      structuredContent: { a: 1 },
    });
  });
});

describe('errors → codes', () => {
  it('maps JSON-RPC errors', () => {
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.ConnectionClosed, 'closed'))).toBe('unavailable');
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.RequestTimeout, 'slow'))).toBe('timeout');
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.InvalidParams, 'Unknown tool: x'))).toBe(
      'not_found',
    );
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.InvalidParams, 'Tool x not found'))).toBe(
      'not_found',
    );
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.InvalidParams, 'bad'))).toBe('invalid_input');
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.MethodNotFound, 'no tools'))).toBe('not_found');
    expect(errorCodeOfSdkError(new SdkMcpError(ErrorCode.InternalError, 'boom'))).toBe('internal');
    expect(
      errorCodeOfSdkError(
        new SdkMcpError(ErrorCode.InvalidParams, 'x', { [META_ERROR]: { code: 'permission_denied' } }),
      ),
    ).toBe('permission_denied');
  });

  it('maps HTTP statuses', () => {
    expect(errorCodeOfSdkError(new StreamableHTTPError(401, 'x'))).toBe('unauthenticated');
    expect(errorCodeOfSdkError(new StreamableHTTPError(403, 'x'))).toBe('permission_denied');
    expect(errorCodeOfSdkError(new StreamableHTTPError(404, 'x'))).toBe('not_found');
    expect(errorCodeOfSdkError(new StreamableHTTPError(429, 'x'))).toBe('rate_limited');
    expect(errorCodeOfSdkError(new StreamableHTTPError(503, 'x'))).toBe('unavailable');
    expect(errorCodeOfSdkError(new StreamableHTTPError(400, 'x'))).toBe('invalid_input');
  });

  it('treats network and spawn failures as unavailable', () => {
    expect(errorCodeOfSdkError(new TypeError('fetch failed'))).toBe('unavailable');
    expect(errorCodeOfSdkError(Object.assign(new Error('spawn nope ENOENT'), { code: 'ENOENT' }))).toBe(
      'unavailable',
    );
  });

  it('keeps the code of a thrown McpError, and the cause', () => {
    const cause = new Error('socket hang up');
    const e = new McpError('GT_MCP_UNAVAILABLE', 'cannot connect', { cause });
    expect(e.cause).toBe(cause);
    expect(outcomeFromThrown(e)).toEqual({ Error: { code: 'unavailable', message: 'cannot connect' } });
    expect(outcomeFromThrown('weird')).toEqual({ Error: { code: 'internal', message: 'weird' } });
    expect(e.toJSON()).toMatchObject({ code: 'GT_MCP_UNAVAILABLE', outcome_code: 'unavailable' });
  });
});
