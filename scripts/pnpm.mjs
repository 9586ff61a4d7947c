// Runs the pinned pnpm, installing nothing globally: a machine with only Node and npm gets it through npx.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager; // "pnpm@x.y.z"
const version = pinned.split('@')[1];

function hasMatchingPnpm() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === version;
}

export function pnpm(args, opts = {}) {
  const [cmd, cmdArgs] = hasMatchingPnpm() ? ['pnpm', args] : ['npx', ['--yes', `pnpm@${version}`, ...args]];
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    process.stderr.write(`\n✖ pnpm ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) pnpm(process.argv.slice(2));
