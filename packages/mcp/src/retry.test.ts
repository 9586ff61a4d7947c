import type { Outcome } from '@greentic/types';
import { describe, expect, it } from 'vitest';
import { McpError } from './errors.js';
import {
  type AttemptReport,
  backoffDelay,
  callWithRetry,
  isTransient,
  TRANSIENT_ERROR_CODES,
} from './retry.js';

const err = (code: string, message = code) => ({ Error: { code, message } }) as Outcome<unknown>;

/** A sleep that records delays and returns at once, and a clock it advances. */
function fakeTime(start = 1_000_000) {
  const delays: number[] = [];
  let t = start;
  return {
    delays,
    now: () => t,
    sleep: async (ms: number) => {
      delays.push(ms);
      t += ms;
    },
  };
}

/** A call that answers the given outcomes in turn and records the attempts it saw. */
function scripted(...outcomes: Outcome<unknown>[]) {
  const attempts: number[] = [];
  const fn = async ({ attempt }: { attempt: number }) => {
    attempts.push(attempt);
    return outcomes[Math.min(attempts.length - 1, outcomes.length - 1)]!;
  };
  return { fn, attempts };
}

describe('backoffDelay', () => {
  it('doubles per attempt with ±50 % jitter', () => {
    const policy = { maxAttempts: 5, baseDelayMs: 100 };
    expect(backoffDelay(1, policy, () => 0.5)).toBe(100);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(400);
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(600);
  });

  it('caps a delay at maxDelayMs', () => {
    expect(backoffDelay(20, { maxAttempts: 30, baseDelayMs: 1000, maxDelayMs: 5000 }, () => 0.5)).toBe(5000);
  });
});

describe('callWithRetry', () => {
  it('treats only timeout, unavailable and rate_limited as transient', () => {
    expect([...TRANSIENT_ERROR_CODES].sort()).toEqual(['rate_limited', 'timeout', 'unavailable']);
    for (const code of [
      'invalid_input',
      'permission_denied',
      'not_found',
      'internal',
      'unauthenticated',
      'conflict',
    ]) {
      expect(isTransient(err(code))).toBe(false);
    }
    expect(isTransient({ Done: 1 })).toBe(false);
  });

  it('retries transient failures with exponential backoff and passes the attempt number', async () => {
    const time = fakeTime();
    const { fn, attempts } = scripted(err('unavailable'), err('rate_limited'), { Done: 'ok' });
    const reports: AttemptReport[] = [];
    const res = await callWithRetry(fn, {
      retry: { maxAttempts: 3, baseDelayMs: 250 },
      sleep: time.sleep,
      now: time.now,
      random: () => 0.5,
      onAttempt: (r) => reports.push(r),
    });
    expect(res).toEqual({ outcome: { Done: 'ok' }, attempts: 3 });
    expect(attempts).toEqual([1, 2, 3]);
    expect(time.delays).toEqual([250, 500]);
    expect(reports.map((r) => [r.attempt, r.willRetry, r.delayMs])).toEqual([
      [1, true, 250],
      [2, true, 500],
      [3, false, undefined],
    ]);
  });

  it('applies the jitter from the injected random source', async () => {
    const time = fakeTime();
    const { fn } = scripted(err('timeout'), err('timeout'), { Done: 1 });
    const randoms = [0, 0.75];
    await callWithRetry(fn, {
      retry: { maxAttempts: 3, baseDelayMs: 100 },
      sleep: time.sleep,
      random: () => randoms.shift()!,
    });
    expect(time.delays).toEqual([50, 250]);
  });

  for (const code of ['invalid_input', 'permission_denied', 'not_found', 'internal']) {
    it(`never retries ${code}`, async () => {
      const time = fakeTime();
      const { fn, attempts } = scripted(err(code, 'nope'), { Done: 'never' });
      const res = await callWithRetry(fn, { retry: { maxAttempts: 5, baseDelayMs: 10 }, sleep: time.sleep });
      expect(res).toEqual({ outcome: err(code, 'nope'), attempts: 1 });
      expect(attempts).toEqual([1]);
      expect(time.delays).toEqual([]);
    });
  }

  it('stops at maxAttempts and says how many attempts were made', async () => {
    const time = fakeTime();
    const { fn, attempts } = scripted(err('unavailable', 'server down'));
    const res = await callWithRetry(fn, { retry: { maxAttempts: 3, baseDelayMs: 1 }, sleep: time.sleep });
    expect(attempts).toEqual([1, 2, 3]);
    expect(res.attempts).toBe(3);
    expect(res.outcome).toEqual(err('unavailable', 'server down (gave up after 3 attempts)'));
  });

  it('makes a single attempt without a retry policy', async () => {
    const { fn, attempts } = scripted(err('unavailable'));
    expect((await callWithRetry(fn)).attempts).toBe(1);
    expect(attempts).toEqual([1]);
  });

  it('numbers attempts from firstAttempt', async () => {
    const time = fakeTime();
    const { fn, attempts } = scripted(err('timeout'), { Done: 1 });
    await callWithRetry(fn, {
      retry: { maxAttempts: 2, baseDelayMs: 1 },
      firstAttempt: 3,
      sleep: time.sleep,
    });
    expect(attempts).toEqual([3, 4]);
  });

  it('answers timeout when an attempt overruns, aborts it, and retries', async () => {
    const time = fakeTime();
    const seen: AbortSignal[] = [];
    let calls = 0;
    const res = await callWithRetry(
      ({ signal }) => {
        calls++;
        seen.push(signal);
        if (calls === 1) return new Promise<Outcome<unknown>>(() => {}); // hangs
        return { Done: 'second' };
      },
      { timeoutMs: 5, retry: { maxAttempts: 2, baseDelayMs: 10 }, sleep: time.sleep, label: 'tool "x"' },
    );
    expect(res).toEqual({ outcome: { Done: 'second' }, attempts: 2 });
    expect(seen[0]!.aborted).toBe(true);
    expect(seen[1]!.aborted).toBe(false);
  });

  it('reports the timeout of the last attempt', async () => {
    const res = await callWithRetry(() => new Promise<Outcome<unknown>>(() => {}), {
      timeoutMs: 1,
      label: 'tool "x"',
    });
    expect(res.outcome).toEqual(err('timeout', 'tool "x" timed out after 1 ms (attempt 1)'));
  });

  it('turns thrown errors into outcomes: internal, or the McpError code', async () => {
    const a = await callWithRetry(() => {
      throw new Error('boom');
    });
    expect(a.outcome).toEqual(err('internal', 'boom'));
    const time = fakeTime();
    let n = 0;
    const b = await callWithRetry(
      () => {
        if (n++ === 0) throw new McpError('GT_MCP_UNAVAILABLE', 'no server');
        return { Done: 'up' };
      },
      { retry: { maxAttempts: 2, baseDelayMs: 1 }, sleep: time.sleep },
    );
    expect(b).toEqual({ outcome: { Done: 'up' }, attempts: 2 });
  });

  it('does not start a retry that would end after the deadline', async () => {
    const time = fakeTime(0);
    const { fn, attempts } = scripted(err('unavailable', 'down'));
    const res = await callWithRetry(fn, {
      retry: { maxAttempts: 5, baseDelayMs: 100 },
      deadline: 250,
      now: time.now,
      sleep: time.sleep,
      random: () => 0.5,
    });
    // attempt 1 at t=0, wait 100, attempt 2 at t=100, next wait (200) would pass the deadline
    expect(attempts).toEqual([1, 2]);
    expect(time.delays).toEqual([100]);
    expect(res.outcome).toEqual(err('unavailable', 'down (gave up after 2 attempts)'));
  });

  it('does not start when the deadline has passed', async () => {
    const { fn, attempts } = scripted({ Done: 1 });
    const res = await callWithRetry(fn, { deadline: 10, now: () => 20 });
    expect(attempts).toEqual([]);
    expect(res.attempts).toBe(0);
    expect('Error' in res.outcome && res.outcome.Error.code).toBe('timeout');
  });

  it('stops when the caller aborts, without further attempts', async () => {
    const ac = new AbortController();
    const { fn, attempts } = scripted(err('unavailable'));
    const res = await callWithRetry(fn, {
      signal: ac.signal,
      retry: { maxAttempts: 5, baseDelayMs: 1 },
      sleep: async () => ac.abort(new Error('turn over')),
    });
    expect(attempts).toEqual([1]);
    expect(res.outcome).toEqual(err('timeout', 'call was cancelled: turn over'));
  });

  it('aborts a running attempt when the caller aborts', async () => {
    const ac = new AbortController();
    let inner: AbortSignal | undefined;
    const p = callWithRetry(
      ({ signal }) => {
        inner = signal;
        return new Promise<Outcome<unknown>>(() => {});
      },
      { signal: ac.signal, label: 'tool "slow"' },
    );
    ac.abort();
    const res = await p;
    expect(inner!.aborted).toBe(true);
    expect(res.attempts).toBe(1);
    expect('Error' in res.outcome && res.outcome.Error.message).toBe(
      'tool "slow" was cancelled: This operation was aborted',
    );
  });
});
