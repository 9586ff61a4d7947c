// One-time (and idempotent) set-up: install dependencies with the pinned pnpm, then build every package.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pnpm } from './pnpm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => process.stderr.write(`[setup] ${m}\n`);

log('installing dependencies (pnpm)…');
const frozen = existsSync(join(root, 'pnpm-lock.yaml')) && process.env.CI ? ['--frozen-lockfile'] : [];
pnpm(['install', '--prefer-offline', ...frozen], { env: { ...process.env, CI: process.env.CI ?? '' } });
log('building packages (tsc -b)…');
pnpm(['run', '--silent', 'build']);
log('ready');
