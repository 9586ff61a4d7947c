#!/usr/bin/env node
import { runComponentCli } from '../dist/cli.js';

const code = await runComponentCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
