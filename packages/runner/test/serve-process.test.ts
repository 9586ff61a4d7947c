// `greentic-runner serve` as a real process: fail-fast startup, and a graceful SIGTERM under load.
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { MemoryIngressLedger } from '../src/bus/ledger.js';
import type { EgressMessage } from '../src/bus/messages.js';
import { IngressPublisher } from '../src/bus/publisher.js';
import { streamReader } from './bus-helpers.js';
import {
  busConfig,
  cleanup,
  isolated,
  logLines,
  NATS_URL,
  QA3_FLOW,
  spawnCli,
  startRunner,
  textMessage,
  uniq,
  waitFor,
  writeConfig,
} from './helpers.js';

describe('greentic-runner serve (process)', () => {
  it('fails fast, naming the URL, when the configured Redis cannot be reached', async () => {
    const file = writeConfig({
      http: { port: 0 },
      stores: { kind: 'redis', redis: { url: 'redis://127.0.0.1:1', connectTimeoutMs: 1000 } },
      flows: { paths: [QA3_FLOW] },
    });
    const t0 = Date.now();
    const p = spawnCli(['serve', '--config', file]);
    const code = await p.exited;
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.stderr()).toMatch(
      /error GT_RUNNER_UNREACHABLE: cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(stores\.redis\.url\)/,
    );
  });

  it('fails fast, naming the URL, when the configured NATS cannot be reached (password hidden)', async () => {
    const file = writeConfig({
      http: { port: 0 },
      nats: { enabled: true, url: 'nats://bot:hunter2@127.0.0.1:1', connectTimeoutMs: 1000 },
      flows: { paths: [QA3_FLOW] },
    });
    const t0 = Date.now();
    const p = spawnCli(['serve', '--config', file]);
    expect(await p.exited).toBe(1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.stderr()).toMatch(
      /error GT_RUNNER_UNREACHABLE: cannot reach NATS at nats:\/\/bot:\*\*\*@127\.0\.0\.1:1 \(nats\.url\)/,
    );
    expect(p.stderr()).not.toContain('hunter2');
  });

  it('takes GREENTIC_RUNNER_* overrides from the environment', async () => {
    const file = writeConfig({ http: { port: 0 }, flows: { paths: [QA3_FLOW] } });
    const p = spawnCli(['serve', '--config', file], {
      GREENTIC_RUNNER_STORES: 'redis',
      GREENTIC_RUNNER_REDIS_URL: 'redis://127.0.0.1:2',
    });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain('cannot reach Redis at redis://127.0.0.1:2');
  });

  it('on SIGTERM stops pulling, finishes in-flight turns, and exits 0; nothing is lost', async () => {
    const id = uniq('term');
    const n = isolated(id);
    const file = writeConfig(busConfig(id, { ackWaitMs: 3000, concurrency: 16 }));
    const nc = await connect({ servers: NATS_URL });
    const js = nc.jetstream();
    let egress: Awaited<ReturnType<typeof streamReader<EgressMessage>>> | undefined;
    try {
      const first = await startRunner(file);
      const pub = new IngressPublisher({
        js,
        ledger: new MemoryIngressLedger(),
        subjectPrefix: n.subjectPrefix,
        keyPrefix: n.namespace,
      });
      const total = 600;
      await Promise.all(
        Array.from({ length: total }, (_, i) =>
          pub.publishIngress(textMessage(`term-${i}`, `term-c${i}`, 'hi')),
        ),
      );
      egress = await streamReader<EgressMessage>(js, n.streams.egress);
      // stop it while it is busy
      await waitFor(() => egress!.items.length >= 50, 'the first replies');
      first.proc.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const stopped = logLines(first.stderr()).find((l) => l.msg === 'stopped') as {
        unfinished: number;
        stats: { turns: number };
      };
      expect(stopped.unfinished).toBe(0);
      expect(stopped.stats.turns).toBeGreaterThan(0);

      // what it did not take is still queued: a second runner finishes the job
      const second = await startRunner(file);
      await waitFor(() => egress!.items.length >= total, 'every reply', 20_000);
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      const perMessage = new Map<string, number>();
      for (const s of egress.items)
        perMessage.set(s.body.in_reply_to, (perMessage.get(s.body.in_reply_to) ?? 0) + 1);
      expect(perMessage.size).toBe(total);
      expect([...perMessage.values()].every((c) => c === 1)).toBe(true);
      const jsm = await nc.jetstreamManager();
      expect((await jsm.streams.info(n.streams.ingress)).state.messages).toBe(0);
    } finally {
      await egress?.stop();
      await nc.close();
      await cleanup(id);
    }
  });
});
