// Makes sure a Chromium for headless browser tests is installed, and prints its path.
// It uses Debian's package (`apt-get install chromium`): browser builds are never downloaded from the internet
// (`npx playwright install` cannot work on our machines). Idempotent; safe to call from several test files at once
// (apt's own lock serialises concurrent installs, and a second caller finds the binary already there).
//
//   node scripts/ensure-chromium.mjs            # installs when missing, prints the executable path
//   import { ensureChromium } from '../../scripts/ensure-chromium.mjs'   // from a test: returns the path
//
// Env: GREENTIC_CHROMIUM=/path/to/chrome uses that binary instead (nothing is installed).
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function found() {
  const override = process.env.GREENTIC_CHROMIUM;
  if (override) {
    if (!executable(override)) throw new Error(`GREENTIC_CHROMIUM=${override} is not an executable file`);
    return override;
  }
  return CANDIDATES.find(executable);
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.slice(-2000) };
}

/**
 * Returns the path of a Chromium executable, installing Debian's `chromium` package first when none is present.
 * Throws with apt's output when it cannot (not root, no package index reachable, not Debian).
 */
export function ensureChromium() {
  const have = found();
  if (have) return have;
  const aptGet = ['/usr/bin/apt-get', '/bin/apt-get'].find(executable);
  if (!aptGet)
    throw new Error('No Chromium found and apt-get is missing: install chromium or set GREENTIC_CHROMIUM');
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  // Try the install first (the package index may be fresh already); update and retry when that fails.
  // apt waits for a lock held by a concurrent install (-o DPkg::Lock::Timeout).
  const install = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'chromium'];
  let r = run(aptGet, install, env);
  if (!r.ok || !found()) {
    const u = run(aptGet, ['-o', 'DPkg::Lock::Timeout=600', 'update'], env);
    if (!u.ok) throw new Error(`apt-get update failed:\n${u.out}`);
    r = run(aptGet, install, env);
  }
  const path = found();
  if (!path) throw new Error(`apt-get install chromium failed:\n${r.out}`);
  return path;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
