import { RunnerError } from '../errors.js';

/**
 * What a parked conversation keeps between turns, stored as the session's `context_json`.
 * `frames` is the call stack: the last frame is the flow currently running; a parent frame's `node`
 * is the `flow.call` node waiting for its child.
 */
export interface RunSnapshot {
  v: 1;
  frames: Frame[];
}

export interface Frame {
  flow: string;
  /** The node to resume on (a parked node) or, in a parent frame, the `flow.call` node. */
  node: string;
  outputs: Record<string, unknown>;
  prev: unknown;
  /** Progress of the questions node this frame is parked on. */
  qa?: { index: number; answers: Record<string, unknown> };
  /** The input the child flow was called with (readable as `entry.input` inside it). */
  callInput?: unknown;
}

export function encodeSnapshot(s: RunSnapshot): string {
  return JSON.stringify(s);
}

export function decodeSnapshot(json: string, sessionKey: string): RunSnapshot {
  let s: unknown;
  try {
    s = JSON.parse(json);
  } catch (e) {
    throw new RunnerError('GT_RUNNER_SNAPSHOT', `session ${sessionKey}: context_json is not JSON; the session is discarded`, {}, { cause: e });
  }
  const snap = s as RunSnapshot;
  if (snap?.v !== 1 || !Array.isArray(snap.frames) || snap.frames.length === 0) {
    throw new RunnerError(
      'GT_RUNNER_SNAPSHOT',
      `session ${sessionKey}: context_json is not a version-1 run snapshot; the session is discarded`,
    );
  }
  return snap;
}
