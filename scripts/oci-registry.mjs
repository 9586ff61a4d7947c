#!/usr/bin/env node
// A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a loopback port with a
// throw-away storage directory, optionally behind htpasswd basic auth. Also makes sure `skopeo` (an OCI client
// we did not write, used by the interop tests) and `htpasswd` (apache2-utils) are installed.
//
// As a module (vitest beforeAll / globalSetup):
//   import { startRegistry } from '../../../../scripts/oci-registry.mjs';
//   const reg = await startRegistry({ auth: { username: 'u', password: 'p' } });  // auth is optional
//   reg.url  // 'http://127.0.0.1:40123'
//   await reg.stop();
//
// As a CLI:
//   node scripts/oci-registry.mjs install                 # apt-get install the tools if missing (root only)
//   node scripts/oci-registry.mjs start [--auth user:pw] [--port N] [--state FILE]   # prints JSON, keeps running
//   node scripts/oci-registry.mjs stop  [--state FILE]
//
// The registry only ever listens on 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOLS = [
  { bin: 'docker-registry', pkg: 'docker-registry' },
  { bin: 'skopeo', pkg: 'skopeo' },
  { bin: 'htpasswd', pkg: 'apache2-utils' },
];
const DEFAULT_STATE = join(tmpdir(), 'greentic-oci-registry', 'state.json');
const INSTALL_LOCK = join(tmpdir(), 'greentic-oci-registry-install.lock');

const log = (msg) => process.stderr.write(`[oci-registry] ${msg}\n`);

/** Absolute path of `bin` on PATH (plus the sbin directories apt uses), or undefined. */
export function which(bin) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, bin);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

const missingTools = () => TOOLS.filter((t) => !which(t.bin));

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Cross-process lock (mkdir is atomic) so that parallel test files do not run apt-get at the same time. */
async function withInstallLock(fn) {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(INSTALL_LOCK);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        // A lock older than 10 minutes belongs to a process that died.
        if (Date.now() - statSync(INSTALL_LOCK).mtimeMs > 10 * 60_000)
          rmSync(INSTALL_LOCK, { recursive: true });
      } catch {
        // removed meanwhile
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the install lock ${INSTALL_LOCK}`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(INSTALL_LOCK, { recursive: true, force: true });
  }
}

function apt(args) {
  const r = spawnSync('apt-get', args, {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    ok: r.status === 0,
    output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  };
}

/**
 * Makes sure `docker-registry`, `skopeo` and `htpasswd` are installed, installing the Debian packages with apt-get
 * when they are missing (a one-time cost per machine). Throws with a clear message when that is impossible
 * (not root, no apt-get, offline). Returns `{ installed: string[], ms }`.
 */
export async function ensureRegistryTools() {
  if (missingTools().length === 0) return { installed: [], ms: 0 };
  return withInstallLock(async () => {
    const missing = missingTools();
    if (missing.length === 0) return { installed: [], ms: 0 };
    const pkgs = missing.map((t) => t.pkg);
    const manual = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs.join(' ')}`;
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
      throw new Error(
        `the OCI tests need ${missing.map((t) => t.bin).join(', ')} (Debian packages ${pkgs.join(', ')}), which are ` +
          `not installed, and this process is not root so it cannot install them. Run as root: ${manual}`,
      );
    }
    if (!which('apt-get')) {
      throw new Error(
        `${pkgs.join(', ')} are missing and apt-get is not available; install them by hand (${manual})`,
      );
    }
    const started = Date.now();
    log(`installing ${pkgs.join(' ')} with apt-get (one-time per machine)…`);
    const installArgs = [
      'install',
      '-y',
      '--no-install-recommends',
      '-o',
      'DPkg::Lock::Timeout=300',
      ...pkgs,
    ];
    let r = apt(installArgs);
    if (!r.ok) {
      log('apt-get install failed; running apt-get update and retrying…');
      const u = apt(['update', '-o', 'DPkg::Lock::Timeout=300']);
      if (!u.ok) {
        throw new Error(
          `apt-get update failed (offline or no Debian mirror reachable?); cannot install ${pkgs.join(', ')}:\n` +
            u.output.split('\n').slice(-15).join('\n'),
        );
      }
      r = apt(installArgs);
    }
    if (!r.ok || missingTools().length > 0) {
      throw new Error(
        `apt-get install ${pkgs.join(' ')} failed; the OCI tests cannot run without them:\n` +
          r.output.split('\n').slice(-15).join('\n'),
      );
    }
    const ms = Date.now() - started;
    log(`installed ${pkgs.join(' ')} in ${(ms / 1000).toFixed(1)} s`);
    return { installed: pkgs, ms };
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function registryConfig({ port, storageDir, htpasswdPath, instanceId }) {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    // Sent on every response: tells our readiness probe that it reached THIS registry, not a neighbour that
    // happened to grab the same port.
    '  headers:',
    `    X-Greentic-Registry-Instance: [${instanceId}]`,
  ];
  if (htpasswdPath) {
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: greentic-test',
      `    path: ${JSON.stringify(htpasswdPath)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function writeHtpasswd(path, { username, password }) {
  if (!username || username.includes(':'))
    throw new Error('auth.username must be non-empty and contain no ":"');
  // -B bcrypt (the only hash distribution accepts), -b password from argv, -n print instead of writing a file.
  // The password is a throw-away test secret; it is passed to a local child process only.
  const r = spawnSync(which('htpasswd') ?? 'htpasswd', ['-Bbn', username, password], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr || r.error}`);
  writeFileSync(path, r.stdout.trim() + '\n', { mode: 0o600 });
}

async function waitReady(url, child, instanceId, stderrTail, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${stderrTail()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.headers.get('x-greentic-registry-instance') !== instanceId) {
        lastErr = new Error('another server answers on this port');
      } else if (res.status === 200 || res.status === 401) return;
      else lastErr = new Error(`GET /v2/ answered ${res.status}`);
    } catch (err) {
      lastErr = err;
    }
    await sleep(40);
  }
  throw new Error(
    `docker-registry did not answer GET ${url}/v2/ within ${timeoutMs} ms (${lastErr}): ${stderrTail()}`,
  );
}

/**
 * Starts a registry on 127.0.0.1 with a fresh temporary storage directory.
 *
 * @param {{ auth?: { username: string, password: string }, port?: number, detached?: boolean,
 *           install?: boolean, timeoutMs?: number }} [options]
 * @returns {Promise<{ url: string, host: string, port: number, pid: number, dir: string, storageDir: string,
 *           configPath: string, auth?: { username: string, password: string },
 *           installed: string[], installMs: number, stop(): Promise<void> }>}
 */
export async function startRegistry(options = {}) {
  const { installed, ms: installMs } =
    options.install === false ? { installed: [], ms: 0 } : await ensureRegistryTools();
  const bin = which('docker-registry');
  if (!bin) throw new Error('docker-registry is not installed (Debian package docker-registry)');

  const dir = mkdtempSync(join(tmpdir(), 'greentic-oci-registry-'));
  const storageDir = join(dir, 'storage');
  mkdirSync(storageDir);
  let htpasswdPath;
  if (options.auth) {
    htpasswdPath = join(dir, 'htpasswd');
    writeHtpasswd(htpasswdPath, options.auth);
  }
  const configPath = join(dir, 'config.yml');

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const instanceId = randomBytes(8).toString('hex');
    writeFileSync(configPath, registryConfig({ port, storageDir, htpasswdPath, instanceId }));
    // The registry's own log goes to a file (a pipe would break once a detached registry outlives us).
    const logPath = join(dir, 'registry.log');
    const logFd = openSync(logPath, 'w');
    const child = spawn(bin, ['serve', configPath], {
      stdio: ['ignore', logFd, logFd],
      detached: Boolean(options.detached),
      // The registry reads REGISTRY_* variables as config overrides: keep only what it needs.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    closeSync(logFd);
    const logTail = () => {
      try {
        return readFileSync(logPath, 'utf8').slice(-4000).trim() || '(no output)';
      } catch {
        return '(no log)';
      }
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, instanceId, logTail, options.timeoutMs ?? 15_000);
    } catch (err) {
      child.kill('SIGKILL');
      const portTaken = /address already in use|another server answers/.test(`${logTail()} ${err.message}`);
      if (attempt < 3 && options.port === undefined && portTaken) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    if (options.detached) child.unref();
    const onExit = () => child.kill('SIGKILL');
    if (!options.detached) process.once('exit', onExit);
    let stopped = false;
    return {
      url,
      host: `127.0.0.1:${port}`,
      port,
      pid: child.pid,
      dir,
      storageDir,
      configPath,
      ...(options.auth ? { auth: { ...options.auth } } : {}),
      installed,
      installMs,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.removeListener('exit', onExit);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([exited, sleep(3000)]);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Stops a registry started with `node scripts/oci-registry.mjs start` (reads the state file). */
export async function stopRegistryFromState(stateFile = DEFAULT_STATE) {
  if (!existsSync(stateFile)) return false;
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  let alive = false;
  try {
    // Only signal the pid when it still is the registry we started (pids are reused).
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8');
    alive = cmdline.includes('docker-registry') && cmdline.includes(state.configPath);
  } catch {
    alive = false;
  }
  if (alive) {
    process.kill(state.pid, 'SIGTERM');
    for (let i = 0; i < 60 && existsSync(`/proc/${state.pid}`); i++) await sleep(50);
  }
  if (state.dir?.startsWith(join(tmpdir(), 'greentic-oci-registry-')))
    rmSync(state.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  return alive;
}

function parseCliArgs(argv) {
  const out = { command: argv[0], state: DEFAULT_STATE };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--auth') {
      const v = value();
      const at = v.indexOf(':');
      if (at <= 0) throw new Error('--auth takes user:password');
      out.auth = { username: v.slice(0, at), password: v.slice(at + 1) };
    } else if (a === '--port') out.port = Number(value());
    else if (a === '--state') out.state = value();
    else throw new Error(`unknown option ${a}`);
  }
  return out;
}

const USAGE = `usage: node scripts/oci-registry.mjs <install|start|stop> [options]
  install                      install docker-registry, skopeo, apache2-utils with apt-get if missing (root)
  start [--auth user:pw] [--port N] [--state FILE]
                               start a loopback registry in the background; prints {"url",...} as JSON
  stop [--state FILE]          stop the registry recorded in the state file and delete its storage
example: node scripts/oci-registry.mjs start --auth ci:secret && node scripts/oci-registry.mjs stop`;

async function main(argv) {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  switch (args.command) {
    case 'install': {
      const r = await ensureRegistryTools();
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return 0;
    }
    case 'start': {
      if (existsSync(args.state)) {
        process.stderr.write(`a registry is already recorded in ${args.state}; run "stop" first\n`);
        return 1;
      }
      const reg = await startRegistry({ auth: args.auth, port: args.port, detached: true });
      const state = { url: reg.url, host: reg.host, port: reg.port, pid: reg.pid, dir: reg.dir };
      mkdirSync(join(args.state, '..'), { recursive: true });
      writeFileSync(args.state, JSON.stringify({ ...state, configPath: reg.configPath }, null, 2));
      process.stdout.write(`${JSON.stringify({ ...state, auth: Boolean(args.auth), state: args.state })}\n`);
      return 0;
    }
    case 'stop': {
      const stopped = await stopRegistryFromState(args.state);
      process.stdout.write(`${JSON.stringify({ stopped })}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return args.command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${args.command}\n${USAGE}\n`);
      return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`[oci-registry] ${err.message}\n`);
      process.exit(1);
    },
  );
}
