import { describe, expect, it } from 'vitest';
import {
  done,
  ERROR_CODES,
  failed,
  isDone,
  isError,
  isErrorCode,
  isPending,
  mapOutcome,
  nodeError,
  type Outcome,
  pending,
} from './outcome.js';
import { checkOutcome, validateNodeError, validateNodeIoError, validateOutcome } from './validate.js';

describe('Outcome', () => {
  it('round-trips the three upstream JSON forms', () => {
    for (const json of [
      '{"Done":{"text":"hi","n":[1,2]}}',
      '{"Done":null}',
      '{"Pending":{"reason":"await_user"}}',
      '{"Pending":{"reason":"await_user","expected_input":["text","card"]}}',
      '{"Error":{"code":"rate_limited","message":"slow down"}}',
    ]) {
      expect(JSON.stringify(validateOutcome(JSON.parse(json)))).toBe(json);
    }
  });

  it('builds outcomes that serialize like upstream', () => {
    expect(JSON.stringify(done(42))).toBe('{"Done":42}');
    expect(JSON.stringify(pending('wait'))).toBe('{"Pending":{"reason":"wait"}}');
    expect(JSON.stringify(pending('wait', ['text']))).toBe(
      '{"Pending":{"reason":"wait","expected_input":["text"]}}',
    );
    expect(JSON.stringify(failed('not_found', 'no such flow'))).toBe(
      '{"Error":{"code":"not_found","message":"no such flow"}}',
    );
  });

  it('narrows with type guards, including a Done whose value is undefined-like', () => {
    const outcomes: Outcome<number | null>[] = [done(null), pending('p'), failed('internal', 'x')];
    expect(outcomes.map(isDone)).toEqual([true, false, false]);
    expect(outcomes.map(isPending)).toEqual([false, true, false]);
    expect(outcomes.map(isError)).toEqual([false, false, true]);
  });

  it('maps only Done values', () => {
    expect(mapOutcome(done(2), (n) => n * 10)).toEqual({ Done: 20 });
    const p = pending('p');
    expect(mapOutcome<number, number>(p, (n) => n * 10)).toBe(p);
  });

  it('lists the ten upstream error codes', () => {
    expect(ERROR_CODES).toEqual([
      'unknown',
      'invalid_input',
      'not_found',
      'conflict',
      'timeout',
      'unauthenticated',
      'permission_denied',
      'rate_limited',
      'unavailable',
      'internal',
    ]);
    expect(isErrorCode('timeout')).toBe(true);
    expect(isErrorCode('Timeout')).toBe(false);
  });

  it('rejects outcomes with no tag, two tags, an unknown tag or a bad error code', () => {
    expect(() => validateOutcome({})).toThrow(
      /^\(root\): must have exactly one of "Done", "Pending" or "Error"/,
    );
    expect(() => validateOutcome({ Done: 1, Pending: { reason: 'x' } })).toThrow(
      /^\(root\): must have exactly one/,
    );
    expect(() => validateOutcome({ Finished: 1 })).toThrow(/^\/Finished: is not allowed here/);
    expect(() => validateOutcome({ Error: { code: 'boom', message: 'x' } })).toThrow(
      /^\/Error\/code: must be one of "unknown", .* \(got "boom"\)/,
    );
    expect(() => validateOutcome({ Pending: {} })).toThrow(/^\/Pending\/reason: is required/);
    expect(() => validateOutcome({ Pending: { reason: 'r', expected_input: 'text' } })).toThrow(
      /^\/Pending\/expected_input: must be array/,
    );
    expect(() => validateOutcome('Done')).toThrow(/^\(root\): must be object \(got "Done"\)/);
    const result = checkOutcome({ Done: 1, Extra: 2 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.map((e) => e.pointer)).toEqual(['/Extra', '']);
  });
});

describe('NodeError', () => {
  it('accepts upstream JSON with null backoff_ms and details, and with them omitted', () => {
    const upstream = '{"code":"TEST","message":"example","retryable":false,"backoff_ms":null,"details":null}';
    expect(JSON.stringify(validateNodeError(JSON.parse(upstream)))).toBe(upstream);
    const retry =
      '{"code":"TEST","message":"example","retryable":true,"backoff_ms":500,"details":{"Text":"context"}}';
    expect(JSON.stringify(validateNodeError(JSON.parse(retry)))).toBe(retry);
    expect(
      validateNodeError({ code: 'X', message: 'm', retryable: false, details: { Binary: [0, 255] } }),
    ).toBeTruthy();
  });

  it('builds node errors like upstream NodeError::new(..).with_retry(..).with_detail_text(..)', () => {
    expect(nodeError('TEST', 'example')).toEqual({ code: 'TEST', message: 'example', retryable: false });
    expect(nodeError('TEST', 'example', { backoffMs: 500, details: 'context' })).toEqual({
      code: 'TEST',
      message: 'example',
      retryable: true,
      backoff_ms: 500,
      details: { Text: 'context' },
    });
  });

  it('rejects a missing retryable, a negative backoff and a malformed detail', () => {
    expect(() => validateNodeError({ code: 'X', message: 'm' })).toThrow(/^\/retryable: is required/);
    expect(() => validateNodeError({ code: 'X', message: 'm', retryable: true, backoff_ms: -5 })).toThrow(
      /^\/backoff_ms: must be >= 0/,
    );
    expect(() => validateNodeError({ code: 'X', message: 'm', retryable: true, details: 'oops' })).toThrow(
      /^\/details: must be object or null/,
    );
    expect(() =>
      validateNodeError({ code: 'X', message: 'm', retryable: true, details: { Binary: [256] } }),
    ).toThrow(/^\/details\/Binary\/0: must be <= 255/);
  });

  it('validates the node-I/O error variant with its kind', () => {
    const json =
      '{"code":"E_INPUT","message":"bad","kind":"validation","retryable":false,"source":{"node":"ask"}}';
    expect(JSON.stringify(validateNodeIoError(JSON.parse(json)))).toBe(json);
    expect(() => validateNodeIoError({ code: 'E', message: 'm', kind: 'weird', retryable: false })).toThrow(
      /^\/kind: must be one of/,
    );
  });
});
