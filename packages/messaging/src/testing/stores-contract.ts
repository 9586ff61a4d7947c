/**
 * The behaviour every {@link ReplayGuard} and {@link SentLog} backend must have, as vitest suites.
 *
 * ```ts
 * import { replayGuardContract, sentLogContract } from '@greentic/messaging/testing';
 * replayGuardContract('redis', () => new RedisReplayGuard(redis, { prefix: `t:${randomUUID()}:` }));
 * ```
 *
 * `make` is called once per test; every test uses fresh random keys, so backends may share one store. Expiry is
 * tested with real time (a Redis server cannot take a fake clock): those tests sleep `ttlMs + slackMs`.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ReplayGuard, SentLog } from '../stores.js';

export interface StoreContractOptions {
  /** TTL used by the expiry tests (ms, default 60). */
  ttlMs?: number;
  /** Extra wait past the TTL before checking expiry (ms, default 80). */
  slackMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const key = (what: string) => `contract:${what}:${randomUUID()}`;

export function replayGuardContract(
  name: string,
  make: () => Promise<ReplayGuard> | ReplayGuard,
  opts: StoreContractOptions = {},
): void {
  const ttl = opts.ttlMs ?? 60;
  const slack = opts.slackMs ?? 80;
  describe(`ReplayGuard contract: ${name}`, () => {
    it('claims a key the first time and refuses the replay', async () => {
      const g = await make();
      const k = key('once');
      expect(await g.claim(k, 60_000)).toBe(true);
      expect(await g.claim(k, 60_000)).toBe(false);
    });

    it('keeps keys apart', async () => {
      const g = await make();
      expect(await g.claim(key('a'), 60_000)).toBe(true);
      expect(await g.claim(key('b'), 60_000)).toBe(true);
    });

    it('lets a released key be claimed again (a message whose enqueue failed)', async () => {
      const g = await make();
      const k = key('release');
      await g.claim(k, 60_000);
      await g.release(k);
      expect(await g.claim(k, 60_000)).toBe(true);
    });

    it('forgets a key after its TTL', async () => {
      const g = await make();
      const k = key('ttl');
      expect(await g.claim(k, ttl)).toBe(true);
      await sleep(ttl + slack);
      expect(await g.claim(k, ttl)).toBe(true);
    });

    it('lets exactly one of several concurrent claims win', async () => {
      const g = await make();
      const k = key('race');
      const wins = await Promise.all(Array.from({ length: 8 }, () => g.claim(k, 60_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });
  });
}

export function sentLogContract(
  name: string,
  make: () => Promise<SentLog> | SentLog,
  opts: StoreContractOptions = {},
): void {
  const ttl = opts.ttlMs ?? 60;
  const slack = opts.slackMs ?? 80;
  describe(`SentLog contract: ${name}`, () => {
    it('knows a recorded reply part and nothing else', async () => {
      const log = await make();
      const k = key('sent');
      expect(await log.has(k)).toBe(false);
      await log.record(k, 60_000);
      expect(await log.has(k)).toBe(true);
      expect(await log.has(`${k}#other`)).toBe(false);
    });

    it('records idempotently', async () => {
      const log = await make();
      const k = key('twice');
      await log.record(k, 60_000);
      await log.record(k, 60_000);
      expect(await log.has(k)).toBe(true);
    });

    it('forgets a record after its TTL', async () => {
      const log = await make();
      const k = key('ttl');
      await log.record(k, ttl);
      await sleep(ttl + slack);
      expect(await log.has(k)).toBe(false);
    });
  });
}
