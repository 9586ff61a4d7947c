#!/usr/bin/env node
import { runDeployerCli } from '../dist/cli.js';

const code = await runDeployerCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdin: process.stdin,
});
process.exitCode = code;
