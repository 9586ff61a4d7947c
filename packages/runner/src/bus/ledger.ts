import type { Redis } from 'ioredis';

/** What {@link IngressLedger.claim} found. */
export interface Claim {
  /** True the first time this provider message id is seen (within its TTL), or when there is no id. */
  fresh: boolean;
  /** The message's number in its conversation: new for a fresh claim, the one given the first time otherwise. */
  seq: number;
  /** When the id was first claimed (epoch ms). */
  claimedAt: number;
}

export interface ClaimOptions {
  /** How long the provider message id is remembered. */
  dedupeTtlMs: number;
  /** Lifetime of the conversation's counter (refreshed on every message). */
  seqTtlMs: number;
}

/**
 * The gateway side of exactly-once ingress: remembers provider message ids (Telegram `update_id`, Slack
 * `event_id`) and numbers each conversation's messages. One `claim` does both atomically, so a message is never
 * numbered twice and a retried one gets its first number back.
 */
export interface IngressLedger {
  /**
   * `dedupeKey` undefined: no provider id, always fresh. Otherwise the first claim of a key takes the conversation's
   * next number (`INCR seqKey`) and remembers it under the key (`SET NX PX`); later claims return it, not fresh.
   */
  claim(dedupeKey: string | undefined, seqKey: string, opts: ClaimOptions): Promise<Claim>;
  close(): Promise<void>;
}

/** In-process ledger: for one gateway process on a laptop (memory stores). Expired entries are swept lazily. */
export class MemoryIngressLedger implements IngressLedger {
  private readonly ids = new Map<string, { seq: number; claimedAt: number; expiresAt: number }>();
  private readonly counters = new Map<string, { value: number; expiresAt: number }>();
  private ops = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async claim(dedupeKey: string | undefined, seqKey: string, opts: ClaimOptions): Promise<Claim> {
    const now = this.now();
    if (++this.ops % 1024 === 0) this.sweep(now);
    if (dedupeKey !== undefined) {
      const seen = this.ids.get(dedupeKey);
      if (seen && seen.expiresAt > now) return { fresh: false, seq: seen.seq, claimedAt: seen.claimedAt };
    }
    const c = this.counters.get(seqKey);
    const value = (c && c.expiresAt > now ? c.value : 0) + 1;
    this.counters.set(seqKey, { value, expiresAt: now + opts.seqTtlMs });
    if (dedupeKey !== undefined)
      this.ids.set(dedupeKey, { seq: value, claimedAt: now, expiresAt: now + opts.dedupeTtlMs });
    return { fresh: true, seq: value, claimedAt: now };
  }

  private sweep(now: number) {
    for (const [k, v] of this.ids) if (v.expiresAt <= now) this.ids.delete(k);
    for (const [k, v] of this.counters) if (v.expiresAt <= now) this.counters.delete(k);
  }

  async close(): Promise<void> {
    this.ids.clear();
    this.counters.clear();
  }
}

/**
 * KEYS[1] provider-id key ('' = none), KEYS[2] counter key; ARGV[1] id TTL ms, ARGV[2] counter TTL ms, ARGV[3] now.
 * The same as `SET id NX PX` + `INCR counter` + `PEXPIRE`, in one step: a gateway that crashes between them
 * can neither leave an id without a number nor take a number twice.
 */
const CLAIM_SCRIPT = `
if KEYS[1] ~= '' then
  local seen = redis.call('GET', KEYS[1])
  if seen then return {0, seen} end
end
local seq = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local value = seq .. ':' .. ARGV[3]
if KEYS[1] ~= '' then redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[1]) end
return {1, value}
`;

/** Ledger shared by every gateway and runner through Redis (keys under `<namespace>:runner:ingress:…`). */
export class RedisIngressLedger implements IngressLedger {
  private readonly redis: Redis & {
    greenticClaim(
      k1: string,
      k2: string,
      ttl: number,
      seqTtl: number,
      now: number,
    ): Promise<[number, string]>;
  };

  /** `owned`: close the connection in `close()` (false when the caller shares it). */
  constructor(
    redis: Redis,
    private readonly owned = true,
  ) {
    if (!(redis as unknown as { greenticClaim?: unknown }).greenticClaim)
      redis.defineCommand('greenticClaim', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
    this.redis = redis as RedisIngressLedger['redis'];
  }

  async claim(dedupeKey: string | undefined, seqKey: string, opts: ClaimOptions): Promise<Claim> {
    const [fresh, value] = await this.redis.greenticClaim(
      dedupeKey ?? '',
      seqKey,
      opts.dedupeTtlMs,
      opts.seqTtlMs,
      Date.now(),
    );
    const [seq, at] = String(value).split(':');
    return { fresh: fresh === 1, seq: Number(seq), claimedAt: Number(at) };
  }

  async close(): Promise<void> {
    if (this.owned) await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
