import { setTimeout as delay } from 'node:timers/promises';
import type { ErrorCode, Outcome } from '@greentic/types';
import { outcomeFromThrown } from './outcome.js';

/** How often and how patiently a failed call is repeated. */
export interface RetryPolicy {
  /** Total attempts, the first included (≥ 1). `1` means no retry. */
  maxAttempts: number;
  /** Delay before the first retry, in ms; doubled for each further retry. */
  baseDelayMs: number;
  /** Upper bound for one delay, in ms (default 30 000). */
  maxDelayMs?: number;
}

/** Upstream runner defaults (`bindings.yaml` → `mcp.retry`: `max_attempts: 3`, `base_delay_ms: 250`). */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 250,
});

/**
 * Error codes worth another attempt: the call may succeed later. Everything else (`invalid_input`,
 * `permission_denied`, `not_found`, `internal`, …) fails the same way again and is never retried.
 */
export const TRANSIENT_ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  'timeout',
  'unavailable',
  'rate_limited',
]);

/** True for an `Error` outcome whose code is in {@link TRANSIENT_ERROR_CODES}. */
export function isTransient(outcome: Outcome<unknown>): boolean {
  return 'Error' in outcome && TRANSIENT_ERROR_CODES.includes(outcome.Error.code);
}

/**
 * Delay before the next attempt after attempt number `failedAttempt` (1-based) failed:
 * `min(maxDelayMs, baseDelayMs · 2^(failedAttempt-1) · (0.5 + random()))`, i.e. ±50 % jitter around the exponential
 * step, as upstream's `retry::backoff`. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  failedAttempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const step = policy.baseDelayMs * 2 ** Math.min(Math.max(failedAttempt - 1, 0), 16);
  const jitter = 0.5 + Math.min(Math.max(random(), 0), 1);
  return Math.round(Math.min(policy.maxDelayMs ?? 30_000, step * jitter));
}

/** What one attempt gets. */
export interface AttemptContext {
  /** 1-based attempt number (offset by `firstAttempt`). */
  attempt: number;
  /** Aborted when this attempt times out or the caller gives up. */
  signal: AbortSignal;
  /** Time limit of this attempt in ms (`Infinity` when there is none). */
  timeoutMs: number;
}

/** Reported after every attempt (telemetry, tests). */
export interface AttemptReport {
  attempt: number;
  outcome: Outcome<unknown>;
  /** True when another attempt follows. */
  willRetry: boolean;
  /** Delay before the next attempt, when there is one. */
  delayMs?: number;
}

export interface CallOptions {
  /** Time limit for each attempt in ms (none when omitted). An attempt that overruns answers `timeout`. */
  timeoutMs?: number;
  /** Retry policy for transient failures (default: a single attempt). */
  retry?: RetryPolicy;
  /** Stops everything when aborted (no further attempts; the running one is aborted). */
  signal?: AbortSignal;
  /** Absolute deadline (ms since epoch): attempts are cut short, and no retry starts that could not finish. */
  deadline?: number;
  /** Number of the first attempt (default 1), e.g. `envelope.attempt` when the caller already retried. */
  firstAttempt?: number;
  /** Names the call in messages (`tool "echo" on server "weather"`). */
  label?: string;
  /** Waits between attempts (default: a timer). Injected by tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Clock for deadlines (default `Date.now`). */
  now?: () => number;
  onAttempt?: (report: AttemptReport) => void;
}

export interface CallResult {
  outcome: Outcome<unknown>;
  /** Attempts made (0 when the call was cancelled before the first one). */
  attempts: number;
}

/** The default `sleep`: resolves after `ms`, or early when `signal` aborts. */
export async function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks its signal
  }
}

const CANCELLED = Symbol('cancelled');
const TIMED_OUT = Symbol('timed out');

/**
 * Runs `call` with a time limit per attempt and retries transient failures (`timeout`, `unavailable`,
 * `rate_limited`) with exponential backoff and jitter. `call` answers an Outcome; a thrown error counts as
 * `internal` (or the McpError's own code). Never throws.
 */
export async function callWithRetry(
  call: (attempt: AttemptContext) => Outcome<unknown> | Promise<Outcome<unknown>>,
  options: CallOptions = {},
): Promise<CallResult> {
  const policy = options.retry ?? { maxAttempts: 1, baseDelayMs: 0 };
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const label = options.label ?? 'call';
  const first = options.firstAttempt ?? 1;
  const outer = options.signal;

  const cancelled = (attempts: number): CallResult => ({
    outcome: { Error: { code: 'timeout', message: `${label} was cancelled: ${reasonText(outer?.reason)}` } },
    attempts,
  });

  let last: Outcome<unknown> | undefined;
  for (let i = 0; i < maxAttempts; i++) {
    if (outer?.aborted) return cancelled(i);
    const attempt = first + i;
    const remaining = options.deadline === undefined ? Infinity : options.deadline - now();
    if (remaining <= 0) {
      return {
        outcome: last ?? {
          Error: { code: 'timeout', message: `${label}: the deadline passed before it could start` },
        },
        attempts: i,
      };
    }
    const timeoutMs = Math.min(options.timeoutMs ?? Infinity, remaining);
    const outcome = await runAttempt(call, attempt, timeoutMs, outer, label);
    if (outcome === CANCELLED) return cancelled(i + 1);
    last = outcome;

    const retryable = isTransient(outcome) && i + 1 < maxAttempts;
    let delayMs = retryable ? backoffDelay(i + 1, policy, options.random) : undefined;
    if (delayMs !== undefined && options.deadline !== undefined && now() + delayMs >= options.deadline) {
      delayMs = undefined; // no time left for another attempt
    }
    options.onAttempt?.({ attempt, outcome, willRetry: delayMs !== undefined, delayMs });
    if (delayMs === undefined) {
      return { outcome: i > 0 ? withAttempts(outcome, i + 1) : outcome, attempts: i + 1 };
    }
    await sleep(delayMs, outer);
  }
  /* c8 ignore next */
  return { outcome: last!, attempts: maxAttempts };
}

async function runAttempt(
  call: (attempt: AttemptContext) => Outcome<unknown> | Promise<Outcome<unknown>>,
  attempt: number,
  timeoutMs: number,
  outer: AbortSignal | undefined,
  label: string,
): Promise<Outcome<unknown> | typeof CANCELLED> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onOuterAbort: (() => void) | undefined;
  const stopped = new Promise<typeof CANCELLED | typeof TIMED_OUT>((resolve) => {
    if (Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        ac.abort(new Error(`${label} timed out after ${timeoutMs} ms`));
        resolve(TIMED_OUT);
      }, timeoutMs);
    }
    if (outer) {
      onOuterAbort = () => {
        ac.abort(outer.reason);
        resolve(CANCELLED);
      };
      outer.addEventListener('abort', onOuterAbort, { once: true });
    }
  });
  const running = (async () => {
    try {
      return await call({ attempt, signal: ac.signal, timeoutMs });
    } catch (e) {
      return outcomeFromThrown(e);
    }
  })();
  try {
    const result = await Promise.race([running, stopped]);
    if (result === TIMED_OUT) {
      return {
        Error: { code: 'timeout', message: `${label} timed out after ${timeoutMs} ms (attempt ${attempt})` },
      };
    }
    return result;
  } finally {
    clearTimeout(timer);
    if (onOuterAbort) outer?.removeEventListener('abort', onOuterAbort);
  }
}

function withAttempts(outcome: Outcome<unknown>, attempts: number): Outcome<unknown> {
  if (!('Error' in outcome) || !isTransient(outcome)) return outcome;
  return {
    Error: {
      code: outcome.Error.code,
      message: `${outcome.Error.message} (gave up after ${attempts} attempts)`,
    },
  };
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}
