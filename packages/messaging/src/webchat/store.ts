import { MessagingError } from '../errors.js';
import type { Activity, NewActivity } from './activity.js';

/** A conversation of the Direct Line endpoint. */
export interface ConversationInfo {
  id: string;
  /** The user the conversation's tokens are bound to, when one was named at creation. */
  userId?: string;
  /** Epoch ms. */
  createdAt: number;
}

/** Activities after a watermark, and the watermark to ask from next time. */
export interface ActivitySet {
  activities: Activity[];
  /** The highest watermark covered (the last activity's, or the conversation's head when nothing is new); 0 = empty. */
  watermark: number;
}

export interface AppendResult {
  activity: Activity;
  watermark: number;
  /** An activity with the same key had been appended before; `activity` is that one and nothing was added. */
  duplicate: boolean;
}

export type ActivityListener = (set: ActivitySet) => void;

/**
 * Where the Direct Line endpoint keeps conversations and their activities. Watermarks are per conversation,
 * start at 1 and increase by one for each appended activity; an activity's id is `<conversationId>|<watermark>`
 * (7 digits, zero-padded). Implementations may keep only a bounded history: `list` then starts at the oldest kept.
 * The in-memory store is {@link MemoryActivityStore}; a shared one (Redis streams + pub/sub) can implement the same
 * interface and run the contract suite `activityStoreContract` (`src/webchat/testing`).
 */
export interface ActivityStore {
  /** Creates the conversation, or returns the existing one unchanged (idempotent). */
  createConversation(id: string, init?: { userId?: string }): Promise<ConversationInfo>;
  getConversation(id: string): Promise<ConversationInfo | undefined>;
  /**
   * Appends an activity and gives it its id and watermark. With `key`, a later append with the same key returns the
   * first activity with `duplicate: true` (idempotent delivery). Rejects when the conversation does not exist.
   * Subscribers of the conversation are told about the new activity.
   */
  append(conversationId: string, activity: NewActivity, options?: { key?: string }): Promise<AppendResult>;
  /** Activities with a watermark above `after` (all kept ones when undefined), oldest first, at most `limit`. */
  list(conversationId: string, after?: number, limit?: number): Promise<ActivitySet | undefined>;
  /** Calls `listener` with each newly appended activity of the conversation until the returned function is called. */
  subscribe(conversationId: string, listener: ActivityListener): () => void;
  close?(): Promise<void>;
}

export interface MemoryActivityStoreOptions {
  /** Activities kept per conversation (oldest dropped first). Default 500. */
  historyLimit?: number;
  /** Conversations kept; the least recently active one is forgotten first. Default 10 000. */
  maxConversations?: number;
  /** A conversation idle this long is forgotten (ms). Default 24 h. */
  conversationTtlMs?: number;
  /** Idempotency keys remembered per conversation. Default 4 × historyLimit. */
  keyLimit?: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

interface MemoryConversation {
  info: ConversationInfo;
  activities: Activity[];
  /** The watermark of the last appended activity. */
  head: number;
  keys: Map<string, Activity>;
  lastActive: number;
}

export function activityId(conversationId: string, watermark: number): string {
  return `${conversationId}|${String(watermark).padStart(7, '0')}`;
}

export function watermarkOfId(id: string): number | undefined {
  const bar = id.lastIndexOf('|');
  const n = Number(id.slice(bar + 1));
  return bar >= 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** Conversations and activities in process memory, with bounded history, conversation count and idle expiry. */
export class MemoryActivityStore implements ActivityStore {
  private readonly conversations = new Map<string, MemoryConversation>();
  private readonly listeners = new Map<string, Set<ActivityListener>>();
  private readonly historyLimit: number;
  private readonly maxConversations: number;
  private readonly ttlMs: number;
  private readonly keyLimit: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(options: MemoryActivityStoreOptions = {}) {
    this.historyLimit = positive(options.historyLimit, 500, 'historyLimit');
    this.maxConversations = positive(options.maxConversations, 10_000, 'maxConversations');
    this.ttlMs = positive(options.conversationTtlMs, 24 * 60 * 60 * 1000, 'conversationTtlMs');
    this.keyLimit = positive(options.keyLimit, this.historyLimit * 4, 'keyLimit');
    this.now = options.now ?? Date.now;
  }

  async createConversation(id: string, init: { userId?: string } = {}): Promise<ConversationInfo> {
    const existing = this.live(id);
    if (existing) return { ...existing.info };
    this.sweep();
    while (this.conversations.size >= this.maxConversations) {
      const oldest = this.conversations.keys().next();
      if (oldest.done) break;
      this.conversations.delete(oldest.value);
    }
    const now = this.now();
    const info: ConversationInfo = {
      id,
      createdAt: now,
      ...(init.userId !== undefined ? { userId: init.userId } : {}),
    };
    this.conversations.set(id, { info, activities: [], head: 0, keys: new Map(), lastActive: now });
    return { ...info };
  }

  async getConversation(id: string): Promise<ConversationInfo | undefined> {
    const c = this.live(id);
    return c ? { ...c.info } : undefined;
  }

  async append(
    conversationId: string,
    activity: NewActivity,
    options: { key?: string } = {},
  ): Promise<AppendResult> {
    const c = this.live(conversationId);
    if (!c) {
      throw new MessagingError(
        'GT_MSG_WEBCHAT_CONVERSATION_NOT_FOUND',
        `conversation ${conversationId} does not exist (never created, or forgotten after being idle)`,
      );
    }
    this.touch(conversationId, c);
    if (options.key !== undefined) {
      const seen = c.keys.get(options.key);
      if (seen)
        return { activity: structuredClone(seen), watermark: watermarkOfId(seen.id) ?? 0, duplicate: true };
    }
    const watermark = c.head + 1;
    const stored: Activity = { ...structuredClone(activity), id: activityId(conversationId, watermark) };
    c.head = watermark;
    c.activities.push(stored);
    if (c.activities.length > this.historyLimit)
      c.activities.splice(0, c.activities.length - this.historyLimit);
    if (options.key !== undefined) {
      c.keys.set(options.key, stored);
      if (c.keys.size > this.keyLimit) c.keys.delete(c.keys.keys().next().value as string);
    }
    const set = this.listeners.get(conversationId);
    if (set) {
      for (const listener of [...set]) {
        try {
          listener({ activities: [structuredClone(stored)], watermark });
        } catch {
          // A failing subscriber must not break the append or the other subscribers.
        }
      }
    }
    return { activity: structuredClone(stored), watermark, duplicate: false };
  }

  async list(
    conversationId: string,
    after?: number,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<ActivitySet | undefined> {
    const c = this.live(conversationId);
    if (!c) return undefined;
    const from = after ?? 0;
    const out: Activity[] = [];
    for (const a of c.activities) {
      if (out.length >= limit) break;
      if ((watermarkOfId(a.id) ?? 0) > from) out.push(structuredClone(a));
    }
    const last = out.at(-1);
    const watermark = last ? (watermarkOfId(last.id) ?? c.head) : c.head;
    return { activities: out, watermark };
  }

  subscribe(conversationId: string, listener: ActivityListener): () => void {
    let set = this.listeners.get(conversationId);
    if (!set) {
      set = new Set();
      this.listeners.set(conversationId, set);
    }
    set.add(listener);
    return () => {
      const s = this.listeners.get(conversationId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.listeners.delete(conversationId);
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** How many conversations are kept (for tests and metrics). */
  get size(): number {
    return this.conversations.size;
  }

  private live(id: string): MemoryConversation | undefined {
    const c = this.conversations.get(id);
    if (c && this.now() - c.lastActive > this.ttlMs) {
      this.conversations.delete(id);
      return undefined;
    }
    return c;
  }

  /** Marks the conversation active and moves it to the end of the eviction order. */
  private touch(id: string, c: MemoryConversation) {
    c.lastActive = this.now();
    this.conversations.delete(id);
    this.conversations.set(id, c);
  }

  private sweep() {
    const now = this.now();
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [id, c] of this.conversations) {
      if (now - c.lastActive > this.ttlMs) this.conversations.delete(id);
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new MessagingError(
      'GT_MSG_WEBCHAT_BAD_OPTIONS',
      `MemoryActivityStore: ${name} must be a positive integer`,
    );
  }
  return value;
}
