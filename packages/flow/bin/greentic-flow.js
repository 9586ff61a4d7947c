#!/usr/bin/env node
// Shim for the `greentic-flow` command; the CLI lives in src/cli.ts (built to dist/cli.js).
import { runFlowCli } from '../dist/cli.js';

process.exitCode = await runFlowCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
