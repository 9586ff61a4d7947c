// Shared by the daemon tests: unique names per run, runner child processes, clean-up of NATS streams and Redis keys.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChannelMessageEnvelope, tenantCtx } from '@greentic/types';
import { Redis } from 'ioredis';
import { connect, type NatsConnection } from 'nats';

export const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..', '..');
export const QA3_FLOW = join(here, 'fixtures', 'flows', 'qa3.ygtc');
export const REDIS_URL = process.env.GREENTIC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env.GREENTIC_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A short unique id for this test run: names of streams, subjects and Redis keys include it. */
export function uniq(label = 't'): string {
  return `${label}${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** The NATS and Redis names of one isolated test deployment. */
export function isolated(id: string) {
  const up = id.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return {
    subjectPrefix: `gtt.${id}.messaging`,
    streams: { ingress: `GTT_${up}_IN`, egress: `GTT_${up}_OUT`, dlq: `GTT_${up}_DLQ` },
    consumer: `runner-${id}`,
    namespace: `gtt:${id}`,
  };
}

/** Writes a YAML/JSON config into a fresh temp dir and returns its path. */
export function writeConfig(config: unknown, name = 'runner.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'gt-runner-'));
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

/** A NATS-enabled config for an isolated deployment (memory or Redis stores). */
export function busConfig(
  id: string,
  opts: { stores?: 'memory' | 'redis'; ackWaitMs?: number; maxDeliver?: number; concurrency?: number } = {},
) {
  const n = isolated(id);
  return {
    http: { host: '127.0.0.1', port: 0 },
    stores: { kind: opts.stores ?? 'memory', redis: { url: REDIS_URL, namespace: n.namespace } },
    nats: {
      enabled: true,
      url: NATS_URL,
      subjectPrefix: n.subjectPrefix,
      streams: n.streams,
      storage: 'memory',
      consumer: n.consumer,
      ackWaitMs: opts.ackWaitMs ?? 2000,
      maxDeliver: opts.maxDeliver ?? 5,
      concurrency: opts.concurrency ?? 32,
      duplicateWindowMs: 120_000,
      maxAgeMs: 600_000,
    },
    ordering: { deferDelayMs: 50, gapTimeoutMs: 5000 },
    flows: { paths: [QA3_FLOW] },
    tenancy: { env: 'test' },
    shutdown: { timeoutMs: 10_000 },
    log: { level: 'info' },
  };
}

export interface RunnerProcess {
  proc: ChildProcess;
  /** HTTP base URL, once it is serving. */
  url: string;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

const CLI_MAIN = join(here, 'fixtures', 'cli-main.ts');

/** Starts `greentic-runner <args>` from the sources as a child process (the real CLI, not a build). */
export function spawnCli(args: string[], env: Record<string, string> = {}): Omit<RunnerProcess, 'url'> {
  const proc = spawn(
    process.execPath,
    ['--conditions=@greentic/source', '--import', 'tsx', CLI_MAIN, ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { proc, stderr: () => err, stdout: () => out, exited };
}

/** Starts `serve --config <file>` and waits until it says where it serves (and is ready). */
export async function startRunner(
  configFile: string,
  env: Record<string, string> = {},
): Promise<RunnerProcess> {
  const p = spawnCli(['serve', '--config', configFile], env);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = /serving on (http:\/\/[^\s]+)/.exec(p.stderr());
    if (m) return { ...p, url: m[1]! };
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r(undefined), 50))]);
    if (code !== undefined) throw new Error(`runner exited (${code}) before serving:\n${p.stderr()}`);
    if (Date.now() > deadline) {
      p.proc.kill('SIGKILL');
      throw new Error(`runner did not start within 20 s:\n${p.stderr()}`);
    }
  }
}

/** The JSON log lines a runner wrote. */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    });
}

/** Deletes the isolated deployment's streams and Redis keys. */
export async function cleanup(id: string): Promise<void> {
  const n = isolated(id);
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: NATS_URL, timeout: 2000 });
    const jsm = await nc.jetstreamManager();
    for (const s of Object.values(n.streams)) await jsm.streams.delete(s).catch(() => {});
  } catch {
    // NATS not there: nothing to clean
  } finally {
    await nc?.close();
  }
  const redis = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${n.namespace}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis not there
  } finally {
    redis.disconnect();
  }
}

/** A text message from `user` in conversation `conv`. */
export function textMessage(
  id: string,
  conv: string,
  text: string,
  opts: { tenant?: string; env?: string; user?: string; channel?: string } = {},
): ChannelMessageEnvelope {
  const tenant = tenantCtx({
    env: opts.env ?? 'test',
    tenant: opts.tenant ?? 'acme',
    user: opts.user ?? 'u1',
  });
  return {
    id,
    tenant,
    channel: opts.channel ?? 'webchat',
    session_id: conv,
    reply_scope: { conversation: conv },
    from: { id: opts.user ?? 'u1', kind: 'user' },
    to: [],
    text,
    attachments: [],
    metadata: {},
    extensions: {},
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
