import { RunnerError } from '../errors.js';

/**
 * Everything the engine keeps about one conversation, stored as the session's `context_json` and saved with one
 * compare-and-swap per turn — so the run's position, the conversation state and the record of sent replies
 * (the outbox) become durable together, or not at all.
 */
export interface ConversationRecord {
  v: 2;
  /** The run in progress, when the conversation is parked; absent when idle. */
  run?: RunSnapshot;
  /** The conversation's state (`state.<key>`, question answers). Outlives runs. */
  state: Record<string, unknown>;
  /** Results of the most recent turns, by incoming message id: a redelivered message gets the same replies again. */
  outbox: OutboxEntry[];
  /** Sequence number of the last applied message, when the caller numbers messages (`handleMessage(msg, {seq})`). */
  seq?: number;
}

export interface OutboxEntry {
  /** The incoming message id. */
  id: string;
  status: 'done' | 'pending' | 'error';
  replies: { id: string; text?: string; card?: unknown; payload?: unknown }[];
  error?: { code: string; message: string; node?: string; flow?: string };
  waitReason?: string;
}

/** The call stack of a run: the last frame is the flow currently running. */
export interface RunSnapshot {
  flow: string;
  /** The version of the flows (pack version) the run started on; it finishes on it while that version is loaded. */
  version?: string;
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

export function newRecord(): ConversationRecord {
  return { v: 2, state: {}, outbox: [] };
}

export function encodeRecord(r: ConversationRecord): string {
  return JSON.stringify(r);
}

export function decodeRecord(json: string, sessionKey: string): ConversationRecord {
  let r: unknown;
  try {
    r = JSON.parse(json);
  } catch (e) {
    throw new RunnerError(
      'GT_RUNNER_SNAPSHOT',
      `session ${sessionKey}: context_json is not JSON; the conversation starts afresh`,
      {},
      { cause: e },
    );
  }
  const rec = r as ConversationRecord;
  const ok =
    rec?.v === 2 &&
    typeof rec.state === 'object' &&
    rec.state !== null &&
    Array.isArray(rec.outbox) &&
    (rec.run === undefined || (Array.isArray(rec.run.frames) && rec.run.frames.length > 0));
  if (!ok) {
    throw new RunnerError(
      'GT_RUNNER_SNAPSHOT',
      `session ${sessionKey}: context_json is not a version-2 conversation record; the conversation starts afresh`,
    );
  }
  return rec;
}
