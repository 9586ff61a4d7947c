import { randomUUID } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { SecretsError } from './errors.js';

export interface FileLockOptions {
  /** Give up (`GT_SECRETS_LOCKED`) after waiting this long (default 10 s). */
  timeoutMs?: number;
  /** A lock file older than this whose holder cannot be checked is taken over (default 30 s). */
  staleMs?: number;
}

interface LockContent {
  pid: number;
  host: string;
  token: string;
  time: string;
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` after every earlier call queued under the same `key` in this process has finished (whether it
 * succeeded or failed). Serializes one process's writers before they compete for the lock file.
 */
export function enqueue<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return next;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<LockContent | undefined> {
  try {
    const c = JSON.parse(await readFile(path, 'utf8')) as LockContent;
    return typeof c.token === 'string' ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock at `path` was left by a holder that is gone: a dead pid on this host, or too old. */
async function isStale(path: string, staleMs: number): Promise<LockContent | 'unreadable' | undefined> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch {
    return undefined;
  }
  const content = await readLock(path);
  const old = Date.now() - st.mtimeMs > staleMs;
  if (!content) return old ? 'unreadable' : undefined;
  if (content.host === hostname()) return alive(content.pid) ? undefined : content;
  return old ? content : undefined;
}

/** Moves a stale lock aside; puts it back when it turns out to be someone's fresh lock. */
async function breakLock(path: string, stale: LockContent | 'unreadable'): Promise<void> {
  const aside = `${path}.stale-${randomUUID()}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await readLock(aside);
  if (stale !== 'unreadable' && moved && moved.token !== stale.token) {
    // Between our check and the rename another writer replaced the stale lock: give its lock back.
    await link(aside, path).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/**
 * Runs `fn` while holding the lock file `path` (created with `O_EXCL`, holding `{pid, host, token, time}`), so two
 * processes never run `fn` at once. A lock whose holder died (same host, pid gone) or that is older than
 * `staleMs` is taken over. Throws `GT_SECRETS_LOCKED` after `timeoutMs`.
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const token = randomUUID();
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        const content: LockContent = {
          pid: process.pid,
          host: hostname(),
          token,
          time: new Date().toISOString(),
        };
        await fh.writeFile(JSON.stringify(content));
      } finally {
        await fh.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SecretsError(
          'GT_SECRETS_BACKEND',
          `cannot create the lock file ${path}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
    }
    const stale = await isStale(path, staleMs);
    if (stale) {
      await breakLock(path, stale);
      continue;
    }
    if (Date.now() >= deadline) {
      const holder = await readLock(path);
      throw new SecretsError(
        'GT_SECRETS_LOCKED',
        `the secrets store is locked by ${holder ? `process ${holder.pid} on ${holder.host} since ${holder.time}` : 'another writer'} ` +
          `(waited ${timeoutMs} ms); retry, or remove ${path} if no writer is running`,
      );
    }
    await sleep(Math.min(2 ** attempt, 50) * (0.5 + Math.random()));
  }
  try {
    return await fn();
  } finally {
    const held = await readLock(path);
    if (held?.token === token) await unlink(path).catch(() => undefined);
  }
}
