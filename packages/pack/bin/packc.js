#!/usr/bin/env node
// Shim for the `packc` command; the CLI lives in src/cli.ts (built to dist/cli.js).
import { runPackc } from '../dist/cli.js';

process.exitCode = await runPackc(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
